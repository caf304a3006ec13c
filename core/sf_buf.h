// sf_buf(9): temporary kernel mappings of physical pages, after FreeBSD's sys/kern/subr_sfbuf.c
// and the SMP sf_buf_map/sf_buf_shootdown of sys/i386.
//
//  - Direct-map mode (pmap.has_direct_map()): the sf_buf is the page's direct-map address;
//    nothing is mapped or invalidated.
//  - Pool mode: nsfbufs KVA slots, a hash of active page -> sf_buf with reference counts, and a
//    free list in LRU order whose entries keep their mapping until recycled. Each sf_buf keeps
//    a cpumask of CPUs whose TLB is known to hold no stale translation for its KVA.
#pragma once
#include <functional>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/kva_arena.h"
#include "core/pmap.h"
#include "core/sched.h"

namespace kva {

// sf_buf_alloc() flags (sys/sf_buf.h values)
inline constexpr int SFB_CATCH = 1;       // a signal interrupts the sleep: return NULL
inline constexpr int SFB_CPUPRIVATE = 2;  // mapping need only be valid on the current CPU
inline constexpr int SFB_DEFAULT = 0;
inline constexpr int SFB_NOWAIT = 4;      // return NULL instead of sleeping

struct sf_buf {
  int index = 0;             // slot number in the pool (or page index in direct-map mode)
  vaddr_t kva = 0;
  vm_page* m = nullptr;      // nullptr for a free slot that was never mapped
  int ref_count = 0;
  CpuSet cpumask;            // CPUs whose TLB cannot hold a stale translation for kva
  bool cpuprivate = false;   // last allocation was SFB_CPUPRIVATE (fault injection: sticky)
  // Times the slot was recycled for another page: lets a front end tell a handle to the old
  // mapping from one to the new (the struct is reused, so its address cannot).
  std::uint64_t generation = 0;
};

struct SfBufStats {
  int nsfbufs = 0;
  int nsfbufsused = 0;
  int nsfbufspeak = 0;
  std::uint64_t sf_allocwait = 0;  // sleeps for a free sf_buf
  std::uint64_t sf_allocfail = 0;  // NULL returns (SFB_NOWAIT or a signal)
  std::uint64_t remaps = 0;        // free-list recycles that changed the page
  std::uint64_t hash_hits = 0;     // allocations satisfied by an active or cached mapping
  std::uint64_t local_invalidations = 0;
  std::uint64_t shootdowns = 0;          // shootdown events
  std::uint64_t shootdown_targets = 0;   // remote CPUs targeted
  std::uint64_t invalidations_skipped_unaccessed = 0;  // A-bit optimization hits
};

struct SfBufConfig {
  int nsfbufs = 64;
};

class SfBufSubsystem {
 public:
  SfBufSubsystem(Pmap& pmap, Scheduler& sched, SfBufConfig cfg = {});
  // Carves the pool out of `kva` (shared with e.g. buffer maps) instead of a private arena over
  // all of pmap.kva_space(). `kva` must outlive this object.
  SfBufSubsystem(Pmap& pmap, Scheduler& sched, SfBufConfig cfg, KvaArena& kva);
  bool direct_map_mode() const { return dmap_; }

  // sf_buf_alloc(m, flags) run by thread td. Unlike FreeBSD, a thread that slept for a free
  // sf_buf looks the page up in the hash again, so a page is never mapped by two sf_bufs. `done` receives the result (nullptr = NULL) when
  // the call returns: at once, or, if td had to sleep, later from inside Scheduler::run().
  // Returns true if the call completed now. Misuse throws KvaError (unwired page, CPUPRIVATE
  // from an unpinned thread, unknown flags, td busy).
  bool sf_buf_alloc(Thread& td, vm_page* m, int flags, std::function<void(sf_buf*)> done);
  // The same call as a thread op, for kernel routines that compose sleeping calls (sendfile):
  // run on td, it delivers its result to `done`. Arguments are checked now.
  std::unique_ptr<ThreadOp> sf_buf_alloc_op(Thread& td, vm_page* m, int flags,
                                            std::function<void(sf_buf*)> done);
  // For callers that must not sleep (tests, SFB_NOWAIT users): throws KvaError if it slept.
  sf_buf* sf_buf_alloc_now(Thread& td, vm_page* m, int flags);
  void sf_buf_free(Thread& td, sf_buf* sf);  // throws KvaError if not referenced
  void sf_buf_ref(sf_buf* sf);               // throws KvaError if not referenced
  vaddr_t sf_buf_kva(const sf_buf* sf) const { return sf->kva; }
  vm_page* sf_buf_page(const sf_buf* sf) const { return sf->m; }

  const SfBufStats& stats() const { return stats_; }
  const std::vector<std::unique_ptr<sf_buf>>& pool() const { return pool_; }
  const std::list<sf_buf*>& free_list() const { return freelist_; }  // LRU first
  Pmap& pmap() { return pmap_; }
  Scheduler& scheduler() { return sched_; }

 private:
  class AllocOp;
  friend class AllocOp;
  sf_buf* lookup_active(vm_page* m);
  sf_buf* take_free();   // LRU head, or nullptr
  void sf_buf_map(sf_buf* sf, cpuid_t cpu, int flags);
  void sf_buf_shootdown(sf_buf* sf, cpuid_t cpu, int flags);
  void count_used();
  void check_owned(const sf_buf* sf) const;
  void check_alloc_args(const Thread& td, vm_page* m, int flags, bool td_idle = true) const;
  sf_buf* dmap_alloc(vm_page* m);
  void sf_buf_init(int nsfbufs);
  sf_buf* hash_hit(sf_buf* sf, cpuid_t cpu, int flags);
  sf_buf* recycle(sf_buf* sf, vm_page* m, cpuid_t cpu, int flags);

  Pmap& pmap_;
  Scheduler& sched_;
  bool dmap_;
  SfBufStats stats_;
  std::vector<std::unique_ptr<sf_buf>> pool_;
  std::unordered_map<vm_page*, sf_buf*> active_;  // sf_buf_active hash: page -> sf_buf
  std::list<sf_buf*> freelist_;                   // sf_buf_freelist, LRU order
  std::vector<std::list<sf_buf*>::iterator> free_entry_;  // by sf->index: its freelist position
  std::unordered_map<vm_page*, std::unique_ptr<sf_buf>> dmap_bufs_;  // direct-map mode
  int alloc_want_ = 0;                            // sf_buf_alloc_want
  std::unique_ptr<KvaArena> own_arena_;  // when no shared arena was given
  KvaArena* arena_ = nullptr;            // where the pool's KVA comes from
};

}  // namespace kva
