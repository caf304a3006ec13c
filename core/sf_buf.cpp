// sf_buf(9) after FreeBSD sys/kern/subr_sfbuf.c (pool, hash, LRU free list, sleeping) and the
// SMP sf_buf_map / sf_buf_shootdown of sys/i386/i386/vm_machdep.c (per-sf_buf cpumask and the
// PG_A optimization).
#include "core/sf_buf.h"

#include <algorithm>

namespace kva {

namespace {
constexpr int kKnownFlags = SFB_CATCH | SFB_CPUPRIVATE | SFB_NOWAIT;
}

// The body of sf_buf_alloc() in pool mode, as a thread op so that msleep(&sf_buf_freelist)
// can block the calling thread and resume it on wakeup or a signal.
class SfBufSubsystem::AllocOp final : public ThreadOp {
 public:
  AllocOp(SfBufSubsystem& sfb, vm_page* m, int flags, std::function<void(sf_buf*)> done)
      : sfb_(sfb), m_(m), flags_(flags), done_(std::move(done)) {}

  std::optional<Sleep> run(Thread& td, WakeReason why) override {
    const cpuid_t cpu = td.cpu();
    if (why != WakeReason::Start) {
      --sfb_.alloc_want_;
      // "If we got a signal, don't risk going back to sleep."
      if (why == WakeReason::Interrupted) return finish(nullptr, /*failed=*/true);
    }
    // FreeBSD looks the page up only before the first sleep. We look again after every wakeup:
    // the hash holds one sf_buf per page here, and another thread may have mapped the page
    // while we slept (FreeBSD would then create a second mapping of it).
    if (sf_buf* sf = sfb_.lookup_active(m_)) return finish(sfb_.hash_hit(sf, cpu, flags_), false);
    if (sfb_.freelist_.empty()) {
      if (flags_ & SFB_NOWAIT) return finish(nullptr, true);
      ++sfb_.alloc_want_;
      ++sfb_.stats_.sf_allocwait;
      return Sleep{&sfb_.freelist_, (flags_ & SFB_CATCH) != 0, "sfbufa"};
    }
    return finish(sfb_.recycle(sfb_.take_free(), m_, cpu, flags_), false);
  }

 private:
  std::optional<Sleep> finish(sf_buf* sf, bool failed) {
    if (failed) ++sfb_.stats_.sf_allocfail;
    if (done_) done_(sf);
    return std::nullopt;
  }

  SfBufSubsystem& sfb_;
  vm_page* m_;
  int flags_;
  std::function<void(sf_buf*)> done_;
};

SfBufSubsystem::SfBufSubsystem(Pmap& pmap, Scheduler& sched, SfBufConfig cfg)
    : pmap_(pmap), sched_(sched), dmap_(pmap.has_direct_map()) {
  if (dmap_) return;  // sf_buf_init: with a direct map there is no pool at all
  own_arena_ = std::make_unique<KvaArena>(pmap.kva_space());
  arena_ = own_arena_.get();
  sf_buf_init(cfg.nsfbufs);
}

SfBufSubsystem::SfBufSubsystem(Pmap& pmap, Scheduler& sched, SfBufConfig cfg, KvaArena& kva)
    : pmap_(pmap), sched_(sched), dmap_(pmap.has_direct_map()), arena_(&kva) {
  if (dmap_) return;
  sf_buf_init(cfg.nsfbufs);
}

// One contiguous KVA range of nsfbufs pages (kva_alloc in FreeBSD), every slot on the free list.
void SfBufSubsystem::sf_buf_init(int nsfbufs) {
  if (nsfbufs <= 0) throw KvaError("nsfbufs must be positive");
  const std::size_t bytes = static_cast<std::size_t>(nsfbufs) * PAGE_SIZE;
  const std::optional<vaddr_t> base = arena_->alloc(bytes);
  if (!base) throw KvaError("nsfbufs=" + std::to_string(nsfbufs) + " exceeds the free kva space");
  stats_.nsfbufs = nsfbufs;
  pool_.reserve(static_cast<std::size_t>(nsfbufs));
  free_entry_.reserve(static_cast<std::size_t>(nsfbufs));
  for (int i = 0; i < nsfbufs; ++i) {
    auto sf = std::make_unique<sf_buf>();
    sf->index = i;
    sf->kva = *base + static_cast<vaddr_t>(i) * PAGE_SIZE;
    free_entry_.push_back(freelist_.insert(freelist_.end(), sf.get()));
    pool_.push_back(std::move(sf));
  }
}

void SfBufSubsystem::check_alloc_args(const Thread& td, vm_page* m, int flags, bool td_idle) const {
  if (m == nullptr) throw KvaError("sf_buf_alloc: NULL page");
  if (pmap_.phys().PHYS_TO_VM_PAGE(m->phys_addr) != m)
    throw KvaError("sf_buf_alloc: page does not belong to this machine's memory");
  if (m->wire_count == 0) throw KvaError("sf_buf_alloc: page is not wired (vm_page_wire first)");
  if (flags & ~kKnownFlags) throw KvaError("sf_buf_alloc: unknown flags " + std::to_string(flags));
  if ((flags & SFB_CPUPRIVATE) && !td.pinned())
    throw KvaError("sf_buf_alloc: SFB_CPUPRIVATE from thread " + td.name() +
                   " which is not pinned (sched_pin)");
  if (td.cpu() < 0 || td.cpu() >= pmap_.ncpus())
    throw KvaError("sf_buf_alloc: thread " + td.name() + " runs on a CPU this machine lacks");
  if (td_idle && td.state() != Thread::State::Idle)
    throw KvaError("sf_buf_alloc: thread " + td.name() + " is busy (sleeping or running)");
}

// The sf_buf *is* the page's direct-map address; one object per page.
sf_buf* SfBufSubsystem::dmap_alloc(vm_page* m) {
  auto& sf = dmap_bufs_[m];
  if (!sf) {
    sf = std::make_unique<sf_buf>();
    sf->index = static_cast<int>(m->index);
    sf->kva = pmap_.phys_to_dmap(m->phys_addr);
    sf->m = m;
  }
  ++sf->ref_count;
  return sf.get();
}

namespace {
class DmapAllocOp final : public ThreadOp {
 public:
  explicit DmapAllocOp(std::function<void()> fn) : fn_(std::move(fn)) {}
  std::optional<Sleep> run(Thread&, WakeReason) override {
    fn_();
    return std::nullopt;
  }

 private:
  std::function<void()> fn_;
};
}  // namespace

std::unique_ptr<ThreadOp> SfBufSubsystem::sf_buf_alloc_op(Thread& td, vm_page* m, int flags,
                                                          std::function<void(sf_buf*)> done) {
  check_alloc_args(td, m, flags, /*td_idle=*/false);
  if (dmap_)
    return std::make_unique<DmapAllocOp>([this, m, done = std::move(done)] {
      sf_buf* sf = dmap_alloc(m);
      if (done) done(sf);
    });
  return std::make_unique<AllocOp>(*this, m, flags, std::move(done));
}

bool SfBufSubsystem::sf_buf_alloc(Thread& td, vm_page* m, int flags,
                                  std::function<void(sf_buf*)> done) {
  check_alloc_args(td, m, flags);
  if (dmap_) {
    sf_buf* sf = dmap_alloc(m);
    if (done) done(sf);
    return true;
  }
  return sched_.start(td, std::make_unique<AllocOp>(*this, m, flags, std::move(done)));
}

sf_buf* SfBufSubsystem::sf_buf_alloc_now(Thread& td, vm_page* m, int flags) {
  check_alloc_args(td, m, flags);
  // Refuse before starting: a sleeping op would later call back into this returned frame.
  if (!dmap_ && !(flags & SFB_NOWAIT) && !lookup_active(m) && freelist_.empty())
    throw KvaError("sf_buf_alloc_now: no free sf_buf, the call would sleep");
  sf_buf* result = nullptr;
  sf_buf_alloc(td, m, flags, [&result](sf_buf* sf) { result = sf; });
  return result;
}

sf_buf* SfBufSubsystem::lookup_active(vm_page* m) {
  auto it = active_.find(m);
  return it == active_.end() ? nullptr : it->second;
}

sf_buf* SfBufSubsystem::take_free() {
  if (freelist_.empty()) return nullptr;
  sf_buf* sf = freelist_.front();
  freelist_.pop_front();
  return sf;
}

void SfBufSubsystem::count_used() {
  ++stats_.nsfbufsused;
  stats_.nsfbufspeak = std::max(stats_.nsfbufspeak, stats_.nsfbufsused);
}

// The page already has an sf_buf (in use, or cached on the free list with its mapping).
sf_buf* SfBufSubsystem::hash_hit(sf_buf* sf, cpuid_t cpu, int flags) {
  if (++sf->ref_count == 1) {
    freelist_.erase(free_entry_[static_cast<std::size_t>(sf->index)]);
    count_used();
  }
  ++stats_.hash_hits;
  sf_buf_shootdown(sf, cpu, flags);
  return sf;
}

// A free sf_buf taken from the LRU head now maps m.
sf_buf* SfBufSubsystem::recycle(sf_buf* sf, vm_page* m, cpuid_t cpu, int flags) {
  if (sf->m != nullptr) {
    active_.erase(sf->m);
    ++stats_.remaps;
  }
  active_[m] = sf;
  sf->ref_count = 1;
  sf->m = m;
  ++sf->generation;
  count_used();
  sf_buf_map(sf, cpu, flags);
  return sf;
}

void SfBufSubsystem::sf_buf_map(sf_buf* sf, cpuid_t cpu, int flags) {
  const PteState opte = pmap_.pte(sf->kva);
  pmap_.kenter(sf->kva, sf->m->phys_addr);
  if (opte.valid && pmap_.faults().enabled(Fault::SkipAbitCheck)) {
    // Injected bug: the old mapping is assumed unused, so no CPU is invalidated at all.
    ++stats_.invalidations_skipped_unaccessed;
    return;
  }
  // If the old mapping was never used, every CPU that invalidated kva since the last used
  // mapping is still clean: keep cpumask and skip their invalidations.
  if (opte.valid && opte.accessed) {
    if (!pmap_.faults().enabled(Fault::KeepCpumaskOnRemap)) sf->cpumask.zero();
  } else if (opte.valid) {
    ++stats_.invalidations_skipped_unaccessed;
  }
  sf_buf_shootdown(sf, cpu, flags);
}

void SfBufSubsystem::sf_buf_shootdown(sf_buf* sf, cpuid_t cpu, int flags) {
  if (!sf->cpumask.isset(cpu)) {
    sf->cpumask.set(cpu);
    pmap_.invalidate_local(cpu, sf->kva);
    ++stats_.local_invalidations;
  }
  if (flags & SFB_CPUPRIVATE) {
    sf->cpuprivate = true;
    return;
  }
  // Injected bug: once used privately, the sf_buf stays "private" for later shared users.
  if (sf->cpuprivate && pmap_.faults().enabled(Fault::CpuPrivateSticky)) return;
  sf->cpuprivate = false;
  const CpuSet others = pmap_.all_cpus().andnot(CpuSet::only(cpu)).andnot(sf->cpumask);
  if (others.empty()) return;
  sf->cpumask = sf->cpumask | others;
  pmap_.shootdown(cpu, others, sf->kva);
  ++stats_.shootdowns;
  stats_.shootdown_targets += static_cast<std::uint64_t>(others.count());
}

void SfBufSubsystem::check_owned(const sf_buf* sf) const {
  if (sf == nullptr) throw KvaError("sf_buf_free: NULL sf_buf");
  if (dmap_) {
    auto it = sf->m ? dmap_bufs_.find(sf->m) : dmap_bufs_.end();
    if (it == dmap_bufs_.end() || it->second.get() != sf)
      throw KvaError("sf_buf: not an sf_buf of this subsystem");
    return;
  }
  if (sf->index < 0 || static_cast<std::size_t>(sf->index) >= pool_.size() ||
      pool_[static_cast<std::size_t>(sf->index)].get() != sf)
    throw KvaError("sf_buf: not an sf_buf of this pool");
}

void SfBufSubsystem::sf_buf_free(Thread& td, sf_buf* sf) {
  check_owned(sf);
  if (sf->ref_count <= 0) throw KvaError("sf_buf_free: sf_buf is not referenced");
  if (--sf->ref_count > 0 || dmap_) return;
  // Back on the LRU tail with its mapping kept (i386 sf_buf_unmap does nothing), so a later
  // sf_buf_alloc of the same page is a hash hit that needs no remap.
  free_entry_[static_cast<std::size_t>(sf->index)] = freelist_.insert(freelist_.end(), sf);
  --stats_.nsfbufsused;
  if (alloc_want_ > 0) sched_.wakeup(&freelist_);
}

void SfBufSubsystem::sf_buf_ref(sf_buf* sf) {
  check_owned(sf);
  if (sf->ref_count <= 0) throw KvaError("sf_buf_ref: sf_buf is not referenced");
  ++sf->ref_count;
}

}  // namespace kva
