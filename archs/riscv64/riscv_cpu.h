// RISC-V hart facts the emulated machine needs: how Unicorn reports traps, how a hart is brought
// from M-mode to S-mode with paging on, and the GuestIsa handed to emu/Machine.
//
// Unicorn runs its interrupt hook *instead of* QEMU's trap entry (riscv_cpu_do_interrupt), so
// for every trap: no CSR (scause, sepc, stval, mtval) is written, the privilege level does not
// change, and the PC has already been advanced by 4 past the trapping instruction. The cause
// number is QEMU's internal one, which for ecall is always 8 (QEMU maps it to 9 for S-mode only
// inside the skipped trap entry). The faulting VA of a load/store page fault is therefore
// recovered from the trapping instruction itself: base register + immediate (riscv_insn.h).
#pragma once
#include <cstdint>
#include <memory>

#include "emu/guest_isa.h"
#include "emu/machine.h"

namespace kva::riscv {

// Trap numbers as Unicorn's UC_HOOK_INTR reports them.
inline constexpr std::uint32_t kTrapIllegalInstruction = 2;
inline constexpr std::uint32_t kTrapEcall = 8;
inline constexpr std::uint32_t kTrapFetchPageFault = 12;
inline constexpr std::uint32_t kTrapLoadPageFault = 13;
inline constexpr std::uint32_t kTrapStorePageFault = 15;

// mstatus.MPP = S (bits 12:11 = 01): where mret returns to.
inline constexpr std::uint64_t kMstatusMppMask = 3u << 11;
inline constexpr std::uint64_t kMstatusMppSupervisor = 1u << 11;
inline constexpr std::uint64_t kPrivSupervisor = 1;

// The register the stubs keep the instruction budget in (emu/guest_isa.h, rule 3): t6 = x31.
inline constexpr unsigned kBudgetReg = 31;

// A GuestIsa whose boot_cpu writes satp and mstatus.MPP = S from the host (the hart is in
// M-mode, where satp does not translate), then runs the `mret` at boot_entry with mepc =
// boot_landing, so the hart continues in S-mode with paging on and halts at boot_landing.
// Both must be identity mapped. An ecall is a firmware call (GuestIsa::is_firmware_call).
GuestIsa guest_isa(std::uint64_t satp, std::uint64_t boot_entry, std::uint64_t boot_landing);

// guest_isa() for the riscv64 stub image loaded in the firmware region at `firmware_base`.
GuestIsa stub_guest_isa(std::uint64_t satp, paddr_t firmware_base);

}  // namespace kva::riscv
