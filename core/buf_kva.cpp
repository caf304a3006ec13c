// The buffer map: bounded KVA for buffers, mapped with pmap_qenter and unmapped with
// pmap_qremove (the arch's invalidation and shootdown), lazily unmapped above hibufspace.
#include <algorithm>

#include "core/buf_cache.h"

namespace kva {

void BufCache::set_bdata(buf* bp) {
  if (!buf_mapped(bp)) {
    bp->b_data = 0;
    return;
  }
  const vaddr_t off = bp->b_offset == NOOFFSET ? 0 : static_cast<vaddr_t>(bp->b_offset) & PAGE_MASK;
  // The page offset bits are added to the page-aligned base; a base that still carries another
  // block's bits (see getnewbuf) yields a b_data that points at the wrong bytes.
  const vaddr_t base = bp->b_data ? bp->b_data : bp->b_kvabase;
  bp->b_data = base | off;
}

void BufCache::qenter_pages(buf* bp, cpuid_t cpu, int first, int count) {
  if (count <= 0 || !buf_mapped(bp)) return;
  std::vector<paddr_t> pas;
  pas.reserve(static_cast<std::size_t>(count));
  for (int i = first; i < first + count; ++i) pas.push_back(bp->b_pages[static_cast<std::size_t>(i)]->phys_addr);
  pmap_.qenter(cpu, bp->b_kvabase + static_cast<vaddr_t>(first) * PAGE_SIZE, pas);
  auto& mapped = kva_pages_[static_cast<std::size_t>(bp->b_index)];
  for (int i = first; i < first + count; ++i) {
    vm_page*& slot = mapped[static_cast<std::size_t>(i)];
    if (slot && slot != bogus_page_) --slot->kmap_count;
    slot = bp->b_pages[static_cast<std::size_t>(i)];
    if (slot != bogus_page_) ++slot->kmap_count;
  }
}

void BufCache::unmap_pages(buf* bp, cpuid_t cpu, int first, int count) {
  if (count <= 0 || !buf_mapped(bp)) return;
  const vaddr_t va = bp->b_kvabase + static_cast<vaddr_t>(first) * PAGE_SIZE;
  if (pmap_.faults().enabled(Fault::SkipBufKvaShootdown)) {
    // Injected bug: the PTEs go, but only this CPU's TLB is told.
    for (int i = 0; i < count; ++i) pmap_.kremove(va + static_cast<vaddr_t>(i) * PAGE_SIZE);
    pmap_.invalidate_local(cpu, va, static_cast<std::size_t>(count));
  } else {
    pmap_.qremove(cpu, va, static_cast<std::size_t>(count));
  }
  auto& mapped = kva_pages_[static_cast<std::size_t>(bp->b_index)];
  for (int i = first; i < first + count; ++i) {
    vm_page*& slot = mapped[static_cast<std::size_t>(i)];
    if (slot && slot != bogus_page_) --slot->kmap_count;
    slot = nullptr;
  }
}

void BufCache::remap_all(buf* bp, cpuid_t cpu) { qenter_pages(bp, cpu, 0, bp->b_npages); }

void BufCache::kva_release(buf* bp, cpuid_t cpu) {
  if (!buf_mapped(bp)) return;
  int mapped = 0;
  for (vm_page* m : kva_pages_[static_cast<std::size_t>(bp->b_index)])
    if (m) ++mapped;
  // Mapped slots are always a prefix [0, b_npages) of the KVA.
  unmap_pages(bp, cpu, 0, mapped);
  arena_.free(bp->b_kvabase, bp->b_kvasize);
  stats_.bufkvaspace -= static_cast<std::int64_t>(bp->b_kvasize);
  bp->b_kvabase = 0;
  bp->b_kvasize = 0;
  bp->b_data = 0;
  ++stats_.kva_unmaps;
  sched_.wakeup(&freechan_);
}

// Above hibufspace, released buffers give their KVA back, oldest first, until the request fits
// under lobufspace; their struct buf and b_pages stay (they are remapped when reused).
void BufCache::lazy_unmap(std::size_t need, cpuid_t cpu, const buf* keep) {
  std::vector<buf*> victims;
  for (const auto& bp : bufs_)
    if (buf_mapped(bp.get()) && !bp->b_locked && bp.get() != keep && !bp->b_io_in_progress)
      victims.push_back(bp.get());
  std::sort(victims.begin(), victims.end(), [](const buf* a, const buf* b) { return a->b_lru < b->b_lru; });
  for (buf* bp : victims) {
    if (static_cast<std::size_t>(stats_.bufkvaspace) + need <= cfg_.lobufspace) break;
    kva_release(bp, cpu);
    bp->b_lazy_unmapped = bp->b_npages > 0;
    ++stats_.kva_lazy_unmaps;
  }
}

std::optional<vaddr_t> BufCache::kva_get(std::size_t bytes, cpuid_t cpu, const buf* keep) {
  if (static_cast<std::size_t>(stats_.bufkvaspace) + bytes > cfg_.hibufspace)
    lazy_unmap(bytes, cpu, keep);
  if (auto va = arena_.alloc(bytes)) return va;
  // Fragmented or full: give up every released buffer's KVA before sleeping for more.
  lazy_unmap(cfg_.maxbufspace, cpu, keep);
  return arena_.alloc(bytes);
}

bool BufCache::ensure_kva(buf* bp, cpuid_t cpu) {
  if (buf_mapped(bp)) return true;
  const std::size_t bytes = std::max<std::size_t>(1, static_cast<std::size_t>(bp->b_npages)) * PAGE_SIZE;
  const std::optional<vaddr_t> va = kva_get(bytes, cpu, bp);
  if (!va) return false;
  bp->b_kvabase = *va;
  bp->b_kvasize = bytes;
  stats_.bufkvaspace += static_cast<std::int64_t>(bytes);
  ++stats_.kva_maps;
  if (bp->b_lazy_unmapped) {
    ++stats_.kva_remaps;
    bp->b_lazy_unmapped = false;
  }
  qenter_pages(bp, cpu, 0, bp->b_npages);
  set_bdata(bp);
  return true;
}

bool BufCache::bp_unmapped_get_kva(Thread& td, buf* bp, IoResult done) {
  check_owner(td, bp, "bp_unmapped_get_kva");
  auto wait = [this, bp](Thread& t) -> std::optional<Sleep> {
    if (!ensure_kva(bp, t.cpu())) return sleep_on(&freechan_, "nbufkv");
    return std::nullopt;
  };
  auto then = [this, done = std::move(done)](Thread&) {
    after_op();
    if (done) done(0);
  };
  return start_op(td, wait_op(nullptr, std::move(wait), std::move(then)));
}

}  // namespace kva
