// x86 CPU facts the emulated machine needs: control-register values that turn paging on, the
// page-fault vector, and the GuestIsa description handed to emu/Machine.
#pragma once
#include <cstdint>

#include "emu/guest_isa.h"

namespace kva::x86 {

enum class CpuMode { Long64, Protected32 };

// CR4 bits (Intel SDM vol. 3, 2.5).
inline constexpr std::uint64_t kCr4Pae = 1u << 5;
inline constexpr std::uint64_t kCr4Pge = 1u << 7;
// CR0 = PG | WP | ET | PE: paging on, supervisor writes honour R/W.
inline constexpr std::uint64_t kCr0PagingOn = 0x80010011;
// IA32_EFER and its NXE bit: the XD/NX bit of 64-bit entries is honoured (reserved otherwise).
inline constexpr std::uint32_t kMsrEfer = 0xc0000080;
inline constexpr std::uint64_t kEferNxe = 1u << 11;
inline constexpr std::uint32_t kVectorPageFault = 14;

// A GuestIsa whose boot_cpu loads CR4 |= cr4_bits, CR3 = root and then CR0 (the order that
// works in Unicorn; in long mode EFER is already LME|LMA = 0x500 from reset). With PAE (64-bit
// entries) it also sets EFER.NXE. Stubs follow emu/guest_isa.h with the registers of
// archs/x86/x86_stub_abi.h.
GuestIsa guest_isa(CpuMode mode, std::uint64_t root, std::uint64_t cr4_bits);

}  // namespace kva::x86
