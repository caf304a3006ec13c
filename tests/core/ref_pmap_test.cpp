#include <gtest/gtest.h>

#include <vector>

#include "core/ref_pmap.h"
#include "test_machine.h"

namespace kva {
namespace {

using test::wired_page;

struct RefPmapTest : ::testing::Test {
  RefPmap pmap{MachineConfig{4, 1u << 20, nullptr}};
  vaddr_t va = pmap.kva_space().start;
};

TEST(RefPmapCtor, ValidatesCpuCount) {
  EXPECT_THROW(RefPmap(MachineConfig{0, 1u << 20, nullptr}), KvaError);
  EXPECT_THROW(RefPmap(MachineConfig{MAXCPU + 1, 1u << 20, nullptr}), KvaError);
  RefPmap max(MachineConfig{MAXCPU, 1u << 20, nullptr});
  EXPECT_EQ(max.all_cpus().count(), MAXCPU);
  EXPECT_EQ(max.phys().size(), 1u << 20);
}

TEST_F(RefPmapTest, KenterPteExtractKeepsOffset) {
  vm_page* m = wired_page(pmap.phys(), 0x11);
  EXPECT_FALSE(pmap.extract(va).has_value());
  pmap.kenter(va, m->phys_addr);
  const PteState p = pmap.pte(va + 7);
  EXPECT_TRUE(p.valid);
  EXPECT_TRUE(p.writable);
  EXPECT_FALSE(p.accessed);
  EXPECT_FALSE(p.modified);
  EXPECT_FALSE(p.global);
  EXPECT_EQ(p.pa, m->phys_addr);
  EXPECT_EQ(pmap.extract(va + 0x123), m->phys_addr + 0x123);
  pmap.kremove(va);
  EXPECT_FALSE(pmap.pte(va).valid);
  EXPECT_THROW(pmap.kenter(pmap.kva_space().end, m->phys_addr), KvaError);
  EXPECT_THROW(pmap.kenter(va, m->phys_addr + 1), KvaError);
  EXPECT_THROW(pmap.kenter(va, pmap.phys().size()), KvaError);  // beyond RAM
}

TEST_F(RefPmapTest, WalkSetsAccessedAndStoreSetsModified) {
  vm_page* m = wired_page(pmap.phys(), 0x22);
  pmap.kenter(va, m->phys_addr);
  EXPECT_EQ(pmap.load(1, va + 5, 1), std::vector<std::uint8_t>{0x22});
  EXPECT_TRUE(pmap.pte(va).accessed);
  EXPECT_FALSE(pmap.pte(va).modified);
  EXPECT_TRUE(pmap.tlb_model().lookup(1, va).has_value());
  EXPECT_FALSE(pmap.tlb_model().lookup(0, va).has_value());
  const std::vector<std::uint8_t> data = {1, 2};
  pmap.store(1, va + 10, data);  // through the entry cached by the load: D still set
  EXPECT_TRUE(pmap.pte(va).modified);
  std::uint8_t out[2];
  pmap.phys().read(m->phys_addr + 10, out, 2);
  EXPECT_EQ(out[1], 2);
  pmap.clear_accessed(va);
  pmap.clear_modified(va);
  EXPECT_FALSE(pmap.pte(va).accessed);
  EXPECT_FALSE(pmap.pte(va).modified);
  // The walk sets A here: set_accessed (pmap_fault's AF repair) is refused by name.
  EXPECT_THROW(pmap.set_accessed(va), KvaError);
  EXPECT_EQ(pmap.stats().loads, 1u);
  EXPECT_EQ(pmap.stats().stores, 1u);
  EXPECT_EQ(pmap.stale_log().size(), 0u);
}

TEST_F(RefPmapTest, UnmappedAccessPageFaultsWithWalk) {
  try {
    pmap.load(2, va + 0x10, 4);
    FAIL() << "expected a page fault";
  } catch (const PageFault& pf) {
    EXPECT_EQ(pf.cpu, 2);
    EXPECT_EQ(pf.va, va + 0x10);
    EXPECT_EQ(pf.type, AccessType::Read);
    EXPECT_NE(pf.walk.find("not valid"), std::string::npos) << pf.walk;
  }
  const std::vector<std::uint8_t> one = {1};
  EXPECT_THROW(pmap.store(0, va, one), PageFault);
  EXPECT_THROW(pmap.load(4, va, 1), KvaError);  // no such cpu
}

TEST_F(RefPmapTest, DescribeWalkShowsBitsAndPa) {
  vm_page* m = wired_page(pmap.phys(), 0);
  pmap.kenter(va, m->phys_addr);
  pmap.load(0, va, 1);
  const std::string w = pmap.describe_walk(va);
  EXPECT_NE(w.find(" A"), std::string::npos) << w;
  EXPECT_EQ(w.find(" D"), std::string::npos) << w;
  EXPECT_NE(w.find(" V"), std::string::npos) << w;
  char pa[32];
  std::snprintf(pa, sizeof pa, "pa=0x%llx", static_cast<unsigned long long>(m->phys_addr));
  EXPECT_NE(w.find(pa), std::string::npos) << w;
}

TEST_F(RefPmapTest, AccessesSplitAtPageBoundaries) {
  vm_page* a = wired_page(pmap.phys(), 0xA0);
  vm_page* b = wired_page(pmap.phys(), 0xB0);
  // Map them in reverse physical order so a straddling access must use two translations.
  pmap.kenter(va, b->phys_addr);
  pmap.kenter(va + PAGE_SIZE, a->phys_addr);
  const auto bytes = pmap.load(0, va + PAGE_SIZE - 2, 4);
  EXPECT_EQ(bytes, (std::vector<std::uint8_t>{0xB0, 0xB0, 0xA0, 0xA0}));
  EXPECT_EQ(pmap.stats().loads, 2u);
  pmap.copy(0, va + PAGE_SIZE - 1, va, 2);  // copies two 0xB0 bytes, dst straddles
  std::uint8_t last_of_b, first_of_a;
  pmap.phys().read(b->phys_addr + PAGE_SIZE - 1, &last_of_b, 1);
  pmap.phys().read(a->phys_addr, &first_of_a, 1);
  EXPECT_EQ(last_of_b, 0xB0);
  EXPECT_EQ(first_of_a, 0xB0);
  EXPECT_EQ(pmap.stale_log().size(), 0u);
}

TEST_F(RefPmapTest, CachedTranslationSurvivesPteChangeUntilInvalidated) {
  vm_page* a = wired_page(pmap.phys(), 0xAA);
  vm_page* b = wired_page(pmap.phys(), 0xBB);
  pmap.kenter(va, a->phys_addr);
  pmap.load(1, va, 1);
  pmap.kenter(va, b->phys_addr);  // no TLB maintenance
  pmap.set_step("after remap");
  EXPECT_EQ(pmap.load(1, va, 1).at(0), 0xAA);  // stale, really
  ASSERT_EQ(pmap.stale_log().count(Oracle::Architectural), 1u);
  ASSERT_EQ(pmap.stale_log().count(Oracle::Observed), 1u);
  for (const StaleAccess& s : pmap.stale_log().entries()) {
    EXPECT_EQ(s.cpu, 1);
    EXPECT_EQ(s.expected_pa, b->phys_addr);
    EXPECT_EQ(s.cached_pa, a->phys_addr);
    EXPECT_EQ(s.step, "after remap");
  }
  pmap.invalidate_local(1, va);
  EXPECT_EQ(pmap.load(1, va, 1).at(0), 0xBB);
  EXPECT_EQ(pmap.stale_log().size(), 2u);  // nothing new
}

TEST_F(RefPmapTest, StaleStoreIsALostWrite) {
  vm_page* a = wired_page(pmap.phys(), 0xAA);
  vm_page* b = wired_page(pmap.phys(), 0xBB);
  pmap.kenter(va, a->phys_addr);
  pmap.load(0, va, 1);
  pmap.kenter(va, b->phys_addr);
  const std::vector<std::uint8_t> data = {0x5A};
  pmap.store(0, va, data);
  std::uint8_t in_a;
  pmap.phys().read(a->phys_addr, &in_a, 1);
  EXPECT_EQ(in_a, 0x5A);  // landed in the old page
  ASSERT_EQ(pmap.stale_log().count(Oracle::Observed), 1u);
  const StaleAccess* obs = nullptr;
  for (const auto& s : pmap.stale_log().entries())
    if (s.oracle == Oracle::Observed) obs = &s;
  EXPECT_EQ(obs->kind, AccessKind::Store);
  EXPECT_EQ(obs->observed, std::vector<std::uint8_t>{0xBB});
}

TEST_F(RefPmapTest, LoadAfterKremoveThroughStaleEntryIsReported) {
  vm_page* a = wired_page(pmap.phys(), 0xAA);
  pmap.kenter(va, a->phys_addr);
  pmap.load(3, va, 1);
  pmap.kremove(va);
  EXPECT_EQ(pmap.load(3, va, 1).at(0), 0xAA);
  EXPECT_EQ(pmap.stale_log().count(Oracle::Observed), 1u);
  EXPECT_EQ(pmap.stale_log().count(Oracle::Architectural), 1u);
  EXPECT_FALSE(pmap.stale_log().entries()[0].expected_pa.has_value());
}

TEST_F(RefPmapTest, ShootdownExcludesInitiatorAndCounts) {
  vm_page* a = wired_page(pmap.phys(), 0xAA);
  pmap.kenter(va, a->phys_addr);
  for (int c = 0; c < 4; ++c) pmap.load(c, va, 1);
  pmap.shootdown(0, pmap.all_cpus(), va);
  EXPECT_TRUE(pmap.tlb_model().lookup(0, va).has_value());  // initiator untouched
  for (int c = 1; c < 4; ++c) EXPECT_FALSE(pmap.tlb_model().lookup(c, va).has_value());
  EXPECT_EQ(pmap.stats().shootdowns, 1u);
  EXPECT_EQ(pmap.stats().shootdown_targets, 3u);
  EXPECT_EQ(pmap.stats().ipis, 3u);
  pmap.shootdown(2, CpuSet::only(2), va);  // nothing remote: no event
  EXPECT_EQ(pmap.stats().shootdowns, 1u);
}

TEST_F(RefPmapTest, DropIpiFaultSkipsHighestTarget) {
  vm_page* a = wired_page(pmap.phys(), 0xAA);
  pmap.kenter(va, a->phys_addr);
  for (int c = 0; c < 4; ++c) pmap.load(c, va, 1);
  pmap.faults().enable(Fault::DropShootdownIpi);
  pmap.shootdown(0, pmap.all_cpus(), va);
  EXPECT_FALSE(pmap.tlb_model().lookup(1, va).has_value());
  EXPECT_FALSE(pmap.tlb_model().lookup(2, va).has_value());
  EXPECT_TRUE(pmap.tlb_model().lookup(3, va).has_value());
  EXPECT_EQ(pmap.stats().dropped_ipis, 1u);
  EXPECT_EQ(pmap.stats().shootdown_targets, 2u);
  pmap.shootdown(0, CpuSet::only(3), va);  // the only target dropped: no event at all
  EXPECT_EQ(pmap.stats().shootdowns, 1u);
  EXPECT_EQ(pmap.stats().dropped_ipis, 2u);
}

TEST_F(RefPmapTest, SkipLocalInvalidationFault) {
  vm_page* a = wired_page(pmap.phys(), 0xAA);
  pmap.kenter(va, a->phys_addr);
  pmap.load(0, va, 1);
  pmap.faults().enable(Fault::SkipLocalInvalidation);
  pmap.invalidate_local(0, va);
  EXPECT_TRUE(pmap.tlb_model().lookup(0, va).has_value());
  EXPECT_EQ(pmap.stats().local_invalidations, 0u);
  pmap.faults().disable(Fault::SkipLocalInvalidation);
  pmap.invalidate_local(0, va);
  EXPECT_FALSE(pmap.tlb_model().lookup(0, va).has_value());
  EXPECT_EQ(pmap.stats().local_invalidations, 1u);
}

TEST_F(RefPmapTest, QenterOverValidRangeInvalidatesEveryCpu) {
  vm_page* a = wired_page(pmap.phys(), 0xAA);
  vm_page* b = wired_page(pmap.phys(), 0xBB);
  const paddr_t first[] = {a->phys_addr, a->phys_addr};
  pmap.qenter(0, va, first);  // fresh range: no TLB work
  EXPECT_EQ(pmap.stats().local_invalidations, 0u);
  EXPECT_EQ(pmap.stats().shootdowns, 0u);
  for (int c = 0; c < 4; ++c) pmap.load(c, va + PAGE_SIZE, 1);
  const paddr_t second[] = {b->phys_addr, b->phys_addr};
  pmap.qenter(1, va, second);
  for (int c = 0; c < 4; ++c) EXPECT_EQ(pmap.load(c, va + PAGE_SIZE, 1).at(0), 0xBB) << c;
  EXPECT_EQ(pmap.stats().shootdowns, 1u);
  EXPECT_EQ(pmap.stats().shootdown_targets, 3u);
  EXPECT_EQ(pmap.stale_log().size(), 0u);
  pmap.qremove(2, va, 2);
  EXPECT_FALSE(pmap.pte(va).valid);
  for (int c = 0; c < 4; ++c) EXPECT_THROW(pmap.load(c, va + PAGE_SIZE, 1), PageFault) << c;
  EXPECT_EQ(pmap.stale_log().size(), 0u);
}

TEST(RefPmapDmap, DirectMapIsLinearGlobalAndPreAccessed) {
  RefPmap pmap(MachineConfig{2, 1u << 20, nullptr}, RefPmapConfig{true});
  EXPECT_TRUE(pmap.has_direct_map());
  vm_page* m = wired_page(pmap.phys(), 0x77);
  const vaddr_t dva = pmap.phys_to_dmap(m->phys_addr);
  EXPECT_EQ(dva, RefPmapConfig{}.dmap_base + m->phys_addr);
  const PteState p = pmap.pte(dva + 9);
  EXPECT_TRUE(p.valid && p.global && p.accessed && p.modified);
  EXPECT_EQ(pmap.extract(dva + 9), m->phys_addr + 9);
  EXPECT_EQ(pmap.load(1, dva + 9, 1).at(0), 0x77);
  EXPECT_TRUE(pmap.tlb_model().lookup(1, dva)->global);
  EXPECT_FALSE(pmap.pte(RefPmapConfig{}.dmap_base + pmap.phys().size()).valid);
  EXPECT_THROW(pmap.phys_to_dmap(pmap.phys().size()), KvaError);
  RefPmap nodmap(MachineConfig{1, 1u << 20, nullptr});
  EXPECT_THROW(nodmap.phys_to_dmap(0), KvaError);
}

}  // namespace
}  // namespace kva
