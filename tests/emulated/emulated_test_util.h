// Helpers for the suites that run on every emulated arch: the names come from the registry,
// machines are made through it, and tests decide by capabilities, never by arch name.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/pmap.h"
#include "tests/test_util.h"

namespace kva::test {

inline std::vector<std::string> emulated_archs() {
  std::vector<std::string> names;
  for (const ArchInfo& a : arch_registry())
    if (a.emulated) names.push_back(a.name);
  return names;
}

}  // namespace kva::test
