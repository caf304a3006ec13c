// The "firmware" region: guest memory outside PhysicalMemory that holds the stub code, the
// per-CPU shootdown mailboxes, scratch buffers and stacks. The same host buffer is mapped into
// every engine. Arch page tables must map it identity (VA == PA) on every CPU, so host and
// guest agree on its addresses without a walk.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/types.h"

namespace kva {

struct FirmwareLayout {
  static constexpr std::size_t kSize = 1u << 20;  // 0x10000 + MAXCPU * kCpuAreaStride fits
  static constexpr std::size_t kCodeOffset = 0x1000;
  static constexpr std::size_t kCodeMax = 0x7000;
  static constexpr std::size_t kMailboxOffset = 0x8000;
  static constexpr std::size_t kMailboxStride = 64;
  static constexpr std::size_t kCpuAreaOffset = 0x10000;
  static constexpr std::size_t kCpuAreaStride = 2 * PAGE_SIZE;  // scratch page, stack page
  static_assert(kCpuAreaOffset + MAXCPU * kCpuAreaStride <= kSize);
  static_assert(kMailboxOffset + MAXCPU * kMailboxStride <= kCpuAreaOffset);

  paddr_t base = 0;  // page aligned; the first page is left unmapped by convention

  paddr_t code() const { return base + kCodeOffset; }
  paddr_t mailbox(cpuid_t c) const { return base + kMailboxOffset + c * kMailboxStride; }
  paddr_t scratch(cpuid_t c) const { return base + kCpuAreaOffset + c * kCpuAreaStride; }
  paddr_t stack_top(cpuid_t c) const { return scratch(c) + kCpuAreaStride; }
  paddr_t end() const { return base + kSize; }
};

}  // namespace kva
