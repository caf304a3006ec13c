// Staleness is real: a missing invalidation makes the guest read the old page (Observed) and
// the TLB model reports it too (Architectural); invlpg, shootdowns and full flushes fix it.
#include "archs/x86/x86_stub_abi.h"
#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

class StaleTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    pmap = make_x86(GetParam(), 4);
    va = pmap->kva_space().start + 21 * PAGE_SIZE;
    a = pattern_page(pmap->phys(), 0x10);
    b = pattern_page(pmap->phys(), 0x80);
  }
  std::vector<std::uint8_t> page_bytes(vm_page* m, std::size_t n = 64) {
    return phys_bytes(pmap->phys(), m->phys_addr, n);
  }
  std::unique_ptr<Pmap> pmap;
  vaddr_t va = 0;
  vm_page* a = nullptr;
  vm_page* b = nullptr;
};

TEST_P(StaleTest, MissingInvlpgReadsTheOldPage) {
  pmap->kenter(va, a->phys_addr);
  ASSERT_EQ(pmap->load(0, va, 64), page_bytes(a));
  pmap->kenter(va, b->phys_addr);  // no invalidation
  EXPECT_EQ(pmap->load(0, va, 64), page_bytes(a)) << "cpu0 still translates through its TLB";
  EXPECT_GE(pmap->stale_log().count(Oracle::Observed), 1u);
  EXPECT_GE(pmap->stale_log().count(Oracle::Architectural), 1u);
  const StaleAccess& s = pmap->stale_log().entries().front();
  EXPECT_EQ(s.cpu, 0);
  EXPECT_EQ(s.va, va);
  // cpu1 never used va: the emulator walks the new tables, but the ISA lets cpu1 hold the old
  // translation (A=1 since cpu0's walk) speculatively: an architectural report only.
  const std::size_t observed = pmap->stale_log().count(Oracle::Observed);
  const std::size_t architectural = pmap->stale_log().count(Oracle::Architectural);
  EXPECT_EQ(pmap->load(1, va, 64), page_bytes(b));
  EXPECT_EQ(pmap->stale_log().count(Oracle::Observed), observed);
  ASSERT_EQ(pmap->stale_log().count(Oracle::Architectural), architectural + 1);
  const StaleAccess& spec = pmap->stale_log().entries().back();
  EXPECT_EQ(spec.cpu, 1);
  EXPECT_EQ(spec.holding, Holding::Speculative);
  EXPECT_NE(spec.rule.find("speculative fill after A=1 on cpu0"), std::string::npos) << spec.rule;
  EXPECT_EQ(spec.cached_pa, a->phys_addr);
  EXPECT_EQ(spec.expected_pa, b->phys_addr);
}

TEST_P(StaleTest, InvlpgGivesFreshDataAndNoReport) {
  pmap->kenter(va, a->phys_addr);
  pmap->load(0, va, 64);
  pmap->kenter(va, b->phys_addr);
  pmap->invalidate_local(0, va);
  EXPECT_EQ(pmap->load(0, va, 64), page_bytes(b));
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  EXPECT_EQ(pmap->stats().local_invalidations, 1u);
  EXPECT_FALSE(pmap->tlb_model().lookup(1, va).has_value());
}

TEST_P(StaleTest, ShootdownRunsTheIpiHandlerOnEveryTarget) {
  pmap->kenter(va, a->phys_addr);
  for (cpuid_t c = 0; c < 4; ++c) pmap->load(c, va, 64);
  pmap->kenter(va, b->phys_addr);
  pmap->invalidate_local(0, va);
  pmap->shootdown(0, CpuSet::only(1) | CpuSet::only(2), va);  // cpu3 forgotten on purpose
  EXPECT_EQ(pmap->stats().ipis, 2u);
  EXPECT_EQ(pmap->stats().local_invalidations, 3u);
  for (cpuid_t c = 0; c < 3; ++c) EXPECT_EQ(pmap->load(c, va, 64), page_bytes(b)) << "cpu" << c;
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  EXPECT_EQ(pmap->load(3, va, 64), page_bytes(a)) << "cpu3 got no IPI";
  EXPECT_GE(pmap->stale_log().count(Oracle::Observed), 1u);
}

TEST_P(StaleTest, LargeRangeIsAFullFlushOnEveryCpu) {
  pmap->kenter(va, a->phys_addr);
  for (cpuid_t c = 0; c < 4; ++c) pmap->load(c, va, 64);
  pmap->kenter(va, b->phys_addr);
  pmap->invalidate_range_all(0, pmap->kva_space().start, x86::kInvlpgThresholdPages);
  EXPECT_EQ(pmap->stats().full_flushes, 4u);
  EXPECT_EQ(pmap->stats().local_invalidations, 0u);
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_EQ(pmap->load(c, va, 64), page_bytes(b)) << "cpu" << c;
  EXPECT_EQ(pmap->stale_log().size(), 0u);
}

TEST_P(StaleTest, QenterReplacingAMappingInvalidatesEverywhere) {
  const paddr_t first[] = {a->phys_addr};
  const paddr_t second[] = {b->phys_addr};
  pmap->qenter(0, va, first);
  for (cpuid_t c = 0; c < 4; ++c) pmap->load(c, va, 64);
  pmap->qenter(2, va, second);
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_EQ(pmap->load(c, va, 64), page_bytes(b));
  EXPECT_EQ(pmap->stats().ipis, 3u);
  pmap->qremove(1, va, 1);
  EXPECT_EQ(pmap->stale_log().size(), 0u);
}

// pmap_invalidate_range over PMAP_INVLPG_THRESHOLD pages is pmap_invalidate_all, which for the
// kernel pmap toggles CR4.PGE (invltlb_glob): global entries go too, so FreeBSD's own large
// invalidations leave nothing stale even with pg_g kernel PTEs.
TEST_P(StaleTest, ThresholdInvalidationFlushesGlobalEntriesToo) {
  pmap->kenter(va, a->phys_addr, KenterAttrs{true, {}, {}});
  for (cpuid_t c = 0; c < 4; ++c) pmap->load(c, va, 64);
  pmap->kenter(va, b->phys_addr, KenterAttrs{true, {}, {}});
  pmap->invalidate_range_all(0, pmap->kva_space().start, x86::kInvlpgThresholdPages);
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_EQ(pmap->load(c, va, 64), page_bytes(b)) << "cpu" << c;
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  EXPECT_EQ(pmap->stats().full_flushes, 4u);
}

INSTANTIATE_TEST_SUITE_P(X86, StaleTest, testing::ValuesIn(x86_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
