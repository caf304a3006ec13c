#include "runner/step_executor.h"

#include "runner/step_op.h"

namespace kva::runner {

namespace {
thread_local std::optional<std::chrono::steady_clock::time_point> job_deadline;
}  // namespace

DeadlineScope::DeadlineScope(std::optional<std::chrono::steady_clock::time_point> deadline)
    : saved_(job_deadline) {
  job_deadline = deadline;
}

DeadlineScope::~DeadlineScope() { job_deadline = saved_; }

bool execute_step(RunContext& ctx, const Step& step) {
  if (job_deadline && std::chrono::steady_clock::now() > *job_deadline)
    throw JobTimedOut(step.label);
  if (!only_applies(step.only, ctx.arch())) {
    if (ctx.log()) *ctx.log() << "  [" << ctx.arch().arch << "] line " << step.line << ": " << step.label << " (skipped: only " << step.only.front() << ")\n";
    return true;
  }
  ctx.begin_step(step.label);
  if (ctx.log()) *ctx.log() << "  [" << ctx.arch().arch << "] line " << step.line << ": " << step.label << "\n";
  try {
    step.impl->run(ctx);
    ctx.sched().run();
    ctx.run_after_step();
  } catch (const KvaError& e) {
    if (step.expect_error && std::string(e.what()).find(*step.expect_error) != std::string::npos) {
      if (ctx.log()) *ctx.log() << "    expected error: " << e.what() << "\n";
      ctx.snapshot_counters_as(step.label);
      return true;
    }
    ctx.fail({"", step.expect_error ? "wrong error" : "unexpected error", e.what(), std::nullopt,
              std::nullopt, step.expect_error ? "error containing \"" + *step.expect_error + "\"" : "no error",
              e.what()});
    return false;
  } catch (const JobStopped&) {
    return false;
  } catch (const JobTimedOut&) {
    throw;  // a race's op ran out of time: the whole job stops
  } catch (const StepError& e) {
    ctx.fail({"", "step cannot run", e.what(), std::nullopt, std::nullopt, "", ""});
    return false;
  } catch (const std::exception& e) {
    ctx.fail({"", "internal error", e.what(), std::nullopt, std::nullopt, "", ""});
    return false;
  }
  if (step.expect_error)
    ctx.fail({"", "missing error", step.op + " did not raise the expected error", std::nullopt,
              std::nullopt, "error containing \"" + *step.expect_error + "\"", "no error"});
  ctx.snapshot_counters_as(step.label);
  return true;
}

}  // namespace kva::runner
