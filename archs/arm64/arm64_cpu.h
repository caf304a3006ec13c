// arm64 CPU facts the emulated machine needs: system register values, the exception numbers
// Unicorn reports, and the GuestIsa handed to emu/Machine.
//
// Booting takes three steps (see the shared Unicorn notes), or nothing translates:
//  1. the host sets SCR_EL3 (NS, RW) and HCR_EL2 (RW): Unicorn starts at EL1 with SCR_EL3 = 0,
//     and QEMU then translates EL1 as AArch32;
//  2. guest code (the stub kva_boot) writes MAIR, TCR, TTBR0/1, then SCTLR, with ISBs: host
//     writes of these registers do not refresh QEMU's cached MMU state;
//  3. (Unicorn 2.0 only, not supported here) dummy regions behind every VA.
#pragma once
#include <cstdint>

#include "emu/firmware.h"
#include "emu/guest_isa.h"
#include "emu/stub_image.h"

namespace kva::arm64 {

// MAIR_EL1 as FreeBSD's locore.S sets it: Device-nGnRnE, Normal NC, Normal WB, Normal WT,
// Device-nGnRE in slots 0..4 (arm64_descriptor.h MemAttr).
inline constexpr std::uint64_t kMair = 0x00'04'bb'ff'44'00ull;

// TCR_EL1: T0SZ = T1SZ = 16 (48-bit VAs in both halves), 4 KiB granules, inner-shareable
// write-back walks, IPS = 48 bits, 16-bit ASIDs taken from TTBR0 (A1 = 0). HA = HD = 0: no
// hardware AF or dirty-state update, so AF = 0 faults.
namespace tcr {
inline constexpr std::uint64_t kT0sz16 = 16;
inline constexpr std::uint64_t kWalk0 = (1ull << 8) | (1ull << 10) | (3ull << 12);  // IRGN0, ORGN0 WB-WA, SH0 IS
inline constexpr std::uint64_t kT1sz16 = 16ull << 16;
inline constexpr std::uint64_t kWalk1 = (1ull << 24) | (1ull << 26) | (3ull << 28);  // IRGN1, ORGN1, SH1
inline constexpr std::uint64_t kTg1Granule4K = 2ull << 30;  // TG0 = 0 is 4 KiB as well
inline constexpr std::uint64_t kIps48 = 5ull << 32;
inline constexpr std::uint64_t kAsid16 = 1ull << 36;      // AS
}  // namespace tcr
inline constexpr std::uint64_t kTcr =
    tcr::kT0sz16 | tcr::kWalk0 | tcr::kT1sz16 | tcr::kWalk1 | tcr::kTg1Granule4K | tcr::kIps48 | tcr::kAsid16;

// SCTLR_EL1: M (MMU on), C, I (caches), SA/SA0 and the RES1 bits of ARMv8.0; A (alignment
// checks) and WXN clear.
inline constexpr std::uint64_t kSctlr = 0xc5183d;
inline constexpr std::uint64_t kSctlrM = 1;

inline constexpr std::uint64_t kScrEl3 = 0x401;        // NS | RW: EL1 is AArch64, non-secure
inline constexpr std::uint64_t kHcrEl2 = 1ull << 31;   // RW

// QEMU exception numbers, which Unicorn hands to UC_HOOK_INTR as intno.
inline constexpr std::uint32_t kExcpPrefetchAbort = 3;  // instruction abort
inline constexpr std::uint32_t kExcpDataAbort = 4;
inline constexpr std::uint32_t kExcpBreakpoint = 7;    // brk

// TTBRn_EL1 value: table base plus ASID in bits 63:48.
inline constexpr std::uint64_t ttbr(std::uint64_t table, std::uint16_t asid) {
  return table | (std::uint64_t{asid} << 48);
}

struct BootParams {
  std::uint64_t ttbr0 = 0;  // with the ASID
  std::uint64_t ttbr1 = 0;
  std::uint64_t boot_entry = 0;  // kva_boot and kva_boot_done in the firmware region
  std::uint64_t boot_done = 0;
};

// Boot parameters for tables at ttbr0/ttbr1 (with ASIDs), the kva_boot stub found in `stubs`
// as the machine will load it into the firmware region `fw`.
BootParams boot_params(const StubImage& stubs, const FirmwareLayout& fw, std::uint64_t ttbr0,
                       std::uint64_t ttbr1);

// A GuestIsa whose boot_cpu does the three steps above and whose decode_trap recovers the
// faulting VA of an abort (Unicorn writes neither FAR_EL1 nor ESR_EL1).
GuestIsa guest_isa(const BootParams& boot);

}  // namespace kva::arm64
