// A typed RISC-V page-table entry (Sv39/Sv48: the same 64-bit format at every level). All bit
// knowledge lives here: callers use named accessors, never masks.
// RISC-V privileged spec, "Sv39: Page-Based 39-bit Virtual-Memory System":
//   bit 0 V, 1 R, 2 W, 3 X, 4 U, 5 G, 6 A, 7 D, 9:8 RSW (software), 53:10 PPN, 63:54 reserved
//   (Svpbmt/Svnapot bits, not implemented here: they must be zero).
// An entry with V=1 and R=W=X=0 points to the next table; with R or X set it is a leaf, at any
// level (megapage, gigapage, terapage). W=1 with R=0 is reserved and faults.
#pragma once
#include <cstdint>

#include "core/types.h"

namespace kva::riscv {

// Leaf rights, in the order of the PTE bits.
struct Rights {
  bool read = false;
  bool write = false;
  bool execute = false;
};

class Pte {
 public:
  using raw_type = std::uint64_t;
  // Physical addresses are 56 bits wide in Sv39 and Sv48 (PPN = bits 53:10).
  static constexpr unsigned kPhysAddrBits = 56;

  constexpr Pte() = default;
  constexpr explicit Pte(raw_type raw) : raw_(raw) {}
  constexpr raw_type raw() const { return raw_; }

  // A pointer to the next-level table at `table` (V only: the spec reserves A, D and U in
  // non-leaf entries).
  static Pte pointer(paddr_t table) {
    Pte e;
    e.set_valid(true);
    e.set_physical_address(table);
    return e;
  }
  // A leaf mapping `pa` with `rights`.
  static Pte leaf(paddr_t pa, Rights rights) {
    Pte e;
    e.set_valid(true);
    e.set_rights(rights);
    e.set_physical_address(pa);
    return e;
  }

  bool valid() const { return get(kValid); }
  void set_valid(bool b) { put(kValid, b); }
  bool readable() const { return get(kRead); }
  bool writable() const { return get(kWrite); }
  bool executable() const { return get(kExecute); }
  Rights rights() const { return {readable(), writable(), executable()}; }
  void set_rights(Rights r) {
    put(kRead, r.read);
    put(kWrite, r.write);
    put(kExecute, r.execute);
  }
  bool user() const { return get(kUser); }
  void set_user(bool b) { put(kUser, b); }
  bool global() const { return get(kGlobal); }
  void set_global(bool b) { put(kGlobal, b); }
  bool accessed() const { return get(kAccessed); }
  void set_accessed(bool b) { put(kAccessed, b); }
  bool dirty() const { return get(kDirty); }
  void set_dirty(bool b) { put(kDirty, b); }
  unsigned software_bits() const { return static_cast<unsigned>((raw_ >> 8) & 3); }  // RSW

  // V=1 and any of R/W/X: translation ends here. V=1 and none: points to the next table.
  bool is_leaf() const { return valid() && (readable() || writable() || executable()); }
  bool is_pointer() const { return valid() && !readable() && !writable() && !executable(); }
  // Encodings that make a walk fault even though V=1.
  bool write_without_read() const { return writable() && !readable(); }
  bool reserved_bits_set() const { return (raw_ & kReservedHigh) != 0; }

  std::uint64_t ppn() const { return (raw_ & kPpnMask) >> kPpnShift; }
  paddr_t physical_address() const { return ppn() << PAGE_SHIFT; }
  void set_physical_address(paddr_t pa) {
    if ((pa & PAGE_MASK) != 0 || (pa >> kPhysAddrBits) != 0)
      throw KvaError("riscv pte: physical address not page aligned or wider than 56 bits");
    raw_ = (raw_ & ~kPpnMask) | ((pa >> PAGE_SHIFT) << kPpnShift);
  }

 private:
  static constexpr raw_type kValid = 1u << 0;
  static constexpr raw_type kRead = 1u << 1;
  static constexpr raw_type kWrite = 1u << 2;
  static constexpr raw_type kExecute = 1u << 3;
  static constexpr raw_type kUser = 1u << 4;
  static constexpr raw_type kGlobal = 1u << 5;
  static constexpr raw_type kAccessed = 1u << 6;
  static constexpr raw_type kDirty = 1u << 7;
  static constexpr unsigned kPpnShift = 10;
  static constexpr raw_type kPpnMask = ((raw_type{1} << 44) - 1) << kPpnShift;  // bits 53:10
  static constexpr raw_type kReservedHigh = ~((raw_type{1} << 54) - 1);         // bits 63:54

  bool get(raw_type bit) const { return (raw_ & bit) != 0; }
  void put(raw_type bit, bool b) { raw_ = b ? (raw_ | bit) : (raw_ & ~bit); }

  raw_type raw_ = 0;
};

}  // namespace kva::riscv
