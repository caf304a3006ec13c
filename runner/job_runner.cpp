#include <algorithm>
#include <chrono>
#include <iostream>

#include "runner/bounded_output.h"
#include "runner/byte_pattern.h"
#include "runner/job.h"
#include "runner/step_executor.h"
#include "runner/step_op.h"

namespace kva::runner {
namespace {

constexpr std::size_t kMaxStaleReports = 5;  // per oracle; the counts say how many in all
const char* kEnd = "end of testcase";

void check_counters(RunContext& ctx, const std::vector<CounterExpectation>& expect,
                    const char* oracle) {
  for (const auto& m : compare_counters(expect, ctx.arch(), ctx.counters()))
    ctx.fail({kEnd, oracle, m.counter, std::nullopt, std::nullopt, m.expected, std::to_string(m.observed)});
}

std::string pa_text(const std::optional<paddr_t>& pa) {
  if (!pa) return "unmapped";
  char buf[32];
  std::snprintf(buf, sizeof buf, "pa 0x%llx", static_cast<unsigned long long>(*pa));
  return buf;
}

// Default policy: without `expect_stale`, every stale access is a failure.
void report_stale(RunContext& ctx) {
  std::map<Oracle, std::size_t> reported;
  for (const auto& e : ctx.pmap().stale_log().entries()) {
    if (reported[e.oracle]++ >= kMaxStaleReports) continue;
    std::string oracle = std::string(to_string(e.oracle)) + " staleness";
    std::string expected = pa_text(e.expected_pa), observed = pa_text(e.cached_pa);
    if (!e.expected.empty() || !e.observed.empty()) {
      expected += " bytes " + hex_bytes(e.expected, 8);
      observed += " bytes " + hex_bytes(e.observed, 8);
    }
    ctx.fail({e.step, oracle, std::string(to_string(e.kind)) + ": " + e.describe(), e.cpu, e.va,
              expected, observed});
  }
}

void check_sleepers(RunContext& ctx) {
  for (const auto& [name, rec] : ctx.allocs())
    if (!rec->done && rec->on_complete)
      ctx.fail({kEnd, "never woken", "sf_buf_alloc for " + name + " by " + rec->thread +
                                         " is still sleeping",
                std::nullopt, std::nullopt, "woken", "sleeping"});
  for (const auto& [name, rec] : ctx.ops())
    if (!rec->done && rec->on_complete)
      ctx.fail({kEnd, "never woken", rec->op + " '" + name + "' by " + rec->thread + " is still sleeping",
                std::nullopt, std::nullopt, "woken", "sleeping"});
}

// The lost-write oracle's reports (fsync / crash found the device short of the model).
void report_lost_writes(RunContext& ctx) {
  for (const LostWrite& lw : ctx.kernel().vfs().lost_writes())
    ctx.fail({lw.step, "lost write",
              "file " + lw.file + " " + lw.when + ": " + std::to_string(lw.length) +
                  " byte(s) from offset " + std::to_string(lw.offset) + " are not on the device",
              std::nullopt, std::nullopt, "model bytes " + hex_bytes(lw.expected, 8),
              "device bytes " + hex_bytes(lw.device, 8)});
}

void report_buffer_invariants(RunContext& ctx) {
  for (const BufViolation& v : ctx.kernel().bufs().violations())
    ctx.fail({v.step, "buffer invariant", "buf " + std::to_string(v.buf_index) + ": " + v.message,
              std::nullopt, std::nullopt, "", ""});
}

// `requires:`: the arch's capabilities, asked without building a machine.
bool has_features(const ArchInfo& a, const std::vector<std::string>& wanted) {
  if (wanted.empty()) return true;
  const std::vector<std::string> have = feature_names(a.capabilities());
  for (const auto& w : wanted)
    if (std::find(have.begin(), have.end(), w) == have.end()) return false;
  return true;
}

}  // namespace

std::vector<Job> plan_jobs(const std::vector<Testcase>& testcases,
                           const std::vector<const ArchInfo*>& archs, std::uint64_t base_seed) {
  std::vector<Job> jobs;
  for (const auto& tc : testcases) {
    for (const auto& a : arch_registry()) {
      bool in_testcase = tc.archs.empty()
                             ? a.in_default_set
                             : std::find(tc.archs.begin(), tc.archs.end(), a.name) != tc.archs.end();
      bool selected = archs.empty() ? in_testcase
                      : std::find(archs.begin(), archs.end(), &a) != archs.end() &&
                            (tc.archs.empty() || in_testcase);
      if (!selected || !has_features(a, tc.requires_features)) continue;
      for (int k = 0; k < tc.seeds; ++k) jobs.push_back({&tc, &a, base_seed + k});
    }
  }
  return jobs;
}

JobResult run_job(const Job& job, const JobOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  const Testcase& tc = *job.testcase;
  JobResult res;
  res.testcase = tc.name;
  res.file = tc.file;
  res.arch = job.arch->name;
  res.seed = job.seed;
  FaultSet faults;
  for (Fault f : opts.faults) faults.enable(f);
  BoundedOutput out_buf(opts.output_limit, opts.keep_output ? nullptr : &std::cerr);
  std::ostream out(&out_buf);
  std::unique_ptr<RunContext> ctx;
  try {
    ctx = std::make_unique<RunContext>(tc, *job.arch, job.seed, faults, opts.trace ? &out : nullptr,
                                       opts.verbose ? &out : nullptr, opts.exec_mode,
                                       opts.ad);
  } catch (const std::exception& e) {
    res.failures.push_back({"machine setup", "setup error", e.what(), std::nullopt, std::nullopt, "", ""});
  }
  if (ctx) {
    res.mode = ctx->arch().mode();
    if (opts.verbose)
      out << tc.name << " [" << res.arch << ", " << ctx->arch().mode() << ", seed " << job.seed << "]\n";
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (opts.timeout_s > 0)
      deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(opts.timeout_s));
    DeadlineScope scope(deadline);
    try {
      for (const auto& step : tc.steps)
        if (!execute_step(*ctx, step)) break;
      ctx->begin_step(kEnd);
      check_sleepers(*ctx);
      check_counters(*ctx, tc.expect, "counter");
      if (tc.expect_stale) check_counters(*ctx, *tc.expect_stale, "expected staleness");
      else report_stale(*ctx);
      report_lost_writes(*ctx);
      report_buffer_invariants(*ctx);
    } catch (const JobTimedOut& e) {
      char limit[32];
      std::snprintf(limit, sizeof limit, "%g s", opts.timeout_s);
      ctx->fail({e.step, "time limit", e.what(), std::nullopt, std::nullopt, std::string("at most ") + limit,
                 "still running"});
    } catch (const std::exception& e) {
      ctx->fail({"", "internal error", e.what(), std::nullopt, std::nullopt, "", ""});
    }
    res.failures = ctx->failures();
    res.counters = ctx->counters();
    for (Fault f : opts.faults) {
      const FaultInfo& info = fault_info(f);
      if (info.sf_buf_pool_only && ctx->pmap().has_direct_map())
        res.faults_not_applicable.emplace_back(info.name);
    }
  }
  out.flush();
  if (opts.keep_output) res.output = out_buf.take();
  res.passed = res.failures.empty();
  res.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace kva::runner
