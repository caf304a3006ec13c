// Interrupt threads: one kernel thread per CPU that runs deferred work (I/O completions) at the
// scheduler's next run(), so completion happens asynchronously and on a chosen CPU, in an order
// the seed reproduces.
#pragma once
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "core/sched.h"

namespace kva {

class InterruptThreads {
 public:
  // Threads are named "<prefix><cpu>" and created on first use.
  InterruptThreads(Scheduler& sched, int ncpus, std::string prefix);
  // Queues fn on cpu's interrupt thread; it runs during a later Scheduler::run().
  void schedule(cpuid_t cpu, std::function<void()> fn);
  std::size_t pending() const;

 private:
  class Op;
  Thread& thread(cpuid_t cpu);

  Scheduler& sched_;
  std::string prefix_;
  std::vector<Thread*> threads_;
  std::vector<std::deque<std::function<void()>>> work_;
};

}  // namespace kva
