// The fault switches that apply to riscv64 (drop-ipi: the SBI call misses the highest target
// hart; skip-local-inval: the issuer's sfence.vma is skipped) are caught by both oracles on
// both variants; the sf_buf pool-mode switches do not apply (direct map). Without injection the
// shared scenarios read nothing stale on 1, 2, 4 and 16 harts, under Svadu and Svade.
#include "tests/riscv64/riscv_test_util.h"
#include "tests/scenarios.h"

namespace kva::test {
namespace {

struct RiscvFault {
  std::string arch;
  std::string fault;
};

class RiscvInjection : public testing::TestWithParam<RiscvFault> {};

TEST_P(RiscvInjection, IsDetectedByBothOracles) {
  const Fault f = fault_named(GetParam().fault.c_str());
  for (int ncpus : {2, 4}) {
    StaleCounts s = qenter_scenario(GetParam().arch, ncpus, f);
    EXPECT_GT(s.observed, 0u) << "the guest really read an old page, ncpus " << ncpus;
    EXPECT_GT(s.model, 0u) << "ncpus " << ncpus;
    s = model_ops_scenario(GetParam().arch, ncpus, f);
    EXPECT_GT(s.observed, 0u) << "model ops, ncpus " << ncpus;
    EXPECT_GT(s.model, 0u) << "model ops, ncpus " << ncpus;
  }
}

std::vector<RiscvFault> riscv_faults() {
  std::vector<RiscvFault> v;
  for (const auto& arch : riscv_archs())
    for (const char* f : {"drop-ipi", "skip-local-inval"}) v.push_back({arch, f});
  return v;
}

std::string fault_case_name(const testing::TestParamInfo<RiscvFault>& i) {
  std::string s = i.param.arch + "_" + i.param.fault;
  for (char& ch : s)
    if (ch == '-') ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Riscv, RiscvInjection, testing::ValuesIn(riscv_faults()), fault_case_name);

// The pool-mode switches change sf_buf code that never runs with a direct map.
TEST(RiscvInjectionScope, SfBufPoolSwitchesDoNotApply) {
  for (const FaultInfo& f : fault_registry())
    if (f.sf_buf_pool_only)
      for (const auto& arch : riscv_archs()) {
        StaleCounts s = sf_buf_scenario(arch, 2, f.fault);
        EXPECT_EQ(s.observed + s.model, 0u) << arch << " " << f.name;
      }
}

class RiscvNoInjection : public testing::TestWithParam<std::string> {};

TEST_P(RiscvNoInjection, ScenariosReadNothingStale) {
  for (int ncpus : {1, 2, 4, 16}) {
    StaleCounts s = sf_buf_scenario(GetParam(), ncpus, std::nullopt);
    EXPECT_EQ(s.observed, 0u) << "sf_buf, ncpus " << ncpus;
    EXPECT_EQ(s.model, 0u) << "sf_buf, ncpus " << ncpus;
    s = qenter_scenario(GetParam(), ncpus, std::nullopt);
    EXPECT_EQ(s.observed, 0u) << "qenter, ncpus " << ncpus;
    EXPECT_EQ(s.model, 0u) << "qenter, ncpus " << ncpus;
    s = model_ops_scenario(GetParam(), ncpus, std::nullopt);
    EXPECT_EQ(s.observed, 0u) << "model ops, ncpus " << ncpus;
    EXPECT_EQ(s.model, 0u) << "model ops, ncpus " << ncpus;
  }
}

INSTANTIATE_TEST_SUITE_P(Riscv, RiscvNoInjection, testing::ValuesIn(riscv_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
