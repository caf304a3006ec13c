// Registry entries for riscv64: Sv39 (`riscv64`) and Sv48 (`riscv64-sv48`), both with FreeBSD
// riscv's kernel layout, a direct map, and SBI remote fences.
#pragma once
#include "archs/registry.h"

namespace kva {
ArchInfo riscv64_arch_info();
ArchInfo riscv64_sv48_arch_info();
}  // namespace kva
