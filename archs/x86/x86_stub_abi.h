// What the x86 guest stubs (archs/amd64/amd64_stubs.S, archs/i386/i386_stubs.S) add to the
// contract every arch follows (emu/stub_abi.h for routines and mailboxes, emu/guest_isa.h for
// how stubs are written): the x86 registers and the invalidation threshold.
//
// Registers: arguments in rdi, rsi, rdx (edi, esi, edx on i386); rbp (ebp) is the instruction
// budget, charged with `sub $N, %rbp` and checked with `js .Lbudget_exhausted`; `hlt` ends each
// routine. Stubs may use rax, rcx (eax, ecx) as scratch.
#pragma once
#include <cstddef>

namespace kva::x86 {

// x86-only routine (the standard ones are in emu/stub_abi.h): FreeBSD's invltlb_glob, a CR4.PGE
// toggle that flushes global entries too. It is the kernel pmap's pmap_invalidate_all, used
// for ranges at or above the threshold below, locally and as the shootdown handler's
// InvalOp::All.
inline constexpr const char* kStubInvltlbGlob = "kva_invltlb_glob";  // ()

// Ranges at least this large are invalidated by a CR3 reload instead of an invlpg loop
// (FreeBSD's PMAP_INVLPG_THRESHOLD, 4 * 1024 * PAGE_SIZE, in pmap_invalidate_range).
inline constexpr std::size_t kInvlpgThresholdPages = 4 * 1024;

}  // namespace kva::x86
