#include "archs/arm64/arm64_arch.h"

#include "archs/arm64/arm64_pmap.h"

namespace kva {

ArchInfo arm64_arch_info() {
  return {"arm64",
          "VMSAv8-64 4-level tables (4K granule), direct map (L1/L2 blocks), 2M/1G blocks, "
          "broadcast TLBI (vaale1is), no break-before-make (Unicorn)",
          true, true,
          [](const MachineConfig& c) -> std::unique_ptr<Pmap> { return std::make_unique<arm64::Arm64Pmap>(c); },
          [] { return arm64::Arm64Pmap::capabilities_for(); }};
}

}  // namespace kva
