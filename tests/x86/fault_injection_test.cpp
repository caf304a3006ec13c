// Every injected mapping bug is caught on emulated x86 by both oracles, and the same scenarios
// without injection read nothing stale, on 1, 2, 4 and 16 vCPUs.
#include "tests/scenarios.h"
#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

struct InjectionCase {
  std::string arch;
  std::string fault;
  bool via_sf_buf;
};

class InjectionTest : public testing::TestWithParam<InjectionCase> {};

TEST_P(InjectionTest, IsDetectedByBothOracles) {
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

std::vector<InjectionCase> injection_cases() {
  std::vector<InjectionCase> v;
  for (const char* arch : {"i386", "i386-pae"})
    for (const char* f :
         {"drop-ipi", "skip-local-inval", "keep-cpumask", "cpuprivate-sticky", "skip-abit-check"})
      v.push_back({arch, f, true});
  for (const char* arch : {"amd64", "i386", "i386-pae"})
    for (const char* f : {"drop-ipi", "skip-local-inval"}) v.push_back({arch, f, false});
  return v;
}

std::string injection_name(const testing::TestParamInfo<InjectionCase>& i) {
  std::string s = i.param.arch + "_" + i.param.fault + (i.param.via_sf_buf ? "_sf_buf" : "_qenter");
  for (char& ch : s)
    if (ch == '-') ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(X86, InjectionTest, testing::ValuesIn(injection_cases()), injection_name);

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

INSTANTIATE_TEST_SUITE_P(X86, NoInjectionTest, testing::ValuesIn(x86_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
