// The fault switches riscv64 honours (drop-ipi: the SBI call misses the highest target hart;
// skip-local-inval: the issuer's sfence.vma is skipped) and the scenarios without injection
// run with every emulated arch in tests/emulated. Here: the sf_buf pool-mode switches do not
// apply (direct map), so they leave nothing stale.
#include "tests/riscv64/riscv_test_util.h"
#include "tests/scenarios.h"

namespace kva::test {
namespace {

// The pool-mode switches change sf_buf code that never runs with a direct map.
TEST(RiscvInjectionScope, SfBufPoolSwitchesDoNotApply) {
  for (const FaultInfo& f : fault_registry())
    if (f.sf_buf_pool_only)
      for (const auto& arch : riscv_archs()) {
        StaleCounts s = sf_buf_scenario(arch, 2, f.fault);
        EXPECT_EQ(s.observed + s.model, 0u) << arch << " " << f.name;
      }
}

}  // namespace
}  // namespace kva::test
