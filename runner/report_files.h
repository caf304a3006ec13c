// Machine-readable results: --json FILE and --junit FILE.
#pragma once
#include <string>
#include <vector>

#include "runner/job.h"

namespace kva::runner {

struct RunInfo {
  std::uint64_t seed;
  std::vector<std::string> injected;  // fault names
};

void write_json_report(const std::string& path, const RunInfo& info, const std::vector<JobResult>& results);
void write_junit_report(const std::string& path, const RunInfo& info, const std::vector<JobResult>& results);

}  // namespace kva::runner
