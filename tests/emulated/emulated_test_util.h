// Helpers for the suites that run on every emulated arch: the names come from the registry,
// machines are made through it, and tests decide by capabilities, never by arch name.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/pmap.h"
#include "tests/test_pages.h"

namespace kva::test {

inline std::vector<std::string> emulated_archs() {
  std::vector<std::string> names;
  for (const ArchInfo& a : arch_registry())
    if (a.emulated) names.push_back(a.name);
  return names;
}

inline std::unique_ptr<Pmap> make_pmap(const std::string& arch, int ncpus = 2, std::size_t mem = 8u << 20) {
  const ArchInfo* info = find_arch(arch);
  if (!info) throw KvaError("unknown arch " + arch);
  return info->create(MachineConfig{ncpus, mem});
}

inline std::string arch_param_name(const testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

}  // namespace kva::test
