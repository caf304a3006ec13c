// What the riscv64 guest stubs (riscv64_stubs.S) add to the contract every arch follows
// (emu/stub_abi.h for the standard routines and mailboxes, emu/guest_isa.h for how stubs are
// written): boot labels, riscv routines, and the SBI calls the host answers as firmware.
//
// Registers: arguments in a0..a6 (a7 is set by the stub that makes an SBI call); t6 is the
// instruction budget, charged with `addi t6, t6, -N` and checked with `bltz t6`; `wfi` ends
// each routine. Stubs may use t0..t3 as scratch.
#pragma once
#include <cstdint>

namespace kva::riscv {

// Boot labels (not routines): the mret the host enters in M-mode, and the S-mode halt it
// returns to.
inline constexpr const char* kStubMret = "kva_mret";
inline constexpr const char* kStubSmodeEntry = "kva_smode_entry";
// Routines beside the standard ones of emu/stub_abi.h (each ends at "<name>_done").
// kva_invalidate_range(hart_mask, hart_mask_base, start, size): FreeBSD's pmap_invalidate_range.
inline constexpr const char* kStubInvalidateRange = "kva_invalidate_range";
// kva_remote_sfence_vma(hart_mask, hart_mask_base, start, size): fence + SBI remote sfence.vma.
inline constexpr const char* kStubRemoteSfenceVma = "kva_remote_sfence_vma";
inline constexpr const char* kStubSfenceVmaAsid = "kva_sfence_vma_asid";         // (va, asid)
inline constexpr const char* kStubSfenceVmaAsidAll = "kva_sfence_vma_asid_all";  // (asid)
inline constexpr const char* kStubEcall = "kva_ecall";  // (a0..a3, fid, eid)

// SBI (RISC-V Supervisor Binary Interface spec): a7 = extension ID, a6 = function ID,
// a0.. = arguments; returns a0 = error, a1 = value.
inline constexpr std::uint64_t kSbiExtRfence = 0x52464E43;  // "RFNC"
inline constexpr std::uint64_t kSbiRfenceRemoteSfenceVma = 1;  // (hart_mask, hart_mask_base, start, size)
inline constexpr std::int64_t kSbiSuccess = 0;
inline constexpr std::int64_t kSbiErrNotSupported = -2;
inline constexpr std::int64_t kSbiErrInvalidParam = -3;

}  // namespace kva::riscv
