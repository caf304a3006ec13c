// RISC-V page tables in guest physical memory, for Sv39 or Sv48 (riscv_paging.h), and the
// software walk that pte()/describe_walk() report. The walk follows the privileged spec's
// "Virtual Address Translation Process" step by step; tests compare it with what the emulated
// hart reads, so a disagreement between the two is a test failure, not a silent difference.
// Permission and A/D checks depend on the access, so they are a separate step (access_fault).
#pragma once
#include <array>
#include <cstdint>
#include <iomanip>
#include <optional>
#include <sstream>
#include <string>

#include "archs/riscv64/riscv_paging.h"
#include "archs/riscv64/riscv_pte.h"
#include "core/vm_page.h"

namespace kva::riscv {

// How a walk ended.
enum class WalkOutcome {
  Mapped,               // reached a leaf whose encoding is legal
  NotCanonical,         // VA bits above the format's width are not a sign extension
  Invalid,              // V=0: "not mapped"
  Reserved,             // W without R, or reserved bits 63:54 set (QEMU does not check the latter)
  MisalignedSuperpage,  // a leaf above the last level whose PPN has low bits set
  NoLeaf,               // a pointer at the last level
};

// Why a walk that reached a leaf still faults for an access (access_fault).
enum class AccessFault { NoLeaf, UserPage, NotReadable, NotWritable, NotExecutable, NotAccessed, NotDirty };

inline const char* to_string(AccessFault f) {
  switch (f) {
    case AccessFault::NoLeaf: return "no valid leaf";
    case AccessFault::UserPage: return "U page (supervisor access with SUM=0)";
    case AccessFault::NotReadable: return "leaf not readable";
    case AccessFault::NotWritable: return "leaf not writable";
    case AccessFault::NotExecutable: return "leaf not executable";
    case AccessFault::NotAccessed: return "A=0 (Svade)";
    case AccessFault::NotDirty: return "D=0 on a store (Svade)";
  }
  return "?";
}

template <class Format>
class PageTables {
 public:
  static constexpr int kLevels = Format::kLevels;
  static constexpr int kLeafLevel = kLevels - 1;

  struct Step {
    paddr_t slot = 0;  // physical address of the entry
    std::size_t index = 0;
    Pte entry;
  };
  struct Walk {
    std::array<Step, kLevels> steps{};
    int depth = 0;  // entries read
    WalkOutcome outcome = WalkOutcome::Invalid;
    bool global = false;               // G in the leaf or in any pointer above it
    std::uint64_t page_bytes = PAGE_SIZE;
    paddr_t pa = 0;                    // the 4 KiB frame of va, when mapped
    bool mapped() const { return outcome == WalkOutcome::Mapped; }
    int last_level() const { return depth - 1; }
    const Step& last() const { return steps[depth - 1]; }  // the leaf when mapped
  };

  explicit PageTables(PhysicalMemory& ram) : ram_(ram), root_(alloc_table()) {}

  paddr_t root() const { return root_; }
  std::uint64_t satp(std::uint16_t asid = 0) const { return satp_value(Format::kSatpMode, asid, root_); }

  static std::uint64_t level_bytes(int level) { return std::uint64_t{1} << shift(level); }
  static std::size_t index_of(vaddr_t va, int level) { return (va >> shift(level)) & 511; }
  static const char* level_name(int level) { return Format::kLevelNames[static_cast<std::size_t>(level)]; }
  static bool canonical(vaddr_t va) {
    constexpr unsigned kUnused = 64 - Format::kVaBits;
    return static_cast<vaddr_t>(static_cast<std::int64_t>(va << kUnused) >> kUnused) == va;
  }

  Pte read(paddr_t slot) const {
    Pte::raw_type raw;
    ram_.read(slot, &raw, sizeof raw);
    return Pte(raw);
  }
  void write(paddr_t slot, Pte e) {
    auto raw = e.raw();
    ram_.write(slot, &raw, sizeof raw);
  }

  // The software walk: what the MMU does for va, without touching A/D.
  Walk walk(vaddr_t va) const { return walk_from(va, root_, 0); }

  // The walk of va from the table page `table` at `level` down, reading the tables as they
  // are now: what a hart does when it walks through a cached upper-level entry pointing at
  // `table`. Steps above `level` stay empty (depth counts them as read).
  Walk walk_from(vaddr_t va, paddr_t table, int first_level) const {
    Walk w;
    if (!canonical(va)) {
      w.outcome = WalkOutcome::NotCanonical;
      return w;
    }
    w.depth = first_level;
    for (int level = first_level; level < kLevels; ++level) {
      Step& s = w.steps[w.depth++];
      s.index = index_of(va, level);
      s.slot = table + s.index * sizeof(Pte::raw_type);
      s.entry = read(s.slot);
      if (!s.entry.valid()) return w;  // Invalid
      if (s.entry.write_without_read() || s.entry.reserved_bits_set()) {
        w.outcome = WalkOutcome::Reserved;
        return w;
      }
      w.global |= s.entry.global();
      if (s.entry.is_leaf()) {
        w.page_bytes = level_bytes(level);
        if ((s.entry.physical_address() & (w.page_bytes - 1)) != 0) {
          w.outcome = WalkOutcome::MisalignedSuperpage;
          return w;
        }
        w.outcome = WalkOutcome::Mapped;
        w.pa = s.entry.physical_address() + (va & (w.page_bytes - 1) & ~PAGE_MASK);
        return w;
      }
      table = s.entry.physical_address();
    }
    w.outcome = WalkOutcome::NoLeaf;
    return w;
  }

  // Why a supervisor access of `type` through the mapped walk `w` faults, if it does
  // (SUM = MXR = 0). Under Svade a clear A, or a clear D on a store, faults too.
  static std::optional<AccessFault> access_fault(const Walk& w, AccessType type, AdUpdate ad) {
    if (!w.mapped()) return AccessFault::NoLeaf;
    const Pte& e = w.last().entry;
    if (e.user()) return AccessFault::UserPage;
    if (type == AccessType::Read && !e.readable()) return AccessFault::NotReadable;
    if (type == AccessType::Write && !e.writable()) return AccessFault::NotWritable;
    if (type == AccessType::Execute && !e.executable()) return AccessFault::NotExecutable;
    if (ad == AdUpdate::Software) {
      if (!e.accessed()) return AccessFault::NotAccessed;
      if (type == AccessType::Write && !e.dirty()) return AccessFault::NotDirty;
    }
    return std::nullopt;
  }

  // Slot of va's entry at `level`, creating pointer tables above it. Throws if va is not
  // canonical or a leaf above `level` already maps it.
  // `allocated`, when given, counts the table pages created.
  paddr_t ensure_slot(vaddr_t va, int level, std::size_t* allocated = nullptr) {
    check_level(level);
    if (!canonical(va)) throw KvaError(std::string("riscv page tables: va not canonical for ") + Format::kName);
    paddr_t table = root_;
    for (int l = 0; l < level; ++l) {
      paddr_t slot = table + index_of(va, l) * sizeof(Pte::raw_type);
      Pte e = read(slot);
      if (!e.valid()) {
        e = Pte::pointer(alloc_table());
        write(slot, e);
        if (allocated) ++*allocated;
      } else if (!e.is_pointer()) {
        throw KvaError(std::string("riscv page tables: a leaf in ") + level_name(l) +
                       " already maps this range");
      }
      table = e.physical_address();
    }
    return table + index_of(va, level) * sizeof(Pte::raw_type);
  }

  // Writes the leaf `e` for va at `level` (the last level: 4 KiB; one above: 2 MiB megapage;
  // then 1 GiB gigapage; Sv48's L0: 512 GiB). va and the frame must be aligned to the size.
  void map(vaddr_t va, int level, Pte e) {
    check_level(level);
    if (!e.is_leaf()) throw KvaError("riscv page tables: map() needs a leaf entry (R or X set)");
    const std::uint64_t bytes = level_bytes(level);
    if ((va & (bytes - 1)) != 0 || (e.physical_address() & (bytes - 1)) != 0)
      throw KvaError("riscv page tables: va or pa not aligned to the " + size_name(bytes) + " page");
    write(ensure_slot(va, level), e);
  }

  // Creates the last-level tables (not the PTEs) for [start, end): pmap_growkernel up front.
  void populate(vaddr_t start, vaddr_t end) {
    for (vaddr_t va = start; va < end; va += level_bytes(kLeafLevel - 1)) ensure_slot(va, kLeafLevel);
  }

  // Slot of va's entry at `level` if the tables above it exist (pointers all the way).
  std::optional<paddr_t> slot_at(vaddr_t va, int level) const {
    check_level(level);
    Walk w = walk(va);
    for (int l = 0; l < level; ++l)
      if (l >= w.depth || !w.steps[l].entry.is_pointer()) return std::nullopt;
    return w.steps[level].slot;
  }

  // Slot of va's last-level PTE if its table exists and no superpage covers va.
  std::optional<paddr_t> leaf_slot(vaddr_t va) const {
    Walk w = walk(va);
    if (w.depth < kLevels) return std::nullopt;
    const Step& s = w.steps[kLeafLevel - 1];
    if (!s.entry.is_pointer()) return std::nullopt;
    return w.steps[kLeafLevel].slot;
  }

  // A zeroed, wired table page: every entry invalid.
  paddr_t alloc_table() {
    vm_page* m = ram_.vm_page_alloc();
    ram_.vm_page_wire(m);
    return m->phys_addr;
  }

  static std::string size_name(std::uint64_t bytes) {
    if (bytes >= (std::uint64_t{1} << 30)) return std::to_string(bytes >> 30) + " GiB";
    if (bytes >= (std::uint64_t{1} << 20)) return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes >> 10) + " KiB";
  }

  // One line per entry read, then the outcome.
  std::string describe(vaddr_t va) const {
    Walk w = walk(va);
    std::ostringstream o;
    o << std::hex;
    for (int l = 0; l < w.depth; ++l) {
      const Step& s = w.steps[l];
      o << level_name(l) << "[" << std::dec << s.index << std::hex << "] @0x" << s.slot << " = 0x"
        << std::setw(16) << std::setfill('0') << s.entry.raw() << std::setfill(' ') << flags(s.entry);
      if (s.entry.is_pointer()) o << " -> table 0x" << s.entry.physical_address();
      if (s.entry.is_leaf()) o << " leaf " << size_name(level_bytes(l));
      o << "\n";
    }
    const char* last = w.depth ? level_name(w.last_level()) : "";
    switch (w.outcome) {
      case WalkOutcome::Mapped:
        o << "-> pa 0x" << (w.pa | (va & PAGE_MASK)) << (w.last().entry.writable() ? " (writable)" : " (read-only)");
        if (w.global) o << " global";
        break;
      case WalkOutcome::NotCanonical: o << "-> not mapped (va not canonical for " << Format::kName << ")"; break;
      case WalkOutcome::Invalid: o << "-> not mapped (" << last << " invalid)"; break;
      case WalkOutcome::Reserved: o << "-> page fault (reserved encoding in " << last << ")"; break;
      case WalkOutcome::MisalignedSuperpage:
        o << "-> page fault (misaligned " << size_name(w.page_bytes) << " superpage in " << last << ")";
        break;
      case WalkOutcome::NoLeaf: o << "-> page fault (" << last << " points to a table: no leaf)"; break;
    }
    return o.str();
  }

 private:
  static constexpr unsigned shift(int level) { return PAGE_SHIFT + 9u * static_cast<unsigned>(kLeafLevel - level); }
  static void check_level(int level) {
    if (level < 0 || level >= kLevels) throw KvaError(std::string("riscv page tables: no such level in ") + Format::kName);
  }
  static std::string flags(const Pte& e) {
    std::string f;
    if (e.valid()) f += " V";
    if (e.readable()) f += " R";
    if (e.writable()) f += " W";
    if (e.executable()) f += " X";
    if (e.user()) f += " U";
    if (e.global()) f += " G";
    if (e.accessed()) f += " A";
    if (e.dirty()) f += " D";
    return f;
  }

  PhysicalMemory& ram_;
  paddr_t root_;
};

}  // namespace kva::riscv
