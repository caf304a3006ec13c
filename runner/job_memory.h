// How many jobs may run at once (-j) without exhausting the host's memory. Each worker
// process builds one machine at a time; its footprint is bounded from the testcase's machine
// spec, and -j is lowered so that the largest job, run by every worker at once, fits.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runner/job.h"

namespace kva::runner {

struct JobMemory {
  // Upper estimate of one job's resident memory: guest RAM (all of it may be touched), each
  // emulated vCPU's engine and translated-code buffer, and the process itself.
  static constexpr std::uint64_t per_process = 32u << 20;
  static constexpr std::uint64_t per_emulated_vcpu = 32u << 20;
  static std::uint64_t estimate(const MachineSpec& m, bool emulated);
};

// Memory the run may use: MemAvailable from /proc/meminfo, else physical memory; nullopt when
// neither is known.
std::optional<std::uint64_t> available_memory();

// -j lowered to what `limit` bytes allow (at least 1). `note` explains a reduction.
int clamp_jobs(const std::vector<Job>& jobs, int requested, std::uint64_t limit, std::string* note);

}  // namespace kva::runner
