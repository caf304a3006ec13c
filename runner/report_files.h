// Machine-readable results: --json FILE and --junit FILE. Both are valid UTF-8 whatever the
// input (file names are sanitised) and do not depend on -j.
#pragma once
#include <fstream>
#include <string>
#include <vector>

#include "runner/job.h"

namespace kva::runner {

struct RunInfo {
  std::uint64_t seed;
  std::vector<std::string> injected;  // fault names
};

std::string json_report(const RunInfo& info, const std::vector<JobResult>& results);
std::string junit_report(const RunInfo& info, const std::vector<JobResult>& results);

// An output file opened (created or truncated) before any job runs, so an unwritable path is a
// usage error found up front rather than after the whole run; written once results are known.
class ReportFile {
 public:
  ReportFile(const std::string& option, const std::string& path);  // throws UsageError
  const std::string& path() const { return path_; }
  void write(const std::string& text);  // throws std::runtime_error on a write error

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace kva::runner
