// Every injected mapping bug is caught on every emulated arch by the observed oracle and a model
// oracle, and the same scenarios (tests/scenarios.h) without injection read nothing stale, on
// 1, 2, 4 and 16 vCPUs. Faults that only break sf_buf's pool mode are checked where sf_buf runs
// in pool mode.
#include "tests/emulated/emulated_test_util.h"
#include "tests/scenarios.h"

namespace kva::test {
namespace {

struct InjectionCase {
  std::string arch;
  std::string fault;
  bool via_sf_buf;
};

class InjectionTest : public testing::TestWithParam<InjectionCase> {};

TEST_P(InjectionTest, IsDetectedByTheObservedAndAModelOracle) {
  const InjectionCase& c = GetParam();
  for (int ncpus : {2, 4}) {
    const Fault f = fault_named(c.fault.c_str());
    StaleCounts s = c.via_sf_buf ? sf_buf_scenario(c.arch, ncpus, f) : qenter_scenario(c.arch, ncpus, f);
    EXPECT_GT(s.observed, 0u) << "the guest really read an old page, ncpus " << ncpus;
    EXPECT_GT(s.model, 0u) << "ncpus " << ncpus;
    if (c.via_sf_buf) continue;
    s = model_ops_scenario(c.arch, ncpus, f);
    EXPECT_GT(s.observed, 0u) << "the guest really read an old page, ncpus " << ncpus;
    EXPECT_GT(s.model, 0u) << "ncpus " << ncpus;
  }
}

// sf_buf scenarios for every pmap and sf_buf fault where sf_buf maps pages (pool mode); the
// pmap scenarios for the faults every arch's invalidation protocol honours. Buffer-cache faults
// have their own scenarios (tests/core/buf_faults_test.cpp; the library, on every arch, in
// tests/python/test_fault_injection.py).
std::vector<InjectionCase> injection_cases() {
  std::vector<InjectionCase> v;
  for (const std::string& arch : emulated_archs()) {
    if (!make_pmap(arch, 1)->has_direct_map())
      for (const FaultInfo& f : fault_registry())
        if (f.subsystem != "buf") v.push_back({arch, std::string(f.name), true});
    for (const char* f : {"drop-ipi", "skip-local-inval"}) v.push_back({arch, f, false});
  }
  return v;
}

std::string injection_name(const testing::TestParamInfo<InjectionCase>& i) {
  std::string s = i.param.arch + "_" + i.param.fault + (i.param.via_sf_buf ? "_sf_buf" : "_qenter");
  for (char& ch : s)
    if (ch == '-') ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Emulated, InjectionTest, testing::ValuesIn(injection_cases()), injection_name);

class NoInjectionTest : public testing::TestWithParam<std::string> {};

TEST_P(NoInjectionTest, ScenariosReadNothingStale) {
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

INSTANTIATE_TEST_SUITE_P(Emulated, NoInjectionTest, testing::ValuesIn(emulated_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
