// x86 CPU facts the emulated machine needs: control-register values that turn paging on, the
// page-fault vector, and the GuestIsa description handed to emu/Machine.
#pragma once
#include <cstdint>

#include "emu/guest_isa.h"

namespace kva::x86 {

enum class CpuMode { Long64, Protected32 };

// CR4 bits (Intel SDM vol. 3, 2.5).
inline constexpr std::uint64_t kCr4Pse = 1u << 4;  // 4 MiB pages in 32-bit paging
inline constexpr std::uint64_t kCr4Pae = 1u << 5;
inline constexpr std::uint64_t kCr4Pge = 1u << 7;
inline constexpr std::uint64_t kCr4OsFxsr = 1u << 9;        // SSE instructions allowed
inline constexpr std::uint64_t kCr4OsXmmExcpt = 1u << 10;
inline constexpr std::uint64_t kCr4Smep = 1u << 20;         // no kernel execution of user pages
// CR0 = PG | WP | ET | PE: paging on, supervisor writes honour R/W.
inline constexpr std::uint64_t kCr0PagingOn = 0x80010011;
inline constexpr std::uint32_t kVectorPageFault = 14;
// IA32_EFER and its NXE bit (the XD/NX bit of PAE and 4-level entries is reserved without it).
inline constexpr std::uint32_t kMsrEfer = 0xc0000080;
inline constexpr std::uint64_t kEferNxe = 1u << 11;

// A GuestIsa whose boot_cpu sets EFER |= efer_bits, loads CR4 |= cr4_bits, CR3 = root and
// then CR0 (the order that works in Unicorn; in long mode EFER is already LME|LMA = 0x500 from
// reset). Every variant also gets SMEP (the firmware data pages are user pages the stubs cannot
// execute, see X86Pmap::map_firmware) and SSE. Stubs follow emu/guest_isa.h with the registers
// of archs/x86/x86_stub_abi.h.
GuestIsa guest_isa(CpuMode mode, std::uint64_t root, std::uint64_t cr4_bits,
                   std::uint64_t efer_bits = 0);

}  // namespace kva::x86
