// Shared helpers for the x86 suites: machines made through the registry, pages with patterns.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/pmap.h"

namespace kva::test {

inline const std::vector<std::string>& x86_archs() {
  static const std::vector<std::string> names = {"amd64", "i386", "i386-pae"};
  return names;
}

inline std::unique_ptr<Pmap> make_x86(const std::string& arch, int ncpus = 2,
                                      std::size_t mem = 8u << 20, std::ostream* trace = nullptr) {
  const ArchInfo* info = find_arch(arch);
  if (!info) throw KvaError("unknown arch " + arch);
  return info->create(MachineConfig{ncpus, mem, trace});
}

// A wired page whose bytes are pattern, pattern+1, ... (distinct per page and offset).
inline vm_page* pattern_page(PhysicalMemory& phys, std::uint8_t pattern) {
  vm_page* m = phys.vm_page_alloc();
  std::vector<std::uint8_t> bytes(PAGE_SIZE);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(pattern + i * 7);
  phys.write(m->phys_addr, bytes.data(), bytes.size());
  phys.vm_page_wire(m);
  return m;
}

inline std::vector<std::uint8_t> phys_bytes(PhysicalMemory& phys, paddr_t pa, std::size_t n) {
  std::vector<std::uint8_t> v(n);
  phys.read(pa, v.data(), n);
  return v;
}

inline std::string arch_test_name(const testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

}  // namespace kva::test
