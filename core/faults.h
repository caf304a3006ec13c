// Fault-injection switches: each re-creates a classic mapping bug, so the detectors can be shown
// to catch it. Machine-independent switches are honoured by the core (Pmap base, sf_buf);
// none is special-cased per architecture.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace kva {

enum class Fault : std::uint32_t {
  DropShootdownIpi,        // drop-ipi: the highest-numbered target of every shootdown is skipped
  SkipLocalInvalidation,   // skip-local-inval: invalidations on the issuing CPU are not performed
  KeepCpumaskOnRemap,      // keep-cpumask: sf_buf_map does not reset cpumask after an accessed mapping
  CpuPrivateSticky,        // cpuprivate-sticky: a shared use of a CPUPRIVATE sf_buf shoots nobody down
  SkipAbitCheck,           // skip-abit-check: recycling assumes the old PTE was never accessed
  // buffer cache (buf(9)): the bugs the man page warns about and FreeBSD has had
  RelbufDelwriUnwritten,   // relbuf-delwri: brelse frees a B_DELWRI|B_RELBUF buffer's pages unwritten
  SkipBogusPage,           // skip-bogus-page: a read over partly valid pages clobbers the valid ones
  BogusPageLeak,           // bogus-page-leak: bogus_page stays in b_pages and KVA after the read
  DirtyRangeHole,          // dirty-range-hole: a dirty range with a hole does not cover the hole
  SkipBufKvaShootdown,     // skip-buf-kva-shootdown: buffer KVA is unmapped with a local invalidation only
  CleanAtCompletion,       // clean-at-completion: page dirty bits cleared at I/O completion, not queue
  BdataOffsetOnReuse,      // bdata-stale-offset: a reused buffer keeps b_data's old page offset
  kCount
};

struct FaultInfo {
  Fault fault;
  std::string_view name;         // CLI name
  std::string_view description;  // what it breaks
  bool sf_buf_pool_only;         // only meaningful where sf_buf runs in pool mode (no direct map)
  std::string_view subsystem = "pmap";  // which code honours it: "pmap", "sf_buf" or "buf"
};

const std::vector<FaultInfo>& fault_registry();
std::optional<Fault> fault_by_name(std::string_view name);
const FaultInfo& fault_info(Fault f);

class FaultSet {
 public:
  void enable(Fault f) { bits_ |= bit(f); }
  void disable(Fault f) { bits_ &= ~bit(f); }
  bool enabled(Fault f) const { return bits_ & bit(f); }
  bool any() const { return bits_ != 0; }

 private:
  static std::uint32_t bit(Fault f) { return std::uint32_t{1} << static_cast<std::uint32_t>(f); }
  std::uint32_t bits_ = 0;
};

}  // namespace kva
