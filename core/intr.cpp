#include "core/intr.h"

namespace kva {

// Sleeps until work arrives, then drains its CPU's queue (work queued meanwhile included).
class InterruptThreads::Op final : public ThreadOp {
 public:
  Op(InterruptThreads& it, cpuid_t cpu) : it_(it), cpu_(cpu) {}
  std::optional<Sleep> run(Thread&, WakeReason why) override {
    auto& q = it_.work_[static_cast<std::size_t>(cpu_)];
    if (why == WakeReason::Start) return Sleep{&q, false, "intr"};
    while (!q.empty()) {
      std::function<void()> fn = std::move(q.front());
      q.pop_front();
      fn();
    }
    return std::nullopt;
  }

 private:
  InterruptThreads& it_;
  cpuid_t cpu_;
};

InterruptThreads::InterruptThreads(Scheduler& sched, int ncpus, std::string prefix)
    : sched_(sched),
      prefix_(std::move(prefix)),
      threads_(static_cast<std::size_t>(ncpus), nullptr),
      work_(static_cast<std::size_t>(ncpus)) {}

Thread& InterruptThreads::thread(cpuid_t cpu) {
  if (cpu < 0 || static_cast<std::size_t>(cpu) >= threads_.size())
    throw KvaError("interrupt thread: cpu " + std::to_string(cpu) + " does not exist");
  Thread*& td = threads_[static_cast<std::size_t>(cpu)];
  if (!td) td = &sched_.thread_create(prefix_ + std::to_string(cpu), cpu);
  return *td;
}

void InterruptThreads::schedule(cpuid_t cpu, std::function<void()> fn) {
  Thread& td = thread(cpu);
  auto& q = work_[static_cast<std::size_t>(cpu)];
  q.push_back(std::move(fn));
  switch (td.state()) {
    case Thread::State::Idle:
      sched_.start(td, std::make_unique<Op>(*this, cpu));  // goes to sleep at once
      sched_.wakeup(&q);
      break;
    case Thread::State::Sleeping: sched_.wakeup(&q); break;
    case Thread::State::Runnable: break;  // running or about to: it drains the queue
  }
}

std::size_t InterruptThreads::pending() const {
  std::size_t n = 0;
  for (const auto& q : work_) n += q.size();
  return n;
}

}  // namespace kva
