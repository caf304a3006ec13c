#include "runner/cli_args.h"

#include <cstring>

#include "runner/yaml_fields.h"

namespace kva::runner {
namespace {

std::vector<std::string> split_commas(const std::string& s, const std::string& option) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) throw UsageError(option + ": empty name in '" + s + "'");
    out.push_back(item);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::uint64_t parse_number(const std::string& s, const std::string& option, std::uint64_t max) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(option + ": expected a non-negative integer, got '" + s + "'");
  std::uint64_t v = std::stoull(s);
  if (v > max) throw UsageError(option + ": " + s + " is too large (max " + std::to_string(max) + ")");
  return v;
}

std::uint64_t parse_size_option(const std::string& s, const std::string& option, std::uint64_t min) {
  std::optional<std::uint64_t> v = parse_size(s);
  if (!v) throw UsageError(option + ": expected a size like 4096, 64K, 16M or 1G, got '" + s + "'");
  if (*v < min) throw UsageError(option + ": " + s + " is too small (min " + std::to_string(min) + " bytes)");
  return *v;
}

double parse_seconds(const std::string& s, const std::string& option) {
  std::size_t used = 0;
  double v = -1;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
  }
  if (used != s.size() || !(v >= 0) || v > 1e7)
    throw UsageError(option + ": expected seconds (0 for no limit), got '" + s + "'");
  return v;
}

}  // namespace

const char* usage_text() {
  return "usage: kvabench run [PATH ...] [options]   run testcases (default PATH: testcases/)\n"
         "       kvabench archs                     list arch variants (name, description)\n"
         "       kvabench faults                    list fault-injection switches\n"
         "       kvabench sweep [PATH ...] [options]  testcases x archs x seeds x faults, locally or\n"
         "                                          on Dask: Python package only (pip install .;\n"
         "                                          kvabench sweep --help)\n"
         "       kvabench --help | --version\n"
         "\n"
         "run options:\n"
         "  --arch A[,B...]           restrict to these archs (default: each testcase's own list,\n"
         "                            else every arch in the default set)\n"
         "  --seed N                  scheduler seed (default 1); testcases with `seeds: K` use N..N+K-1\n"
         "  --inject F[,G...]         enable fault-injection switches (see `kvabench faults`)\n"
         "  --junit FILE              write JUnit XML results\n"
         "  --json FILE               write JSON results\n"
         "  -j N                      run testcases in N worker processes\n"
         "  --list                    validate the testcases and list the jobs, run nothing\n"
         "  -v, --verbose             per-step log on stderr\n"
         "  --trace                   per-vCPU disassembled guest trace on stderr\n"
         "  --exec-mode fast|reference  how emulated archs run guest code (default fast); both\n"
         "                            give the same results: reference is the slow classic way,\n"
         "                            for verifying and debugging fast\n"
         "  --ad hardware|software    accessed/dirty bits on archs that offer the choice (feature\n"
         "                            software_ad); a testcase's machine.ad wins\n"
         "  --trace-limit SIZE        at most SIZE bytes of -v/--trace output per job (default 16M)\n"
         "  --job-timeout SECONDS     fail a job still running after SECONDS (default 600; 0: none)\n"
         "  --mem-limit SIZE          memory all jobs together may use; -j is lowered to fit\n"
         "                            (default: MemAvailable)\n"
         "\n"
         "exit status: 0 all testcases pass, 1 some testcase fails, 2 usage or input error,\n"
         "             3 a -j worker process died (kvabench itself crashed)\n";
}

CliOptions parse_cli(int argc, char** argv) {
  CliOptions o;
  if (argc < 2) throw UsageError("missing command");
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    o.command = CliOptions::Command::Help;
    return o;
  }
  if (cmd == "--version") {
    o.command = CliOptions::Command::Version;
    return o;
  }
  if (cmd == "archs" || cmd == "faults") {
    if (argc > 2) throw UsageError(cmd + ": takes no arguments");
    o.command = cmd == "archs" ? CliOptions::Command::Archs : CliOptions::Command::Faults;
    return o;
  }
  if (cmd == "sweep")
    throw UsageError("sweep: this kvabench binary only runs; sweeps (local processes or Dask) are a "
                     "command of the Python package's kvabench (pip install .)");
  if (cmd != "run") throw UsageError("unknown command '" + cmd + "'");
  o.command = CliOptions::Command::Run;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    // --opt=value and --opt value are both accepted.
    std::string value;
    bool has_inline = false;
    if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
      has_inline = true;
    }
    auto arg = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= argc) throw UsageError(a + ": missing value");
      return argv[++i];
    };
    if (a == "--arch") {
      auto v = split_commas(arg(), a);
      o.archs.insert(o.archs.end(), v.begin(), v.end());
    } else if (a == "--seed") {
      o.seed = parse_number(arg(), a, ~std::uint64_t{0} >> 8);
    } else if (a == "--inject") {
      auto v = split_commas(arg(), a);
      o.inject.insert(o.inject.end(), v.begin(), v.end());
    } else if (a == "--junit") {
      o.junit = arg();
    } else if (a == "--json") {
      o.json = arg();
    } else if (a == "-j" || a == "--jobs") {
      o.jobs = static_cast<int>(parse_number(arg(), a, 256));
      if (o.jobs < 1) throw UsageError(a + ": must be at least 1");
    } else if (a.rfind("-j", 0) == 0 && a.size() > 2 && a[2] != '-') {
      o.jobs = static_cast<int>(parse_number(a.substr(2), "-j", 256));
      if (o.jobs < 1) throw UsageError("-j: must be at least 1");
    } else if (a == "--exec-mode") {
      std::string v = arg();
      auto m = exec_mode_by_name(v);
      if (!m) throw UsageError("--exec-mode: expected fast or reference, got '" + v + "'");
      o.exec_mode = *m;
    } else if (a == "--ad") {
      std::string v = arg();
      o.ad = ad_bits_by_name(v);
      if (!o.ad) throw UsageError("--ad: expected hardware or software, got '" + v + "'");
    } else if (a == "-v" || a == "--verbose") {
      o.verbose = true;
    } else if (a == "--trace") {
      o.trace = true;
    } else if (a == "--list") {
      o.list = true;
    } else if (a == "--job-timeout") {
      o.job_timeout = parse_seconds(arg(), a);
    } else if (a == "--trace-limit") {
      o.trace_limit = parse_size_option(arg(), a, 1024);
    } else if (a == "--mem-limit") {
      o.mem_limit = parse_size_option(arg(), a, 1u << 20);
    } else if (a == "--help" || a == "-h") {
      o.command = CliOptions::Command::Help;
      return o;
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      throw UsageError("unknown option '" + a + "'");
    } else {
      o.paths.push_back(a);
    }
    if (has_inline && (a == "-v" || a == "--verbose" || a == "--trace" || a == "--list"))
      throw UsageError(a + ": takes no value");
  }
  if (o.paths.empty()) o.paths.push_back(kDefaultTestcaseDir);
  return o;
}

}  // namespace kva::runner
