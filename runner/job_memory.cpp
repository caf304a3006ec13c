#include "runner/job_memory.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace kva::runner {
namespace {

std::string mib(std::uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

}  // namespace

std::uint64_t JobMemory::estimate(const MachineSpec& m, bool emulated) {
  return per_process + m.mem_bytes +
         (emulated ? static_cast<std::uint64_t>(m.cpus) * per_emulated_vcpu : 0);
}

std::optional<std::uint64_t> available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib << 10;
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
  return std::nullopt;
}

int clamp_jobs(const std::vector<Job>& jobs, int requested, std::uint64_t limit, std::string* note) {
  if (requested <= 1 || jobs.empty()) return std::max(requested, 1);
  const Job* biggest = &jobs.front();
  std::uint64_t most = 0;
  for (const auto& j : jobs) {
    std::uint64_t e = JobMemory::estimate(j.testcase->machine, j.arch->emulated);
    if (e > most) most = e, biggest = &j;
  }
  int workers = static_cast<int>(std::min<std::size_t>(requested, jobs.size()));
  std::uint64_t fit = std::max<std::uint64_t>(1, limit / most);
  if (fit >= static_cast<std::uint64_t>(workers)) return requested;
  int n = static_cast<int>(fit);
  if (note) {
    std::ostringstream o;
    o << "-j " << requested << " lowered to " << n << ": a job may need up to " << mib(most)
      << " (testcase " << biggest->testcase->name << " on " << biggest->arch->name << ": "
      << mib(biggest->testcase->machine.mem_bytes) << " of guest RAM, "
      << biggest->testcase->machine.cpus << " vCPUs) and " << mib(limit)
      << " of memory may be used (--mem-limit)";
    *note = o.str();
  }
  return n;
}

}  // namespace kva::runner
