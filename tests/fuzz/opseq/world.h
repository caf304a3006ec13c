// One machine of the differential op-sequence fuzzer, built only through public APIs: a Kernel
// (the one both front ends use) over a pmap from the arch registry, with its scheduler, the KVA
// arena shared by the sf_buf pool, the buffer map and raw reservations, sf_buf(9), the buffer
// cache, the block device and files. Ops refer to pages, sf_bufs, reservations, files and
// buffers by handle (their index here), so one op sequence applies to every arch although
// addresses differ.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/kernel.h"

namespace kva::fuzz {

struct MachineShape {
  int ncpus = 2;
  int nsfbufs = 4;
  int threads_per_cpu = 2;
  std::size_t mem_bytes = 4u << 20;
  bool unmapped_bufs = false;  // file I/O asks for GB_UNMAPPED buffers (copies through sf_bufs)
};

struct SfHandle {
  enum class State { Pending, Null, Live, Freed };
  State state = State::Pending;
  sf_buf* sf = nullptr;
  int page = -1;    // page handle
  int thread = 0;   // allocating thread
  bool cpuprivate = false;
};

// A getblk/bread call and the buffer it returned.
struct BufHandle {
  enum class State { Pending, Null, Live, Released };
  State state = State::Pending;
  buf* bp = nullptr;
  int thread = 0;
  int file = -1;
  daddr_t lblkno = 0;
  bool cache = false;  // B_CACHE when it returned
  int error = 0;       // bread's error (none expected: no device fault is injected)
};

struct Reservation {
  vaddr_t va = 0;
  int npages = 0;
};

class World {
 public:
  World(const ArchInfo& arch, const MachineShape& shape, const FaultSet& faults = {});
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  const ArchInfo& arch() const { return arch_; }
  const MachineShape& shape() const { return shape_; }
  Kernel& kernel() { return *kernel_; }
  Pmap& pmap() { return kernel_->pmap(); }
  Scheduler& sched() { return kernel_->sched(); }
  SfBufSubsystem& sfbufs() { return kernel_->sfbufs(); }
  BufCache& bufs() { return kernel_->bufs(); }
  Vfs& vfs() { return kernel_->vfs(); }
  KvaArena& kva() { return kernel_->kva_arena(); }
  bool direct_map() const { return kernel_->pmap().has_direct_map(); }

  std::vector<Thread*> threads;     // thread handle -> thread (pinned, cpu = index % ncpus)
  std::vector<vm_page*> pages;      // page handle -> page; nullptr once freed
  std::vector<Reservation> kvas;    // reservation handle
  std::vector<SfHandle> sfs;        // sf_buf_alloc call (and sf_buf_ref) handle
  std::vector<vnode*> files;        // file handle
  std::vector<BufHandle> bufs_held; // getblk/bread call handle
  // Files changed by stores through b_data: the Vfs's own reference model sees only Vfs calls,
  // so its lost-write oracle and sendfile's comparison do not apply to them (the decoder's
  // FileModel does).

  // sf_buf_alloc with a callback that records the result in sfs[handle].
  void start_alloc(int handle, int flags);
  // How an sf_buf looks from the op sequence: arch-independent (page handle, pool slot).
  std::string describe(const sf_buf* sf) const;
  // getblk (or bread) into bufs_held[handle], recording the result like start_alloc.
  void start_getblk(int handle, bool read, int flags);
  std::string describe(const BufHandle& h) const;
  // A sleeping call that returned during a later op (reported with that op's outcome).
  void note_completion(const std::string& text) { completions_ += " [" + text + "]"; }
  int page_handle(const vm_page* m) const;
  // Completions of sleeping sf_buf_alloc calls since the last take (they happen inside other
  // ops' Scheduler::run()).
  std::string take_completions();

 private:
  const ArchInfo& arch_;
  MachineShape shape_;
  std::unique_ptr<Kernel> kernel_;
  std::string completions_;
  int calling_ = -1;      // the handle whose sf_buf_alloc call is on the stack
  int calling_buf_ = -1;  // the handle whose getblk/bread call is on the stack
};

}  // namespace kva::fuzz
