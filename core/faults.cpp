#include "core/faults.h"

namespace kva {

const std::vector<FaultInfo>& fault_registry() {
  static const std::vector<FaultInfo> registry = {
      {Fault::DropShootdownIpi, "drop-ipi",
       "the highest-numbered target of every TLB shootdown never receives its IPI", false},
      {Fault::SkipLocalInvalidation, "skip-local-inval",
       "the issuing CPU does not invalidate its own TLB entry after a PTE change", false},
      {Fault::KeepCpumaskOnRemap, "keep-cpumask",
       "sf_buf_map keeps the old cpumask after remapping an accessed slot, so CPUs that cached "
       "the old page are never invalidated",
       true},
      {Fault::CpuPrivateSticky, "cpuprivate-sticky",
       "a shared use of an sf_buf last mapped SFB_CPUPRIVATE shoots down no other CPU", true},
      {Fault::SkipAbitCheck, "skip-abit-check",
       "recycling an sf_buf assumes the old PTE was never accessed and does no TLB work at all",
       true},
  };
  return registry;
}

std::optional<Fault> fault_by_name(std::string_view name) {
  for (const FaultInfo& f : fault_registry())
    if (f.name == name) return f.fault;
  return std::nullopt;
}

const FaultInfo& fault_info(Fault f) {
  for (const FaultInfo& info : fault_registry())
    if (info.fault == f) return info;
  static const FaultInfo unknown{Fault::kCount, "unknown", "not a fault", false};
  return unknown;
}

}  // namespace kva
