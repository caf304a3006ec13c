// Composing thread ops: a kernel routine that calls several sleeping routines in turn (a file
// read calls bread per block) is one ThreadOp whose `next` hands out the sub-op to run now.
// Each sub-op runs to completion (sleeping as often as it needs) before `next` is asked again;
// `next` returns nullptr when the routine is done.
#pragma once
#include <functional>
#include <memory>

#include "core/sched.h"

namespace kva {

class OpChain final : public ThreadOp {
 public:
  using Next = std::function<std::unique_ptr<ThreadOp>(Thread&)>;
  explicit OpChain(Next next) : next_(std::move(next)) {}

  std::optional<Sleep> run(Thread& td, WakeReason why) override {
    for (;;) {
      if (!current_) {
        current_ = next_(td);
        if (!current_) return std::nullopt;
        why = WakeReason::Start;
      }
      if (std::optional<Sleep> s = current_->run(td, why)) return s;
      current_.reset();
    }
  }

 private:
  Next next_;
  std::unique_ptr<ThreadOp> current_;
};

// A sub-op that runs a plain function (cannot sleep).
class CallOp final : public ThreadOp {
 public:
  explicit CallOp(std::function<void(Thread&)> fn) : fn_(std::move(fn)) {}
  std::optional<Sleep> run(Thread& td, WakeReason) override {
    fn_(td);
    return std::nullopt;
  }

 private:
  std::function<void(Thread&)> fn_;
};

}  // namespace kva
