// riscv64: FreeBSD's kernel map in Sv39 (the default, "vm.pmap.mode=0") or Sv48 (mode 1); the
// layout is the same in both (sys/riscv/include/vmparam.h).
#include "archs/riscv64/riscv64_arch.h"
#include "archs/riscv64/riscv_pmap_impl.h"

namespace kva {

template class riscv::RiscvPmap<riscv::Sv39>;
template class riscv::RiscvPmap<riscv::Sv48>;

namespace {

template <class Format>
ArchInfo riscv_arch_info(const char* name, const char* description) {
  using P = riscv::RiscvPmap<Format>;
  return {name, description, true, true,
          [name](const MachineConfig& c) -> std::unique_ptr<Pmap> {
            const bool svade = c.ad_bits == AdBits::Software;
            return std::make_unique<P>(c, riscv::Platform{name, svade ? riscv::AdUpdate::Software : riscv::AdUpdate::Hardware});
          },
          [name] { return P::capabilities_for(riscv::Platform{name}); }};
}

}  // namespace

ArchInfo riscv64_arch_info() {
  return riscv_arch_info<riscv::Sv39>(
      "riscv64", "RISC-V Sv39, direct map (1 GiB pages), sfence.vma + SBI remote fences (Unicorn)");
}

ArchInfo riscv64_sv48_arch_info() {
  return riscv_arch_info<riscv::Sv48>(
      "riscv64-sv48", "RISC-V Sv48, direct map (1 GiB pages), sfence.vma + SBI remote fences (Unicorn)");
}

}  // namespace kva
