// How a buffer-cache or file operation that may sleep must end, and the machinery that runs one
// and checks it: `expect: ok | null | error | blocks` (default ok; inside a race: ok, possibly
// after sleeping), `then:` for a call that blocks, `expect_woken_by: label`. A call returns
// "during its step" when it is done once the step and the threads it woke have run, even if it
// slept for I/O that an interrupt thread completed meanwhile.
//   ok     returned during its step, without error (a buffer for getblk/bread/...)
//   null   returned NULL during its step (GB_NOCREAT, GB_NOWAIT)
//   error  returned an error during its step (EIO: an injected device error)
//   blocks still asleep after its step; `then` says how the call ends
//   any    returned during its step, however
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "runner/run_context.h"
#include "runner/selector.h"
#include "runner/step_op.h"

namespace kva::runner {

enum class OutcomeKind { Ok, Null, Error, Blocks, MayBlock, Any };

struct OutcomeSpec {
  Selectable<OutcomeKind> expect;  // empty: Ok (MayBlock inside a race)
  Selectable<OutcomeKind> then;
  std::optional<std::string> woken_by;
  bool in_race = false;
  bool returns_buffer = false;
  // Parses expect (under `key`), then and expect_woken_by.
  static OutcomeSpec parse(Fields& f, ParseContext& pc, bool returns_buffer,
                           const std::string& key = "expect");
};

// Receives a call's result: the buffer it returned (if any) and its error.
using Finish = std::function<void(buf* bp, int error)>;

// Starts an operation on td and records it as `name`: `start(finish)` runs the call and returns
// true when it returned at once; `finish` must be called with the result. The outcome is
// checked now, or when the call returns during a later step.
void run_op(RunContext& ctx, const OutcomeSpec& spec, const std::string& name,
            const std::string& op, Thread& td, const std::function<bool(Finish)>& start);

// `thread:` (or the racing thread), else `cpu:` (the kernel's thread of that CPU).
struct Actor {
  std::optional<std::string> thread;
  int cpu = 0;
  static Actor parse(Fields& f, ParseContext& pc);
  Thread& get(RunContext& ctx) const { return ctx.actor(thread, cpu); }
};

}  // namespace kva::runner
