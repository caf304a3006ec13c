// Helpers shared by the arch suites: machines made through the registry, pages filled with a
// pattern, raw RAM reads.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/pmap.h"
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

inline std::unique_ptr<Pmap> make_pmap(const std::string& arch, int ncpus = 2, std::size_t mem = 8u << 20,
                                       std::ostream* trace = nullptr) {
  const ArchInfo* info = find_arch(arch);
  if (!info) throw KvaError("unknown arch " + arch);
  return info->create(MachineConfig{ncpus, mem, trace});
}

// "i386-pae" -> "i386_pae": a GoogleTest parameter name.
inline std::string arch_test_name(const testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

}  // namespace kva::test
