// libFuzzer target: any bytes as a testcase file. Either the loader rejects them with a
// located input error (file:line:column), or the testcase loads and, when small, runs to a
// pass or a failure on the reference archs, every failure from a documented oracle. Reports
// made from the results are valid UTF-8 and survive the -j pipe codec. Anything else (a crash,
// an exception other than InputError, "internal error") aborts.
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>

#include "runner/input_error.h"
#include "runner/job.h"
#include "runner/report_files.h"
#include "runner/result_codec.h"
#include "runner/testcase_parser.h"
#include "runner/utf8.h"

namespace {

using namespace kva::runner;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fuzz_testcase_loader: %s\n", what.c_str());
  std::abort();
}

// The oracles docs/testcases.md lists ("Failures and fault injection").
const std::set<std::string>& documented_oracles() {
  static const std::set<std::string> s = {
      "observed staleness", "architectural staleness", "unexpected value", "unexpected NULL",
      "unexpected block", "unexpected completion", "woken by wrong step", "never woken", "deadlock",
      "counter", "expected staleness", "unexpected error", "wrong error", "missing error",
      "step cannot run", "time limit"};
  return s;
}

bool small(const Testcase& tc) {
  return tc.nsteps <= 200 && tc.machine.cpus <= 16 && tc.machine.mem_bytes <= (64u << 20);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::regex located("^fuzz\\.yaml:[0-9]+:[0-9]+: .+");
  std::string text(reinterpret_cast<const char*>(data), size);
  Testcase tc;
  try {
    tc = parse_testcase_text("fuzz.yaml", text);
  } catch (const InputError& e) {
    if (!std::regex_search(e.what(), located)) die(std::string("input error without a position: ") + e.what());
    return 0;
  }
  if (!small(tc)) return 0;
  JobOptions opts;
  opts.timeout_s = 10;
  opts.keep_output = true;
  std::vector<JobResult> results;
  for (const auto& arch : kva::arch_registry()) {
    if (arch.emulated) continue;
    JobResult r = run_job({&tc, &arch, 1}, opts);
    for (const auto& f : r.failures)
      if (!documented_oracles().count(f.oracle))
        die("undocumented oracle '" + f.oracle + "' on " + arch.name + ": " + f.message);
    JobResult back = decode_result(encode_result(r));
    if (back.failures.size() != r.failures.size() || back.counters != r.counters)
      die("the -j pipe codec changed a result");
    results.push_back(std::move(r));
  }
  RunInfo info{1, {}};
  if (first_invalid_utf8(json_report(info, results)) != std::string::npos ||
      first_invalid_utf8(junit_report(info, results)) != std::string::npos)
    die("a report is not valid UTF-8");
  return 0;
}
