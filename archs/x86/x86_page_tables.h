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
    const Step& leaf() const { return steps[depth - 1]; }
  };

  explicit PageTables(PhysicalMemory& ram) : ram_(ram), root_(alloc_table()) {}

  paddr_t root() const { return root_; }
  // The root-level entries as they are in memory now (what a CR3 load reads on PAE).
  std::array<Entry, Paging::kEntries[0]> root_entries() const {
    std::array<Entry, Paging::kEntries[0]> r;
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = read(root_ + i * sizeof(typename Entry::raw_type));
    return r;
  }

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

  // The software walk: what the MMU would do for va, without setting A/D. `cached_root`, when
  // given, supplies the root-level entries instead of memory (PAE's PDPTE registers).
  Walk walk(vaddr_t va, const Entry* cached_root = nullptr) const {
    Walk w;
    w.writable = true;
    paddr_t table = root_;
    for (int level = 0; level < kLevels; ++level) {
      Step& s = w.steps[w.depth++];
      s.index = index_of(va, level);
      s.slot = table + s.index * sizeof(typename Entry::raw_type);
      s.entry = (level == 0 && cached_root) ? cached_root[s.index] : read(s.slot);
      if (!s.entry.is_present()) return w;
      if (!(level == 0 && Paging::kTopLevelPresentOnly)) w.writable &= s.entry.is_writable();
      bool large = Paging::kLargeAllowed[level] && s.entry.is_large();
      if (level == kLeafLevel || large) {
        w.mapped = true;
        w.page_bytes = level_bytes(level);
        w.pa = s.entry.physical_address(w.page_bytes) + (va & (w.page_bytes - 1) & ~PAGE_MASK);
        return w;
      }
      table = s.entry.physical_address();
    }
    return w;
  }

  // Slot of va's entry at `level`, creating the tables above it. Throws if a large page is in
  // the way.
  paddr_t ensure_slot(vaddr_t va, int level) {
    paddr_t table = root_;
    for (int l = 0; l < level; ++l) {
      paddr_t slot = table + index_of(va, l) * sizeof(typename Entry::raw_type);
      Entry e = read(slot);
      if (!e.is_present()) {
        e = Entry{};
        e.set_present(true);
        if (!(l == 0 && Paging::kTopLevelPresentOnly)) e.set_writable(true);
        e.set_physical_address(alloc_table());
        write(slot, e);
      } else if (Paging::kLargeAllowed[l] && e.is_large()) {
        throw KvaError("x86 page tables: a large page already maps this range");
      }
      table = e.physical_address();
    }
    return table + index_of(va, level) * sizeof(typename Entry::raw_type);
  }

  // Slot of va's leaf PTE if its page table exists (kernel tables are pre-populated).
  std::optional<paddr_t> leaf_slot(vaddr_t va) const {
    Walk w = walk(va);
    if (w.depth < kLevels) return std::nullopt;  // stopped above the leaf level
    if (w.mapped && w.page_bytes != PAGE_SIZE) return std::nullopt;
    return w.steps[kLeafLevel].slot;
  }

  // Maps one 4 KiB page (kernel, writable), creating page-table pages as needed.
  void map_page(vaddr_t va, paddr_t pa, bool global) {
    write(ensure_slot(va, kLeafLevel), leaf_entry(pa, global, false));
  }
  // Maps one large page at the level above the leaf (2 MiB on amd64 and PAE).
  void map_large(vaddr_t va, paddr_t pa, bool global) {
    if (!Paging::kLargeAllowed[kLeafLevel - 1])
      throw KvaError("x86 page tables: this format has no large pages");
    write(ensure_slot(va, kLeafLevel - 1), leaf_entry(pa, global, true));
  }
  // Creates the page tables (not the PTEs) for [start, end): pmap_growkernel done up front.
  void populate(vaddr_t start, vaddr_t end) {
    for (vaddr_t va = start; va < end; va += level_bytes(kLeafLevel - 1)) ensure_slot(va, kLeafLevel);
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

 private:
  paddr_t alloc_table() {
    vm_page* m = ram_.vm_page_alloc();  // zeroed: every entry not present
    ram_.vm_page_wire(m);
    return m->phys_addr;
  }
  static Entry leaf_entry(paddr_t pa, bool global, bool large) {
    Entry e;
    e.set_present(true);
    e.set_writable(true);
    e.set_global(global);
    e.set_large(large);
    e.set_physical_address(pa);
    return e;
  }
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

  PhysicalMemory& ram_;
  paddr_t root_;
};

}  // namespace kva::x86
