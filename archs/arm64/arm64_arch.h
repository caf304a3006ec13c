// Registry entry for arm64: VMSAv8-64 4-level tables, a direct map, broadcast TLBI.
#pragma once
#include "archs/registry.h"

namespace kva {
ArchInfo arm64_arch_info();
}  // namespace kva
