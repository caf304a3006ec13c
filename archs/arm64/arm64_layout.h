// arm64 physical and kernel virtual layout, after FreeBSD arm64 (sys/arm64/include/vmparam.h)
// on QEMU's "virt" board, and the kernel translation tables built from it.
//  - Physical: the firmware region (emu/firmware.h) at 0, guest RAM at 1 GiB (virt's RAM base).
//  - TTBR0 (lower half): the firmware region, identity mapped (VA == PA) so host and guest
//    agree on stub, mailbox and scratch addresses; page 0 left unmapped; only code executable.
//  - TTBR1 (upper half): the direct map of RAM at DMAP_MIN_ADDRESS in the largest blocks that
//    fit (L1 1 GiB, L2 2 MiB, L3 pages at unaligned edges, like pmap_bootstrap_dmap), and the
//    KVA at VM_MIN_KERNEL_ADDRESS with its level-3 tables pre-populated, then growable KVA.
#pragma once
#include "archs/arm64/arm64_page_tables.h"
#include "core/pmap.h"
#include "emu/firmware.h"

namespace kva::arm64 {

inline constexpr paddr_t kFirmwareBase = 0;
inline constexpr paddr_t kRamBase = 0x4000'0000;
inline constexpr vaddr_t kVmMinKernelAddress = 0xffff0000'00000000ull;  // VM_MIN_KERNEL_ADDRESS
inline constexpr vaddr_t kDmapMinAddress = 0xffffa000'00000000ull;      // DMAP_MIN_ADDRESS
inline constexpr vaddr_t kDmapMaxAddress = 0xffffff00'00000000ull;      // DMAP_MAX_ADDRESS
inline constexpr std::size_t kKvaBytes = 256u << 20;
inline constexpr VaRange kKva{kVmMinKernelAddress, kVmMinKernelAddress + kKvaBytes};
// Beyond kernel_vm_end, up to 2 GiB: the rest of the first L1 entry's 1 GiB and a second,
// empty L1 slot, so growkernel and 2 MiB / 1 GiB blocks have room.
inline constexpr VaRange kGrowableKva{kKva.end, kVmMinKernelAddress + (std::uint64_t{2} << 30)};

// dmap_phys_base: the first RAM address rounded down to an L1 block.
inline constexpr paddr_t kDmapPhysBase = kRamBase & ~(level_bytes(1) - 1);
inline constexpr vaddr_t phys_to_dmap(paddr_t pa) { return pa - kDmapPhysBase + kDmapMinAddress; }

// FreeBSD's kernel leaf attributes (pmap_kenter, pmap_qenter, the DMAP): ATTR_DEFAULT (AF, inner
// shareable), AP read/write at EL1 only, execute-never at both ELs, write-back memory, global.
Descriptor kernel_leaf(int level, paddr_t pa);
// The firmware region's leaves: as kernel_leaf, and executable at EL1 below fw.data() (the stub
// code). The data part stays PXN, which keeps Unicorn's stores there on its fast path.
Descriptor firmware_leaf(const FirmwareLayout& fw, paddr_t pa);

// Builds the TTBR0 and TTBR1 tables described above.
void build_kernel_tables(PageTables& tables, const PhysicalMemory& ram, const FirmwareLayout& fw);

}  // namespace kva::arm64
