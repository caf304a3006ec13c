// Runs one step on a machine: sets the step label, runs the op, lets every thread its wakeups
// made runnable finish (Scheduler::run), and checks `expect_error`.
#pragma once
#include "runner/run_context.h"
#include "runner/testcase.h"

namespace kva::runner {

// Returns false when the job cannot go on (an unexpected error left the machine undefined).
bool execute_step(RunContext& ctx, const Step& step);

}  // namespace kva::runner
