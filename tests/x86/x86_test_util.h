// Shared helpers for the x86 suites: machines made through the registry, pages with patterns.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/pmap.h"
#include "tests/test_util.h"

namespace kva::test {

inline const std::vector<std::string>& x86_archs() {
  static const std::vector<std::string> names = {"amd64", "i386", "i386-pae"};
  return names;
}

inline std::unique_ptr<Pmap> make_x86(const std::string& arch, int ncpus = 2,
                                      std::size_t mem = 8u << 20, std::ostream* trace = nullptr) {
  return make_pmap(arch, ncpus, mem, trace);
}

}  // namespace kva::test
