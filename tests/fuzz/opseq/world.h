// One machine of the differential op-sequence fuzzer, built only through public APIs: a pmap
// from the arch registry, the scheduler, a KVA arena shared by the sf_buf pool and raw
// reservations (as the buffer cache's maps will share it), and sf_buf(9). Ops refer to pages,
// sf_bufs and reservations by handle (their index here), so one op sequence applies to every
// arch although addresses differ.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/kva_arena.h"
#include "core/sched.h"
#include "core/sf_buf.h"

namespace kva::fuzz {

struct MachineShape {
  int ncpus = 2;
  int nsfbufs = 4;
  int threads_per_cpu = 2;
  std::size_t mem_bytes = 4u << 20;
};

struct SfHandle {
  enum class State { Pending, Null, Live, Freed };
  State state = State::Pending;
  sf_buf* sf = nullptr;
  int page = -1;    // page handle
  int thread = 0;   // allocating thread
  bool cpuprivate = false;
};

struct Reservation {
  vaddr_t va = 0;
  int npages = 0;
};

class World {
 public:
  World(const ArchInfo& arch, const MachineShape& shape);
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  const ArchInfo& arch() const { return arch_; }
  const MachineShape& shape() const { return shape_; }
  Pmap& pmap() { return *pmap_; }
  Scheduler& sched() { return *sched_; }
  SfBufSubsystem& sfbufs() { return *sfbufs_; }
  KvaArena& kva() { return *arena_; }
  bool direct_map() const { return pmap_->has_direct_map(); }

  std::vector<Thread*> threads;     // thread handle -> thread (pinned, cpu = index % ncpus)
  std::vector<vm_page*> pages;      // page handle -> page; nullptr once freed
  std::vector<Reservation> kvas;    // reservation handle
  std::vector<SfHandle> sfs;        // sf_buf_alloc call (and sf_buf_ref) handle

  // sf_buf_alloc with a callback that records the result in sfs[handle].
  void start_alloc(int handle, int flags);
  // How an sf_buf looks from the op sequence: arch-independent (page handle, pool slot).
  std::string describe(const sf_buf* sf) const;
  int page_handle(const vm_page* m) const;
  // Completions of sleeping sf_buf_alloc calls since the last take (they happen inside other
  // ops' Scheduler::run()).
  std::string take_completions();

 private:
  const ArchInfo& arch_;
  MachineShape shape_;
  std::unique_ptr<Pmap> pmap_;
  std::unique_ptr<Scheduler> sched_;
  std::unique_ptr<KvaArena> arena_;
  std::unique_ptr<SfBufSubsystem> sfbufs_;
  std::string completions_;
  int calling_ = -1;  // the handle whose sf_buf_alloc call is on the stack
};

}  // namespace kva::fuzz
