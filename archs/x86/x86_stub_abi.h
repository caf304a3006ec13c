// The contract between the x86 guest stubs (archs/amd64/amd64_stubs.S, archs/i386/i386_stubs.S)
// and the host: routine names, argument order and the shootdown mailbox layout.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kva::x86 {

// Routine names (each ends at "<name>_done").
inline constexpr const char* kStubCopy = "kva_copy";              // (dst, src, nbytes)
inline constexpr const char* kStubInvlrng = "kva_invlrng";        // (va, npages)
inline constexpr const char* kStubInvltlb = "kva_invltlb";        // (): CR3 reload
inline constexpr const char* kStubInvltlbGlob = "kva_invltlb_glob";  // (): CR4.PGE toggle
inline constexpr const char* kStubIpiHandler = "kva_ipi_handler";  // (mailbox)

// Per-CPU shootdown mailbox (FreeBSD: smp_tlb_op, smp_tlb_addr1/addr2, smp_tlb_generation and
// the target's pc_smp_tlb_done). 8-byte slots; i386 uses the low 32 bits.
// Invltlb is the kernel pmap's pmap_invalidate_all: invltlb_glob, global entries included.
enum class IpiOp : std::uint64_t { Invlrng = 0, Invltlb = 1 };
struct MailboxOffsets {
  static constexpr std::size_t op = 0;
  static constexpr std::size_t va = 8;
  static constexpr std::size_t npages = 16;
  static constexpr std::size_t generation = 24;
  static constexpr std::size_t done = 32;
};

// Ranges at least this large are invalidated by a CR3 reload instead of an invlpg loop
// (FreeBSD's PMAP_INVLPG_THRESHOLD, 4 * 1024 * PAGE_SIZE, in pmap_invalidate_range).
inline constexpr std::size_t kInvlpgThresholdPages = 4 * 1024;

}  // namespace kva::x86
