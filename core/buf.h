// struct buf and the buf(9) constants, with FreeBSD's names (sys/sys/buf.h, sys/sys/bio.h).
//
// A buffer maps possibly disparate vm_pages into contiguous KVA: b_kvabase is page aligned and
// the data of a buffer at b_offset starts at b_data = b_kvabase + (b_offset & PAGE_MASK).
// An unmapped buffer (GB_UNMAPPED, or lazily unmapped under buffer-map pressure) keeps
// b_pages but has no KVA: b_kvabase = b_data = 0.
#pragma once
#include <array>
#include <cerrno>
#include <cstdint>
#include <functional>

#include "core/sched.h"
#include "core/types.h"
#include "core/vm_page.h"

namespace kva {

using daddr_t = std::int64_t;
using off_t = std::int64_t;

inline constexpr std::size_t MAXBSIZE = 65536;  // largest block a buffer holds
inline constexpr off_t NOOFFSET = -1;           // b_offset of a buffer without a file (geteblk)
// A block of up to MAXBSIZE bytes that starts inside a page spans one page more.
inline constexpr int BUF_MAXPAGES = static_cast<int>(MAXBSIZE / PAGE_SIZE) + 1;

// b_flags (values from sys/sys/buf.h)
inline constexpr std::uint32_t B_AGE = 0x00000001;
inline constexpr std::uint32_t B_ASYNC = 0x00000004;
inline constexpr std::uint32_t B_CACHE = 0x00000020;    // buffer contents are entirely valid
inline constexpr std::uint32_t B_DELWRI = 0x00000080;   // delayed write: dirty, not yet queued
inline constexpr std::uint32_t B_DONE = 0x00000200;     // I/O completed
inline constexpr std::uint32_t B_INVAL = 0x00002000;    // contents are junk: do not cache
inline constexpr std::uint32_t B_NOCACHE = 0x00008000;  // release pages and struct buf after use
inline constexpr std::uint32_t B_MALLOC = 0x00010000;   // non-VMIO memory (geteblk)
inline constexpr std::uint32_t B_RELBUF = 0x00400000;   // release the VMIO pages on brelse
inline constexpr std::uint32_t B_VMIO = 0x20000000;     // pages belong to the vnode's VM object

// b_iocmd / b_ioflags (sys/sys/bio.h)
inline constexpr std::uint8_t BIO_READ = 0x01;
inline constexpr std::uint8_t BIO_WRITE = 0x02;
inline constexpr std::uint8_t BIO_ERROR = 0x01;


// getblk() flags. GB_NOWAIT is FreeBSD's GB_LOCK_NOWAIT: return NULL rather than sleep on a
// buffer another thread holds (or on the lack of a free buffer).
inline constexpr int GB_NOWAIT = 0x0001;
inline constexpr int GB_NOCREAT = 0x0002;    // NULL when the block is not in the cache
inline constexpr int GB_UNMAPPED = 0x0008;   // the caller needs no KVA

enum class BufQueue { None, Clean, Dirty, Empty };  // QUEUE_NONE, QUEUE_CLEAN, QUEUE_DIRTY, QUEUE_EMPTY

inline const char* buf_queue_name(BufQueue q) {
  switch (q) {
    case BufQueue::None: return "none";
    case BufQueue::Clean: return "clean";
    case BufQueue::Dirty: return "dirty";
    case BufQueue::Empty: return "empty";
  }
  return "?";
}

// The b_flags front ends name (without the B_ prefix).
struct BufFlagName {
  const char* name;
  std::uint32_t flag;
};
inline constexpr BufFlagName kBufFlagNames[] = {
    {"ASYNC", B_ASYNC},     {"CACHE", B_CACHE}, {"DELWRI", B_DELWRI}, {"DONE", B_DONE},
    {"INVAL", B_INVAL},     {"NOCACHE", B_NOCACHE}, {"MALLOC", B_MALLOC}, {"RELBUF", B_RELBUF},
    {"VMIO", B_VMIO}};

struct bufobj;

struct buf {
  int b_index = 0;                 // slot in the buffer array
  bufobj* b_bufobj = nullptr;      // owner (vnode's bufobj); nullptr for geteblk and free bufs
  std::uint32_t b_flags = 0;
  std::uint8_t b_iocmd = 0;
  std::uint8_t b_ioflags = 0;
  int b_error = 0;
  daddr_t b_lblkno = 0;            // logical block in the file
  daddr_t b_blkno = 0;             // device block (DEV_BSIZE units), -1 when not allocated
  off_t b_offset = NOOFFSET;       // byte offset of the block in the file
  long b_bcount = 0;               // valid bytes of the request
  long b_bufsize = 0;              // allocated bytes (b_bcount rounded to DEV_BSIZE)
  long b_resid = 0;
  off_t b_iooffset = 0;            // device byte offset of the I/O
  vaddr_t b_kvabase = 0;           // page aligned, 0 when unmapped
  std::size_t b_kvasize = 0;
  vaddr_t b_data = 0;              // b_kvabase + (b_offset & PAGE_MASK); 0 when unmapped
  std::array<vm_page*, BUF_MAXPAGES> b_pages{};
  int b_npages = 0;
  // Byte-granular ranges relative to b_offset (the man page's NFS hack); end == 0: empty.
  int b_dirtyoff = 0, b_dirtyend = 0;
  int b_validoff = 0, b_validend = 0;

  // --- kvabench bookkeeping (no FreeBSD field of this name)
  BufQueue b_qindex = BufQueue::Empty;
  bool b_locked = false;           // BUF_LOCK held
  Thread* b_lockowner = nullptr;   // nullptr while locked: LK_KERNPROC (async I/O owns it)
  std::uint64_t b_lockgen = 0;     // bumped by every lock: a handle from an older lock is stale
  bool b_io_in_progress = false;   // between bstrategy and bufdone
  int b_ioboff = 0;                // the I/O transfers [b_ioboff, b_ioboff + b_iolen) of the
  long b_iolen = 0;                //   buffer: a write only its dirty range when it has one
  bool b_lazy_unmapped = false;    // lost its KVA under buffer-map pressure, b_pages kept
  bool b_bogus = false;            // some b_pages are bogus_page (during a read)
  cpuid_t b_iocpu = 0;             // CPU that issued the I/O
  std::uint64_t b_lru = 0;         // release order, for LRU recycling and lazy unmap
};

inline bool buf_mapped(const buf* bp) { return bp->b_kvabase != 0; }

struct BufStats {
  int nbuf = 0;
  std::int64_t bufspace = 0;          // sum of b_bufsize of constituted buffers
  std::int64_t maxbufspace = 0;       // KVA of the buffer map
  std::int64_t hibufspace = 0, lobufspace = 0;
  std::int64_t bufkvaspace = 0;       // mapped buffer KVA now
  int numdirtybuffers = 0;
  int hidirtybuffers = 0, lodirtybuffers = 0;
  std::uint64_t getblk_hits = 0, getblk_misses = 0;
  std::uint64_t reads = 0, writes = 0;        // I/Os issued
  std::uint64_t bdwrites = 0, bawrites = 0;
  std::uint64_t brelses = 0, bqrelses = 0;
  std::uint64_t recycles = 0;                 // getnewbuf reused a buffer of another block
  std::uint64_t allocbuf_grows = 0, allocbuf_shrinks = 0;
  std::uint64_t kva_maps = 0;                 // buffers given KVA (qenter)
  std::uint64_t kva_unmaps = 0;               // buffers that gave their KVA up (qremove)
  std::uint64_t kva_lazy_unmaps = 0;          // ... under buffer-map pressure, keeping b_pages
  std::uint64_t kva_remaps = 0;               // lazily unmapped buffers mapped again on reuse
  std::uint64_t bogus_pages = 0;              // b_pages slots replaced by bogus_page
  std::uint64_t bogus_restores = 0;           // slots given their real page back
  std::uint64_t unmapped_ios = 0, mapped_ios = 0;
  std::uint64_t io_errors = 0;                // I/Os that ended with BIO_ERROR
  std::uint64_t sleeps = 0;                   // threads that slept in the buffer cache
  std::uint64_t daemon_runs = 0, daemon_flushes = 0;
  std::uint64_t invariant_violations = 0;
};

}  // namespace kva
