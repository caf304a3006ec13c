// A typed VMSAv8-64 stage-1 translation table descriptor, 4 KiB granule, 48-bit output
// address (Arm ARM D8.3, "Translation table descriptor formats"). All bit knowledge lives
// here: callers use named accessors, never masks.
//
// Which of table / block / page a descriptor is depends on its level as well as bits[1:0]:
//   bits[1:0] = 0b11: table at levels 0-2, page at level 3;
//   bits[1:0] = 0b01: block at levels 1 (1 GiB) and 2 (2 MiB); reserved (faults) at 0 and 3;
//   bit 0 clear: invalid.
#pragma once
#include <cstdint>
#include <string>

#include "core/types.h"

namespace kva::arm64 {

namespace detail {
inline constexpr std::uint64_t bit(unsigned n) { return std::uint64_t{1} << n; }
}  // namespace detail

inline constexpr int kLevels = 4;  // level 0 (512 GiB per entry) .. level 3 (4 KiB pages)
inline constexpr int kLeafLevel = 3;

// Bytes covered by one entry at `level`.
inline constexpr std::uint64_t level_bytes(int level) {
  return std::uint64_t{1} << (12 + 9 * (kLevels - 1 - level));
}

enum class DescriptorKind { Invalid, Table, Block, Page, Reserved };
const char* to_string(DescriptorKind k);

// AP[2:1] for stage 1 with EL1&0 (Arm ARM D8.4.1.2.1).
enum class AccessPermission : unsigned {
  KernelRw = 0b00,     // EL1 read/write, EL0 none (FreeBSD ATTR_S1_AP_RW, kernel)
  AllRw = 0b01,        // EL1 and EL0 read/write
  KernelRo = 0b10,     // EL1 read-only, EL0 none
  AllRo = 0b11,        // EL1 and EL0 read-only
};

// SH[1:0] (Arm ARM D8.6.2).
enum class Shareability : unsigned { NonShareable = 0b00, Reserved = 0b01, Outer = 0b10, Inner = 0b11 };

// MAIR_EL1 slots, FreeBSD arm64's assignment (sys/arm64/include/vm.h, locore.S MAIR value).
enum class MemAttr : unsigned { DeviceNGnRnE = 0, Uncacheable = 1, WriteBack = 2, WriteThrough = 3, DeviceNGnRE = 4 };

class Descriptor {
 public:
  constexpr Descriptor() = default;
  constexpr explicit Descriptor(std::uint64_t raw) : raw_(raw) {}
  constexpr std::uint64_t raw() const { return raw_; }

  // --- kind
  bool valid() const { return get(kValid); }
  DescriptorKind kind(int level) const;
  bool is_table(int level) const { return kind(level) == DescriptorKind::Table; }
  bool is_leaf(int level) const {  // a block or a page: ends the walk with a translation
    DescriptorKind k = kind(level);
    return k == DescriptorKind::Block || k == DescriptorKind::Page;
  }

  // --- constructors of the three valid kinds (every attribute clear: callers set them)
  static Descriptor table(paddr_t next_table);
  static Descriptor page(paddr_t pa);               // level 3
  static Descriptor block(int level, paddr_t pa);   // level 1 or 2; pa aligned to the block
  void set_valid(bool b) { put(kValid, b); }        // keeps every other bit (break-before-make)

  // --- leaf (block / page) attributes
  unsigned attr_index() const { return static_cast<unsigned>((raw_ >> kAttrIndxShift) & 7); }
  void set_attr_index(unsigned idx);
  void set_mem_attr(MemAttr a) { set_attr_index(static_cast<unsigned>(a)); }
  bool non_secure() const { return get(kNs); }
  AccessPermission access_permission() const {
    return static_cast<AccessPermission>((raw_ >> kApShift) & 3);
  }
  void set_access_permission(AccessPermission ap);
  bool read_only() const { return get(kAp2); }       // AP[2]
  bool el0_accessible() const { return get(kAp1); }  // AP[1]
  Shareability shareability() const { return static_cast<Shareability>((raw_ >> kShShift) & 3); }
  void set_shareability(Shareability sh);
  bool access_flag() const { return get(kAf); }  // AF: an access with AF=0 faults (no HW update)
  void set_access_flag(bool b) { put(kAf, b); }
  bool not_global() const { return get(kNg); }  // nG: the entry is tagged with the current ASID
  void set_not_global(bool b) { put(kNg, b); }
  bool dirty_bit_modifier() const { return get(kDbm); }  // DBM
  void set_dirty_bit_modifier(bool b) { put(kDbm, b); }
  bool contiguous() const { return get(kContiguous); }
  bool privileged_execute_never() const { return get(kPxn); }  // PXN
  void set_privileged_execute_never(bool b) { put(kPxn, b); }
  bool unprivileged_execute_never() const { return get(kUxn); }  // UXN (XN)
  void set_unprivileged_execute_never(bool b) { put(kUxn, b); }

  // --- table descriptor attributes (restrict everything below)
  bool pxn_table() const { return get(kPxnTable); }
  bool uxn_table() const { return get(kUxnTable); }
  unsigned ap_table() const { return static_cast<unsigned>((raw_ >> kApTableShift) & 3); }
  bool ap_table_read_only() const { return (ap_table() & 2) != 0; }  // APTable[1]: no writes below
  void set_ap_table(unsigned ap);

  // Output address: the next table (table descriptors), or the block / page base, bits 47:12
  // masked to the size of what `level` maps.
  paddr_t output_address(int level = kLeafLevel) const;
  void set_output_address(paddr_t pa);  // throws when pa is above 48 bits or not page aligned

  // "TABLE", or "PAGE AttrIndx=2 AP=RW-EL1 SH=IS AF PXN UXN", ...: for walk descriptions.
  std::string describe(int level) const;

 private:
  static constexpr std::uint64_t kValid = detail::bit(0);
  static constexpr std::uint64_t kTypeBit = detail::bit(1);  // table/page vs block
  static constexpr unsigned kAttrIndxShift = 2;      // bits 4:2
  static constexpr std::uint64_t kNs = detail::bit(5);
  static constexpr unsigned kApShift = 6;            // bits 7:6 = AP[2:1]
  static constexpr std::uint64_t kAp1 = detail::bit(6);
  static constexpr std::uint64_t kAp2 = detail::bit(7);
  static constexpr unsigned kShShift = 8;            // bits 9:8
  static constexpr std::uint64_t kAf = detail::bit(10);
  static constexpr std::uint64_t kNg = detail::bit(11);
  static constexpr std::uint64_t kOaMask = 0x0000'ffff'ffff'f000ull;  // bits 47:12
  static constexpr std::uint64_t kDbm = detail::bit(51);
  static constexpr std::uint64_t kContiguous = detail::bit(52);
  static constexpr std::uint64_t kPxn = detail::bit(53);
  static constexpr std::uint64_t kUxn = detail::bit(54);
  static constexpr std::uint64_t kPxnTable = detail::bit(59);
  static constexpr std::uint64_t kUxnTable = detail::bit(60);
  static constexpr unsigned kApTableShift = 61;      // bits 62:61

  bool get(std::uint64_t m) const { return (raw_ & m) != 0; }
  void put(std::uint64_t m, bool b) { raw_ = b ? (raw_ | m) : (raw_ & ~m); }
  void put_field(unsigned shift, std::uint64_t width_mask, std::uint64_t v) {
    raw_ = (raw_ & ~(width_mask << shift)) | ((v & width_mask) << shift);
  }

  std::uint64_t raw_ = 0;
};

}  // namespace kva::arm64
