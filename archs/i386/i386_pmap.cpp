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

x86::Platform platform(std::string name, std::uint64_t cr4_bits) {
  return {std::move(name), x86::CpuMode::Protected32, cr4_bits, &stubs::i386_stubs,
          {kKvaBase, kKvaBase + kKvaBytes}, std::nullopt};
}

void check_ram(const MachineConfig& c) {
  // Every physical address must fit a 32-bit PTE (and PAE's CR3).
  if (x86::kRamBase + c.mem_bytes > (std::uint64_t{1} << 32))
    throw KvaError("i386: guest RAM must end below 4 GiB");
}
}  // namespace

template class x86::X86Pmap<i386::Paging>;
template class x86::X86Pmap<i386::PaePaging>;

ArchInfo i386_arch_info() {
  return {"i386", "i386 2-level paging (32-bit PTEs), no direct map, invlpg + IPI shootdowns (Unicorn)",
          true, true, [](const MachineConfig& c) -> std::unique_ptr<Pmap> {
            check_ram(c);
            return std::make_unique<x86::X86Pmap<i386::Paging>>(c, platform("i386", x86::kCr4Pge));
          }};
}

ArchInfo i386_pae_arch_info() {
  return {"i386-pae",
          "i386 PAE 3-level paging (64-bit PTEs), no direct map, invlpg + IPI shootdowns (Unicorn)",
          true, true, [](const MachineConfig& c) -> std::unique_ptr<Pmap> {
            check_ram(c);
            return std::make_unique<x86::X86Pmap<i386::PaePaging>>(
                c, platform("i386-pae", x86::kCr4Pae | x86::kCr4Pge));
          }};
}

}  // namespace kva
