#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "core/sched.h"

namespace kva {
namespace {

// Sleeps once on `chan`, then records how it woke and finishes.
class SleepOnceOp : public ThreadOp {
 public:
  SleepOnceOp(WaitChannel chan, bool pcatch, std::vector<WakeReason>* reasons,
              std::vector<int>* order = nullptr)
      : chan_(chan), pcatch_(pcatch), reasons_(reasons), order_(order) {}
  std::optional<Sleep> run(Thread& td, WakeReason why) override {
    reasons_->push_back(why);
    if (why == WakeReason::Start) return Sleep{chan_, pcatch_, "testslp"};
    if (order_) order_->push_back(td.tid());
    return std::nullopt;
  }

 private:
  WaitChannel chan_;
  bool pcatch_;
  std::vector<WakeReason>* reasons_;
  std::vector<int>* order_;
};

class ThrowingOp : public ThreadOp {
 public:
  std::optional<Sleep> run(Thread&, WakeReason) override { throw KvaError("misuse"); }
};

int chan_a, chan_b;

TEST(Scheduler, ThreadCreationAndPinning) {
  Scheduler s;
  Thread& t = s.thread_create("t0", 1);
  EXPECT_EQ(t.cpu(), 1);
  EXPECT_TRUE(t.pinned());
  EXPECT_EQ(s.find("t0"), &t);
  EXPECT_EQ(s.find("nope"), nullptr);
  Thread& u = s.thread_create("t1", 0, /*pinned=*/false);
  EXPECT_FALSE(u.pinned());
  EXPECT_THROW(u.sched_unpin(), KvaError);
  u.sched_pin();
  EXPECT_TRUE(u.pinned());
  u.sched_unpin();
  EXPECT_FALSE(u.pinned());
  EXPECT_THROW(s.thread_create("t0", 0), KvaError);  // duplicate name
  EXPECT_NE(t.tid(), u.tid());
}

TEST(Scheduler, SleepUntilWakeupOnItsChannel) {
  Scheduler s;
  Thread& t = s.thread_create("t", 0);
  std::vector<WakeReason> reasons;
  EXPECT_FALSE(s.start(t, std::make_unique<SleepOnceOp>(&chan_a, false, &reasons)));
  EXPECT_EQ(t.state(), Thread::State::Sleeping);
  EXPECT_EQ(t.wchan(), &chan_a);
  EXPECT_STREQ(t.wmesg(), "testslp");
  EXPECT_THROW(s.start(t, std::make_unique<SleepOnceOp>(&chan_a, false, &reasons)), KvaError);
  s.wakeup(&chan_b);
  EXPECT_EQ(s.run(), 0u);
  EXPECT_EQ(t.state(), Thread::State::Sleeping);
  s.wakeup(&chan_a);
  EXPECT_EQ(t.state(), Thread::State::Runnable);
  EXPECT_EQ(s.run(), 1u);
  EXPECT_EQ(t.state(), Thread::State::Idle);
  EXPECT_EQ(reasons, (std::vector<WakeReason>{WakeReason::Start, WakeReason::Woken}));
}

TEST(Scheduler, SignalInterruptsPcatchSleep) {
  Scheduler s;
  Thread& t = s.thread_create("t", 0);
  std::vector<WakeReason> reasons;
  s.start(t, std::make_unique<SleepOnceOp>(&chan_a, /*pcatch=*/true, &reasons));
  s.signal(t);
  EXPECT_EQ(t.state(), Thread::State::Runnable);
  EXPECT_FALSE(t.signal_pending());
  s.run();
  EXPECT_EQ(reasons.back(), WakeReason::Interrupted);
  EXPECT_EQ(t.state(), Thread::State::Idle);
}

TEST(Scheduler, SignalDoesNotInterruptUncatchableSleep) {
  Scheduler s;
  Thread& t = s.thread_create("t", 0);
  std::vector<WakeReason> reasons;
  s.start(t, std::make_unique<SleepOnceOp>(&chan_a, /*pcatch=*/false, &reasons));
  s.signal(t);
  EXPECT_EQ(t.state(), Thread::State::Sleeping);
  EXPECT_TRUE(t.signal_pending());
  s.wakeup(&chan_a);
  s.run();
  EXPECT_EQ(reasons.back(), WakeReason::Woken);
  EXPECT_TRUE(t.signal_pending());  // still pending for a later PCATCH sleep
}

TEST(Scheduler, PendingSignalMakesPcatchSleepReturnAtOnce) {
  Scheduler s;
  Thread& t = s.thread_create("t", 0);
  s.signal(t);
  EXPECT_TRUE(t.signal_pending());
  std::vector<WakeReason> reasons;
  EXPECT_TRUE(s.start(t, std::make_unique<SleepOnceOp>(&chan_a, true, &reasons)));
  EXPECT_EQ(reasons, (std::vector<WakeReason>{WakeReason::Start, WakeReason::Interrupted}));
  EXPECT_FALSE(t.signal_pending());
  EXPECT_EQ(t.state(), Thread::State::Idle);
}

TEST(Scheduler, WakeupOneWakesExactlyOne) {
  Scheduler s(7);
  std::vector<WakeReason> reasons;
  for (int i = 0; i < 3; ++i)
    s.start(s.thread_create("t" + std::to_string(i), 0),
            std::make_unique<SleepOnceOp>(&chan_a, false, &reasons));
  s.wakeup_one(&chan_a);
  int runnable = 0;
  for (const auto& td : s.threads()) runnable += td->state() == Thread::State::Runnable;
  EXPECT_EQ(runnable, 1);
  EXPECT_EQ(s.run(), 1u);
}

TEST(Scheduler, CurthreadInsideOpsAndRunOn) {
  Scheduler s;
  Thread& t = s.thread_create("t", 1);
  EXPECT_FALSE(s.in_op());
  EXPECT_THROW(s.curthread(), KvaError);
  Thread* seen = nullptr;
  s.run_on(t, [&] { seen = &s.curthread(); });
  EXPECT_EQ(seen, &t);
  EXPECT_FALSE(s.in_op());
}

TEST(Scheduler, ThrowingOpLeavesThreadIdle) {
  Scheduler s;
  Thread& t = s.thread_create("t", 0);
  EXPECT_THROW(s.start(t, std::make_unique<ThrowingOp>()), KvaError);
  EXPECT_EQ(t.state(), Thread::State::Idle);
  EXPECT_FALSE(s.in_op());
  std::vector<WakeReason> reasons;
  EXPECT_FALSE(s.start(t, std::make_unique<SleepOnceOp>(&chan_a, false, &reasons)));
}

// Order in which 6 sleepers on one channel complete after a wakeup.
std::vector<int> completion_order(std::uint64_t seed) {
  Scheduler s(seed);
  std::vector<WakeReason> reasons;
  std::vector<int> order;
  for (int i = 0; i < 6; ++i)
    s.start(s.thread_create("t" + std::to_string(i), i % 2),
            std::make_unique<SleepOnceOp>(&chan_a, false, &reasons, &order));
  s.wakeup(&chan_a);
  EXPECT_EQ(s.run(), 6u);
  return order;
}

TEST(Scheduler, SeededOrderIsReproducibleAndSeedDependent) {
  EXPECT_EQ(completion_order(42), completion_order(42));
  EXPECT_EQ(completion_order(42).size(), 6u);
  std::set<std::vector<int>> distinct;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) distinct.insert(completion_order(seed));
  EXPECT_GE(distinct.size(), 3u);
}

}  // namespace
}  // namespace kva
