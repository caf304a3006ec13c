// Pmap::mapped_leaves: the tables' valid leaves over a VA range, found through walk() alone.
#include <algorithm>

#include "core/pmap.h"

namespace kva {

void Pmap::mapped_leaves(vaddr_t first, vaddr_t last, std::vector<MappedLeaf>& out,
                         std::vector<paddr_t>* page_tables) const {
  vaddr_t va = trunc_page(first);
  const VaFormat format = va_format();
  for (;;) {
    if (!format.fits(va)) {
      // Past a 32-bit VA space, or in the hole between a 64-bit space's two canonical halves:
      // nothing maps there, and walking it page by page would take forever.
      if (format.width < 64 || format.bits >= 64) break;
      const vaddr_t upper_half = ~vaddr_t{0} << (format.bits - 1);
      if (va >= upper_half || upper_half > last) break;
      va = upper_half;
    }
    const std::vector<WalkLevel> levels = walk(va);
    std::uint64_t step = PAGE_SIZE;
    bool writable = true;
    for (const WalkLevel& l : levels) {
      if (page_tables && l.index >= 0) page_tables->push_back(trunc_page(l.table));
      step = std::max<std::uint64_t>(l.reach, PAGE_SIZE);
      if (!l.present) break;  // nothing below: skip the entry's whole reach
      writable = writable && l.writable;
      if (l.leaf) {
        out.push_back(MappedLeaf{va & ~(step - 1), l, writable});
        break;
      }
    }
    const vaddr_t next = (va & ~(step - 1)) + step;
    if (next == 0 || next - 1 >= last) break;  // wrapped past 2^64, or done
    va = next;
  }
  if (page_tables) {
    std::sort(page_tables->begin(), page_tables->end());
    page_tables->erase(std::unique(page_tables->begin(), page_tables->end()), page_tables->end());
  }
}

}  // namespace kva
