#include "archs/ref/ref_arch.h"

#include "core/ref_pmap.h"

namespace kva {

namespace {
RefPmapConfig dmap_config() {
  RefPmapConfig r;
  r.direct_map = true;
  return r;
}
}  // namespace

ArchInfo ref_arch_info() {
  return {"ref", "software reference MMU, no direct map (sf_buf pool mode), no emulation", false,
          false, [](const MachineConfig& c) { return std::make_unique<RefPmap>(c); },
          [] { return RefPmap::capabilities_for({}); }};
}

ArchInfo ref_dmap_arch_info() {
  return {"ref-dmap", "software reference MMU with a direct map (sf_buf direct-map mode)", false,
          false, [](const MachineConfig& c) { return std::make_unique<RefPmap>(c, dmap_config()); },
          [] { return RefPmap::capabilities_for(dmap_config()); }};
}

}  // namespace kva
