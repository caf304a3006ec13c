// The YAML runner inside _core: the whole CLI (the `kvabench` console command), and the pieces
// kvabench.run() and kvabench.sweep() use in-process: planning jobs, running them (from files,
// or from a testcase's text shipped to a sweep worker), and the per-arch summary.
// Results cross into Python as plain dicts (picklable, for worker processes and Dask).
#include <algorithm>
#include <iostream>
#include <sstream>

#include "python/bindings/bindings.h"
#include "runner/cli_args.h"
#include "runner/commands.h"
#include "runner/input_error.h"
#include "runner/job.h"
#include "runner/parallel.h"
#include "runner/summary.h"
#include "runner/testcase_parser.h"

namespace kva::pyapi {

namespace {
using runner::Failure;
using runner::JobResult;

[[noreturn]] void raise(const char* error_class, const std::string& message) {
  PyErr_SetString(py::module_::import("kvabench.errors").attr(error_class).ptr(), message.c_str());
  throw py::error_already_set();
}

// Runs fn, turning the runner's input and usage errors into TestcaseError / ArgumentError.
template <class Fn>
auto input_errors(Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const runner::InputError& e) {
    raise("TestcaseError", e.what());
  } catch (const runner::UsageError& e) {
    raise("ArgumentError", e.what());
  }
}

const ArchInfo& arch_arg(const std::string& name) {
  if (const ArchInfo* a = find_arch(name)) return *a;
  return arch_by_name(name);  // throws, listing the names
}

std::vector<Fault> faults_arg(const std::vector<std::string>& names) {
  std::vector<Fault> out;
  for (const std::string& n : names) {
    const std::optional<Fault> f = fault_by_name(n);
    if (!f) raise("ArgumentError", "inject: unknown fault '" + n + "' (kvabench.faults())");
    out.push_back(*f);
  }
  return out;
}

runner::JobOptions job_options(const std::vector<std::string>& inject, const std::string& exec_mode) {
  const std::optional<ExecMode> mode = exec_mode_by_name(exec_mode);
  if (!mode) raise("ArgumentError", "exec_mode: expected 'fast' or 'reference', got '" + exec_mode + "'");
  return runner::JobOptions{faults_arg(inject), false, false, *mode};
}

py::object optional_int(const auto& v) { return v ? py::object(py::int_(*v)) : py::object(py::none()); }

py::dict result_dict(const JobResult& r) {
  py::list failures;
  for (const Failure& f : r.failures)
    failures.append(py::dict(py::arg("step") = f.step, py::arg("oracle") = f.oracle,
                             py::arg("message") = f.message, py::arg("cpu") = optional_int(f.cpu),
                             py::arg("va") = optional_int(f.va), py::arg("expected") = f.expected,
                             py::arg("observed") = f.observed));
  return py::dict(py::arg("testcase") = r.testcase, py::arg("file") = r.file, py::arg("arch") = r.arch,
                  py::arg("mode") = r.mode, py::arg("seed") = r.seed, py::arg("passed") = r.passed,
                  py::arg("failures") = failures, py::arg("counters") = r.counters,
                  py::arg("faults_not_applicable") = r.faults_not_applicable,
                  py::arg("wall_ms") = r.wall_ms);
}

// What summarize() reads of a result dict.
JobResult result_from(const py::handle& d) {
  JobResult r;
  r.testcase = d["testcase"].cast<std::string>();
  r.arch = d["arch"].cast<std::string>();
  r.mode = d["mode"].cast<std::string>();
  r.seed = d["seed"].cast<std::uint64_t>();
  r.passed = d["passed"].cast<bool>();
  r.counters = d["counters"].cast<runner::CounterValues>();
  r.faults_not_applicable = d["faults_not_applicable"].cast<std::vector<std::string>>();
  r.wall_ms = d["wall_ms"].cast<double>();
  return r;
}

py::list summary_rows(const std::vector<runner::ArchSummary>& rows) {
  py::list out;
  for (const auto& s : rows)
    out.append(py::dict(py::arg("arch") = s.arch, py::arg("mode") = s.mode, py::arg("passed") = s.passed,
                        py::arg("failed") = s.failed, py::arg("jobs") = s.jobs,
                        py::arg("stale_observed") = s.stale_observed,
                        py::arg("stale_architectural") = s.stale_architectural,
                        py::arg("stale_model") = s.stale_model,
                        py::arg("local_invalidations") = s.local_invalidations, py::arg("ipis") = s.ipis,
                        py::arg("broadcasts") = s.broadcasts,
                        py::arg("guest_instructions") = s.guest_instructions, py::arg("buf_ios") = s.buf_ios,
                        py::arg("kva_maps") = s.kva_maps, py::arg("kva_lazy_unmaps") = s.kva_lazy_unmaps,
                        py::arg("bogus_pages") = s.bogus_pages, py::arg("lost_writes") = s.lost_writes,
                        py::arg("wall_ms") = s.wall_ms,
                        py::arg("faults_not_applicable") = s.faults_not_applicable));
  return out;
}

std::vector<JobResult> results_from(const py::iterable& results) {
  std::vector<JobResult> out;
  for (const py::handle& d : results) out.push_back(result_from(d));
  return out;
}
}  // namespace

void bind_runner(py::module_& m) {
  using runner::Limits;
  m.attr("TESTCASE_LIMITS") = py::dict(
      py::arg("max_cpus") = Limits::max_cpus, py::arg("min_memory") = Limits::min_memory,
      py::arg("max_memory") = Limits::max_memory, py::arg("max_nsfbufs") = Limits::max_nsfbufs,
      py::arg("max_threads") = Limits::max_threads, py::arg("max_seeds") = Limits::max_seeds,
      py::arg("max_access") = Limits::max_access);
  m.def("cli_main", [](const std::vector<std::string>& args) {
    std::vector<std::string> argv{"kvabench"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> ptrs;
    for (std::string& a : argv) ptrs.push_back(a.data());
    ptrs.push_back(nullptr);
    int rc;
    {
      py::gil_scoped_release release;
      rc = runner::kvabench_main(static_cast<int>(argv.size()), ptrs.data());
      std::cout.flush();
    }
    return rc;
  }, py::arg("args"), "The kvabench CLI (run, archs, faults, --help, --version) on these arguments; "
                      "returns its exit status.");

  m.def("plan_jobs", [](const std::vector<std::string>& paths, const std::vector<std::string>& archs,
                        std::uint64_t seed) {
    return input_errors([&] {
      std::vector<const ArchInfo*> selected;
      for (const std::string& a : archs) selected.push_back(&arch_arg(a));
      const std::vector<runner::Testcase> testcases = runner::load_testcases(paths);
      py::list out;
      for (const runner::Job& j : runner::plan_jobs(testcases, selected, seed))
        out.append(py::make_tuple(j.testcase->name, j.arch->name, j.seed, j.testcase->file));
      return out;
    });
  }, py::arg("paths"), py::arg("archs"), py::arg("seed"),
     "Loads and validates the testcases (TestcaseError naming file:line:column), then lists the "
     "jobs `kvabench run --list` would: (testcase, arch, seed, file).");

  m.def("run_testcases", [](const std::vector<std::string>& paths, const std::vector<std::string>& archs,
                            std::uint64_t seed, const std::vector<std::string>& inject,
                            const std::string& exec_mode, int jobs) {
    return input_errors([&] {
      std::vector<const ArchInfo*> selected;
      for (const std::string& a : archs) selected.push_back(&arch_arg(a));
      const runner::JobOptions opts = job_options(inject, exec_mode);
      const std::vector<runner::Testcase> testcases = runner::load_testcases(paths);
      const std::vector<runner::Job> planned = runner::plan_jobs(testcases, selected, seed);
      std::vector<JobResult> results;
      {
        py::gil_scoped_release release;
        results = runner::run_jobs(planned, opts, jobs, nullptr);
      }
      py::list out;
      for (const JobResult& r : results) out.append(result_dict(r));
      return out;
    });
  }, py::arg("paths"), py::arg("archs"), py::arg("seed"), py::arg("inject"), py::arg("exec_mode"),
     py::arg("jobs"), "`kvabench run` in-process: result dicts in job order.");

  m.def("run_job_text", [](const std::string& text, const std::string& file, const std::string& arch,
                           std::uint64_t seed, const std::vector<std::string>& inject,
                           const std::string& exec_mode) {
    return input_errors([&] {
      const runner::Testcase tc = runner::parse_testcase_text(file, text);
      const ArchInfo& a = arch_arg(arch);
      if (!tc.archs.empty() && std::find(tc.archs.begin(), tc.archs.end(), a.name) == tc.archs.end())
        raise("ArgumentError", "arch: testcase " + tc.name + " does not run on " + a.name);
      const runner::JobOptions opts = job_options(inject, exec_mode);
      JobResult r;
      {
        py::gil_scoped_release release;
        r = runner::run_job(runner::Job{&tc, &a, seed}, opts);
      }
      return result_dict(r);
    });
  }, py::arg("text"), py::arg("file"), py::arg("arch"), py::arg("seed"), py::arg("inject"),
     py::arg("exec_mode"), "One job (testcase x arch x exact seed) from the testcase's text.");

  m.def("summarize", [](const py::iterable& results) { return summary_rows(runner::summarize(results_from(results))); },
        py::arg("results"), "One summary row per arch (registry order), as `kvabench run` prints.");
  m.def("summary_text", [](const py::iterable& results) {
    std::ostringstream out;
    runner::print_summary(out, runner::summarize(results_from(results)));
    return out.str();
  }, py::arg("results"), "The per-arch summary table `kvabench run` prints.");
}

}  // namespace kva::pyapi
