// buf(9): the buffer cache over the abstract pmap, after FreeBSD's sys/kern/vfs_bio.c.
//
//  - A fixed array of nbuf struct bufs on LRU queues (clean, dirty, empty), a per-bufobj hash
//    (gbincore), and buffer locks with sleeping waiters.
//  - B_VMIO buffers take their pages from the vnode's VM object (so sub-page blocks share
//    pages with their neighbours); geteblk buffers get anonymous pages.
//  - The buffer map is a bounded KVA region (maxbufspace). Mapping goes through pmap_qenter,
//    unmapping through pmap_qremove, with the arch's invalidation and shootdown. Above
//    hibufspace, released buffers are lazily unmapped (struct buf and b_pages stay) down to
//    lobufspace, and mapped again when reused. GB_UNMAPPED buffers get no KVA at all.
//  - Valid/dirty state: page bits at DEV_BSIZE granularity plus byte-granular
//    b_dirtyoff/b_dirtyend and b_validoff/b_validend with the man page's two hole rules.
//  - Reads with B_CACHE clear put bogus_page over already valid pages (and remap the KVA) so the
//    read cannot overwrite them; completion puts the real pages back and remaps.
//  - Page dirty bits are cleared when a write is queued (bdwrite, bwrite), not on completion.
//  - A buffer daemon flushes delayed writes by the dirty-buffer thresholds.
//
// Operations that may sleep (getblk, bread, bwrite, bufwait, ...) run as thread ops: they take a
// callback for their result and return true when they returned at once; otherwise the result
// arrives from inside a later Scheduler::run(). I/O completes on interrupt threads (bufdone),
// possibly on another CPU than the issuer. Misuse throws KvaError.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/buf.h"
#include "core/intr.h"
#include "core/kva_arena.h"
#include "core/pmap.h"
#include "core/sched.h"
#include "core/vm_object.h"

namespace kva {

struct BufConfig {
  int nbuf = 64;
  std::size_t maxbufspace = 1u << 20;  // KVA of the buffer map
  std::size_t hibufspace = 0;          // 0: 7/8 of maxbufspace (lazy unmapping starts above)
  std::size_t lobufspace = 0;          // 0: 3/4 of maxbufspace (... and stops at)
  int hidirtybuffers = 0;              // 0: nbuf / 4 (the buffer daemon is woken at)
  int lodirtybuffers = 0;              // 0: hidirtybuffers / 2 (... and flushes down to)
  bool unmapped = false;               // unmapped-buffer mode: file I/O asks for GB_UNMAPPED
  bool check_invariants = false;       // check every buffer after every buffer operation
  cpuid_t daemon_cpu = 0;              // CPU of the buffer daemon thread
};

// How a bufobj starts I/O (bo_ops->bop_strategy): the file layer maps b_lblkno to b_blkno and
// hands the buffer to its device, or completes a hole read itself.
class BufStrategy {
 public:
  virtual ~BufStrategy() = default;
  virtual void bop_strategy(buf* bp) = 0;
};

struct bufobj {
  std::string bo_name;                // for messages
  std::size_t bo_bsize = DEV_BSIZE;   // block size: b_offset = b_lblkno * bo_bsize
  VmObject* bo_object = nullptr;      // the vnode's page cache
  BufStrategy* bo_ops = nullptr;
  std::map<daddr_t, buf*> bo_hash;    // constituted buffers by b_lblkno (gbincore)
  int bo_numoutput = 0;               // writes in flight (bufobj_wwait waits for 0)
};

struct BufViolation {
  std::string step;     // Pmap::step() when found
  int buf_index;
  std::string message;
};

using BufResult = std::function<void(buf* bp, int error)>;  // bp may be nullptr (NULL)
using IoResult = std::function<void(int error)>;

class BufCache {
 public:
  // buffer_map: the KVA the buffer map may use (at least maxbufspace bytes).
  BufCache(Pmap& pmap, Scheduler& sched, VmObjects& vm, VaRange buffer_map, const BufConfig& cfg);
  ~BufCache();
  BufCache(const BufCache&) = delete;
  BufCache& operator=(const BufCache&) = delete;

  const BufConfig& config() const { return cfg_; }
  const BufStats& stats() const { return stats_; }
  vm_page* bogus_page() const { return bogus_page_; }
  VaRange buffer_map() const { return arena_.range(); }
  const std::vector<std::unique_ptr<buf>>& bufs() const { return bufs_; }

  // --- getting buffers (thread ops; done(bp, 0) with bp locked by td, or nullptr)
  // getblk: the buffer for (bo, lblkno), created when absent (unless GB_NOCREAT). B_CACHE says
  // whether its contents are entirely valid. GB_NOWAIT: NULL instead of sleeping.
  bool getblk(Thread& td, bufobj& bo, daddr_t lblkno, int size, int flags, BufResult done);
  bool geteblk(Thread& td, int size, int flags, BufResult done);  // anonymous, not cached
  // bread: getblk, then read from the device unless B_CACHE; done(bp, error).
  bool bread(Thread& td, bufobj& bo, daddr_t lblkno, int size, int flags, BufResult done);
  // breadn: bread plus asynchronous read-ahead of the blocks rablkno[i] (rabsize[i] bytes)
  // that are not in the cache; read-ahead never sleeps (GB_NOWAIT).
  bool breadn(Thread& td, bufobj& bo, daddr_t lblkno, int size, std::span<const daddr_t> rablkno,
              std::span<const int> rabsize, int flags, BufResult done);
  buf* incore(const bufobj& bo, daddr_t lblkno) const;  // gbincore: no lock taken

  // --- on a buffer locked by td
  bool bwrite(Thread& td, buf* bp, IoResult done);  // synchronous; releases bp (brelse)
  void bawrite(Thread& td, buf* bp);                // asynchronous; completion releases bp
  void bdwrite(Thread& td, buf* bp);                // delayed write: B_DELWRI, queued dirty
  void brelse(Thread& td, buf* bp);
  void bqrelse(Thread& td, buf* bp);
  void allocbuf(Thread& td, buf* bp, int size);     // grow or shrink b_bcount / b_pages
  // Starts b_iocmd-style I/O on a buffer td keeps (BIO_READ or BIO_WRITE); pair with bufwait.
  void bstrategy(Thread& td, buf* bp, std::uint8_t iocmd);
  bool bufwait(Thread& td, buf* bp, IoResult done);  // sleeps until B_DONE; done(b_error)
  // Gives an unmapped buffer KVA (what getblk without GB_UNMAPPED does); may sleep for KVA.
  bool bp_unmapped_get_kva(Thread& td, buf* bp, IoResult done);
  // Validation operation: the DEV_BSIZE chunks of [base, base+size) become valid in their pages;
  // the byte valid range grows unless the result would have a hole (then it is left alone).
  void vfs_bio_set_valid(Thread& td, buf* bp, int base, int size);
  // Dirty operation: the byte dirty range grows to cover [base, base+size), holes included.
  void vfs_bio_set_dirty(Thread& td, buf* bp, int base, int size);
  bool owned_by(const Thread& td, const buf* bp) const;

  // --- the sleeping routines as thread ops, for kernel routines that compose them (OpChain).
  // Arguments are checked when the op starts, on the thread that runs it.
  std::unique_ptr<ThreadOp> getblk_op(bufobj& bo, daddr_t lblkno, int size, int flags, BufResult done);
  std::unique_ptr<ThreadOp> bread_op(bufobj& bo, daddr_t lblkno, int size, int flags, BufResult done);
  std::unique_ptr<ThreadOp> bwrite_op(buf* bp, IoResult done);
  std::unique_ptr<ThreadOp> bufwait_op(buf* bp, IoResult done);
  // A WaitOp: `start` once, then `then` as soon as `wait` stops asking to sleep.
  static std::unique_ptr<ThreadOp> wait_op(std::function<void(Thread&)> start,
                                           std::function<std::optional<Sleep>(Thread&)> wait,
                                           std::function<void(Thread&)> then);

  // --- device side
  // The bytes [boff, boff+len) of the buffer, read by `cpu` through b_data when the buffer is
  // mapped and `pio` (programmed I/O, both staleness oracles run), else from b_pages (DMA).
  std::vector<std::uint8_t> transfer_out(buf* bp, cpuid_t cpu, std::size_t boff, std::size_t len,
                                         bool pio);
  void transfer_in(buf* bp, cpuid_t cpu, std::size_t boff, std::span<const std::uint8_t> data,
                   bool pio);
  void bufdone(buf* bp, cpuid_t cpu);  // I/O completion, run on `cpu`

  // --- the buffer daemon and whole-cache operations
  // Flushes (bawrite) unlocked delayed-write buffers, oldest first, down to lodirtybuffers (or
  // all of them); returns how many were written. Runs on `cpu`.
  std::size_t flush_dirty(cpuid_t cpu, bool all);
  // Every delayed-write buffer of bo, oldest first (for fsync).
  std::vector<buf*> dirty_buffers(const bufobj& bo) const;
  // Frees the pages of clean released buffers so vm_pageout can reclaim them; returns count.
  std::size_t release_clean(cpuid_t cpu);
  // Drops every buffer of bo at or beyond lblkno (vtruncbuf / vinvalbuf); none may be locked.
  void invalidate(cpuid_t cpu, bufobj& bo, daddr_t from_lblkno);
  // A crash: every buffer and its KVA goes, pending state is forgotten.
  void discard_all(cpuid_t cpu);

  // --- invariants (BufConfig::check_invariants runs them after every operation)
  void check_invariants();
  const std::vector<BufViolation>& violations() const { return violations_; }
  void clear_violations() { violations_.clear(); }

 private:
  class GetblkOp;
  class ReadOp;
  class WaitOp;
  friend class GetblkOp;
  friend class ReadOp;
  friend class WaitOp;

  // locks and queues (buf_cache.cpp)
  std::optional<Sleep> sleep_on(const void* chan, const char* wmesg);
  void lock(buf* bp, Thread& td);
  void lock_kernel(buf* bp);  // locked on behalf of an I/O (BUF_KERNPROC)
  void unlock(buf* bp);
  buf* lru(BufQueue q) const;  // least recently released unlocked buffer on q
  buf* constitute(Thread& td, bufobj& bo, daddr_t lblkno, int size, int flags);  // new, locked
  void check_owner(const Thread& td, const buf* bp, const char* op) const;
  void check_buf(const buf* bp, const char* op) const;
  void bremfree(buf* bp);
  void binsfree(buf* bp, BufQueue q);
  buf* getnewbuf(cpuid_t cpu);
  void set_identity(buf* bp, bufobj* bo, daddr_t lblkno);
  void brelvp(buf* bp);
  void release(buf* bp, cpuid_t cpu, bool quick);  // brelse / bqrelse body
  void bdirty(buf* bp);
  void bundirty(buf* bp);
  void update_bcache(buf* bp);  // B_CACHE from the page valid bits
  bool start_op(Thread& td, std::unique_ptr<ThreadOp> op);
  std::unique_ptr<ThreadOp> breadn_op(bufobj& bo, daddr_t lblkno, int size,
                                      std::span<const daddr_t> rablkno, std::span<const int> rabsize,
                                      int flags, BufResult done);
  void after_op();              // invariants, when enabled

  // KVA (buf_kva.cpp)
  bool ensure_kva(buf* bp, cpuid_t cpu);        // maps an unmapped buffer; false: no KVA now
  std::optional<vaddr_t> kva_get(std::size_t bytes, cpuid_t cpu, const buf* keep);
  void kva_release(buf* bp, cpuid_t cpu);       // unmaps all pages and frees the KVA
  void lazy_unmap(std::size_t need, cpuid_t cpu, const buf* keep);
  void qenter_pages(buf* bp, cpuid_t cpu, int first, int count);
  void unmap_pages(buf* bp, cpuid_t cpu, int first, int count);
  void set_bdata(buf* bp);
  void remap_all(buf* bp, cpuid_t cpu);         // after bogus_page changes

  // pages and ranges (buf_pages.cpp)
  void allocbuf_locked(buf* bp, int size, cpuid_t cpu);
  void vmio_truncate(buf* bp, int desired, cpuid_t cpu);
  void vmio_extend(buf* bp, int desired, cpuid_t cpu);
  void vfs_busy_pages(buf* bp, bool clear_modify);
  void extend_dirty(buf* bp, int lo, int hi);  // the dirty hole rule
  void clean_pages(buf* bp);                   // page dirty bits of the buffer's range
  void vfs_setdirty_range(buf* bp);
  void vfs_clean_pages_dirty_buf(buf* bp);
  void vfs_vmio_iodone(buf* bp, cpuid_t cpu);
  void vfs_vmio_invalidate(buf* bp);
  static std::string slot_name(int i);
  static int io_error(const buf* bp);  // b_error when BIO_ERROR, else 0
  void check_size(const bufobj& bo, int size, const char* op) const;
  std::uint64_t page_off(const buf* bp, int i) const;  // file offset of b_pages[i]'s page
  void page_range(const buf* bp, int i, std::size_t lo, std::size_t hi, std::size_t& pb,
                  std::size_t& pe) const;  // buffer range [lo,hi) within page i, as page offsets

  // I/O (buf_io.cpp)
  void start_io(buf* bp, cpuid_t cpu);
  void prepare_write(buf* bp);
  void bwrite_start(buf* bp, cpuid_t cpu, bool async);

  Pmap& pmap_;
  Scheduler& sched_;
  VmObjects& vm_;
  BufConfig cfg_;
  KvaArena arena_;
  vm_page* bogus_page_ = nullptr;
  std::vector<std::unique_ptr<buf>> bufs_;
  // What each buffer's KVA maps right now, by b_index (b_pages may differ only inside an I/O).
  std::vector<std::array<vm_page*, BUF_MAXPAGES>> kva_pages_;
  std::uint64_t lru_clock_ = 0;
  InterruptThreads daemon_;   // the buffer daemon: one kernel thread on daemon_cpu
  bool daemon_pending_ = false;
  BufStats stats_;
  std::vector<BufViolation> violations_;
  int freechan_ = 0;          // wait channel: a buffer or KVA was released

 public:
  void bd_wakeup();           // wakes the buffer daemon (it runs at the next Scheduler::run)
};

}  // namespace kva
