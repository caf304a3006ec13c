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
       true, "sf_buf"},
      {Fault::CpuPrivateSticky, "cpuprivate-sticky",
       "a shared use of an sf_buf last mapped SFB_CPUPRIVATE shoots down no other CPU", true,
       "sf_buf"},
      {Fault::SkipAbitCheck, "skip-abit-check",
       "recycling an sf_buf assumes the old PTE was never accessed and does no TLB work at all",
       true, "sf_buf"},
      {Fault::RelbufDelwriUnwritten, "relbuf-delwri",
       "brelse of a B_DELWRI|B_RELBUF buffer releases its pages without writing them, though "
       "bdwrite marked them clean",
       false, "buf"},
      {Fault::SkipBogusPage, "skip-bogus-page",
       "a read with B_CACHE clear does not put bogus_page over the already valid pages, so the "
       "read overwrites valid (possibly dirty) data",
       false, "buf"},
      {Fault::BogusPageLeak, "bogus-page-leak",
       "read completion leaves bogus_page in b_pages and the buffer KVA (the real pages are "
       "never put back)",
       false, "buf"},
      {Fault::DirtyRangeHole, "dirty-range-hole",
       "a dirty operation that leaves a hole replaces b_dirtyoff/b_dirtyend instead of extending "
       "the range over the hole",
       false, "buf"},
      {Fault::SkipBufKvaShootdown, "skip-buf-kva-shootdown",
       "buffer KVA given up for reuse is unmapped with a local invalidation only: other CPUs keep "
       "the old translation",
       false, "buf"},
      {Fault::CleanAtCompletion, "clean-at-completion",
       "page dirty bits are cleared when the write completes instead of when it is queued, so a "
       "store during the write is lost",
       false, "buf"},
      {Fault::BdataOffsetOnReuse, "bdata-stale-offset",
       "a buffer reused for another block keeps b_data = b_kvabase + the old b_offset & PAGE_MASK",
       false, "buf"},
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
