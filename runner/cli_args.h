// Command-line parsing for kvabench. Usage errors exit with status 2.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/exec_mode.h"
#include "core/pmap_types.h"

namespace kva::runner {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CliOptions {
  enum class Command { Run, Archs, Faults, Help, Version };
  Command command = Command::Help;
  std::vector<std::string> paths;   // run: files or directories
  std::vector<std::string> archs;   // --arch
  std::uint64_t seed = 1;           // --seed
  std::vector<std::string> inject;  // --inject
  std::string junit, json;          // --junit / --json
  int jobs = 1;                     // -j
  bool verbose = false;             // -v
  bool trace = false;               // --trace
  bool list = false;                // --list: validate and list jobs, run nothing
  ExecMode exec_mode = ExecMode::Fast;  // --exec-mode (debugging / verification)
  std::optional<AdBits> ad;             // --ad
  std::optional<double> job_timeout;            // --job-timeout SECONDS (0: no limit)
  std::optional<std::uint64_t> trace_limit;     // --trace-limit SIZE per job
  std::optional<std::uint64_t> mem_limit;       // --mem-limit SIZE for all jobs at once
};

CliOptions parse_cli(int argc, char** argv);
const char* usage_text();
inline constexpr const char* kDefaultTestcaseDir = "testcases/";

}  // namespace kva::runner
