// The object behind kvabench.Machine: a kva::Kernel booted on one arch's Pmap (from the
// registry), plus the handles Python holds into it. Free of pybind11 so that argument
// checks stay plain C++: bad arguments throw std::invalid_argument (Python ValueError), misuse
// of a kernel interface throws kva::KvaError as the core does.
//
// Every handle holds a shared_ptr to its Machine, so a Page, Thread or SfBuf kept by a script
// never outlives the memory it points into.
#pragma once
#include <cstdint>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/kernel.h"

namespace kva::pyapi {

struct MachineOptions {
  std::string arch;
  int ncpus = 2;
  std::size_t mem_bytes = 16u << 20;
  int nsfbufs = 64;
  std::uint64_t seed = 1;
  std::vector<std::string> inject;  // fault names
  bool trace = false;               // collect the per-vCPU disassembled guest trace
  ExecMode exec_mode = ExecMode::Fast;
  std::optional<AdBits> ad;         // MachineConfig::ad_bits (nullopt: the arch's own)
  bool bbm = false;                 // MachineConfig::break_before_make
  BufConfig buf;                    // buffer cache (invariant checks on by default)
  DeviceConfig device;              // the block device under files
};

// A handle used after what it named was reused (an SfBuf whose slot was recycled).
class StaleHandle : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Machine;

struct PageHandle {
  std::shared_ptr<Machine> machine;
  vm_page* m;
};

struct ThreadHandle {
  std::shared_ptr<Machine> machine;
  Thread* td;
};

// generation: sf->generation when the handle was made; the slot's differs once recycled.
struct SfBufHandle {
  std::shared_ptr<Machine> machine;
  sf_buf* sf;
  std::uint64_t generation;
  bool stale() const { return sf->generation != generation; }
};

// A buffer a call returned, with the lock generation it came with: calls that need the buffer
// locked refuse a handle whose buffer was released (and maybe reused) since.
struct BufHandle {
  std::shared_ptr<Machine> machine;
  buf* bp;
  std::uint64_t lockgen;
};

struct FileHandle {
  std::shared_ptr<Machine> machine;
  vnode* vp;
};

// A buffer-cache or file call whose thread still sleeps after Machine.run(): resolved later.
struct PendingCall {
  bool done = false;
  buf* bp = nullptr;
  int error = 0;
  std::vector<std::uint8_t> data;            // file_read
  std::optional<SendfileResult> sendfile;    // sendfile
  bool returns_buffer = false;
  bool returns_data = false;                 // file_read: result is the bytes
};

struct PendingCallHandle {
  std::shared_ptr<Machine> machine;
  std::shared_ptr<PendingCall> state;
};

// The result of an sf_buf_alloc() whose thread slept: filled in from inside Machine::run().
struct PendingAlloc {
  bool done = false;
  sf_buf* sf = nullptr;  // nullptr: the call returned NULL
  std::uint64_t generation = 0;  // sf's when the call returned
};

struct PendingSfBufHandle {
  std::shared_ptr<Machine> machine;
  std::shared_ptr<PendingAlloc> state;
};

class Machine : public std::enable_shared_from_this<Machine> {
 public:
  explicit Machine(const MachineOptions& opts);
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  const ArchInfo& arch() const { return *arch_; }
  Kernel& kernel() { return *kernel_; }
  Pmap& pmap() { return kernel_->pmap(); }
  const Pmap& pmap() const { return kernel_->pmap(); }
  Scheduler& sched() { return kernel_->sched(); }
  SfBufSubsystem& sfb() { return kernel_->sfbufs(); }
  // KVA for raw kenter/qenter experiments (Kernel::kva_alloc: never overlaps the sf_buf pool).
  vaddr_t kva_alloc(std::size_t npages);
  void kva_free(vaddr_t va, std::size_t npages);

  // Argument checks shared by every binding (std::invalid_argument on failure).
  cpuid_t cpu(int c) const;
  CpuSet cpus(const std::vector<int>& list) const;
  vm_page* page(const PageHandle& p) const;
  Thread& thread(const ThreadHandle& t) const;
  sf_buf* sf_buf_of(const SfBufHandle& s) const;  // also StaleHandle once the slot was recycled
  buf* buffer(const BufHandle& b) const;          // any buffer of this machine
  buf* locked_buffer(const BufHandle& b) const;   // ... still under the lock it came with
  vnode* file(const FileHandle& f) const;

  void inject(const std::string& fault_name);
  std::vector<std::string> enabled_faults() const;

  PageHandle page_alloc();
  ThreadHandle thread_create(const std::string& name, int cpu, bool pinned);
  PageHandle handle(vm_page* m) { return {shared_from_this(), m}; }
  ThreadHandle handle(Thread* td) { return {shared_from_this(), td}; }
  SfBufHandle handle(sf_buf* sf) { return {shared_from_this(), sf, sf->generation}; }
  BufHandle handle(buf* bp) { return {shared_from_this(), bp, bp->b_lockgen}; }
  FileHandle handle(vnode* vp) { return {shared_from_this(), vp}; }
  std::string take_trace();  // the trace collected since the last call

 private:
  const ArchInfo* arch_;
  std::ostringstream trace_;  // declared before kernel_: its pmap writes here until destroyed
  std::unique_ptr<Kernel> kernel_;
};

const ArchInfo& arch_by_name(const std::string& name);  // std::invalid_argument listing names

}  // namespace kva::pyapi
