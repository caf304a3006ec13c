#include "core/sched.h"

namespace kva {

void Thread::sched_unpin() {
  if (pinned_ <= 0) throw KvaError("sched_unpin: thread " + name_ + " is not pinned");
  --pinned_;
}

Scheduler::Scheduler(std::uint64_t seed) : seed_(seed), rng_(seed) {}

Thread& Scheduler::thread_create(std::string name, cpuid_t cpu, bool pinned) {
  if (cpu < 0 || cpu >= MAXCPU) throw KvaError("thread_create: cpu out of range");
  if (find(name)) throw KvaError("thread_create: a thread named " + name + " already exists");
  auto td = std::make_unique<Thread>();
  td->tid_ = static_cast<int>(threads_.size()) + 100000;  // FreeBSD tids start at 100000
  td->name_ = std::move(name);
  td->cpu_ = cpu;
  td->pinned_ = pinned ? 1 : 0;
  threads_.push_back(std::move(td));
  return *threads_.back();
}

Thread* Scheduler::find(const std::string& name) {
  for (auto& td : threads_)
    if (td->name_ == name) return td.get();
  return nullptr;
}

Thread& Scheduler::curthread() {
  if (!current_) throw KvaError("curthread: no thread is running");
  return *current_;
}

bool Scheduler::start(Thread& td, std::unique_ptr<ThreadOp> op) {
  if (td.state_ != Thread::State::Idle || td.op_)
    throw KvaError("thread " + td.name_ + " is busy (sleeping or running an operation)");
  if (!op) throw KvaError("start: no operation");
  td.op_ = std::move(op);
  td.wake_ = WakeReason::Start;
  td.state_ = Thread::State::Runnable;
  resume(td);
  return td.state_ == Thread::State::Idle;
}

namespace {
// Restores curthread even when an op throws.
class CurthreadScope {
 public:
  CurthreadScope(Thread*& current, Thread* td) : current_(current), saved_(current) { current = td; }
  ~CurthreadScope() { current_ = saved_; }

 private:
  Thread*& current_;
  Thread* saved_;
};
}  // namespace

void Scheduler::run_on(Thread& td, const std::function<void()>& fn) {
  CurthreadScope scope(current_, &td);
  fn();
}

void Scheduler::resume(Thread& td) {
  CurthreadScope scope(current_, &td);
  WakeReason why = td.wake_;
  td.wchan_ = nullptr;
  td.wmesg_ = "";
  for (;;) {
    std::optional<Sleep> sleep;
    try {
      sleep = td.op_->run(td, why);
    } catch (...) {
      td.op_.reset();  // a misuse error ends the op; the thread is usable again
      td.state_ = Thread::State::Idle;
      throw;
    }
    if (!sleep) {
      td.op_.reset();
      td.state_ = Thread::State::Idle;
      return;
    }
    // msleep with PCATCH checks for a pending signal before sleeping and returns at once.
    if (sleep->pcatch && td.sigpending_) {
      td.sigpending_ = false;
      why = WakeReason::Interrupted;
      continue;
    }
    td.state_ = Thread::State::Sleeping;
    td.wchan_ = sleep->chan;
    td.wmesg_ = sleep->wmesg ? sleep->wmesg : "";
    td.pcatch_ = sleep->pcatch;
    return;
  }
}

void Scheduler::wakeup(WaitChannel chan) {
  for (auto& td : threads_) {
    if (td->state_ == Thread::State::Sleeping && td->wchan_ == chan) {
      td->state_ = Thread::State::Runnable;
      td->wake_ = WakeReason::Woken;
    }
  }
}

void Scheduler::wakeup_one(WaitChannel chan) {
  std::vector<Thread*> sleepers;
  for (auto& td : threads_)
    if (td->state_ == Thread::State::Sleeping && td->wchan_ == chan) sleepers.push_back(td.get());
  if (sleepers.empty()) return;
  Thread* td = sleepers[pick(sleepers.size())];
  td->state_ = Thread::State::Runnable;
  td->wake_ = WakeReason::Woken;
}

void Scheduler::signal(Thread& td) {
  if (td.state_ == Thread::State::Sleeping && td.pcatch_) {
    td.state_ = Thread::State::Runnable;
    td.wake_ = WakeReason::Interrupted;
    td.sigpending_ = false;
    return;
  }
  td.sigpending_ = true;
}

std::size_t Scheduler::run() {
  std::size_t resumed = 0;
  for (;;) {
    std::vector<Thread*> runnable;
    for (auto& td : threads_)
      if (td->state_ == Thread::State::Runnable && td->op_ && td.get() != current_)
        runnable.push_back(td.get());
    if (runnable.empty()) return resumed;
    resume(*runnable[pick(runnable.size())]);
    ++resumed;
  }
}

// Plain modulo of the raw engine output: unlike std::uniform_int_distribution, its result is
// the same with every standard library, so a seed reproduces everywhere.
std::size_t Scheduler::pick(std::size_t n) {
  if (n == 0) throw KvaError("pick: empty choice");
  return static_cast<std::size_t>(rng_() % n);
}

}  // namespace kva
