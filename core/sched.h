// A deterministic scheduler for kernel threads, without host threads.
//
// Threads are pinned to CPUs (sched_pin). A thread runs one ThreadOp at a time; an op that must
// block returns a Sleep (msleep on a wait channel) and is resumed later with the reason it woke.
// wakeup() makes every sleeper on a channel runnable; run() resumes runnable threads in an order
// drawn from the seed, so a given seed always reproduces the same interleaving.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/types.h"

namespace kva {

using WaitChannel = const void*;

enum class WakeReason {
  Start,       // first run of the op
  Woken,       // wakeup() on its channel
  Interrupted  // a signal arrived during a PCATCH sleep (msleep returned EINTR/ERESTART)
};

struct Sleep {
  WaitChannel chan;
  bool pcatch;        // PCATCH: a signal interrupts the sleep
  const char* wmesg;  // e.g. "sfbufa"
};

class Thread;

// An operation run by a kernel thread. run() returns a Sleep to block, or nullopt when done.
class ThreadOp {
 public:
  virtual ~ThreadOp() = default;
  virtual std::optional<Sleep> run(Thread& td, WakeReason why) = 0;
};

class Thread {
 public:
  enum class State { Idle, Runnable, Sleeping };

  int tid() const { return tid_; }
  const std::string& name() const { return name_; }
  cpuid_t cpu() const { return cpu_; }      // curcpu while this thread runs
  bool pinned() const { return pinned_ > 0; }
  void sched_pin() { ++pinned_; }
  void sched_unpin();                       // throws KvaError if not pinned
  State state() const { return state_; }
  WaitChannel wchan() const { return wchan_; }
  const char* wmesg() const { return wmesg_; }
  bool signal_pending() const { return sigpending_; }

 private:
  friend class Scheduler;
  int tid_ = 0;
  std::string name_;
  cpuid_t cpu_ = 0;
  int pinned_ = 0;
  State state_ = State::Idle;
  WaitChannel wchan_ = nullptr;
  const char* wmesg_ = "";
  bool pcatch_ = false;
  bool sigpending_ = false;
  WakeReason wake_ = WakeReason::Start;
  std::unique_ptr<ThreadOp> op_;
};

class Scheduler {
 public:
  explicit Scheduler(std::uint64_t seed = 1);

  // Creates a thread on `cpu`, pinned (td_pinned = 1) unless pinned is false.
  Thread& thread_create(std::string name, cpuid_t cpu, bool pinned = true);
  Thread* find(const std::string& name);
  const std::vector<std::unique_ptr<Thread>>& threads() const { return threads_; }
  // The thread whose op is running; throws KvaError outside an op.
  Thread& curthread();
  bool in_op() const { return current_ != nullptr; }

  // Runs `op` on the idle thread `td` right away. Returns true if it finished, false if it
  // went to sleep (it will finish in a later run()). Throws KvaError if td is not idle.
  bool start(Thread& td, std::unique_ptr<ThreadOp> op);
  // Convenience: run a plain function on td as curthread (it cannot sleep).
  void run_on(Thread& td, const std::function<void()>& fn);

  void wakeup(WaitChannel chan);      // every sleeper on chan becomes runnable
  void wakeup_one(WaitChannel chan);  // the one chosen by the seed
  // Delivers a signal: interrupts a PCATCH sleep, otherwise stays pending for the next one.
  void signal(Thread& td);

  // Resumes runnable threads in seeded order until none is runnable. Returns how many resumed.
  std::size_t run();
  // A seeded choice in [0, n): for interleaving racing threads reproducibly.
  std::size_t pick(std::size_t n);
  std::uint64_t seed() const { return seed_; }

 private:
  void resume(Thread& td);
  std::uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<Thread>> threads_;
  Thread* current_ = nullptr;
};

}  // namespace kva
