// race: several threads' op lists interleaved by the seeded scheduler. At each point one thread
// whose previous op has returned (it is not sleeping) is drawn with Scheduler::pick and runs its
// next op; threads woken meanwhile finish their sleeping call before the next draw.
#include "runner/run_context.h"
#include "runner/step_executor.h"
#include "runner/step_op.h"

namespace kva::runner {
namespace {

struct Race : StepOp {
  std::vector<std::pair<std::string, std::vector<Step>>> lists;  // thread -> ops
  void run(RunContext& ctx) override {
    std::vector<std::size_t> next(lists.size(), 0);
    std::string race_label = ctx.step_label();
    for (;;) {
      std::vector<std::size_t> ready;
      bool remaining = false;
      for (std::size_t i = 0; i < lists.size(); ++i) {
        if (next[i] == lists[i].second.size()) continue;
        remaining = true;
        if (ctx.thread(lists[i].first).state() == Thread::State::Idle) ready.push_back(i);
      }
      if (ready.empty()) {
        if (remaining) {
          std::string sleepers;
          for (const auto& [t, ops] : lists)
            if (ctx.thread(t).state() != Thread::State::Idle) sleepers += " " + t;
          ctx.begin_step(race_label);
          ctx.fail({"", "deadlock", "no racing thread can go on; sleeping:" + sleepers,
                    std::nullopt, std::nullopt, "", ""});
        }
        break;
      }
      std::size_t i = ready[ctx.sched().pick(ready.size())];
      if (!execute_step(ctx, lists[i].second[next[i]++])) throw JobStopped();
    }
    ctx.begin_step(race_label);
  }
};

}  // namespace

std::vector<OpDef> race_ops() {
  return {
      {"race", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         const YamlReader& r = pc.reader();
         if (pc.race_thread) throw r.error(f.node(), "race: races cannot be nested");
         auto op = std::make_unique<Race>();
         YAML::Node threads = f.require("threads");
         r.require_map(threads, "race.threads");
         r.require_unique_keys(threads, "race.threads", "thread");
         for (const auto& kv : threads) {
           std::string t = r.name(kv.first, "race.threads");
           pc.require(kv.first, t, ParseContext::Kind::Thread);
           r.require_seq(kv.second, "race.threads." + t);
           pc.race_thread = t;
           std::vector<Step> steps;
           for (const auto& entry : kv.second) steps.push_back(parse_step(entry, pc));
           pc.race_thread.reset();
           op->lists.emplace_back(t, std::move(steps));
         }
         if (op->lists.size() < 2) throw r.error(threads, "race.threads: a race needs at least two threads");
         return op;
       }},
  };
}

}  // namespace kva::runner
