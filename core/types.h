// Basic machine-independent types and constants (FreeBSD names where users search for them).
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace kva {

using vaddr_t = std::uint64_t;  // vm_offset_t
using paddr_t = std::uint64_t;  // vm_paddr_t
using cpuid_t = int;

inline constexpr std::size_t PAGE_SHIFT = 12;
inline constexpr std::size_t PAGE_SIZE = std::size_t{1} << PAGE_SHIFT;
inline constexpr std::uint64_t PAGE_MASK = PAGE_SIZE - 1;
inline constexpr std::size_t DEV_BSIZE = 512;
inline constexpr int MAXCPU = 64;

inline constexpr std::uint64_t trunc_page(std::uint64_t a) { return a & ~PAGE_MASK; }
inline constexpr std::uint64_t round_page(std::uint64_t a) { return (a + PAGE_MASK) & ~PAGE_MASK; }

struct VaRange {
  vaddr_t start = 0;
  vaddr_t end = 0;  // exclusive
  std::size_t size() const { return end - start; }
  bool contains(vaddr_t va) const { return va >= start && va < end; }
  bool empty() const { return end <= start; }
};

// Misuse of a kernel interface (what a KASSERT or panic would catch in FreeBSD).
// Always thrown instead of undefined behaviour; front ends report it as a clear error.
class KvaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class AccessType { Read, Write, Execute };

// A guest access that faulted (no valid translation, or a permission fault).
class PageFault : public KvaError {
 public:
  PageFault(cpuid_t cpu, vaddr_t va, AccessType type, std::string walk)
      : KvaError(describe(cpu, va, type, walk)), cpu(cpu), va(va), type(type), walk(std::move(walk)) {}
  cpuid_t cpu;
  vaddr_t va;
  AccessType type;
  std::string walk;  // the decoded page-table walk, one level per line

 private:
  static std::string describe(cpuid_t cpu, vaddr_t va, AccessType type, const std::string& walk);
};

}  // namespace kva
