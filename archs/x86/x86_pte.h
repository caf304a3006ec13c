// A typed x86 paging-structure entry (PML4E/PDPTE/PDE/PTE), 32-bit (i386) or 64-bit (PAE,
// amd64) wide. All bit knowledge lives here: callers use named accessors, never masks.
// Bit positions are the same in both widths (Intel SDM vol. 3, 4.3-4.5); NX exists only in
// 64-bit entries.
#pragma once
#include <cstdint>
#include <type_traits>

#include "core/pmap_types.h"
#include "core/types.h"

namespace kva::x86 {

template <class Raw>
class PagingEntry {
  static_assert(std::is_same_v<Raw, std::uint32_t> || std::is_same_v<Raw, std::uint64_t>);

 public:
  using raw_type = Raw;
  static constexpr bool kHasNx = sizeof(Raw) == 8;

  constexpr PagingEntry() = default;
  constexpr explicit PagingEntry(Raw raw) : raw_(raw) {}
  constexpr Raw raw() const { return raw_; }

  bool is_present() const { return get(kPresent); }
  void set_present(bool b) { put(kPresent, b); }
  bool is_writable() const { return get(kWritable); }
  void set_writable(bool b) { put(kWritable, b); }
  bool is_user() const { return get(kUser); }
  void set_user(bool b) { put(kUser, b); }
  bool write_through() const { return get(kWriteThrough); }  // PWT
  void set_write_through(bool b) { put(kWriteThrough, b); }
  bool cache_disabled() const { return get(kCacheDisabled); }  // PCD
  void set_cache_disabled(bool b) { put(kCacheDisabled, b); }
  bool accessed() const { return get(kAccessed); }
  void set_accessed(bool b) { put(kAccessed, b); }
  bool dirty() const { return get(kDirty); }  // leaf entries only
  void set_dirty(bool b) { put(kDirty, b); }
  bool is_large() const { return get(kPageSize); }  // PS in a PDE/PDPTE: maps a large page
  void set_large(bool b) { put(kPageSize, b); }
  bool global() const { return get(kGlobal); }  // leaf entries only; needs CR4.PGE
  void set_global(bool b) { put(kGlobal, b); }
  bool no_execute() const requires kHasNx { return get(kNoExecute); }
  void set_no_execute(bool b) requires kHasNx { put(kNoExecute, b); }
  bool executable() const {
    if constexpr (kHasNx) return !no_execute();
    return true;
  }

  // Memory type through PWT/PCD with the power-on PAT (index 0 WB, 1 WT, 2 UC-, 3 UC); the PAT
  // bit stays clear.
  CacheMode cache_mode() const {
    static constexpr CacheMode kModes[] = {CacheMode::WriteBack, CacheMode::WriteThrough,
                                           CacheMode::UncachedMinus, CacheMode::Uncacheable};
    return kModes[(write_through() ? 1 : 0) | (cache_disabled() ? 2 : 0)];
  }
  void set_cache_mode(CacheMode m) {
    const int index = static_cast<int>(m);
    set_write_through(index & 1);
    set_cache_disabled(index & 2);
  }

  // The frame this entry points to: a table, a 4 KiB page, or (with `large_bytes`) a large
  // page, whose PAT bit (bit 12) is not part of the address.
  paddr_t physical_address(std::uint64_t large_bytes = PAGE_SIZE) const {
    return static_cast<paddr_t>(raw_ & kFrameMask) & ~(large_bytes - 1);
  }
  void set_physical_address(paddr_t pa) {
    if ((pa & ~static_cast<paddr_t>(kFrameMask) & ~PAGE_MASK) != 0)
      throw KvaError("x86 paging entry: physical address out of range for this format");
    raw_ = static_cast<Raw>((raw_ & ~kFrameMask) | (pa & kFrameMask));
  }

 private:
  static constexpr Raw kPresent = Raw{1} << 0;
  static constexpr Raw kWritable = Raw{1} << 1;
  static constexpr Raw kUser = Raw{1} << 2;
  static constexpr Raw kWriteThrough = Raw{1} << 3;
  static constexpr Raw kCacheDisabled = Raw{1} << 4;
  static constexpr Raw kAccessed = Raw{1} << 5;
  static constexpr Raw kDirty = Raw{1} << 6;
  static constexpr Raw kPageSize = Raw{1} << 7;
  static constexpr Raw kGlobal = Raw{1} << 8;
  static constexpr std::uint64_t kNoExecute = std::uint64_t{1} << 63;
  // Bits 12..31 (i386) or 12..51 (PAE / amd64 with MAXPHYADDR 52).
  static constexpr Raw kFrameMask =
      sizeof(Raw) == 8 ? static_cast<Raw>(0x000f'ffff'ffff'f000ull) : static_cast<Raw>(0xffff'f000u);

  bool get(std::uint64_t bit) const { return (raw_ & static_cast<Raw>(bit)) != 0; }
  void put(std::uint64_t bit, bool b) {
    raw_ = b ? (raw_ | static_cast<Raw>(bit)) : (raw_ & ~static_cast<Raw>(bit));
  }

  Raw raw_ = 0;
};

}  // namespace kva::x86
