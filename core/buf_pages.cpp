// A buffer's pages: allocbuf, page valid/dirty bits at DEV_BSIZE granularity, the byte-granular
// ranges, vfs_busy_pages (bogus_page, clean at queue time) and vfs_vmio_iodone.
#include <algorithm>

#include "core/buf_cache.h"

namespace kva {

namespace {
constexpr std::size_t kChunks = PAGE_SIZE / DEV_BSIZE;

// Chunks entirely inside [pb, pe) (what a partial transfer may mark valid).
std::uint32_t inner_bits(std::size_t pb, std::size_t pe) {
  const std::size_t first = (pb + DEV_BSIZE - 1) / DEV_BSIZE, last = pe / DEV_BSIZE;
  std::uint32_t bits = 0;
  for (std::size_t c = first; c < last && c < kChunks; ++c) bits |= 1u << c;
  return bits;
}

// Chunks that [pb, pe) touches.
std::uint32_t outer_bits(std::size_t pb, std::size_t pe) {
  if (pe <= pb) return 0;
  const std::size_t first = pb / DEV_BSIZE, last = (pe + DEV_BSIZE - 1) / DEV_BSIZE;
  std::uint32_t bits = 0;
  for (std::size_t c = first; c < last && c < kChunks; ++c) bits |= 1u << c;
  return bits;
}

std::size_t page_offset_of(const buf* bp) {
  return bp->b_offset == NOOFFSET ? 0 : static_cast<std::size_t>(bp->b_offset) & PAGE_MASK;
}

void check_range(const buf* bp, int base, int size, const char* op) {
  if (base < 0 || size <= 0 || static_cast<long>(base) + size > bp->b_bcount)
    throw KvaError(std::string(op) + ": range [" + std::to_string(base) + ", " +
                   std::to_string(static_cast<long>(base) + size) + ") is not inside the buffer's " +
                   std::to_string(bp->b_bcount) + " bytes");
}
}  // namespace

std::uint64_t BufCache::page_off(const buf* bp, int i) const {
  const std::uint64_t first = bp->b_offset == NOOFFSET ? 0 : trunc_page(static_cast<std::uint64_t>(bp->b_offset));
  return first + static_cast<std::uint64_t>(i) * PAGE_SIZE;
}

void BufCache::page_range(const buf* bp, int i, std::size_t lo, std::size_t hi, std::size_t& pb,
                          std::size_t& pe) const {
  const std::size_t poff = page_offset_of(bp);
  // Page i holds buffer bytes [i*PAGE_SIZE - poff, (i+1)*PAGE_SIZE - poff).
  const std::size_t page_lo = static_cast<std::size_t>(i) * PAGE_SIZE;  // in poff-shifted coords
  const std::size_t a = std::max(lo + poff, page_lo), b = std::min(hi + poff, page_lo + PAGE_SIZE);
  if (a >= b) {
    pb = pe = 0;
    return;
  }
  pb = a - page_lo;
  pe = b - page_lo;
}

// --- allocbuf

void BufCache::allocbuf(Thread& td, buf* bp, int size) {
  check_owner(td, bp, "allocbuf");
  if (size < 1) throw KvaError("allocbuf: size must be positive (brelse releases a buffer)");
  if (bp->b_bufobj) check_size(*bp->b_bufobj, size, "allocbuf");
  const bool was_mapped = buf_mapped(bp);
  allocbuf_locked(bp, size, td.cpu());
  update_bcache(bp);
  if (was_mapped && !ensure_kva(bp, td.cpu()))
    throw KvaError("allocbuf: no buffer KVA left for " + std::to_string(bp->b_npages) +
                   " pages; the buffer is now unmapped");
  after_op();
}

void BufCache::allocbuf_locked(buf* bp, int size, cpuid_t cpu) {
  if (size < 0 || static_cast<std::size_t>(size) > MAXBSIZE)
    throw KvaError("allocbuf: size " + std::to_string(size) + " is outside 0.." + std::to_string(MAXBSIZE));
  const long newbsize = (size + static_cast<long>(DEV_BSIZE) - 1) / static_cast<long>(DEV_BSIZE) *
                        static_cast<long>(DEV_BSIZE);
  const int desired = size == 0 ? 0
                                : static_cast<int>(round_page(page_offset_of(bp) + static_cast<std::size_t>(newbsize)) /
                                                   PAGE_SIZE);
  if (desired < bp->b_npages) vmio_truncate(bp, desired, cpu);
  else if (desired > bp->b_npages) vmio_extend(bp, desired, cpu);
  if (newbsize > bp->b_bufsize && bp->b_bufsize > 0) ++stats_.allocbuf_grows;
  if (newbsize < bp->b_bufsize && newbsize > 0) ++stats_.allocbuf_shrinks;
  stats_.bufspace += newbsize - bp->b_bufsize;
  bp->b_bufsize = newbsize;
  bp->b_bcount = size;
  // Byte ranges cannot extend past the data.
  bp->b_dirtyoff = std::min(bp->b_dirtyoff, size);
  bp->b_dirtyend = std::min(bp->b_dirtyend, size);
  bp->b_validoff = std::min(bp->b_validoff, size);
  bp->b_validend = std::min(bp->b_validend, size);
}

// vfs_vmio_truncate: unmap and unwire the pages past `desired` (anonymous ones are freed).
void BufCache::vmio_truncate(buf* bp, int desired, cpuid_t cpu) {
  unmap_pages(bp, cpu, desired, bp->b_npages - desired);
  for (int i = desired; i < bp->b_npages; ++i) {
    vm_page*& slot = bp->b_pages[static_cast<std::size_t>(i)];
    vm_page* m = slot;
    slot = nullptr;
    if (m == bogus_page_) continue;  // only after an injected bogus_page leak
    vm_.phys().vm_page_unwire(m);
    if (!(bp->b_flags & B_VMIO)) vm_.phys().vm_page_free(m);
  }
  bp->b_npages = desired;
}

// vfs_vmio_extend: the pages of the new part come from the VM object (or are anonymous), wired;
// a mapped buffer maps them too, moving to larger KVA when its own is too small.
void BufCache::vmio_extend(buf* bp, int desired, cpuid_t cpu) {
  const int old = bp->b_npages;
  VmObject* obj = (bp->b_flags & B_VMIO) ? bp->b_bufobj->bo_object : nullptr;
  const std::uint64_t first = page_off(bp, 0) / PAGE_SIZE;
  for (int i = old; i < desired; ++i) {
    // b_npages grows page by page, so running out of memory midway leaves a consistent buffer.
    vm_page* m = obj ? obj->grab(first + static_cast<std::uint64_t>(i)) : vm_.alloc_page();
    vm_.phys().vm_page_wire(m);
    bp->b_pages[static_cast<std::size_t>(i)] = m;
    bp->b_npages = i + 1;
  }
  if (!buf_mapped(bp)) return;
  if (static_cast<std::size_t>(desired) * PAGE_SIZE > bp->b_kvasize) {
    kva_release(bp, cpu);  // the caller maps it again with enough KVA
    return;
  }
  qenter_pages(bp, cpu, old, desired - old);
  set_bdata(bp);
}

// --- valid and dirty state

void BufCache::update_bcache(buf* bp) {
  if (!(bp->b_flags & B_VMIO)) return;
  bool all = bp->b_bcount > 0;
  for (int i = 0; i < bp->b_npages && all; ++i) {
    vm_page* m = bp->b_pages[static_cast<std::size_t>(i)];
    if (m == bogus_page_) continue;
    std::size_t pb, pe;
    page_range(bp, i, 0, static_cast<std::size_t>(bp->b_bcount), pb, pe);
    const std::uint32_t need = outer_bits(pb, pe);
    all = (m->valid & need) == need;
  }
  if (all) bp->b_flags |= B_CACHE;
  else bp->b_flags &= ~B_CACHE;
}

// The man page: "If a buffer dirty operation creates a 'hole', the dirty range will extend to
// cover the hole."
void BufCache::extend_dirty(buf* bp, int lo, int hi) {
  if (bp->b_dirtyend <= bp->b_dirtyoff) {
    bp->b_dirtyoff = lo;
    bp->b_dirtyend = hi;
    return;
  }
  const bool hole = hi < bp->b_dirtyoff || lo > bp->b_dirtyend;
  if (hole && pmap_.faults().enabled(Fault::DirtyRangeHole)) {
    bp->b_dirtyoff = lo;  // injected bug: the earlier dirty bytes fall out of the range
    bp->b_dirtyend = hi;
    return;
  }
  bp->b_dirtyoff = std::min(bp->b_dirtyoff, lo);
  bp->b_dirtyend = std::max(bp->b_dirtyend, hi);
}

void BufCache::vfs_bio_set_dirty(Thread& td, buf* bp, int base, int size) {
  check_owner(td, bp, "vfs_bio_set_dirty");
  check_range(bp, base, size, "vfs_bio_set_dirty");
  extend_dirty(bp, base, base + size);
  after_op();
}

// "If a buffer validation operation creates a 'hole' the byte-granular valid range is left
// alone and will not take into account the new extension." The page bits still record the
// DEV_BSIZE chunks the operation covers entirely.
void BufCache::vfs_bio_set_valid(Thread& td, buf* bp, int base, int size) {
  check_owner(td, bp, "vfs_bio_set_valid");
  check_range(bp, base, size, "vfs_bio_set_valid");
  for (int i = 0; i < bp->b_npages; ++i) {
    vm_page* m = bp->b_pages[static_cast<std::size_t>(i)];
    if (m == bogus_page_) continue;
    std::size_t pb, pe;
    page_range(bp, i, static_cast<std::size_t>(base), static_cast<std::size_t>(base + size), pb, pe);
    m->valid |= inner_bits(pb, pe);
  }
  const int end = base + size;
  if (bp->b_validend <= bp->b_validoff) {
    bp->b_validoff = base;
    bp->b_validend = end;
  } else if (end >= bp->b_validoff && base <= bp->b_validend) {
    bp->b_validoff = std::min(bp->b_validoff, base);
    bp->b_validend = std::max(bp->b_validend, end);
  }
  update_bcache(bp);
  after_op();
}

// Folds the page dirty bits within the buffer into b_dirtyoff/b_dirtyend (first to last dirty
// chunk, so holes are covered).
void BufCache::vfs_setdirty_range(buf* bp) {
  if (!(bp->b_flags & B_VMIO)) return;
  const std::size_t poff = page_offset_of(bp);
  long lo = bp->b_bcount, hi = 0;
  for (int i = 0; i < bp->b_npages; ++i) {
    vm_page* m = bp->b_pages[static_cast<std::size_t>(i)];
    if (m == bogus_page_ || m->dirty == 0) continue;
    for (std::size_t c = 0; c < kChunks; ++c) {
      if (!(m->dirty & (1u << c))) continue;
      const long a = static_cast<long>(static_cast<std::size_t>(i) * PAGE_SIZE + c * DEV_BSIZE) - static_cast<long>(poff);
      const long b = a + static_cast<long>(DEV_BSIZE);
      const long ca = std::max(a, 0L), cb = std::min(b, bp->b_bcount);
      if (ca >= cb) continue;
      lo = std::min(lo, ca);
      hi = std::max(hi, cb);
    }
  }
  if (hi > lo) extend_dirty(bp, static_cast<int>(lo), static_cast<int>(hi));
}

// The pages' dirty bits for the buffer's range move into the buffer (B_DELWRI or a queued
// write owns them now): cleared when the write is queued, not when it completes.
void BufCache::clean_pages(buf* bp) {
  for (int i = 0; i < bp->b_npages; ++i) {
    vm_page* m = bp->b_pages[static_cast<std::size_t>(i)];
    if (m == bogus_page_) continue;
    std::size_t pb, pe;
    page_range(bp, i, 0, static_cast<std::size_t>(bp->b_bcount), pb, pe);
    m->dirty &= ~outer_bits(pb, pe);
  }
}

void BufCache::vfs_clean_pages_dirty_buf(buf* bp) {
  if (!(bp->b_flags & B_VMIO)) return;
  vfs_setdirty_range(bp);
  if (!pmap_.faults().enabled(Fault::CleanAtCompletion)) clean_pages(bp);
}

// Before I/O: pages are busied; a write harvests and clears their dirty bits (validclean); a read
// with B_CACHE clear puts bogus_page over every page that is already entirely valid and remaps
// the KVA, so the device cannot overwrite valid (perhaps dirty) data.
void BufCache::vfs_busy_pages(buf* bp, bool clear_modify) {
  if (!(bp->b_flags & B_VMIO)) return;
  if (bp->b_bufsize != 0) vfs_setdirty_range(bp);
  bool bogus = false;
  const bool skip_bogus = pmap_.faults().enabled(Fault::SkipBogusPage);
  for (int i = 0; i < bp->b_npages; ++i) {
    vm_page*& slot = bp->b_pages[static_cast<std::size_t>(i)];
    vm_page* m = slot;
    ++m->busy;
    if (clear_modify) {
      std::size_t pb, pe;
      page_range(bp, i, 0, static_cast<std::size_t>(bp->b_bcount), pb, pe);
      m->valid |= inner_bits(pb, pe);
      if (!pmap_.faults().enabled(Fault::CleanAtCompletion)) m->dirty &= ~outer_bits(pb, pe);
    } else if (m->valid == VM_PAGE_BITS_ALL && !(bp->b_flags & B_CACHE) && !skip_bogus) {
      slot = bogus_page_;
      bogus = true;
      ++stats_.bogus_pages;
    }
  }
  if (bogus) {
    bp->b_bogus = true;
    remap_all(bp, bp->b_iocpu);
  }
}

// After I/O: the real pages go back into b_pages (and the KVA) in place of bogus_page, pages
// that a read filled become valid, and every page is unbusied. Runs on the completing CPU.
void BufCache::vfs_vmio_iodone(buf* bp, cpuid_t cpu) {
  const bool read_ok = bp->b_iocmd == BIO_READ && !(bp->b_ioflags & BIO_ERROR);
  const bool leak = pmap_.faults().enabled(Fault::BogusPageLeak);
  bool restored = false;
  for (int i = 0; i < bp->b_npages; ++i) {
    vm_page*& slot = bp->b_pages[static_cast<std::size_t>(i)];
    if (slot == bogus_page_) {
      vm_page* real = bp->b_bufobj ? bp->b_bufobj->bo_object->lookup(page_off(bp, i) / PAGE_SIZE) : nullptr;
      if (real == nullptr) throw KvaError("vfs_vmio_iodone: the page behind bogus_page is gone");
      --real->busy;
      if (leak) continue;  // injected bug: bogus_page stays in b_pages and the KVA
      slot = real;
      restored = true;
      ++stats_.bogus_restores;
      continue;
    }
    if (read_ok) {
      std::size_t pb, pe;
      page_range(bp, i, static_cast<std::size_t>(bp->b_ioboff),
                 static_cast<std::size_t>(bp->b_ioboff + bp->b_iolen), pb, pe);
      slot->valid |= inner_bits(pb, pe);
    }
    --slot->busy;
  }
  if (restored) remap_all(bp, cpu);
  bp->b_bogus = std::find(bp->b_pages.begin(), bp->b_pages.begin() + bp->b_npages, bogus_page_) !=
                bp->b_pages.begin() + bp->b_npages;
}

// B_NOCACHE or a failed read: the buffer's part of each page is no longer valid.
void BufCache::vfs_vmio_invalidate(buf* bp) {
  for (int i = 0; i < bp->b_npages; ++i) {
    vm_page* m = bp->b_pages[static_cast<std::size_t>(i)];
    if (m == bogus_page_) continue;
    std::size_t pb, pe;
    page_range(bp, i, 0, static_cast<std::size_t>(bp->b_bcount), pb, pe);
    m->valid &= ~outer_bits(pb, pe);
    m->dirty &= ~outer_bits(pb, pe);
  }
}

}  // namespace kva
