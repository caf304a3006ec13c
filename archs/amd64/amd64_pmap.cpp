// amd64: FreeBSD's kernel layout in miniature. The direct map (DMAP_MIN_ADDRESS) covers all
// RAM with global 2 MiB pages, so sf_buf runs in direct-map mode; kva_space stands in for the
// kernel map that buffer maps (pmap_qenter) come from.
#include "archs/amd64/amd64_arch.h"
#include "archs/amd64/amd64_paging.h"
#include "archs/x86/x86_pmap_impl.h"
#include "stubs/amd64_stubs.h"

namespace kva {

namespace {
constexpr vaddr_t kDmapBase = 0xfffff800'00000000ull;  // DMAP_MIN_ADDRESS
constexpr vaddr_t kKvaBase = 0xfffffe00'00000000ull;   // VM_MIN_KERNEL_ADDRESS
constexpr std::size_t kKvaBytes = 256u << 20;
// Beyond kernel_vm_end, up to 2 GiB: the rest of the first PDPTE's 1 GiB and a second, empty
// PDPTE slot, so growkernel and 2 MiB / 1 GiB kernel mappings have room.
constexpr std::uint64_t kGrowEnd = kKvaBase + (std::uint64_t{2} << 30);
// sys/amd64/amd64/pmap.c: pmap_kenter and pmap_qenter store pg_g | pg_nx | X86_PG_A | X86_PG_M.
constexpr x86::KernelPteBits kKernelPte{true, true, true};

x86::Platform platform() {
  return {"amd64", x86::CpuMode::Long64, x86::kCr4Pae | x86::kCr4Pge, &stubs::amd64_stubs,
          {kKvaBase, kKvaBase + kKvaBytes}, kDmapBase, {kKvaBase + kKvaBytes, kGrowEnd},
          kKernelPte, kKernelPte, x86::kEferNxe};
}
using Amd64Pmap = x86::X86Pmap<amd64::Paging>;
}  // namespace

template class x86::X86Pmap<amd64::Paging>;

ArchInfo amd64_arch_info() {
  return {"amd64",
          "x86-64 4-level paging, direct map (2 MiB global pages), 2M/1G pages, invlpg + IPI shootdowns (Unicorn)",
          true, true,
          [](const MachineConfig& c) -> std::unique_ptr<Pmap> {
            return std::make_unique<Amd64Pmap>(c, platform());
          },
          [] { return Amd64Pmap::capabilities_for(platform()); }};
}

}  // namespace kva
