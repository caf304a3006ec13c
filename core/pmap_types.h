// Value types of the Pmap interface: PTE and walk views, kernel-mapping attributes, and the
// capabilities front ends query instead of arch names.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace kva {

// Memory type of a mapping (x86 PAT indices 0..3 with the power-on PAT; other archs map these
// onto their attribute indices).
enum class CacheMode : std::uint8_t { WriteBack, WriteThrough, UncachedMinus, Uncacheable };
const char* to_string(CacheMode);                         // "wb", "wt", "uc-", "uc"
std::optional<CacheMode> cache_mode_by_name(std::string_view name);

// The virtual-address format: a `width`-bit address (32 or 64) whose low `bits` are translated;
// the bits from `bits` up to `width` must all copy bit `bits - 1` (x86-64 canonical form).
// Front ends refuse a VA that does not fit instead of letting the arch truncate it.
struct VaFormat {
  int width = 64;
  int bits = 64;
  bool fits(vaddr_t va) const;
};

// Who maintains the accessed/dirty bits of leaf entries where the platform may choose
// (MachineConfig::ad_bits): the hardware walk sets them (x86, riscv Svadu), or the walk faults
// on a clear bit and software sets them (riscv Svade).
enum class AdBits : std::uint8_t { Hardware, Software };
const char* to_string(AdBits);                            // "hardware", "software"
std::optional<AdBits> ad_bits_by_name(std::string_view name);

// The leaf entry for a VA, decoded into machine-independent terms.
struct PteState {
  bool valid = false;
  bool writable = false;   // through every level of the walk
  bool accessed = false;   // PG_A / AF / A
  bool modified = false;   // PG_M / DBM-dirty / D
  bool global = false;
  paddr_t pa = 0;          // the 4 KiB frame of va (inside a large page: its piece)
  std::uint64_t page_size = PAGE_SIZE;  // bytes the leaf maps
  CacheMode cache = CacheMode::WriteBack;
  bool executable = true;
  int level = -1;          // walk level of the leaf (0 = root); -1 when not valid
};

// One entry read by the software walk, root first.
struct WalkLevel {
  int level = 0;
  std::string name;             // "PML4E", "PDE", "PTE", ...
  paddr_t slot = 0;             // physical address of the entry
  std::uint64_t raw = 0;
  bool present = false;
  bool leaf = false;            // maps a page (4K, or large at this level)
  bool writable = false;
  bool user = false;
  bool accessed = false;
  bool dirty = false;
  bool global = false;
  bool executable = true;
  CacheMode cache = CacheMode::WriteBack;
  paddr_t next = 0;             // table page (non-leaf) or frame (leaf)
  std::uint64_t reach = 0;      // VA bytes this entry covers
  paddr_t table = 0;            // physical address of the table holding the entry
  int index = -1;               // the entry's index in that table (-1: no table, e.g. ref)
};

// One valid leaf of the tables (Pmap::mapped_leaves): the VA it starts at, the leaf as walk()
// decodes it (entry.next: its frame, entry.reach: its size), and its rights through every level.
struct MappedLeaf {
  vaddr_t va = 0;
  WalkLevel entry;
  bool writable = false;
};

// pmap_kenter attributes; unset fields take the arch's FreeBSD default (e.g. amd64 sets
// pg_g on kernel PTEs, i386 does not).
struct KenterAttrs {
  std::optional<bool> global;
  std::optional<bool> writable;   // default true
  std::optional<CacheMode> cache; // default write-back
};

// What an arch supports, so front ends skip unsupported operations by property, never by name.
struct PmapCapabilities {
  std::vector<std::uint64_t> large_page_sizes;  // kenter_large sizes, ascending
  bool global_entries = false;         // kenter global attribute; flush_local(include_global)
  bool cache_modes = false;            // kenter cache attribute other than write-back
  // VA reach of the upper-level entries replace_table addresses, from the one that points at
  // a last-level table (level 1) upwards; empty when the arch has no table levels.
  std::vector<std::uint64_t> table_reach;
  bool walk_cache = false;             // upper-level entries may be cached (paging-structure caches)
  bool root_registers = false;         // top-level entries held in registers until a root reload
  bool requires_break_before_make = false;
  // Remote invalidation is one hardware broadcast (arm64 TLBI ...IS) that reaches every CPU,
  // the issuer included, with no IPIs: shootdowns cannot address a subset of CPUs.
  bool broadcast_invalidation = false;
  // An access through a leaf whose accessed flag is clear faults instead of setting it (no
  // hardware update: arm64 without FEAT_HAFDBS, riscv Svade); such a leaf is never cached.
  bool accessed_flag_faults = false;
  // FreeBSD riscv's kernel invalidation protocol: remote fences are SBI remote sfence.vma calls
  // with a hart mask (counted as broadcasts; the kernel sends no IPIs), pmap_qenter invalidates
  // even over invalid entries, and a range invalidation fences each hart's whole TLB.
  bool sbi_invalidation = false;
  // A single-address invalidation removes only leaf entries (riscv sfence.vma rs1!=x0); cached
  // non-leaf entries survive it, unlike x86's INVLPG, which drops every walk-cache entry.
  bool page_fence_keeps_tables = false;
  bool caches_invalid_entries = false; // a walk that found nothing may be cached (negative)
  bool growable_kva = false;           // growable_kva() is non-empty; growkernel works
  // A write that finds only a read-only cached entry re-walks or faults, and either drops that
  // entry (x86: SDM 4.10.4.1 and QEMU's refill); false where a permission fault leaves it.
  bool write_drops_readonly_entry = true;
  // MachineConfig::ad_bits = Software is available (riscv Svade); hardware A/D always is.
  bool software_ad = false;
  // A software reference MMU, no ISA and no emulator: its observed TLB is the model's own (it
  // keeps what QEMU flushes beyond the ISA), and its invalidation is the plain protocol, one
  // page at a time with no full-flush threshold.
  bool reference = false;
  int table_levels() const { return static_cast<int>(table_reach.size()); }
};

// Property names for testcase `only:`/`requires:` (e.g. "large_2m", "walk_cache").
std::vector<std::string> feature_names(const PmapCapabilities& c);
// Every name feature_names() can return, for validating testcases.
const std::vector<std::string>& known_feature_names();
std::string size_name(std::uint64_t bytes);  // "4K", "2M", "1G"

}  // namespace kva
