// A job is one testcase on one arch with one scheduler seed; its result is what every report
// (summary, JSON, JUnit, -j pipes) is made from.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/faults.h"
#include "runner/counters.h"
#include "runner/run_context.h"
#include "runner/testcase.h"

namespace kva::runner {

struct Job {
  const Testcase* testcase;
  const ArchInfo* arch;
  std::uint64_t seed;
};

struct JobResult {
  std::string testcase;
  std::string file;
  std::string arch;
  std::uint64_t seed = 0;
  std::string mode;  // "pool" / "dmap"; empty when the machine could not be built
  bool passed = false;
  std::vector<Failure> failures;
  CounterValues counters;                         // at the end of the job
  std::vector<std::string> faults_not_applicable; // injected but meaningless on this arch
  double wall_ms = 0;
  std::string output;  // -v / --trace text kept for the parent of -j workers (not reported)
};

struct JobOptions {
  std::vector<Fault> faults;
  bool verbose = false;  // per-step log on stderr
  bool trace = false;    // per-vCPU guest trace on stderr (MachineConfig::trace)
  ExecMode exec_mode = ExecMode::Fast;  // MachineConfig::exec_mode
  std::optional<AdBits> ad = std::nullopt;  // MachineConfig::ad_bits unless the testcase sets machine.ad
  // -v / --trace bytes per job (--trace-limit); the rest is dropped with a note.
  std::uint64_t output_limit = kDefaultOutputLimit;
  bool keep_output = false;  // keep it in JobResult::output instead of writing it to stderr
  double timeout_s = kDefaultJobTimeout;  // --job-timeout; 0: none
  static constexpr std::uint64_t kDefaultOutputLimit = 16u << 20;
  static constexpr double kDefaultJobTimeout = 600;
};

// Jobs in a stable order: testcases in load order, then arch (registry order), then seed.
// `archs` from --arch restricts every testcase (empty: the testcase's own list / the default set).
std::vector<Job> plan_jobs(const std::vector<Testcase>& testcases,
                           const std::vector<const ArchInfo*>& archs, std::uint64_t base_seed);

JobResult run_job(const Job& job, const JobOptions& opts);

}  // namespace kva::runner
