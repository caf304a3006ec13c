// Registry entries for i386 (2-level, 32-bit PTEs) and i386-pae (3-level, 64-bit PTEs).
// Neither has a direct map, so sf_buf runs in pool mode with real shootdowns.
#pragma once
#include "archs/registry.h"

namespace kva {
ArchInfo i386_arch_info();
ArchInfo i386_pae_arch_info();
}  // namespace kva
