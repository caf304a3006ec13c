// Every injected mapping bug is caught on emulated x86 by both oracles, and the same scenarios
// without injection read nothing stale, on 1, 2, 4 and 16 vCPUs.
#include "core/sched.h"
#include "core/sf_buf.h"
#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

struct StaleCounts {
  std::size_t observed = 0;
  std::size_t architectural = 0;
};

StaleCounts counts(Pmap& pmap) {
  return {pmap.stale_log().count(Oracle::Observed), pmap.stale_log().count(Oracle::Architectural)};
}

void read_on_every_cpu(Pmap& pmap, vaddr_t va) {
  for (cpuid_t c = 0; c < pmap.ncpus(); ++c) pmap.load(c, va + 8 * c, 64);
}

// One sf_buf slot, so every new page recycles it: shared use, private use, shared reuse (hash
// hit) and a recycle from another CPU. Each injected fault leaves some CPU reading an old page.
StaleCounts sf_buf_scenario(const std::string& arch, int ncpus, std::optional<Fault> fault) {
  auto pmap = make_x86(arch, ncpus);
  if (fault) pmap->faults().enable(*fault);
  Scheduler sched(1);
  SfBufSubsystem sfb(*pmap, sched, SfBufConfig{1});
  Thread& td0 = sched.thread_create("td0", 0);
  Thread& td_last = ncpus > 1 ? sched.thread_create("td_last", ncpus - 1) : td0;
  vm_page* a = pattern_page(pmap->phys(), 0x11);
  vm_page* b = pattern_page(pmap->phys(), 0x22);
  vm_page* c = pattern_page(pmap->phys(), 0x33);

  pmap->set_step("shared A");
  sf_buf* sf = sfb.sf_buf_alloc_now(td0, a, SFB_DEFAULT);
  read_on_every_cpu(*pmap, sf->kva);
  sfb.sf_buf_free(td0, sf);

  pmap->set_step("private B on cpu0");
  sf = sfb.sf_buf_alloc_now(td0, b, SFB_CPUPRIVATE);
  pmap->load(0, sf->kva, 64);
  sfb.sf_buf_free(td0, sf);

  pmap->set_step("shared B (hash hit)");
  sf = sfb.sf_buf_alloc_now(td0, b, SFB_DEFAULT);
  read_on_every_cpu(*pmap, sf->kva);
  sfb.sf_buf_free(td0, sf);

  pmap->set_step("shared C from the last cpu");
  sf = sfb.sf_buf_alloc_now(td_last, c, SFB_DEFAULT);
  read_on_every_cpu(*pmap, sf->kva);
  sfb.sf_buf_free(td_last, sf);
  return counts(*pmap);
}

// pmap_qenter over a buffer-map page, replaced and removed from different CPUs.
StaleCounts qenter_scenario(const std::string& arch, int ncpus, std::optional<Fault> fault) {
  auto pmap = make_x86(arch, ncpus);
  if (fault) pmap->faults().enable(*fault);
  const vaddr_t va = pmap->kva_space().start + 64 * PAGE_SIZE;
  const paddr_t a[] = {pattern_page(pmap->phys(), 0x44)->phys_addr,
                       pattern_page(pmap->phys(), 0x55)->phys_addr};
  const paddr_t b[] = {pattern_page(pmap->phys(), 0x66)->phys_addr,
                       pattern_page(pmap->phys(), 0x77)->phys_addr};
  pmap->qenter(0, va, a);
  read_on_every_cpu(*pmap, va);
  read_on_every_cpu(*pmap, va + PAGE_SIZE);
  pmap->qenter(0, va, b);
  read_on_every_cpu(*pmap, va);
  read_on_every_cpu(*pmap, va + PAGE_SIZE);
  pmap->qremove(ncpus - 1, va, 2);
  pmap->qenter(ncpus - 1, va, a);
  read_on_every_cpu(*pmap, va);
  return counts(*pmap);
}

Fault fault_named(const char* name) {
  auto f = fault_by_name(name);
  if (!f) throw KvaError(std::string("no fault named ") + name);
  return *f;
}

struct InjectionCase {
  std::string arch;
  std::string fault;
  bool via_sf_buf;
};

class InjectionTest : public testing::TestWithParam<InjectionCase> {};

TEST_P(InjectionTest, IsDetectedByBothOracles) {
  const InjectionCase& c = GetParam();
  for (int ncpus : {2, 4}) {
    StaleCounts s = c.via_sf_buf ? sf_buf_scenario(c.arch, ncpus, fault_named(c.fault.c_str()))
                                 : qenter_scenario(c.arch, ncpus, fault_named(c.fault.c_str()));
    EXPECT_GT(s.observed, 0u) << "the guest really read an old page, ncpus " << ncpus;
    EXPECT_GT(s.architectural, 0u) << "ncpus " << ncpus;
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
    EXPECT_EQ(s.architectural, 0u) << "sf_buf, ncpus " << ncpus;
    s = qenter_scenario(GetParam(), ncpus, std::nullopt);
    EXPECT_EQ(s.observed, 0u) << "qenter, ncpus " << ncpus;
    EXPECT_EQ(s.architectural, 0u) << "qenter, ncpus " << ncpus;
  }
}

INSTANTIATE_TEST_SUITE_P(X86, NoInjectionTest, testing::ValuesIn(x86_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
