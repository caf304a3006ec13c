// x86 page tables kept in guest physical memory, for any of the three formats (amd64 4-level,
// i386 2-level 32-bit, PAE 3-level 64-bit). A format is a traits class (see
// archs/amd64/amd64_paging.h, archs/i386/i386_paging.h):
//   using Entry;                                   PagingEntry<uint32_t|uint64_t>
//   kLevels; kShift[l]; kEntries[l]; kNames[l];    level 0 is the root (CR3 points to it)
//   kLargeAllowed[l]                               PS honoured at this level
//   kTopLevelPresentOnly                           PAE PDPTEs: only P may be set
//   kTopLevelCachedAtCr3Load                       PAE: PDPTEs are loaded at CR3 load
// The software walk here is what pte() and describe_walk() report; tests compare it with what
// the emulated hardware walk does.
#pragma once
#include <array>
#include <cstring>
#include <iomanip>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/vm_page.h"

namespace kva::x86 {

template <class Paging>
class PageTables {
 public:
  using Entry = typename Paging::Entry;
  static constexpr int kLevels = Paging::kLevels;
  static constexpr int kLeafLevel = kLevels - 1;

  struct Step {
    paddr_t slot = 0;  // physical address of the entry
    std::size_t index = 0;
    Entry entry;
  };
  struct Walk {
    std::array<Step, kLevels> steps{};
    int depth = 0;                     // entries read
    bool mapped = false;               // reached a present leaf
    bool writable = false;             // R/W set at every level that has it
    paddr_t pa = 0;                    // the 4 KiB frame of va, when mapped
    std::uint64_t page_bytes = PAGE_SIZE;
    int leaf_level = -1;               // level of the leaf, when mapped
    const Step& leaf() const { return steps[depth - 1]; }
  };

  explicit PageTables(PhysicalMemory& ram) : ram_(ram), root_(alloc_table()) {}

  paddr_t root() const { return root_; }

  static std::uint64_t level_bytes(int level) { return std::uint64_t{1} << Paging::kShift[level]; }
  static std::size_t index_of(vaddr_t va, int level) {
    return (va >> Paging::kShift[level]) & (Paging::kEntries[level] - 1);
  }

  Entry read(paddr_t slot) const {
    typename Entry::raw_type raw;
    ram_.read(slot, &raw, sizeof raw);
    return Entry(raw);
  }
  void write(paddr_t slot, Entry e) {
    auto raw = e.raw();
    ram_.write(slot, &raw, sizeof raw);
  }

  // The software walk: what the MMU would do for va, without setting A/D.
  Walk walk(vaddr_t va) const { return walk_from(va, root_, 0, true); }
  // The walk of va from `table`, the table page of `level` (a walk through an upper-level
  // entry a CPU may have cached); `writable`: the rights of the entries above it.
  Walk walk_from(vaddr_t va, paddr_t table, int level, bool writable) const {
    Walk w;
    w.writable = writable;
    for (; level < kLevels; ++level) {
      Step& s = w.steps[w.depth++];
      s.index = index_of(va, level);
      s.slot = table + s.index * sizeof(typename Entry::raw_type);
      s.entry = read(s.slot);
      if (!s.entry.is_present()) return w;
      if (!(level == 0 && Paging::kTopLevelPresentOnly)) w.writable &= s.entry.is_writable();
      if (is_leaf(s.entry, level)) {
        w.mapped = true;
        w.leaf_level = level;
        w.page_bytes = level_bytes(level);
        w.pa = s.entry.physical_address(w.page_bytes) + (va & (w.page_bytes - 1) & ~PAGE_MASK);
        return w;
      }
      table = s.entry.physical_address();
    }
    return w;
  }

  // Slot of va's entry at `level`, creating the tables above it (as pmap_growkernel does: P, RW,
  // A and M preset, so the new entries are cacheable at once). Throws if a large page is in the
  // way. Counts the table pages it allocates into *allocated.
  paddr_t ensure_slot(vaddr_t va, int level, std::size_t* allocated = nullptr) {
    paddr_t table = root_;
    for (int l = 0; l < level; ++l) {
      paddr_t slot = table + index_of(va, l) * sizeof(typename Entry::raw_type);
      Entry e = read(slot);
      if (!e.is_present()) {
        e = table_entry(l, alloc_table());
        write(slot, e);
        if (allocated) ++*allocated;
      } else if (Paging::kLargeAllowed[l] && e.is_large()) {
        throw KvaError("x86 page tables: a large page already maps this range");
      }
      table = e.physical_address();
    }
    return table + index_of(va, level) * sizeof(typename Entry::raw_type);
  }

  // Slot of va's entry at `level` if the tables above it exist and are not a large page.
  std::optional<paddr_t> slot_at(vaddr_t va, int level) const {
    paddr_t table = root_;
    for (int l = 0; l < level; ++l) {
      Entry e = read(table + index_of(va, l) * sizeof(typename Entry::raw_type));
      if (!e.is_present() || (Paging::kLargeAllowed[l] && e.is_large())) return std::nullopt;
      table = e.physical_address();
    }
    return table + index_of(va, level) * sizeof(typename Entry::raw_type);
  }

  // Slot of va's leaf PTE if its page table exists.
  std::optional<paddr_t> leaf_slot(vaddr_t va) const { return slot_at(va, kLeafLevel); }

  // Maps one 4 KiB page (kernel, writable), creating page-table pages as needed.
  void map_page(vaddr_t va, paddr_t pa, bool global) {
    Entry e;
    e.set_present(true);
    e.set_writable(true);
    e.set_global(global);
    e.set_physical_address(pa);
    write(ensure_slot(va, kLeafLevel), e);
  }
  // Writes a leaf entry (4 KiB at the leaf level, a large page above it).
  void write_leaf(vaddr_t va, int level, Entry e) { write(ensure_slot(va, level), e); }
  // Creates the page tables (not the PTEs) for [start, end): pmap_growkernel done up front.
  void populate(vaddr_t start, vaddr_t end) {
    for (vaddr_t va = start; va < end; va += level_bytes(kLeafLevel - 1)) ensure_slot(va, kLeafLevel);
  }
  // An upper-level entry pointing at `table` (PAE PDPTEs carry P only).
  static Entry table_entry(int level, paddr_t table) {
    Entry e;
    e.set_present(true);
    if (!(level == 0 && Paging::kTopLevelPresentOnly)) {
      e.set_writable(true);
      e.set_accessed(true);
      e.set_dirty(true);
    }
    e.set_physical_address(table);
    return e;
  }
  // A zeroed, wired page-table page.
  paddr_t alloc_table() {
    vm_page* m = ram_.vm_page_alloc();  // zeroed: every entry not present
    ram_.vm_page_wire(m);
    return m->phys_addr;
  }
  // amd64 linear addresses are canonical: bits 63..48 copy bit 47.
  static vaddr_t canonical(vaddr_t va) {
    if constexpr (kLevels == 4)
      if (va & (vaddr_t{1} << 47)) return va | 0xffff'0000'0000'0000ull;
    return va;
  }
  static bool is_leaf(const Entry& e, int level) {
    return level == kLeafLevel || (Paging::kLargeAllowed[level] && e.is_large());
  }

  // One line per level read, then the outcome.
  std::string describe(vaddr_t va) const {
    Walk w = walk(va);
    std::ostringstream o;
    o << std::hex;
    for (int l = 0; l < w.depth; ++l) {
      const Step& s = w.steps[l];
      o << Paging::kNames[l] << "[" << std::dec << s.index << std::hex << "] @0x" << s.slot
        << " = 0x" << std::setw(sizeof(typename Entry::raw_type) * 2) << std::setfill('0')
        << static_cast<std::uint64_t>(s.entry.raw()) << std::setfill(' ') << flags(s.entry, l)
        << "\n";
    }
    if (w.mapped)
      o << "-> pa 0x" << (w.pa | (va & PAGE_MASK)) << (w.writable ? " (writable)" : " (read-only)");
    else
      o << "-> not mapped (" << Paging::kNames[w.depth - 1] << " not present)";
    return o.str();
  }

 public:
  static std::string flags(const Entry& e, int level) {
    std::string f;
    if (e.is_present()) f += " P";
    if (e.is_writable()) f += " RW";
    if (e.is_user()) f += " US";
    if (e.write_through()) f += " PWT";
    if (e.cache_disabled()) f += " PCD";
    if (e.accessed()) f += " A";
    if (e.dirty()) f += " D";
    if (Paging::kLargeAllowed[level] && e.is_large()) f += " PS";
    if (e.global()) f += " G";
    if constexpr (Entry::kHasNx)
      if (e.no_execute()) f += " NX";
    return f;
  }

 private:
  PhysicalMemory& ram_;
  paddr_t root_;
};

}  // namespace kva::x86
