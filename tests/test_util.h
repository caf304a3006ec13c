// Helpers shared by the arch suites: machines made through the registry, GoogleTest names for
// archs, and (test_pages.h) pages filled with a pattern, raw RAM reads.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "archs/registry.h"
#include "core/pmap.h"
#include "tests/test_pages.h"

namespace kva::test {

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
