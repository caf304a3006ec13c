// FreeBSD riscv's kernel address space in miniature, the same for Sv39 and Sv48
// (sys/riscv/include/vmparam.h: "The kernel map layout in SV48 mode is currently identical to
// that used in SV39 mode"), built in guest RAM:
//  - the direct map at DMAP_MIN_ADDRESS, from dmap_phys_base = the start of RAM rounded down to
//    1 GiB, in gigapages (pmap_bootstrap_dmap), so sf_buf runs in direct-map mode;
//  - KVA for sf_bufs and buffer maps at VM_MIN_KERNEL_ADDRESS, with its L3 tables pre-populated;
//  - the firmware region (emu/firmware.h) identity mapped, where the host expects it.
// Kernel leaves are PTE_KERN = V|R|W|A|D: A and D preset, not global, not executable.
// Physically the board is QEMU's virt: the firmware sits where OpenSBI does (0x80000000) and
// RAM follows at 0x80200000, where the kernel is loaded.
#pragma once
#include <cstddef>

#include "archs/riscv64/riscv_page_tables.h"
#include "core/pmap.h"
#include "emu/firmware.h"

namespace kva::riscv {

inline constexpr vaddr_t kVmMinKernelAddress = 0xffffffc0'00000000ull;  // VM_MIN_KERNEL_ADDRESS
inline constexpr vaddr_t kVmMaxKernelAddress = 0xffffffc8'00000000ull;  // VM_MAX_KERNEL_ADDRESS
inline constexpr vaddr_t kDmapMinAddress = 0xffffffd0'00000000ull;      // DMAP_MIN_ADDRESS
inline constexpr vaddr_t kDmapMaxAddress = 0xfffffff0'00000000ull;      // DMAP_MAX_ADDRESS
inline constexpr paddr_t kFirmwareBase = 0x80000000;
inline constexpr paddr_t kRamBase = 0x80200000;
inline constexpr std::size_t kKvaBytes = 256u << 20;
static_assert(kFirmwareBase + FirmwareLayout::kSize <= kRamBase);

// PTE_KERN (sys/riscv/include/pte.h).
inline Pte kernel_pte(paddr_t pa) {
  Pte e = Pte::leaf(pa, Rights{true, true, false});
  e.set_accessed(true);
  e.set_dirty(true);
  return e;
}

struct KernelMap {
  VaRange kva;
  paddr_t dmap_phys_base = 0;  // PA mapped at DMAP_MIN_ADDRESS
  paddr_t dmap_phys_max = 0;   // end of the PA range the direct map covers
  bool in_dmap(paddr_t pa) const { return pa >= dmap_phys_base && pa < dmap_phys_max; }
  vaddr_t phys_to_dmap(paddr_t pa) const { return pa - dmap_phys_base + kDmapMinAddress; }  // PHYS_TO_DMAP
};

template <class Format>
KernelMap build_kernel_map(PageTables<Format>& tables, const PhysicalMemory& ram, const FirmwareLayout& fw) {
  using Tables = PageTables<Format>;
  // Firmware, identity mapped and global (the same in every address space): the code pages
  // read + execute, the data pages (mailboxes, scratch, stacks) read + write and never
  // executable (emu/firmware.h says why). Page 0 of the region stays unmapped so null faults.
  for (paddr_t pa = fw.base + PAGE_SIZE; pa < fw.end(); pa += PAGE_SIZE) {
    const bool data = fw.is_data(pa);
    Pte e = Pte::leaf(pa, Rights{true, data, !data});
    e.set_accessed(true);
    e.set_dirty(true);
    e.set_global(true);
    tables.map(pa, Tables::kLeafLevel, e);
  }
  // pmap_bootstrap_dmap: one gigapage per GiB from dmap_phys_base to the end of RAM.
  const int giga = Tables::kLeafLevel - 2;
  const std::uint64_t gig = Tables::level_bytes(giga);
  KernelMap km;
  km.dmap_phys_base = ram.base() & ~(gig - 1);
  paddr_t pa = km.dmap_phys_base;
  for (vaddr_t va = kDmapMinAddress; va < kDmapMaxAddress && pa < ram.base() + ram.size(); va += gig, pa += gig)
    tables.map(va, giga, kernel_pte(pa));
  km.dmap_phys_max = pa;
  km.kva = {kVmMinKernelAddress, kVmMinKernelAddress + kKvaBytes};
  tables.populate(km.kva.start, km.kva.end);
  return km;
}

}  // namespace kva::riscv
