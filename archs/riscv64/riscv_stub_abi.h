// The contract between the riscv64 guest stubs (riscv64_stubs.S) and the host: routine names,
// argument order, and the SBI calls the host answers as firmware.
#pragma once
#include <cstdint>

namespace kva::riscv {

// Routine names (each ends at "<name>_done").
inline constexpr const char* kStubBoot = "kva_boot";                    // mret into S-mode
inline constexpr const char* kStubCopy = "kva_copy";                    // (dst, src, nbytes)
inline constexpr const char* kStubSfenceVma = "kva_sfence_vma";         // ()
inline constexpr const char* kStubSfenceVmaPages = "kva_sfence_vma_pages";  // (va, npages)
inline constexpr const char* kStubSfenceVmaAsid = "kva_sfence_vma_asid";    // (va, asid)
inline constexpr const char* kStubEcall = "kva_ecall";                  // (a0..a5, fid, eid)

// SBI (RISC-V Supervisor Binary Interface spec): a7 = extension ID, a6 = function ID,
// a0.. = arguments; returns a0 = error, a1 = value.
inline constexpr std::uint64_t kSbiExtRfence = 0x52464E43;  // "RFNC"
inline constexpr std::uint64_t kSbiRfenceRemoteSfenceVma = 1;  // (hart_mask, hart_mask_base, start, size)
inline constexpr std::int64_t kSbiSuccess = 0;
inline constexpr std::int64_t kSbiErrNotSupported = -2;
inline constexpr std::int64_t kSbiErrInvalidParam = -3;

}  // namespace kva::riscv
