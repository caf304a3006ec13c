// Runs jobs in this process (-j 1) or in N forked worker processes that send their results
// back over pipes (-j N). Results come back in job order either way, so reports do not depend
// on N.
#pragma once
#include <functional>
#include <vector>

#include "runner/job.h"

namespace kva::runner {

// The oracle of a job whose worker process died before sending its result: a fault of
// kvabench itself (a crash, a sanitizer report), not of the testcase.
inline constexpr const char* kWorkerCrashed = "worker crashed";

using ProgressFn = std::function<void(const JobResult&, std::size_t done, std::size_t total)>;

std::vector<JobResult> run_jobs(const std::vector<Job>& jobs, const JobOptions& opts, int nprocs,
                                const ProgressFn& progress);

}  // namespace kva::runner
