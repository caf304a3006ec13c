#include "runner/summary.h"

#include <cstdio>
#include <iostream>

#include "archs/registry.h"

namespace kva::runner {
namespace {
std::int64_t counter(const JobResult& r, const char* key) {
  auto it = r.counters.find(key);
  return it == r.counters.end() ? 0 : it->second;
}
}  // namespace

std::vector<ArchSummary> summarize(const std::vector<JobResult>& results) {
  std::vector<ArchSummary> rows;
  for (const auto& a : arch_registry()) {
    ArchSummary s;
    s.arch = a.name;
    s.mode = "?";
    for (const auto& r : results) {
      if (r.arch != a.name) continue;
      ++s.jobs;
      ++(r.passed ? s.passed : s.failed);
      if (!r.mode.empty()) s.mode = r.mode;
      s.stale_observed += counter(r, "stale.observed");
      s.stale_architectural += counter(r, "stale.architectural");
      s.stale_model += counter(r, "stale.architectural") + counter(r, "stale.bbm") + counter(r, "stale.negative");
      s.local_invalidations += counter(r, "pmap.local_invalidations");
      s.ipis += counter(r, "pmap.ipis");
      s.broadcasts += counter(r, "pmap.broadcasts");
      s.guest_instructions += counter(r, "pmap.guest_instructions");
      s.buf_ios += counter(r, "buf.reads") + counter(r, "buf.writes");
      s.kva_maps += counter(r, "buf.kva_maps");
      s.kva_lazy_unmaps += counter(r, "buf.kva_lazy_unmaps");
      s.bogus_pages += counter(r, "buf.bogus_pages");
      s.lost_writes += counter(r, "vfs.lost_writes");
      s.wall_ms += r.wall_ms;
      s.faults_not_applicable.insert(r.faults_not_applicable.begin(), r.faults_not_applicable.end());
    }
    if (s.jobs) rows.push_back(s);
  }
  return rows;
}

std::string describe_failure(const JobResult& r, const Failure& f) {
  std::string s = "FAIL " + r.testcase + " [" + r.arch + ", seed " + std::to_string(r.seed) + "] step '" +
                  f.step + "': " + f.oracle + ": " + f.message;
  if (f.cpu) s += "\n     cpu " + std::to_string(*f.cpu);
  if (f.va) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(*f.va));
    s += std::string(f.cpu ? ", " : "\n     ") + "va " + buf;
  }
  if (!f.expected.empty() || !f.observed.empty())
    s += "\n     expected: " + f.expected + "\n     observed: " + f.observed;
  return s;
}

void print_failures(std::ostream& out, const std::vector<JobResult>& results) {
  for (const auto& r : results)
    for (const auto& f : r.failures) out << describe_failure(r, f) << "\n";
}

void print_summary(std::ostream& out, const std::vector<ArchSummary>& rows) {
  char line[320];
  std::snprintf(line, sizeof line, "%-12s %-5s %6s %6s %9s %11s %8s %12s %12s %7s %13s %6s %5s %9s\n",
                "arch", "mode", "passed", "failed", "stale-obs", "stale-model", "l-inval",
                "ipis(+bcast)", "guest-insns", "buf-io", "kva(map/lazy)", "bogus", "lost", "wall-ms");
  out << line;
  for (const auto& s : rows) {
    std::string ipis = std::to_string(s.ipis) + "(+" + std::to_string(s.broadcasts) + ")";
    std::string kva = std::to_string(s.kva_maps) + "/" + std::to_string(s.kva_lazy_unmaps);
    std::snprintf(line, sizeof line,
                  "%-12s %-5s %6d %6d %9lld %11lld %8lld %12s %12lld %7lld %13s %6lld %5lld %9.1f\n",
                  s.arch.c_str(), s.mode.c_str(), s.passed, s.failed,
                  (long long)s.stale_observed, (long long)s.stale_model,
                  (long long)s.local_invalidations, ipis.c_str(), (long long)s.guest_instructions,
                  (long long)s.buf_ios, kva.c_str(), (long long)s.bogus_pages,
                  (long long)s.lost_writes, s.wall_ms);
    out << line;
  }
  for (const auto& s : rows)
    for (const auto& f : s.faults_not_applicable)
      out << "note: fault '" << f << "' is not applicable on " << s.arch
          << " (sf_buf runs in direct-map mode there); it was injected but changes nothing\n";
}

void ProgressLine::update(const JobResult& r, std::size_t done, std::size_t total) {
  if (!r.passed) ++failed_;
  if (!enabled_) return;
  std::fprintf(stderr, "\r\033[K[%zu/%zu] %zu failed  %s [%s]", done, total, failed_, r.testcase.c_str(),
               r.arch.c_str());
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (!enabled_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

}  // namespace kva::runner
