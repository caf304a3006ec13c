// Reports of the two staleness oracles.
//  - Observed: what the guest load returned (or where its store landed) differs from the page the
//    current page tables map. This is real, emulated staleness.
//  - Architectural: the ISA permits this CPU's TLB to still hold a translation that differs from
//    the current page tables, even if the emulator happened to flush it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"

namespace kva {

enum class Oracle { Observed, Architectural };
enum class AccessKind { Load, Store };

const char* to_string(Oracle);
const char* to_string(AccessKind);

struct StaleAccess {
  Oracle oracle;
  AccessKind kind;
  cpuid_t cpu;
  vaddr_t va;
  std::optional<paddr_t> expected_pa;  // what the current page tables map (nullopt: unmapped)
  std::optional<paddr_t> cached_pa;    // Architectural: the TLB model's entry; Observed: if known
  std::vector<std::uint8_t> expected;  // Observed: bytes the current mapping holds/should hold
  std::vector<std::uint8_t> observed;  // Observed: bytes the guest saw / the page holds
  std::string step;                    // label of the step that made the access
  std::string describe() const;        // one line, for logs and failure messages
};

class StaleLog {
 public:
  void add(StaleAccess a) { entries_.push_back(std::move(a)); }
  const std::vector<StaleAccess>& entries() const { return entries_; }
  std::size_t count(Oracle o) const;
  std::size_t size() const { return entries_.size(); }
  void clear() { entries_.clear(); }

 private:
  std::vector<StaleAccess> entries_;
};

}  // namespace kva
