// Runs one step on a machine: sets the step label, runs the op, lets every thread its wakeups
// made runnable finish (Scheduler::run), and checks `expect_error`.
#pragma once
#include <chrono>
#include <optional>
#include <stdexcept>

#include "runner/run_context.h"
#include "runner/testcase.h"

namespace kva::runner {

// Returns false when the job cannot go on (an unexpected error left the machine undefined).
// Throws JobTimedOut, before running the step, once the job's deadline has passed.
bool execute_step(RunContext& ctx, const Step& step);

// The per-job time limit (--job-timeout) is checked cooperatively before each step, races'
// ops included; a runaway guest inside one step is the emulation layer's to stop. run_job sets
// the deadline of the job it runs with a DeadlineScope.
class JobTimedOut : public std::runtime_error {
 public:
  explicit JobTimedOut(std::string next_step)
      : std::runtime_error("the job ran past its time limit (--job-timeout); stopped before this step"),
        step(std::move(next_step)) {}
  std::string step;  // label of the step that did not run
};

class DeadlineScope {
 public:
  explicit DeadlineScope(std::optional<std::chrono::steady_clock::time_point> deadline);
  ~DeadlineScope();
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;

 private:
  std::optional<std::chrono::steady_clock::time_point> saved_;
};

}  // namespace kva::runner
