// Page helpers shared by the arch suites: pages filled with a pattern, and raw RAM reads.
#pragma once
#include <cstdint>
#include <vector>

#include "core/vm_page.h"

namespace kva::test {

// A wired page whose bytes are pattern, pattern+7, ... (distinct per page and offset).
inline vm_page* pattern_page(PhysicalMemory& phys, std::uint8_t pattern) {
  vm_page* m = phys.vm_page_alloc();
  std::vector<std::uint8_t> bytes(PAGE_SIZE);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(pattern + i * 7);
  phys.write(m->phys_addr, bytes.data(), bytes.size());
  phys.vm_page_wire(m);
  return m;
}

inline std::vector<std::uint8_t> phys_bytes(const PhysicalMemory& phys, paddr_t pa, std::size_t n) {
  std::vector<std::uint8_t> v(n);
  phys.read(pa, v.data(), n);
  return v;
}

}  // namespace kva::test
