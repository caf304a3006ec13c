// Registry entry for amd64: 4-level paging, a direct map, IPI shootdowns.
#pragma once
#include "archs/registry.h"

namespace kva {
ArchInfo amd64_arch_info();
}  // namespace kva
