// The state of one running job (testcase x arch x seed): the Kernel booted on a pmap from the
// arch registry, the names bound by steps, and the failures found so far.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/kernel.h"
#include "runner/counters.h"
#include "runner/selector.h"
#include "runner/testcase.h"

namespace kva::runner {

class RunContext;

// One mismatch between what a testcase expects and what happened.
struct Failure {
  std::string step;    // label of the step (or "end of testcase")
  std::string oracle;  // which check caught it, e.g. "observed staleness", "unexpected value"
  std::string message;
  std::optional<int> cpu;
  std::optional<std::uint64_t> va;
  std::string expected;
  std::string observed;
};

// A step cannot run as written on this machine (e.g. reading through a NULL sf_buf).
// Reported as a failure of that step; the job stops.
class StepError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown to stop a job whose failure is already recorded (e.g. inside a race).
class JobStopped : public std::exception {
 public:
  const char* what() const noexcept override { return "job stopped"; }
};

// An sf_buf_alloc call, possibly still sleeping.
struct AllocRecord {
  std::string thread;
  bool done = false;
  sf_buf* result = nullptr;     // valid once done; nullptr = NULL
  std::string completed_step;   // label of the step during which the call returned
  std::function<void(RunContext&, AllocRecord&)> on_complete;
};

// A buffer-cache or file operation that may sleep (getblk, bread, bwrite, file_read, ...).
// For buffer results, `bp` and the lock generation it was handed out with.
struct OpRecord {
  std::string op;               // op name, for messages
  std::string thread;           // its thread's name
  Thread* td = nullptr;
  bool done = false;
  int error = 0;
  buf* bp = nullptr;            // for ops that return a buffer (nullptr = NULL)
  std::uint64_t lockgen = 0;
  std::string completed_step;
  std::function<void(RunContext&, OpRecord&)> on_complete;
};

class RunContext {
 public:
  RunContext(const Testcase& tc, const ArchInfo& arch, std::uint64_t seed, const FaultSet& faults,
             std::ostream* trace, std::ostream* log, ExecMode exec_mode = ExecMode::Fast,
             std::optional<AdBits> ad = std::nullopt);
  ~RunContext();

  Kernel& kernel() { return *kernel_; }
  const Kernel& kernel() const { return *kernel_; }
  Pmap& pmap() { return kernel_->pmap(); }
  Scheduler& sched() { return kernel_->sched(); }
  SfBufSubsystem& sfbufs() { return kernel_->sfbufs(); }
  const ArchContext& arch() const { return arch_; }
  const Testcase& testcase() const { return tc_; }
  std::ostream* log() const { return log_; }

  vm_page* page(const std::string& name) const;
  void bind_page(const std::string& name, vm_page* m);
  Thread& thread(const std::string& name);
  AllocRecord& new_alloc(const std::string& name, const std::string& thread);
  AllocRecord& alloc(const std::string& name);
  // Every sf_buf_alloc call made so far, by name.
  std::vector<std::pair<std::string, const AllocRecord*>> allocs() const;
  // The sf_buf bound to name; StepError when the allocation returned NULL or still sleeps.
  sf_buf* sf(const std::string& name);
  // Buffer-cache and file operations, by name (`as:`); buffers are named by their op.
  OpRecord& new_op(const std::string& name, const std::string& op, const std::string& thread);
  OpRecord& op(const std::string& name);
  std::vector<std::pair<std::string, const OpRecord*>> ops() const;
  // The buffer an op returned: StepError while it sleeps or when it returned NULL.
  buf* buffer(const std::string& name);
  // ... and that buffer still under the lock the op took (KvaError once released: a stale
  // handle, what FreeBSD would see as use after brelse).
  buf* locked_buffer(const std::string& name);
  vnode* file(const std::string& name) const;
  void bind_file(const std::string& name, vnode* vp) { files_[name] = vp; }
  // A thread by name, or the kernel's thread of a CPU (ops that give only `cpu:`).
  Thread& actor(const std::optional<std::string>& thread, int cpu);

  // KVA for raw pmap steps: a Kernel::kva_alloc reservation bound to name.
  void reserve_kva(const std::string& name, std::size_t pages, std::uint64_t align = PAGE_SIZE);
  // Kernel VA without page tables yet (Pmap::growable_kva()), `bytes` long and aligned to it.
  void reserve_grow_kva(const std::string& name, std::uint64_t bytes);
  vaddr_t kva(const std::string& name) const;
  std::size_t kva_pages(const std::string& name) const;

  void begin_step(const std::string& label);
  // Checks to run once the current step (and the threads it woke) has finished.
  void after_step(std::function<void()> check) { after_step_.push_back(std::move(check)); }
  void run_after_step();
  const std::string& step_label() const { return step_; }
  void fail(Failure f);
  const std::vector<Failure>& failures() const { return failures_; }
  CounterValues counters() const;
  void snapshot_counters_as(const std::string& label) { snapshots_[label] = counters(); }
  const CounterValues* snapshot(const std::string& label) const;

 private:
  const Testcase& tc_;
  ArchContext arch_;
  std::ostream* log_;
  std::unique_ptr<Kernel> kernel_;
  std::map<std::string, vm_page*> pages_;
  std::map<std::string, Thread*> threads_;
  std::map<std::string, std::unique_ptr<AllocRecord>> allocs_;
  std::map<std::string, std::unique_ptr<OpRecord>> ops_;
  std::map<std::string, vnode*> files_;
  struct Reservation { vaddr_t va; std::size_t pages; };
  std::map<std::string, Reservation> kvas_;
  std::string step_;
  std::vector<std::function<void()>> after_step_;
  std::vector<Failure> failures_;
  std::map<std::string, CounterValues> snapshots_;
};

}  // namespace kva::runner
