// The contract between every arch's guest stubs and emu/EmulatedPmap: the standard routine
// names and arguments, and the shootdown mailbox layout. How a routine is written (stop,
// instruction budget) is in emu/guest_isa.h. Every arch's stub image provides all of them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kva::stub_abi {

// Standard routines (each "<name>" .. "<name>_done"); arguments in GuestIsa::arg_regs order.
// kva_copy(dst, src, nbytes): copy nbytes. A load runs it from the access's VA into the vCPU's
//   scratch page, a store from the scratch page to the VA. The scratch page must be one the
//   kernel cannot execute (emu/firmware.h): Unicorn then keeps its stores on the fast path.
inline constexpr const char* kCopy = "kva_copy";
// kva_invlrng(va, npages): invalidate the TLB entries of npages pages from va on this CPU.
inline constexpr const char* kInvalidateRange = "kva_invlrng";
// kva_invltlb(): invalidate this CPU's whole TLB (what the ISA's full flush keeps, it keeps).
inline constexpr const char* kInvalidateAll = "kva_invltlb";
// kva_shootdown_handler(mailbox): perform the request in this CPU's mailbox, then copy its
//   generation into `done` (FreeBSD's IPI handlers and smp_tlb_done).
inline constexpr const char* kShootdownHandler = "kva_shootdown_handler";
// Not a routine: the halt that a failed budget check jumps to (guest_isa.h, rule 3).
inline constexpr const char* kBudgetExhausted = "kva_budget_exhausted";

// Per-CPU shootdown mailbox (FreeBSD: smp_tlb_op, smp_tlb_addr1/addr2, smp_tlb_generation and
// the target's pc_smp_tlb_done). 8-byte slots; 32-bit guests use the low 32 bits.
enum class InvalOp : std::uint64_t { Range = 0, All = 1 };
struct MailboxOffsets {
  static constexpr std::size_t op = 0;
  static constexpr std::size_t va = 8;
  static constexpr std::size_t npages = 16;
  static constexpr std::size_t generation = 24;
  static constexpr std::size_t done = 32;
};

}  // namespace kva::stub_abi
