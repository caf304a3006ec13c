// Helpers for the suites on the arm64 pmap itself (built directly, so tests reach tlbi()).
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>

#include "archs/arm64/arm64_pmap.h"
#include "tests/test_pages.h"

namespace kva::test {

inline std::unique_ptr<arm64::Arm64Pmap> make_arm64(int ncpus = 2, std::size_t mem = 8u << 20,
                                                    bool break_before_make = false,
                                                    std::ostream* trace = nullptr) {
  MachineConfig cfg{ncpus, mem, trace};
  cfg.break_before_make = break_before_make;
  return std::make_unique<arm64::Arm64Pmap>(cfg);
}

inline std::size_t model_reports(const Pmap& p) {
  const StaleLog& l = p.stale_log();
  return l.count(Oracle::Architectural) + l.count(Oracle::Bbm) + l.count(Oracle::Negative);
}

inline constexpr arm64::TlbiOp tlbi_op(arm64::TlbiKind k, bool is = false) { return {k, is}; }

}  // namespace kva::test
