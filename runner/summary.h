// Human-readable reporting: failure details, the per-arch summary table, and the progress line
// shown while running when stderr is a terminal.
#pragma once
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "runner/job.h"

namespace kva::runner {

struct ArchSummary {
  std::string arch;
  std::string mode;  // "pool" / "dmap", "?" if no machine of this arch was built
  int passed = 0, failed = 0;  // jobs (testcase x seed runs) on this arch
  int jobs = 0;                // passed + failed
  std::int64_t stale_observed = 0, stale_architectural = 0;
  std::int64_t stale_model = 0;  // every model oracle: architectural, bbm, negative
  std::int64_t local_invalidations = 0, ipis = 0, broadcasts = 0, guest_instructions = 0;
  // buffer cache: I/Os, buffers given KVA / lazily unmapped, bogus_page substitutions, lost writes
  std::int64_t buf_ios = 0, kva_maps = 0, kva_lazy_unmaps = 0, bogus_pages = 0, lost_writes = 0;
  double wall_ms = 0;
  std::set<std::string> faults_not_applicable;
};

// One row per arch that ran, in registry order.
std::vector<ArchSummary> summarize(const std::vector<JobResult>& results);
std::string describe_failure(const JobResult& r, const Failure& f);
void print_failures(std::ostream& out, const std::vector<JobResult>& results);
void print_summary(std::ostream& out, const std::vector<ArchSummary>& rows);

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  void update(const JobResult& r, std::size_t done, std::size_t total);
  void finish();

 private:
  bool enabled_;
  std::size_t failed_ = 0;
};

}  // namespace kva::runner
