#include "archs/registry.h"

#include "archs/amd64/amd64_arch.h"
#include "archs/i386/i386_arch.h"
#include "archs/ref/ref_arch.h"
#include "archs/riscv64/riscv64_arch.h"

namespace kva {

const std::vector<ArchInfo>& arch_registry() {
  // Emulated archs first: they form the default set. Add a new arch's entry here.
  static const std::vector<ArchInfo> archs = {
      amd64_arch_info(),
      i386_arch_info(),
      i386_pae_arch_info(),
      riscv64_arch_info(),
      riscv64_sv48_arch_info(),
      ref_arch_info(),
      ref_dmap_arch_info(),
  };
  return archs;
}

const ArchInfo* find_arch(std::string_view name) {
  for (const auto& a : arch_registry())
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace kva
