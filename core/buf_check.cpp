// Buffer invariants, checked after every buffer operation when BufConfig::check_invariants is
// set. A violation is recorded (with the current step) rather than thrown, so the data oracles
// still get to see what the broken state does.
#include <algorithm>
#include <cstdio>

#include "core/buf_cache.h"

namespace kva {

namespace {
std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
}  // namespace

void BufCache::check_invariants() {
  auto report = [this](const buf* bp, std::string msg) {
    for (const auto& v : violations_)
      if (v.buf_index == bp->b_index && v.message == msg) return;  // already known
    ++stats_.invariant_violations;
    violations_.push_back({pmap_.step(), bp->b_index, std::move(msg)});
  };
  for (const auto& owned : bufs_) {
    const buf* bp = owned.get();
    if (!bp->b_bufobj && bp->b_npages == 0 && !buf_mapped(bp)) continue;
    const std::size_t poff = bp->b_offset == NOOFFSET ? 0 : static_cast<std::size_t>(bp->b_offset) & PAGE_MASK;
    // b_data is consistent with b_kvabase and b_offset.
    if (buf_mapped(bp)) {
      if (bp->b_kvabase & PAGE_MASK) report(bp, "b_kvabase " + hex(bp->b_kvabase) + " is not page aligned");
      if (bp->b_data != bp->b_kvabase + poff)
        report(bp, "b_data " + hex(bp->b_data) + " is not b_kvabase + (b_offset & PAGE_MASK) = " +
                       hex(bp->b_kvabase + poff));
      if (static_cast<std::size_t>(bp->b_npages) * PAGE_SIZE > bp->b_kvasize)
        report(bp, "b_npages do not fit b_kvasize");
    } else if (bp->b_data != 0) {
      report(bp, "unmapped buffer with b_data " + hex(bp->b_data));
    }
    const bool in_io = bp->b_io_in_progress;
    for (int i = 0; i < bp->b_npages; ++i) {
      const vm_page* m = bp->b_pages[static_cast<std::size_t>(i)];
      const std::string slot = "b_pages[" + std::to_string(i) + "]";
      if (m == nullptr) {
        report(bp, slot + " is NULL");
        continue;
      }
      // No bogus_page outside an I/O.
      if (m == bogus_page_) {
        if (!in_io) report(bp, slot + " is bogus_page outside an I/O");
      } else {
        // No page freed while referenced.
        if (!m->allocated) report(bp, slot + " pa " + hex(m->phys_addr) + " was freed while the buffer holds it");
        if (m->wire_count <= 0) report(bp, slot + " pa " + hex(m->phys_addr) + " is not wired");
        if ((bp->b_flags & B_VMIO) && bp->b_bufobj &&
            (m->object != bp->b_bufobj->bo_object || m->pindex != page_off(bp, i) / PAGE_SIZE))
          report(bp, slot + " is not the VM object's page for that offset");
      }
      // Mapped KVA equals b_pages.
      if (buf_mapped(bp)) {
        const vaddr_t va = bp->b_kvabase + static_cast<vaddr_t>(i) * PAGE_SIZE;
        const PteState p = pmap_.pte(va);
        if (!p.valid || trunc_page(p.pa) != m->phys_addr)
          report(bp, "KVA " + hex(va) + " maps " + (p.valid ? "pa " + hex(p.pa) : std::string("nothing")) +
                         " but " + slot + " is pa " + hex(m->phys_addr));
      }
    }
    // Valid/dirty ranges are consistent with the data and the page bits.
    if (bp->b_dirtyoff < 0 || bp->b_dirtyoff > bp->b_dirtyend || bp->b_dirtyend > bp->b_bcount)
      report(bp, "dirty range [" + std::to_string(bp->b_dirtyoff) + ", " + std::to_string(bp->b_dirtyend) +
                     ") is not inside b_bcount " + std::to_string(bp->b_bcount));
    if (bp->b_validoff < 0 || bp->b_validoff > bp->b_validend || bp->b_validend > bp->b_bcount)
      report(bp, "valid range [" + std::to_string(bp->b_validoff) + ", " + std::to_string(bp->b_validend) +
                     ") is not inside b_bcount " + std::to_string(bp->b_bcount));
    if ((bp->b_flags & B_VMIO) && !in_io) {
      for (int i = 0; i < bp->b_npages; ++i) {
        const vm_page* m = bp->b_pages[static_cast<std::size_t>(i)];
        if (m == nullptr || m == bogus_page_) continue;
        std::size_t pb, pe;
        page_range(bp, i, 0, static_cast<std::size_t>(bp->b_bcount), pb, pe);
        for (std::size_t c = pb / DEV_BSIZE; c * DEV_BSIZE < pe; ++c) {
          const bool valid = m->valid & (1u << c);
          const long lo = static_cast<long>(static_cast<std::size_t>(i) * PAGE_SIZE + c * DEV_BSIZE) - static_cast<long>(poff);
          const long hi = lo + static_cast<long>(DEV_BSIZE);
          if ((bp->b_flags & B_CACHE) && !valid)
            report(bp, "B_CACHE but chunk " + std::to_string(c) + " of " + slot_name(i) + " is not valid");
          // The dirty bytes of the chunk must be valid: in the page bits or in the byte range.
          const long dlo = std::max<long>(lo, bp->b_dirtyoff), dhi = std::min<long>(hi, bp->b_dirtyend);
          const bool in_valid_range = dlo >= bp->b_validoff && dhi <= bp->b_validend;
          if (dlo < dhi && !valid && !in_valid_range)
            report(bp, "dirty range covers chunk " + std::to_string(c) + " of " + slot_name(i) +
                           ", which is neither valid in the page nor in the valid range");
        }
      }
    }
    if ((bp->b_flags & B_DELWRI) && !bp->b_locked && bp->b_qindex != BufQueue::Dirty)
      report(bp, "B_DELWRI buffer is not on the dirty queue");
    if (bp->b_bufobj && incore(*bp->b_bufobj, bp->b_lblkno) != bp)
      report(bp, "buffer is not in its bufobj's hash");
  }
}

std::string BufCache::slot_name(int i) { return "b_pages[" + std::to_string(i) + "]"; }

}  // namespace kva
