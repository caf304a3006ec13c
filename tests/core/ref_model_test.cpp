// The model's rules on the reference MMU, whose TLB *is* the model's demand view: speculative
// holders, large pages, rights, global entries across a full flush, and the machinery other
// ISAs need (break-before-make, negative caching), each reporting on the broken sequence and
// silent on the correct one. Plus the bounded stale log.
#include <gtest/gtest.h>

#include "core/ref_pmap.h"
#include "test_machine.h"

namespace kva {
namespace {

using test::wired_page;

RefPmap make(RefPmapConfig r = {}, int ncpus = 4) { return RefPmap(MachineConfig{ncpus, 8u << 20, nullptr}, r); }

struct Pages {
  explicit Pages(RefPmap& p) : va(p.kva_space().start + 16 * PAGE_SIZE), a(wired_page(p.phys(), 0xAA)), b(wired_page(p.phys(), 0xBB)) {}
  vaddr_t va;
  vm_page* a;
  vm_page* b;
};

std::uint8_t byte(RefPmap& p, cpuid_t cpu, vaddr_t va) { return p.load(cpu, va, 1).at(0); }

TEST(RefModel, CapabilitiesAndFeatures) {
  RefPmap plain = make();
  const PmapCapabilities& c = plain.capabilities();
  EXPECT_EQ(c.large_page_sizes, std::vector<std::uint64_t>{RefPmap::kLargePage});
  EXPECT_EQ(c.table_levels(), 0);
  EXPECT_FALSE(c.requires_break_before_make);
  EXPECT_FALSE(c.caches_invalid_entries);
  auto f = plain.features();
  EXPECT_NE(std::find(f.begin(), f.end(), "large_2m"), f.end());
  EXPECT_EQ(std::find(f.begin(), f.end(), "bbm"), f.end());
  RefPmapConfig r;
  r.requires_break_before_make = r.negative_caching = true;
  f = make(r).features();
  EXPECT_NE(std::find(f.begin(), f.end(), "bbm"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "negative_cache"), f.end());
  for (const auto& name : f)
    EXPECT_NE(std::find(known_feature_names().begin(), known_feature_names().end(), name),
              known_feature_names().end()) << name;
  EXPECT_THROW(plain.growkernel(plain.kva_space().start), KvaError);
  EXPECT_THROW(plain.replace_table(plain.kva_space().start, 1, false), KvaError);
}

TEST(RefModel, SpeculativeHolderIsReportedButReadsTheNewPage) {
  RefPmap p = make();
  Pages pg(p);
  p.kenter(pg.va, pg.a->phys_addr);
  byte(p, 0, pg.va);
  p.kenter(pg.va, pg.b->phys_addr);
  p.invalidate_local(0, pg.va);
  EXPECT_EQ(byte(p, 3, pg.va), 0xBB) << "the reference TLB holds only what a CPU walked";
  EXPECT_EQ(p.stale_log().count(Oracle::Observed), 0u);
  ASSERT_EQ(p.stale_log().count(Holding::Speculative), 1u);
  EXPECT_NE(p.stale_log().entries()[0].rule.find("walked by cpu0"), std::string::npos)
      << p.stale_log().entries()[0].rule;
  p.invalidate_range_all(0, pg.va, 1);
  for (cpuid_t c = 0; c < 4; ++c) byte(p, c, pg.va);
  EXPECT_EQ(p.stale_log().size(), 1u);
}

TEST(RefModel, LargePageIsOneRecordAndOneInvalidationDropsIt) {
  RefPmap p = make();
  const vaddr_t L = p.kva_space().start + RefPmap::kLargePage;
  vm_page* f1 = p.phys().vm_page_alloc_aligned(RefPmap::kLargePage);
  vm_page* f2 = p.phys().vm_page_alloc_aligned(RefPmap::kLargePage);
  const std::vector<std::uint8_t> ones(8 * PAGE_SIZE, 1), twos(8 * PAGE_SIZE, 2);
  p.phys().write(f1->phys_addr, ones.data(), ones.size());
  p.phys().write(f2->phys_addr, twos.data(), twos.size());
  p.kenter_large(L, f1->phys_addr, RefPmap::kLargePage);
  byte(p, 1, L);
  EXPECT_EQ(p.tlb_model().size(), 1u) << "one record, not one per 4 KiB piece";
  p.kenter_large(L, f2->phys_addr, RefPmap::kLargePage);
  p.load(1, L + 7 * PAGE_SIZE, 1);  // never touched, still through the old 2 MiB entry
  EXPECT_EQ(p.stale_log().count(Oracle::Observed), 1u);
  EXPECT_EQ(p.stale_log().count(Oracle::Architectural), 1u);
  p.invalidate_local(1, L + RefPmap::kLargePage - PAGE_SIZE);
  p.stale_log().clear();
  p.load(1, L + 7 * PAGE_SIZE, 1);
  p.load(1, L, 1);
  EXPECT_EQ(p.stale_log().size(), 0u);
  EXPECT_THROW(p.kenter(L, f1->phys_addr), KvaError) << "a 4 KiB kenter inside a large page";
  EXPECT_THROW(p.kenter_large(L + PAGE_SIZE, f1->phys_addr, RefPmap::kLargePage), KvaError);
  EXPECT_THROW(p.kenter_large(L, f1->phys_addr, 1u << 30), KvaError);
}

TEST(RefModel, RightsNarrowedWithoutInvalidationLetTheStoreLand) {
  RefPmap p = make();
  Pages pg(p);
  p.kenter(pg.va, pg.a->phys_addr);
  const std::vector<std::uint8_t> one = {0x11};
  p.store(1, pg.va, one);
  p.protect(pg.va, 1, false);
  p.store(1, pg.va, one);
  EXPECT_EQ(p.stale_log().count(Oracle::Observed), 1u);
  EXPECT_EQ(p.stale_log().count(Oracle::Architectural), 1u);
  EXPECT_EQ(p.stale_log().rights_count(), 2u);
  p.invalidate_range_all(0, pg.va, 1);
  EXPECT_THROW(p.store(1, pg.va, one), PageFault);
  p.load(2, pg.va, 1);  // caches read-only
  p.protect(pg.va, 1, true);
  p.store(2, pg.va, one);  // re-walks: no report
  EXPECT_EQ(p.stale_log().size(), 2u);
}

TEST(RefModel, FullFlushKeepsGlobalEntriesUnlessAskedAndSaysSo) {
  RefPmap p = make();
  Pages pg(p);
  p.kenter(pg.va, pg.a->phys_addr, KenterAttrs{true, {}, {}});
  byte(p, 1, pg.va);
  p.kenter(pg.va, pg.b->phys_addr, KenterAttrs{true, {}, {}});
  p.flush_local(1);
  EXPECT_EQ(byte(p, 1, pg.va), 0xAA) << "the reference TLB really keeps the global entry";
  ASSERT_EQ(p.stale_log().count(Oracle::Architectural), 1u);
  for (const auto& r : p.stale_log().entries())
    if (r.oracle == Oracle::Architectural) EXPECT_EQ(r.rule, "ref: global entry survives a full flush");
  p.flush_local(1, true);
  EXPECT_EQ(byte(p, 1, pg.va), 0xBB);
  EXPECT_EQ(p.stats().full_flushes, 2u);
}

// arm64 rule machinery: a valid->valid change of output without break-before-make.
TEST(RefModel, BreakBeforeMakeViolationIsItsOwnOracle) {
  RefPmapConfig r;
  r.requires_break_before_make = true;
  RefPmap p = make(r);
  Pages pg(p);
  p.kenter(pg.va, pg.a->phys_addr);
  byte(p, 1, pg.va);
  p.kenter(pg.va, pg.b->phys_addr);  // make without break
  byte(p, 1, pg.va);
  byte(p, 2, pg.va);
  EXPECT_EQ(p.stale_log().count(Oracle::Bbm), 2u);
  EXPECT_EQ(p.stale_log().count(Oracle::Architectural), 0u);
  EXPECT_NE(p.stale_log().entries()[0].rule.find("break-before-make"), std::string::npos);
  // Break (invalid), without the TLBI, then make: still a violation on the CPUs that may hold it.
  const vaddr_t v2 = pg.va + PAGE_SIZE;
  p.kenter(v2, pg.a->phys_addr);
  byte(p, 3, v2);
  p.kremove(v2);
  p.kenter(v2, pg.b->phys_addr);
  byte(p, 3, v2);
  EXPECT_EQ(p.stale_log().count(Oracle::Bbm), 3u);
  // Break, TLBI everywhere, make: correct.
  const vaddr_t v3 = pg.va + 2 * PAGE_SIZE;
  p.kenter(v3, pg.a->phys_addr);
  byte(p, 0, v3);
  p.kremove(v3);
  p.invalidate_range_all(0, v3, 1);
  p.kenter(v3, pg.b->phys_addr);
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_EQ(byte(p, c, v3), 0xBB);
  EXPECT_EQ(p.stale_log().count(Oracle::Bbm), 3u);
}

TEST(RefModel, WithoutTheBbmRuleTheSameChangeIsOrdinaryStaleness) {
  RefPmap p = make();
  Pages pg(p);
  p.kenter(pg.va, pg.a->phys_addr);
  byte(p, 1, pg.va);
  p.kenter(pg.va, pg.b->phys_addr);
  byte(p, 1, pg.va);
  EXPECT_EQ(p.stale_log().count(Oracle::Bbm), 0u);
  EXPECT_EQ(p.stale_log().count(Oracle::Architectural), 1u);
}

// riscv-without-Svvptc rule machinery: a faulting walk's result stays cached until a fence.
TEST(RefModel, NegativeEntryKeepsFaultingUntilInvalidated) {
  RefPmapConfig r;
  r.negative_caching = true;
  RefPmap p = make(r);
  Pages pg(p);
  EXPECT_THROW(p.load(1, pg.va, 1), PageFault);
  p.kenter(pg.va, pg.a->phys_addr);  // invalid -> valid, no fence
  EXPECT_THROW(p.load(1, pg.va, 1), PageFault) << "the cached invalid entry still faults";
  ASSERT_EQ(p.stale_log().count(Oracle::Negative), 1u);
  EXPECT_EQ(p.stale_log().entries()[0].holding, Holding::Demand);
  EXPECT_EQ(byte(p, 2, pg.va), 0xAA) << "only the CPU that faulted cached it";
  p.invalidate_local(1, pg.va);  // the fence
  EXPECT_EQ(byte(p, 1, pg.va), 0xAA);
  EXPECT_EQ(p.stale_log().size(), 1u);
}

TEST(RefModel, WithoutNegativeCachingAFaultIsNotRemembered) {
  RefPmap p = make();
  Pages pg(p);
  EXPECT_THROW(p.load(1, pg.va, 1), PageFault);
  p.kenter(pg.va, pg.a->phys_addr);
  EXPECT_EQ(byte(p, 1, pg.va), 0xAA);
  EXPECT_EQ(p.stale_log().size(), 0u);
}

// 20,000 stale reads: every one counted, only the first reports kept in full.
TEST(RefModel, StaleLogKeepsCountsAndTheFirstReports) {
  RefPmap p = make();
  Pages pg(p);
  p.stale_log().set_capacity(10);
  p.kenter(pg.va, pg.a->phys_addr);
  byte(p, 1, pg.va);
  p.kenter(pg.va, pg.b->phys_addr);
  for (int i = 0; i < 10000; ++i) byte(p, 1, pg.va);
  EXPECT_EQ(p.stale_log().size(), 20000u);
  EXPECT_EQ(p.stale_log().count(Oracle::Observed), 10000u);
  EXPECT_EQ(p.stale_log().count(Oracle::Architectural), 10000u);
  EXPECT_EQ(p.stale_log().count(Holding::Demand), 10000u);
  EXPECT_EQ(p.stale_log().entries().size(), 10u);
  EXPECT_EQ(p.stale_log().dropped(), 19990u);
  p.stale_log().set_capacity(3);
  EXPECT_EQ(p.stale_log().entries().size(), 3u);
  p.stale_log().clear();
  EXPECT_EQ(p.stale_log().size(), 0u);
  EXPECT_EQ(p.stale_log().count(Oracle::Observed), 0u);
}

}  // namespace
}  // namespace kva
