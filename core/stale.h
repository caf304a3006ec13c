// Reports of the staleness oracles.
//  - Observed: what the guest load returned (or where its store landed) differs from the page the
//    current page tables map, or a store landed through a PTE that is now read-only. This is
//    real, emulated staleness.
//  - Architectural: the ISA permits this CPU to still hold a translation that differs from the
//    current page tables (frame, or write permission for a store), even if the emulator happened
//    to flush it. The report says whether the CPU walked it (demand) or may hold it without
//    having used it (speculative), what kind of entry it is, and the rule that lets it survive.
//  - Bbm: the CPU may hold a translation that was replaced valid->valid without
//    break-before-make (Arm: CONSTRAINED UNPREDICTABLE, old or new translation or a TLB conflict
//    abort).
//  - Negative: the CPU cached an invalid entry that has since become valid, with no
//    invalidation in between: its access may still fault.
// Counts are O(1) counters; only the first `capacity()` full reports are kept.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/translation.h"
#include "core/types.h"

namespace kva {

enum class Oracle : std::uint8_t { Observed, Architectural, Bbm, Negative };
inline constexpr std::size_t kOracleCount = 4;
enum class AccessKind { Load, Store };

const char* to_string(Oracle);
const char* to_string(AccessKind);

struct StaleAccess {
  Oracle oracle = Oracle::Observed;
  AccessKind kind = AccessKind::Load;
  cpuid_t cpu = 0;
  vaddr_t va = 0;
  std::optional<paddr_t> expected_pa;  // what the current page tables map (nullopt: unmapped)
  std::optional<paddr_t> cached_pa;    // model oracles: the held entry's frame; Observed: if known
  std::vector<std::uint8_t> expected;  // Observed: bytes the current mapping holds/should hold
  std::vector<std::uint8_t> observed;  // Observed: bytes the guest saw / the page holds
  std::string step;                    // label of the step that made the access
  // Model oracles (Architectural, Bbm, Negative):
  std::optional<Holding> holding;      // walked by this CPU, or permitted without use
  std::string entry;                   // the held entry, e.g. "4K PTE", "PDE -> table 0x5000"
  std::string rule;                    // the rule that lets the CPU still hold it
  bool rights = false;                 // same frame: only the write permission is stale
  bool via_table = false;              // held through an upper-level (table/register) entry
  std::string describe() const;        // one line, for logs and failure messages
};

class StaleLog {
 public:
  static constexpr std::size_t kDefaultCapacity = 1000;

  // Counts a report; keeps it in full while fewer than capacity() are kept.
  void add(StaleAccess a);
  // Counts a report whose full text is not wanted (the log is full).
  void count_only(Oracle o, std::optional<Holding> holding, bool rights, bool via_table);
  // True while a new report would be kept in full (callers skip building texts otherwise).
  bool keeps_more() const { return entries_.size() < capacity_; }

  const std::vector<StaleAccess>& entries() const { return entries_; }  // the first reports
  std::size_t count(Oracle o) const { return by_oracle_[static_cast<std::size_t>(o)]; }
  std::size_t count(Holding h) const { return by_holding_[static_cast<std::size_t>(h)]; }
  std::size_t rights_count() const { return rights_; }
  std::size_t via_table_count() const { return via_table_; }
  std::size_t size() const { return total_; }  // every report counted
  std::size_t dropped() const { return total_ - entries_.size(); }
  std::size_t capacity() const { return capacity_; }
  void set_capacity(std::size_t n);  // trims kept reports beyond n
  void clear();

 private:
  std::vector<StaleAccess> entries_;
  std::size_t capacity_ = kDefaultCapacity;
  std::size_t total_ = 0;
  std::array<std::size_t, kOracleCount> by_oracle_{};
  std::array<std::size_t, 2> by_holding_{};
  std::size_t rights_ = 0;
  std::size_t via_table_ = 0;
};

}  // namespace kva
