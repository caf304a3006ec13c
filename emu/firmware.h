// The "firmware" region: guest memory outside PhysicalMemory that holds the stub code, the
// per-CPU shootdown mailboxes, scratch buffers and stacks. The same host buffer is mapped into
// every engine. Arch page tables must map it identity (VA == PA) on every CPU, so host and guest
// agree on its addresses without a walk.
//
// It has two parts. The code page is mapped into Unicorn read + execute. Everything from
// kDataOffset on (mailboxes, scratch, stacks) is mapped read + write, never executable, and arch
// page tables must map it so that the kernel cannot execute it (x86: a user page with CR4.SMEP,
// or NX; arm64: PXN; riscv: a leaf without X): Unicorn treats a store to memory the guest may
// execute as a possible code write (its slow path, ~40 ns), and restores the fast path only on
// a page whose TLB entry is not executable. Loads copy a whole page into scratch, so this
// decides the cost of a load.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/types.h"

namespace kva {

struct FirmwareLayout {
  static constexpr std::size_t kSize = 1u << 20;  // 0x10000 + MAXCPU * kCpuAreaStride fits
  static constexpr std::size_t kCodeOffset = 0x1000;
  // One page: both execution modes then touch the same code page (guest_isa.h, rule 1).
  static constexpr std::size_t kCodeMax = PAGE_SIZE;
  static constexpr std::size_t kDataOffset = 0x8000;  // first non-executable byte
  static constexpr std::size_t kMailboxOffset = 0x8000;
  static constexpr std::size_t kMailboxStride = 64;
  static constexpr std::size_t kCpuAreaOffset = 0x10000;
  // Two scratch pages, then a stack page. A host access picks the scratch page whose page
  // number differs from the guest address's in bit 0: QEMU's TLB is direct mapped, indexed
  // by the low bits of the page number, so the stub's two pages then never evict each other,
  // whatever the TLB's size (a load through a colliding pair takes the slow path each time).
  static constexpr std::size_t kCpuAreaStride = 3 * PAGE_SIZE;
  static_assert(kCpuAreaOffset + MAXCPU * kCpuAreaStride <= kSize);
  static_assert(kMailboxOffset + MAXCPU * kMailboxStride <= kCpuAreaOffset);
  static_assert(kCodeOffset + kCodeMax <= kDataOffset && kDataOffset <= kMailboxOffset);

  paddr_t base = 0;  // page aligned; the first page is left unmapped by convention

  paddr_t code() const { return base + kCodeOffset; }
  paddr_t data() const { return base + kDataOffset; }
  bool is_data(paddr_t pa) const { return pa >= data() && pa < end(); }
  paddr_t mailbox(cpuid_t c) const { return base + kMailboxOffset + c * kMailboxStride; }
  paddr_t scratch(cpuid_t c, int which = 0) const {
    return base + kCpuAreaOffset + c * kCpuAreaStride + static_cast<paddr_t>(which) * PAGE_SIZE;
  }
  // The scratch page of cpu c that cannot share a TLB slot with the page of va.
  paddr_t scratch_for(cpuid_t c, vaddr_t va) const {
    const paddr_t s = scratch(c);
    return ((s ^ va) >> PAGE_SHIFT) & 1 ? s : scratch(c, 1);
  }
  paddr_t stack_top(cpuid_t c) const { return scratch(c) + kCpuAreaStride; }
  paddr_t end() const { return base + kSize; }
};

}  // namespace kva
