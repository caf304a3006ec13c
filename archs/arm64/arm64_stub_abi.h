// The contract between the arm64 guest stubs (archs/arm64/arm64_stubs.S) and the host: routine
// names and argument order beyond the standard ones of emu/stub_abi.h (kva_copy, kva_invlrng,
// kva_invltlb, kva_shootdown_handler). Each routine ends at "<name>_done".
#pragma once
#include <string>

namespace kva::arm64 {

inline constexpr const char* kStubBoot = "kva_boot";  // (mair, tcr, ttbr0, ttbr1, sctlr)

// TLB maintenance operations, each a stub "kva_tlbi_<op>" (Arm ARM C5.5, TLBI).
//   by VA over a range, (va, npages, asid): vae1 vale1 vaae1 vaale1, and their "is" forms;
//   by ASID, (asid): aside1, aside1is;   everything, (): vmalle1, vmalle1is.
// "is" = inner-shareable: broadcast to every PE in the domain (on hardware; Unicorn engines
// do not share TLBs, so the host carries the broadcast). "a" = all ASIDs, "l" = last level
// only (walk-cache entries may stay). kva_invlrng is kva_tlbi_vaale1 (asid argument unused) and
// kva_invltlb is kva_tlbi_vmalle1: the local forms of what FreeBSD's kernel pmap broadcasts.
inline std::string tlbi_stub(const char* op) { return std::string("kva_tlbi_") + op; }

}  // namespace kva::arm64
