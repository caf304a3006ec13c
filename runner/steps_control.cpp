// Control and checking steps: signal (deliver a signal to a thread), wait (state of an
// sf_buf_alloc that slept), check (counters now, or since a labelled step).
#include "runner/run_context.h"
#include "runner/step_op.h"

namespace kva::runner {
namespace {

struct Signal : StepOp {
  std::string thread;
  void run(RunContext& ctx) override { ctx.sched().signal(ctx.thread(thread)); }
};

struct Wait : StepOp {
  enum class State { Sleeping, Ok, Null };
  std::string sf;
  Selectable<State> expect;
  void run(RunContext& ctx) override {
    const State* want = expect.resolve(ctx.arch());
    if (!want) return;
    const AllocRecord& rec = ctx.alloc(sf);
    State got = !rec.done ? State::Sleeping : rec.result ? State::Ok : State::Null;
    static const char* names[] = {"sleeping", "an sf_buf", "NULL"};
    if (got != *want)
      ctx.fail({"", *want == State::Sleeping ? "unexpected completion"
                    : got == State::Sleeping ? "unexpected block" : "unexpected value",
                "sf_buf_alloc for " + sf + " (thread " + rec.thread + ")", std::nullopt,
                std::nullopt, names[static_cast<int>(*want)], names[static_cast<int>(got)]});
  }
};

struct Check : StepOp {
  std::optional<std::string> since;
  std::vector<CounterExpectation> counters;
  void run(RunContext& ctx) override {
    const CounterValues* base = since ? ctx.snapshot(*since) : nullptr;
    if (since && !base) throw StepError("check: step '" + *since + "' has not run (skipped by only:?)");
    for (const auto& m : compare_counters(counters, ctx.arch(), ctx.counters(), base))
      ctx.fail({"", "counter", m.counter + (since ? " since " + *since : std::string()),
                std::nullopt, std::nullopt, m.expected, std::to_string(m.observed)});
  }
};

}  // namespace

std::vector<OpDef> control_ops() {
  return {
      {"signal", "thread",
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Signal>();
         op->thread = pc.thread(f);
         return op;
       }},
      {"wait", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         const YamlReader& r = pc.reader();
         auto op = std::make_unique<Wait>();
         op->sf = pc.sf(f);
         op->expect = Selectable<Wait::State>::parse(r, f.require("expect"), "wait.expect",
                                                     [&](const YAML::Node& v) {
           if (v.IsNull()) return Wait::State::Null;
           std::string s = r.str(v, "wait.expect");
           if (s == "blocks" || s == "sleeping") return Wait::State::Sleeping;
           if (s == "ok") return Wait::State::Ok;
           throw r.error(v, "wait.expect: expected blocks, ok or null, got '" + s + "'");
         });
         return op;
       }},
      {"check", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Check>();
         if (f.has("since")) op->since = pc.label(f, "since");
         op->counters = parse_counter_expectations(pc.reader(), f.require("counters"),
                                                   "check.counters", counter_groups());
         return op;
       }},
  };
}

}  // namespace kva::runner
