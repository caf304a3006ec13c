// i386 and i386-pae: no direct map; kva_space sits in the upper kernel range (above KERNBASE)
// with its page tables pre-populated, as pmap_growkernel would leave them.
#include "archs/i386/i386_arch.h"
#include "archs/i386/i386_paging.h"
#include "archs/x86/x86_pmap_impl.h"
#include "stubs/i386_stubs.h"

namespace kva {

namespace {
constexpr vaddr_t kKvaBase = 0xc800'0000u;
constexpr std::size_t kKvaBytes = 64u << 20;
constexpr vaddr_t kGrowEnd = kKvaBase + (128u << 20);  // beyond kernel_vm_end: no tables yet

// sys/i386/i386/pmap.c: pmap_kenter stores PG_RW | PG_V only (no PG_A, PG_M or PG_G, which is
// what makes sf_buf's PG_A check sound); PAE's pmap_qenter adds pg_nx.
x86::Platform platform(std::string name, std::uint64_t cr4_bits, bool pae) {
  return {std::move(name), x86::CpuMode::Protected32, cr4_bits, &stubs::i386_stubs,
          {kKvaBase, kKvaBase + kKvaBytes}, std::nullopt, {kKvaBase + kKvaBytes, kGrowEnd},
          x86::KernelPteBits{}, x86::KernelPteBits{false, false, pae},
          pae ? x86::kEferNxe : 0};
}

// FreeBSD i386 without PAE maps the kernel with 4 MiB PG_PS pages: CR4.PSE on.
x86::Platform i386_platform() { return platform("i386", x86::kCr4Pge | x86::kCr4Pse, false); }
x86::Platform pae_platform() { return platform("i386-pae", x86::kCr4Pae | x86::kCr4Pge, true); }
using I386Pmap = x86::X86Pmap<i386::Paging>;
using PaePmap = x86::X86Pmap<i386::PaePaging>;

void check_ram(const MachineConfig& c) {
  // Every physical address must fit a 32-bit PTE (and PAE's CR3).
  if (x86::kRamBase + c.mem_bytes > (std::uint64_t{1} << 32))
    throw KvaError("i386: guest RAM must end below 4 GiB");
}
}  // namespace

template class x86::X86Pmap<i386::Paging>;
template class x86::X86Pmap<i386::PaePaging>;

ArchInfo i386_arch_info() {
  return {"i386",
          "i386 2-level paging (32-bit PTEs), 4M PSE pages, no direct map, invlpg + IPI shootdowns (Unicorn)",
          true, true,
          [](const MachineConfig& c) -> std::unique_ptr<Pmap> {
            check_ram(c);
            return std::make_unique<I386Pmap>(c, i386_platform());
          },
          [] { return I386Pmap::capabilities_for(i386_platform()); }};
}

ArchInfo i386_pae_arch_info() {
  return {"i386-pae",
          "i386 PAE 3-level paging (64-bit PTEs), 2M pages, PDPTE registers, no direct map, invlpg + IPI shootdowns (Unicorn)",
          true, true,
          [](const MachineConfig& c) -> std::unique_ptr<Pmap> {
            check_ram(c);
            return std::make_unique<PaePmap>(c, pae_platform());
          },
          [] { return PaePmap::capabilities_for(pae_platform()); }};
}

}  // namespace kva
