// Registry entries for the core's pure-software reference pmap (no emulation).
#pragma once
#include "archs/registry.h"

namespace kva {
ArchInfo ref_arch_info();       // "ref": no direct map, sf_buf in pool mode
ArchInfo ref_dmap_arch_info();  // "ref-dmap": a direct map, sf_buf in direct-map mode
}  // namespace kva
