// buf(9) lookup, allocation, locking and release: getblk, geteblk, bread/breadn, brelse/bqrelse,
// getnewbuf and the queues (after sys/kern/vfs_bio.c).
#include "core/buf_cache.h"

#include <algorithm>

namespace kva {

namespace {
// bogus_page is never freed: a wiring no caller can drop.
constexpr int kBogusWiring = 1 << 30;

std::size_t validated_pages(std::size_t bytes) {
  if (bytes % PAGE_SIZE) throw KvaError("buffer map size must be a multiple of PAGE_SIZE");
  return bytes / PAGE_SIZE;
}

BufConfig with_defaults(BufConfig c) {
  if (c.nbuf < 1 || c.nbuf > 65536) throw KvaError("nbuf must be between 1 and 65536");
  validated_pages(c.maxbufspace);
  if (c.maxbufspace < MAXBSIZE + PAGE_SIZE)
    throw KvaError("maxbufspace must hold at least one MAXBSIZE buffer (" +
                   std::to_string((MAXBSIZE + PAGE_SIZE) / 1024) + "K)");
  if (c.hibufspace == 0) c.hibufspace = round_page(c.maxbufspace * 7 / 8);
  if (c.lobufspace == 0) c.lobufspace = round_page(c.maxbufspace * 3 / 4);
  if (c.hibufspace > c.maxbufspace || c.lobufspace > c.hibufspace)
    throw KvaError("buffer map watermarks must satisfy lobufspace <= hibufspace <= maxbufspace");
  if (c.hidirtybuffers == 0) c.hidirtybuffers = std::max(1, c.nbuf / 4);
  if (c.lodirtybuffers == 0) c.lodirtybuffers = c.hidirtybuffers / 2;
  if (c.lodirtybuffers > c.hidirtybuffers || c.hidirtybuffers > c.nbuf)
    throw KvaError("dirty-buffer thresholds must satisfy lodirtybuffers <= hidirtybuffers <= nbuf");
  return c;
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Thread ops

// getblk, and bread / breadn on top of it: find or constitute the buffer, lock it, give it KVA
// unless GB_UNMAPPED, then (read) start the read unless B_CACHE and wait for it.
class BufCache::GetblkOp final : public ThreadOp {
 public:
  GetblkOp(BufCache& bc, bufobj* bo, daddr_t lblkno, int size, int flags, bool read,
           std::vector<daddr_t> ra, std::vector<int> ras, BufResult done)
      : bc_(bc), bo_(bo), lblkno_(lblkno), size_(size), flags_(flags), read_(read),
        ra_(std::move(ra)), ras_(std::move(ras)), done_(std::move(done)) {}

  std::optional<Sleep> run(Thread& td, WakeReason) override {
    const cpuid_t cpu = td.cpu();
    for (;;) {
      switch (phase_) {
        case Phase::Lookup:
          if (auto s = lookup(td)) return s;
          if (finished_) return std::nullopt;
          break;
        case Phase::Commit:  // a B_DELWRI buffer without B_CACHE is written before reuse
          if (bp_->b_io_in_progress) return bc_.sleep_on(&bp_->b_iocmd, "getblkw");
          bc_.release(bp_, cpu, false);
          bp_ = nullptr;
          phase_ = Phase::Lookup;
          break;
        case Phase::Kva:
          if (!bc_.ensure_kva(bp_, cpu)) return bc_.sleep_on(&bc_.freechan_, "nbufkv");
          phase_ = Phase::Got;
          break;
        case Phase::Got:
          if (!read_) return finish(bp_, 0);
          if (!(bp_->b_flags & B_CACHE)) {
            bp_->b_iocmd = BIO_READ;
            bc_.start_io(bp_, cpu);
          }
          readahead(td);
          phase_ = Phase::WaitRead;
          break;
        case Phase::WaitRead:
          if (bp_->b_io_in_progress) return bc_.sleep_on(&bp_->b_iocmd, "biord");
          return finish(bp_, (bp_->b_ioflags & BIO_ERROR) ? bp_->b_error : 0);
      }
    }
  }

 private:
  enum class Phase { Lookup, Commit, Kva, Got, WaitRead };

  std::optional<Sleep> lookup(Thread& td) {
    const cpuid_t cpu = td.cpu();
    buf* bp = bc_.incore(*bo_, lblkno_);
    if (bp) {
      if (bp->b_locked) {
        if (bp->b_lockowner == &td)
          throw KvaError("getblk: thread " + td.name() + " already holds the buffer of block " +
                         std::to_string(lblkno_) + " (locking against itself)");
        if (flags_ & GB_NOWAIT) return finish(nullptr, 0);
        return bc_.sleep_on(bp, "getblk");
      }
      bc_.lock(bp, td);
      bc_.bremfree(bp);
      ++bc_.stats_.getblk_hits;
      if (bp->b_bcount != size_) bc_.allocbuf_locked(bp, size_, cpu);
      bc_.update_bcache(bp);
      if ((bp->b_flags & (B_CACHE | B_DELWRI)) == B_DELWRI) {
        // getblk must not hand out a delayed-write buffer that is not entirely valid: commit it
        // (synchronously, B_NOCACHE) and look again.
        bp->b_flags |= B_NOCACHE;
        bc_.prepare_write(bp);
        bc_.start_io(bp, cpu);
        bp_ = bp;
        phase_ = Phase::Commit;
        return std::nullopt;
      }
    } else {
      if (flags_ & GB_NOCREAT) return finish(nullptr, 0);
      bp = bc_.constitute(td, *bo_, lblkno_, size_, flags_);
      if (!bp) {
        if (flags_ & GB_NOWAIT) return finish(nullptr, 0);
        bc_.bd_wakeup();
        return bc_.sleep_on(&bc_.freechan_, "newbuf");
      }
    }
    bp_ = bp;
    phase_ = (flags_ & GB_UNMAPPED) || buf_mapped(bp) ? Phase::Got : Phase::Kva;
    return std::nullopt;
  }

  // breadn: asynchronous reads of the blocks not in the cache; never sleeps.
  void readahead(Thread& td) {
    const cpuid_t cpu = td.cpu();
    for (std::size_t i = 0; i < ra_.size(); ++i) {
      if (bc_.incore(*bo_, ra_[i])) continue;
      buf* rabp = bc_.constitute(td, *bo_, ra_[i], ras_[i], flags_);
      if (!rabp) break;
      if (!(flags_ & GB_UNMAPPED)) bc_.ensure_kva(rabp, cpu);  // best effort: else DMA
      if (rabp->b_flags & B_CACHE) {
        bc_.release(rabp, cpu, true);
        continue;
      }
      rabp->b_flags |= B_ASYNC;
      rabp->b_iocmd = BIO_READ;
      rabp->b_lockowner = nullptr;  // BUF_KERNPROC: the completion releases it
      bc_.start_io(rabp, cpu);
    }
  }

  std::optional<Sleep> finish(buf* bp, int error) {
    finished_ = true;
    bc_.after_op();
    if (done_) done_(bp, error);
    return std::nullopt;
  }

  BufCache& bc_;
  bufobj* bo_;
  daddr_t lblkno_;
  int size_;
  int flags_;
  bool read_;
  std::vector<daddr_t> ra_;
  std::vector<int> ras_;
  BufResult done_;
  Phase phase_ = Phase::Lookup;
  buf* bp_ = nullptr;
  bool finished_ = false;
};

// Starts something, waits until a condition holds (I/O done, KVA available), then runs a
// continuation.
class BufCache::WaitOp final : public ThreadOp {
 public:
  WaitOp(std::function<void(Thread&)> start, std::function<std::optional<Sleep>(Thread&)> wait,
         std::function<void(Thread&)> then)
      : start_(std::move(start)), wait_(std::move(wait)), then_(std::move(then)) {}
  std::optional<Sleep> run(Thread& td, WakeReason why) override {
    if (why == WakeReason::Start && start_) start_(td);
    if (auto s = wait_(td)) return s;
    then_(td);
    return std::nullopt;
  }

 private:
  std::function<void(Thread&)> start_;
  std::function<std::optional<Sleep>(Thread&)> wait_;
  std::function<void(Thread&)> then_;
};

// ---------------------------------------------------------------------------------------------

BufCache::BufCache(Pmap& pmap, Scheduler& sched, VmObjects& vm, VaRange buffer_map,
                   const BufConfig& cfg)
    : pmap_(pmap),
      sched_(sched),
      vm_(vm),
      cfg_(with_defaults(cfg)),
      arena_(buffer_map),
      daemon_(sched, pmap.ncpus(), "kernel/bufdaemon") {
  if (cfg_.daemon_cpu < 0 || cfg_.daemon_cpu >= pmap.ncpus())
    throw KvaError("buffer daemon cpu " + std::to_string(cfg_.daemon_cpu) + " does not exist");
  if (buffer_map.size() < cfg_.maxbufspace) throw KvaError("buffer map smaller than maxbufspace");
  bogus_page_ = vm.phys().vm_page_alloc();
  bogus_page_->wire_count = kBogusWiring;
  bufs_.reserve(static_cast<std::size_t>(cfg_.nbuf));
  for (int i = 0; i < cfg_.nbuf; ++i) {
    auto bp = std::make_unique<buf>();
    bp->b_index = i;
    bp->b_qindex = BufQueue::Empty;
    bufs_.push_back(std::move(bp));
  }
  kva_pages_.assign(bufs_.size(), {});
  stats_.nbuf = cfg_.nbuf;
  stats_.maxbufspace = static_cast<std::int64_t>(cfg_.maxbufspace);
  stats_.hibufspace = static_cast<std::int64_t>(cfg_.hibufspace);
  stats_.lobufspace = static_cast<std::int64_t>(cfg_.lobufspace);
  stats_.hidirtybuffers = cfg_.hidirtybuffers;
  stats_.lodirtybuffers = cfg_.lodirtybuffers;
}

BufCache::~BufCache() = default;

// --- locks, channels, queues

std::optional<Sleep> BufCache::sleep_on(const void* chan, const char* wmesg) {
  ++stats_.sleeps;
  return Sleep{chan, false, wmesg};
}

void BufCache::lock(buf* bp, Thread& td) {
  bp->b_locked = true;
  bp->b_lockowner = &td;
  ++bp->b_lockgen;
}

void BufCache::lock_kernel(buf* bp) {
  bp->b_locked = true;
  bp->b_lockowner = nullptr;
  ++bp->b_lockgen;
}

void BufCache::unlock(buf* bp) {
  bp->b_locked = false;
  bp->b_lockowner = nullptr;
  sched_.wakeup(bp);
}

bool BufCache::owned_by(const Thread& td, const buf* bp) const {
  return bp->b_locked && bp->b_lockowner == &td;
}

void BufCache::check_buf(const buf* bp, const char* op) const {
  if (bp == nullptr) throw KvaError(std::string(op) + ": NULL buffer");
  if (bp->b_index < 0 || static_cast<std::size_t>(bp->b_index) >= bufs_.size() ||
      bufs_[static_cast<std::size_t>(bp->b_index)].get() != bp)
    throw KvaError(std::string(op) + ": not a buffer of this cache");
}

void BufCache::check_owner(const Thread& td, const buf* bp, const char* op) const {
  check_buf(bp, op);
  if (owned_by(td, bp)) return;
  std::string why = !bp->b_locked          ? "is not locked (released already?)"
                    : bp->b_lockowner      ? "is locked by thread " + bp->b_lockowner->name()
                                           : "belongs to an I/O in progress (BUF_KERNPROC)";
  throw KvaError(std::string(op) + ": buffer " + std::to_string(bp->b_index) + " " + why +
                 ", not by thread " + td.name());
}

void BufCache::bremfree(buf* bp) { bp->b_qindex = BufQueue::None; }

void BufCache::binsfree(buf* bp, BufQueue q) {
  bp->b_qindex = q;
  bp->b_lru = ++lru_clock_;
  unlock(bp);
  sched_.wakeup(&freechan_);
}

buf* BufCache::incore(const bufobj& bo, daddr_t lblkno) const {
  auto it = bo.bo_hash.find(lblkno);
  return it == bo.bo_hash.end() ? nullptr : it->second;
}

buf* BufCache::lru(BufQueue q) const {
  buf* best = nullptr;
  for (const auto& bp : bufs_)
    if (bp->b_qindex == q && !bp->b_locked && (!best || bp->b_lru < best->b_lru)) best = bp.get();
  return best;
}

// A buffer for a new block: an empty one, else the least recently used clean one, whose pages
// and identity are dropped (its KVA stays with it). nullptr when every buffer is busy or dirty.
buf* BufCache::getnewbuf(cpuid_t cpu) {
  buf* bp = lru(BufQueue::Empty);
  if (!bp) bp = lru(BufQueue::Clean);
  if (!bp) return nullptr;
  bremfree(bp);
  if (bp->b_bufobj || bp->b_npages) {
    ++stats_.recycles;
    allocbuf_locked(bp, 0, cpu);
    brelvp(bp);
  }
  // b_data goes back to the page-aligned base before the new block's offset bits are added;
  // FreeBSD once kept the old bits here (r285872).
  if (!pmap_.faults().enabled(Fault::BdataOffsetOnReuse)) bp->b_data = bp->b_kvabase;
  bp->b_flags = 0;
  bp->b_ioflags = 0;
  bp->b_iocmd = 0;
  bp->b_error = 0;
  bp->b_dirtyoff = bp->b_dirtyend = bp->b_validoff = bp->b_validend = 0;
  bp->b_lazy_unmapped = false;
  return bp;
}

void BufCache::set_identity(buf* bp, bufobj* bo, daddr_t lblkno) {
  bp->b_bufobj = bo;
  bp->b_lblkno = lblkno;
  bp->b_blkno = -1;  // VOP_BMAP fills it in at strategy time
  bp->b_offset = bo ? static_cast<off_t>(lblkno) * static_cast<off_t>(bo->bo_bsize) : NOOFFSET;
  if (bo) {
    bp->b_flags |= B_VMIO;
    bo->bo_hash[lblkno] = bp;
  }
}

void BufCache::brelvp(buf* bp) {
  if (bufobj* bo = bp->b_bufobj) {
    auto it = bo->bo_hash.find(bp->b_lblkno);
    if (it != bo->bo_hash.end() && it->second == bp) bo->bo_hash.erase(it);
  }
  bp->b_bufobj = nullptr;
}

buf* BufCache::constitute(Thread& td, bufobj& bo, daddr_t lblkno, int size, int flags) {
  if (lblkno < 0) throw KvaError("getblk: negative block number");
  if (bo.bo_object == nullptr) throw KvaError("getblk: bufobj " + bo.bo_name + " has no VM object");
  buf* bp = getnewbuf(td.cpu());
  if (!bp) return nullptr;
  ++stats_.getblk_misses;
  lock(bp, td);
  // An unmapped buffer holds no KVA: a recycled buffer's range goes back to the buffer map.
  if (flags & GB_UNMAPPED) kva_release(bp, td.cpu());
  set_identity(bp, &bo, lblkno);
  allocbuf_locked(bp, size, td.cpu());
  update_bcache(bp);
  return bp;
}

void BufCache::bdirty(buf* bp) {
  bp->b_flags &= ~B_RELBUF;
  bp->b_iocmd = BIO_WRITE;
  if (bp->b_flags & B_DELWRI) return;
  bp->b_flags |= B_DELWRI;
  ++stats_.numdirtybuffers;
  if (stats_.numdirtybuffers >= cfg_.hidirtybuffers) bd_wakeup();
}

void BufCache::bundirty(buf* bp) {
  if (!(bp->b_flags & B_DELWRI)) return;
  bp->b_flags &= ~B_DELWRI;
  --stats_.numdirtybuffers;
}

bool BufCache::start_op(Thread& td, std::unique_ptr<ThreadOp> op) {
  if (td.state() != Thread::State::Idle)
    throw KvaError("thread " + td.name() + " is busy (sleeping or running an operation)");
  return sched_.start(td, std::move(op));
}

std::unique_ptr<ThreadOp> BufCache::wait_op(std::function<void(Thread&)> start,
                                            std::function<std::optional<Sleep>(Thread&)> wait,
                                            std::function<void(Thread&)> then) {
  return std::make_unique<WaitOp>(std::move(start), std::move(wait), std::move(then));
}

void BufCache::after_op() {
  if (cfg_.check_invariants) check_invariants();
}

// --- getblk family

std::unique_ptr<ThreadOp> BufCache::getblk_op(bufobj& bo, daddr_t lblkno, int size, int flags,
                                              BufResult done) {
  if (flags & ~(GB_NOWAIT | GB_NOCREAT | GB_UNMAPPED))
    throw KvaError("getblk: unknown flags " + std::to_string(flags));
  check_size(bo, size, "getblk");
  return std::make_unique<GetblkOp>(*this, &bo, lblkno, size, flags, false, std::vector<daddr_t>{},
                                    std::vector<int>{}, std::move(done));
}

std::unique_ptr<ThreadOp> BufCache::bread_op(bufobj& bo, daddr_t lblkno, int size, int flags,
                                             BufResult done) {
  return breadn_op(bo, lblkno, size, {}, {}, flags, std::move(done));
}

std::unique_ptr<ThreadOp> BufCache::breadn_op(bufobj& bo, daddr_t lblkno, int size,
                                              std::span<const daddr_t> rablkno,
                                              std::span<const int> rabsize, int flags,
                                              BufResult done) {
  if (flags & ~(GB_UNMAPPED | GB_NOWAIT))
    throw KvaError("bread: flags other than GB_UNMAPPED / GB_NOWAIT (" + std::to_string(flags) + ")");
  if (rablkno.size() != rabsize.size()) throw KvaError("breadn: rablkno and rabsize differ in length");
  check_size(bo, size, "bread");
  for (int s : rabsize) check_size(bo, s, "breadn read-ahead");
  return std::make_unique<GetblkOp>(*this, &bo, lblkno, size, flags, true,
                                    std::vector<daddr_t>(rablkno.begin(), rablkno.end()),
                                    std::vector<int>(rabsize.begin(), rabsize.end()), std::move(done));
}

void BufCache::check_size(const bufobj& bo, int size, const char* op) const {
  if (size < 1 || static_cast<std::size_t>(size) > std::min(MAXBSIZE, bo.bo_bsize))
    throw KvaError(std::string(op) + ": size " + std::to_string(size) + " is outside 1.." +
                   std::to_string(std::min(MAXBSIZE, bo.bo_bsize)) + " (the block size of " +
                   bo.bo_name + ")");
}

bool BufCache::getblk(Thread& td, bufobj& bo, daddr_t lblkno, int size, int flags, BufResult done) {
  return start_op(td, getblk_op(bo, lblkno, size, flags, std::move(done)));
}

bool BufCache::bread(Thread& td, bufobj& bo, daddr_t lblkno, int size, int flags, BufResult done) {
  return start_op(td, bread_op(bo, lblkno, size, flags, std::move(done)));
}

bool BufCache::breadn(Thread& td, bufobj& bo, daddr_t lblkno, int size,
                      std::span<const daddr_t> rablkno, std::span<const int> rabsize, int flags,
                      BufResult done) {
  return start_op(td, breadn_op(bo, lblkno, size, rablkno, rabsize, flags, std::move(done)));
}

bool BufCache::geteblk(Thread& td, int size, int flags, BufResult done) {
  if (size < 1 || static_cast<std::size_t>(size) > MAXBSIZE)
    throw KvaError("geteblk: size " + std::to_string(size) + " is outside 1.." +
                   std::to_string(MAXBSIZE));
  if (flags & ~GB_NOWAIT) throw KvaError("geteblk: only GB_NOWAIT is accepted");
  auto got = std::make_shared<buf*>(nullptr);
  auto wait = [this, &td, size, flags, got](Thread&) -> std::optional<Sleep> {
    if (!*got) {
      buf* bp = getnewbuf(td.cpu());
      if (!bp) {
        if (flags & GB_NOWAIT) return std::nullopt;
        bd_wakeup();
        return sleep_on(&freechan_, "newbuf");
      }
      lock(bp, td);
      set_identity(bp, nullptr, 0);
      bp->b_flags |= B_MALLOC | B_INVAL;  // scratch: brelse frees it
      allocbuf_locked(bp, size, td.cpu());
      *got = bp;
    }
    if (!ensure_kva(*got, td.cpu())) return sleep_on(&freechan_, "nbufkv");
    return std::nullopt;
  };
  auto then = [this, got, done = std::move(done)](Thread&) {
    after_op();
    if (done) done(*got, 0);
  };
  return start_op(td, wait_op(nullptr, std::move(wait), std::move(then)));
}

// --- release

void BufCache::brelse(Thread& td, buf* bp) {
  check_owner(td, bp, "brelse");
  ++stats_.brelses;
  release(bp, td.cpu(), false);
  after_op();
}

void BufCache::bqrelse(Thread& td, buf* bp) {
  check_owner(td, bp, "bqrelse");
  ++stats_.bqrelses;
  release(bp, td.cpu(), true);
  after_op();
}

// The bodies of brelse (quick = false) and bqrelse (quick = true).
void BufCache::release(buf* bp, cpuid_t cpu, bool quick) {
  if (quick) {
    bp->b_flags &= ~(B_ASYNC | B_NOCACHE | B_AGE | B_RELBUF);
    binsfree(bp, (bp->b_flags & B_DELWRI) ? BufQueue::Dirty : BufQueue::Clean);
    return;
  }
  if (bp->b_iocmd == BIO_WRITE && (bp->b_ioflags & BIO_ERROR) && !(bp->b_flags & B_INVAL)) {
    // A failed write is redirtied: the data is still only here.
    bp->b_ioflags &= ~BIO_ERROR;
    bdirty(bp);
  } else if ((bp->b_flags & (B_NOCACHE | B_INVAL)) || (bp->b_ioflags & BIO_ERROR) ||
             bp->b_bufsize <= 0) {
    bp->b_flags |= B_INVAL;
    bundirty(bp);
    bp->b_flags &= ~B_CACHE;
  }
  // B_DELWRI|B_RELBUF still means dirty: bdwrite marked the pages clean, so releasing them now
  // would lose the write. Keep the buffer until it is written.
  if ((bp->b_flags & B_DELWRI) && !pmap_.faults().enabled(Fault::RelbufDelwriUnwritten))
    bp->b_flags &= ~B_RELBUF;
  if ((bp->b_flags & B_VMIO) &&
      ((bp->b_flags & B_NOCACHE) || ((bp->b_ioflags & BIO_ERROR) && bp->b_iocmd == BIO_READ)))
    vfs_vmio_invalidate(bp);
  if (bp->b_flags & (B_INVAL | B_RELBUF)) {
    allocbuf_locked(bp, 0, cpu);
    bp->b_flags |= B_INVAL;
  }
  if (bp->b_bufsize == 0 || (bp->b_ioflags & BIO_ERROR)) bp->b_flags |= B_INVAL;
  if (bp->b_flags & B_INVAL) {
    bundirty(bp);
    brelvp(bp);
  }
  BufQueue q = BufQueue::Clean;
  if (bp->b_bufsize == 0) {
    kva_release(bp, cpu);  // buf_free: an empty buffer holds no KVA
    q = BufQueue::Empty;
  } else if (!(bp->b_flags & (B_INVAL | B_NOCACHE | B_RELBUF)) && (bp->b_flags & B_DELWRI)) {
    q = BufQueue::Dirty;
  }
  bp->b_flags &= ~(B_ASYNC | B_NOCACHE | B_RELBUF);
  bp->b_ioflags &= ~BIO_ERROR;
  binsfree(bp, q);
}

// --- buffer daemon

void BufCache::bd_wakeup() {
  if (daemon_pending_) return;
  daemon_pending_ = true;
  daemon_.schedule(cfg_.daemon_cpu, [this] {
    daemon_pending_ = false;
    ++stats_.daemon_runs;
    flush_dirty(cfg_.daemon_cpu, false);
  });
}

std::size_t BufCache::flush_dirty(cpuid_t cpu, bool all) {
  std::size_t n = 0;
  while (all || stats_.numdirtybuffers > cfg_.lodirtybuffers) {
    buf* bp = lru(BufQueue::Dirty);
    if (!bp) break;
    lock_kernel(bp);
    bremfree(bp);
    prepare_write(bp);
    bp->b_flags |= B_ASYNC;
    start_io(bp, cpu);
    ++stats_.daemon_flushes;
    ++n;
  }
  after_op();
  return n;
}

std::vector<buf*> BufCache::dirty_buffers(const bufobj& bo) const {
  std::vector<buf*> out;
  for (const auto& [lblkno, bp] : bo.bo_hash)
    if (bp->b_flags & B_DELWRI) out.push_back(bp);
  std::sort(out.begin(), out.end(), [](const buf* a, const buf* b) { return a->b_lru < b->b_lru; });
  return out;
}

std::size_t BufCache::release_clean(cpuid_t cpu) {
  std::size_t n = 0;
  while (buf* bp = lru(BufQueue::Clean)) {
    lock_kernel(bp);
    bremfree(bp);
    bp->b_flags |= B_RELBUF;
    release(bp, cpu, false);
    ++n;
  }
  return n;
}

void BufCache::invalidate(cpuid_t cpu, bufobj& bo, daddr_t from_lblkno) {
  std::vector<buf*> victims;
  for (auto it = bo.bo_hash.lower_bound(from_lblkno); it != bo.bo_hash.end(); ++it)
    victims.push_back(it->second);
  for (buf* bp : victims)
    if (bp->b_locked)
      throw KvaError("invalidate: buffer of block " + std::to_string(bp->b_lblkno) + " of " +
                     bo.bo_name + " is locked (in use or under I/O)");
  for (buf* bp : victims) {
    lock_kernel(bp);
    bremfree(bp);
    bundirty(bp);
    bp->b_flags |= B_INVAL | B_NOCACHE;
    release(bp, cpu, false);
  }
  after_op();
}

void BufCache::discard_all(cpuid_t cpu) {
  for (auto& owned : bufs_) {
    buf* bp = owned.get();
    if (!bp->b_bufobj && bp->b_npages == 0 && !buf_mapped(bp)) continue;
    // Memory is gone: pages under I/O are simply no longer busy, bogus_page goes away.
    if (bp->b_io_in_progress) {
      if (bp->b_iocmd == BIO_WRITE && bp->b_bufobj) --bp->b_bufobj->bo_numoutput;
      bp->b_io_in_progress = false;
      vfs_vmio_iodone(bp, cpu);
    }
    bundirty(bp);
    lock_kernel(bp);
    bremfree(bp);
    bp->b_flags = B_INVAL | B_NOCACHE | (bp->b_flags & B_VMIO);
    allocbuf_locked(bp, 0, cpu);
    brelvp(bp);
    kva_release(bp, cpu);
    bp->b_flags = 0;
    bp->b_ioflags = 0;
    bp->b_dirtyoff = bp->b_dirtyend = bp->b_validoff = bp->b_validend = 0;
    binsfree(bp, BufQueue::Empty);
  }
  after_op();
}

}  // namespace kva
