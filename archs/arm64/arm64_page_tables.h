// VMSAv8-64 stage-1 translation tables in guest physical memory: 4 levels, 4 KiB granule,
// 48-bit VAs split into two halves (T0SZ = T1SZ = 16). VAs whose bits 63:48 are all zero walk
// from TTBR0's table, all ones from TTBR1's; anything else is outside both ranges.
//
// The software walk here is what pte() and describe_walk() report; tests compare it with what
// the emulated MMU does. It never sets AF (the emulated CPU has no hardware AF update, so an
// AF=0 leaf faults instead, Arm ARM D8.4.2.1 with TCR_EL1.HA = 0).
#pragma once
#include <array>
#include <optional>
#include <string>

#include "archs/arm64/arm64_descriptor.h"
#include "core/types.h"
#include "core/vm_page.h"

namespace kva::arm64 {

enum class AddressHalf { Lower, Upper, Neither };  // TTBR0, TTBR1, outside both
AddressHalf address_half(vaddr_t va);

// Why a walk did not produce a usable translation, named as the Arm ARM's fault status codes.
enum class FaultKind { None, Translation, AccessFlag, Permission };
const char* to_string(FaultKind k);

struct WalkStep {
  int level = 0;
  paddr_t slot = 0;  // physical address of the descriptor
  std::size_t index = 0;
  Descriptor desc;
};

struct Walk {
  std::array<WalkStep, kLevels> steps{};
  int depth = 0;                   // descriptors read
  FaultKind fault = FaultKind::None;  // for a read; see fault_for() for a write
  int fault_level = 0;             // level of the descriptor that faulted
  AddressHalf half = AddressHalf::Neither;
  paddr_t pa = 0;                  // the 4 KiB frame of va, when a leaf was reached
  int leaf_level = kLeafLevel;     // 1, 2 (blocks) or 3 (page), when a leaf was reached
  bool writable = false;           // AP[2] clear and no APTable[1] above
  bool global = false;             // nG clear

  bool reached_leaf() const { return depth > 0 && steps[depth - 1].desc.is_leaf(steps[depth - 1].level); }
  bool mapped() const { return fault == FaultKind::None; }
  const WalkStep& leaf() const { return steps[depth - 1]; }
  std::uint64_t leaf_bytes() const { return level_bytes(leaf_level); }
  // The fault an access of this type takes (a store to a read-only leaf is a permission fault).
  FaultKind fault_for(AccessType type) const;
};

class PageTables {
 public:
  explicit PageTables(PhysicalMemory& ram);

  paddr_t ttbr0_root() const { return ttbr0_root_; }
  paddr_t ttbr1_root() const { return ttbr1_root_; }

  static std::size_t index_of(vaddr_t va, int level) {
    return (va >> (12 + 9 * (kLevels - 1 - level))) & 511;
  }

  Descriptor read(paddr_t slot) const;
  void write(paddr_t slot, Descriptor d);

  // The walk the MMU does for va (no AF update).
  Walk walk(vaddr_t va) const;
  // The same walk starting at `level` in `table` (a walk through a cached table entry), with
  // `writable` the write permission of the levels above.
  Walk walk_from(vaddr_t va, paddr_t table, int level, bool writable) const;

  // Slot of va's descriptor at `level`, creating the tables above it (counted in *allocated).
  // Throws if a block is in the way or va is outside both halves.
  paddr_t ensure_slot(vaddr_t va, int level, std::size_t* allocated = nullptr);
  // Slot of va's descriptor at `level` if the tables above it exist.
  std::optional<paddr_t> slot_at(vaddr_t va, int level) const;
  // Slot of va's level-3 descriptor if its table exists (kernel tables are pre-populated).
  std::optional<paddr_t> leaf_slot(vaddr_t va) const { return slot_at(va, kLeafLevel); }
  // Writes a fully formed leaf: a page at level 3 or a block at level 1 or 2.
  void map(vaddr_t va, int level, Descriptor leaf);
  // Creates the level-3 tables (not the leaves) for [start, end): pmap_growkernel up front.
  void populate(vaddr_t start, vaddr_t end);

  // One line per level read, then the outcome.
  std::string describe(vaddr_t va) const;

  paddr_t alloc_table();  // a zeroed, wired page: every descriptor invalid
  paddr_t root_for(AddressHalf h) const { return h == AddressHalf::Upper ? ttbr1_root_ : ttbr0_root_; }

 private:
  PhysicalMemory& ram_;
  paddr_t ttbr0_root_;
  paddr_t ttbr1_root_;
};

}  // namespace kva::arm64
