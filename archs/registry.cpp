#include "archs/registry.h"

#include "archs/amd64/amd64_arch.h"
#include "archs/arm64/arm64_arch.h"
#include "archs/i386/i386_arch.h"
#include "archs/ref/ref_arch.h"
#include "archs/riscv64/riscv64_arch.h"

namespace kva {

namespace {

// Machine options the arch does not offer are refused before anything is built.
ArchInfo checked(ArchInfo a) {
  a.create = [name = a.name, create = a.create, caps = a.capabilities](const MachineConfig& c) {
    if (c.ad_bits == AdBits::Software && !caps().software_ad)
      throw KvaError(name + ": accessed/dirty bits are maintained by the hardware only (no 'ad: software')");
    return create(c);
  };
  return a;
}

}  // namespace

const std::vector<ArchInfo>& arch_registry() {
  // Emulated archs first: they form the default set. Add a new arch's entry here.
  static const std::vector<ArchInfo> archs = [] {
    std::vector<ArchInfo> v = {
        amd64_arch_info(),
        i386_arch_info(),
        i386_pae_arch_info(),
        arm64_arch_info(),
        riscv64_arch_info(),
        riscv64_sv48_arch_info(),
        ref_arch_info(),
        ref_dmap_arch_info(),
    };
    for (ArchInfo& a : v) a = checked(std::move(a));
    return v;
  }();
  return archs;
}

const ArchInfo* find_arch(std::string_view name) {
  for (const auto& a : arch_registry())
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace kva
