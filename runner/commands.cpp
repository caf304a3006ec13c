#include "runner/commands.h"

#include <unistd.h>

#include <iostream>
#include <optional>

#include "archs/registry.h"
#include "core/faults.h"
#include "runner/input_error.h"
#include "runner/job_memory.h"
#include "runner/parallel.h"
#include "runner/report_files.h"
#include "runner/summary.h"
#include "runner/testcase_parser.h"

namespace kva::runner {
namespace {

constexpr int kExitPass = 0, kExitFail = 1, kExitUsage = 2, kExitCrash = 3;

std::vector<const ArchInfo*> resolve_archs(const std::vector<std::string>& names) {
  std::vector<const ArchInfo*> out;
  for (const auto& n : names) {
    const ArchInfo* a = find_arch(n);
    if (!a) throw UsageError("--arch: unknown arch '" + n + "' (see `kvabench archs`)");
    out.push_back(a);
  }
  return out;
}

std::vector<Fault> resolve_faults(const std::vector<std::string>& names) {
  std::vector<Fault> out;
  for (const auto& n : names) {
    auto f = fault_by_name(n);
    if (!f) throw UsageError("--inject: unknown fault '" + n + "' (see `kvabench faults`)");
    out.push_back(*f);
  }
  return out;
}

}  // namespace

int cmd_archs() {
  for (const auto& a : arch_registry())
    std::cout << a.name << "\t" << a.description << (a.in_default_set ? "" : " [not in the default set]")
              << "\n";
  return kExitPass;
}

int cmd_faults() {
  for (const auto& f : fault_registry())
    std::cout << f.name << "\t" << f.description
              << (f.sf_buf_pool_only ? " [sf_buf pool mode only: no effect on archs with a direct map]" : "")
              << (f.subsystem == "buf" ? " [buffer cache]" : "") << "\n";
  return kExitPass;
}

int cmd_run(const CliOptions& o) {
  auto archs = resolve_archs(o.archs);
  auto faults = resolve_faults(o.inject);
  // Everything is loaded and validated before the first job runs.
  std::vector<Testcase> testcases = load_testcases(o.paths);
  std::vector<Job> jobs = plan_jobs(testcases, archs, o.seed);
  if (o.list) {
    for (const auto& j : jobs)
      std::cout << j.testcase->name << "\t" << j.arch->name << "\t" << j.seed << "\t" << j.testcase->file << "\n";
    return kExitPass;
  }
  if (jobs.empty()) throw UsageError("no testcase runs on the selected archs");
  if (!o.json.empty() && o.json == o.junit) throw UsageError("--json and --junit name the same file");
  std::optional<ReportFile> json, junit;
  if (!o.json.empty()) json.emplace("--json", o.json);
  if (!o.junit.empty()) junit.emplace("--junit", o.junit);

  JobOptions jo;
  jo.faults = faults;
  jo.verbose = o.verbose;
  jo.trace = o.trace;
  jo.exec_mode = o.exec_mode;
  jo.ad = o.ad;
  if (o.trace_limit) jo.output_limit = *o.trace_limit;
  if (o.job_timeout) jo.timeout_s = *o.job_timeout;
  int nprocs = o.jobs;
  if (auto limit = o.mem_limit ? o.mem_limit : available_memory()) {
    std::string note;
    nprocs = clamp_jobs(jobs, o.jobs, *limit, &note);
    if (!note.empty()) std::cerr << "kvabench: note: " << note << "\n";
  }
  ProgressLine progress(isatty(STDERR_FILENO) && !o.verbose && !o.trace);
  auto results = run_jobs(jobs, jo, nprocs,
                          [&](const JobResult& r, std::size_t done, std::size_t total) {
                            progress.update(r, done, total);
                          });
  progress.finish();

  print_failures(std::cout, results);
  std::size_t failed = 0;
  for (const auto& r : results) failed += r.passed ? 0 : 1;
  if (!o.inject.empty()) {
    std::cout << "injected:";
    for (const auto& f : o.inject) std::cout << " " << f;
    std::cout << "\n";
  }
  print_summary(std::cout, summarize(results));
  std::cout << results.size() - failed << " of " << results.size()
            << " jobs passed (testcase x arch x seed), " << failed << " failed; " << testcases.size()
            << " testcases, seed " << o.seed << "\n";
  std::cout.flush();
  RunInfo info{o.seed, o.inject};
  if (json) json->write(json_report(info, results));
  if (junit) junit->write(junit_report(info, results));
  std::size_t lost = 0;
  for (const auto& r : results)
    for (const auto& f : r.failures) lost += f.oracle == kWorkerCrashed;
  if (lost) {
    std::cerr << "kvabench: " << lost << " job(s) lost with a worker process that died (see above)\n";
    return kExitCrash;
  }
  return failed ? kExitFail : kExitPass;
}

int kvabench_main(int argc, char** argv) {
  try {
    CliOptions o = parse_cli(argc, argv);
    switch (o.command) {
      case CliOptions::Command::Help: std::cout << usage_text(); return kExitPass;
      case CliOptions::Command::Version: std::cout << "kvabench " KVA_VERSION " (testcase format 1)\n"; return kExitPass;
      case CliOptions::Command::Archs: return cmd_archs();
      case CliOptions::Command::Faults: return cmd_faults();
      case CliOptions::Command::Run: return cmd_run(o);
    }
  } catch (const UsageError& e) {
    std::cerr << "kvabench: " << e.what() << "\n" << usage_text();
    return kExitUsage;
  } catch (const InputError& e) {
    std::cerr << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "kvabench: error: " << e.what() << "\n";
    return kExitUsage;
  }
  return kExitUsage;
}

}  // namespace kva::runner
