// The arm64 rules of the architectural TLB model, each with a sequence that reports and one
// that does not: break-before-make (oracle bbm) and the machine option that makes the pmap do
// it, ASID tagging of nG entries, global entries across ASID-scoped TLBIs, last-level TLBIs
// and walk caches, blocks as one entry. QEMU ignores ASIDs and flushes far more than a TLBI
// names, so only the model shows these; the observed oracle stays silent.
#include "tests/arm64/arm64_pmap_util.h"

namespace kva::test {
namespace {

using arm64::TlbiKind;

struct Pages {
  vm_page* a;
  vm_page* b;
};

Pages two_pages(Pmap& p) { return {pattern_page(p.phys(), 0x0a), pattern_page(p.phys(), 0xb0)}; }

std::vector<std::uint8_t> bytes_of(Pmap& p, vm_page* m) { return phys_bytes(p.phys(), m->phys_addr, 16); }

// va -> m, used (so cached) by every CPU.
void cached_everywhere(Pmap& p, vaddr_t va, vm_page* m) {
  p.kenter(va, m->phys_addr);
  for (cpuid_t c = 0; c < p.ncpus(); ++c) p.load(c, va, 16);
}

void expect_every_cpu_reads(Pmap& p, vaddr_t va, vm_page* m) {
  for (cpuid_t c = 0; c < p.ncpus(); ++c) EXPECT_EQ(p.load(c, va, 16), bytes_of(p, m)) << "cpu" << c;
  EXPECT_EQ(p.stale_log().size(), 0u);
}

// pmap_kenter over a valid entry that CPU 1 uses: FreeBSD's order (store, then invalidate).
void valid_to_valid(Pmap& p, vaddr_t va, const Pages& pg) {
  p.kenter(va, pg.a->phys_addr);
  p.load(1, va, 16);
  p.kenter(va, pg.b->phys_addr);
}

TEST(Arm64Bbm, AccessInTheWindowIsReportedOnEveryPossibleHolder) {
  auto p = make_arm64(4);
  const vaddr_t va = p->kva_space().start;
  const Pages pg = two_pages(*p);
  valid_to_valid(*p, va, pg);
  p->load(1, va, 16);  // demand holder
  p->load(3, va, 16);  // never used it: a speculative holder
  ASSERT_EQ(p->stale_log().count(Oracle::Bbm), 2u);
  EXPECT_EQ(p->stale_log().count(Oracle::Architectural), 0u);
  const auto& e = p->stale_log().entries();
  const auto bbm = std::find_if(e.begin(), e.end(), [](const StaleAccess& s) { return s.oracle == Oracle::Bbm; });
  EXPECT_NE(bbm->rule.find("break-before-make"), std::string::npos) << bbm->rule;
  EXPECT_EQ(bbm->cached_pa, pg.a->phys_addr);
  EXPECT_EQ(p->stale_log().count(Holding::Demand), 1u);
  EXPECT_EQ(p->stale_log().count(Holding::Speculative), 1u);
  // The TLBI that follows in pmap_kenter ends the window everywhere.
  p->stale_log().clear();
  p->invalidate_range_all(0, va, 1);
  expect_every_cpu_reads(*p, va, pg.b);
}

TEST(Arm64Bbm, TheBreakBeforeMakeSequenceIsSilent) {
  auto p = make_arm64(4);
  const vaddr_t va = p->kva_space().start;
  const Pages pg = two_pages(*p);
  cached_everywhere(*p, va, pg.a);
  p->kremove(va);                     // invalid
  p->invalidate_range_all(2, va, 1);  // DSB, TLBI, DSB
  p->kenter(va, pg.b->phys_addr);     // new entry
  expect_every_cpu_reads(*p, va, pg.b);
}

TEST(Arm64Bbm, WithoutTheTlbiTheBreakIsIncomplete) {
  auto p = make_arm64(2);
  const vaddr_t va = p->kva_space().start;
  const Pages pg = two_pages(*p);
  p->kenter(va, pg.a->phys_addr);
  p->load(1, va, 16);
  p->kremove(va);
  p->kenter(va, pg.b->phys_addr);
  p->load(1, va, 16);
  EXPECT_EQ(p->stale_log().count(Oracle::Bbm), 1u);
}

// The same kenter sequence with and without MachineConfig::break_before_make: the difference
// is exactly the bbm report (and the emulated CPU's stale read).
TEST(Arm64Bbm, MachineOptionMakesThePmapBreakBeforeMake) {
  for (bool bbm_option : {false, true}) {
    auto p = make_arm64(4, 8u << 20, bbm_option);
    const vaddr_t va = p->kva_space().start;
    const Pages pg = two_pages(*p);
    valid_to_valid(*p, va, pg);
    const auto got = p->load(1, va, 16);
    if (!bbm_option) {
      EXPECT_EQ(got, bytes_of(*p, pg.a)) << "the old entry, really cached";
      EXPECT_EQ(p->stale_log().count(Oracle::Bbm), 1u);
      EXPECT_EQ(p->stats().broadcasts, 0u);
    } else {
      EXPECT_EQ(got, bytes_of(*p, pg.b));
      EXPECT_EQ(p->stale_log().size(), 0u);
      EXPECT_EQ(p->stats().broadcasts, 1u) << "invalid -> TLBI -> new";
    }
  }
}

TEST(Arm64Bbm, MachineOptionKeepsQenterToOneBroadcast) {
  auto p = make_arm64(4, 8u << 20, true);
  const vaddr_t va = p->kva_space().start;
  const paddr_t a[] = {pattern_page(p->phys(), 1)->phys_addr, pattern_page(p->phys(), 2)->phys_addr};
  const paddr_t b[] = {pattern_page(p->phys(), 3)->phys_addr, pattern_page(p->phys(), 4)->phys_addr};
  p->qenter(0, va, a);
  for (cpuid_t c = 0; c < 4; ++c) p->load(c, va + PAGE_SIZE, 8);
  p->qenter(0, va, b);
  EXPECT_EQ(p->stats().broadcasts, 1u) << "the break's broadcast; nothing valid is replaced after it";
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_EQ(p->load(c, va + PAGE_SIZE, 8), phys_bytes(p->phys(), b[1], 8));
  EXPECT_EQ(p->stale_log().size(), 0u);
  // A large page replaced under the option is broken first too.
  const std::uint64_t two_m = 2u << 20;
  const vaddr_t L = (p->growable_kva().start + two_m - 1) & ~(two_m - 1);
  vm_page* f1 = p->phys().vm_page_alloc_aligned(two_m);
  vm_page* f2 = p->phys().vm_page_alloc_aligned(two_m);
  p->kenter_large(L, f1->phys_addr, two_m);
  p->load(2, L + PAGE_SIZE, 8);
  p->kenter_large(L, f2->phys_addr, two_m);
  EXPECT_EQ(p->load(2, L + PAGE_SIZE, 8), phys_bytes(p->phys(), f2->phys_addr + PAGE_SIZE, 8));
  EXPECT_EQ(p->stale_log().size(), 0u);
}

// nG entries carry the current ASID (0). A TLBI by VA for another ASID leaves them, though QEMU
// flushed them (the observed oracle stays silent); the all-ASID form drops them; a global
// entry goes with a TLBI by VA whatever its ASID operand.
TEST(Arm64Asid, TlbiByVaRemovesOnlyItsAsidsEntries) {
  auto p = make_arm64(2);
  const vaddr_t ng = p->kva_space().start, g = ng + PAGE_SIZE;
  const Pages pg = two_pages(*p);
  p->kenter(ng, pg.a->phys_addr, KenterAttrs{false, {}, {}});
  p->kenter(g, pg.a->phys_addr, KenterAttrs{true, {}, {}});
  p->load(1, ng, 16);
  p->load(1, g, 16);
  p->kremove(ng);
  p->kremove(g);
  p->kenter(ng, pg.b->phys_addr, KenterAttrs{false, {}, {}});
  p->kenter(g, pg.b->phys_addr, KenterAttrs{true, {}, {}});
  p->tlbi(1, tlbi_op(TlbiKind::Va), ng, 2, /*asid=*/5);
  EXPECT_EQ(p->load(1, g, 16), bytes_of(*p, pg.b));
  EXPECT_EQ(p->stale_log().size(), 0u) << "the global entry matched ASID 5's TLBI by VA";
  EXPECT_EQ(p->load(1, ng, 16), bytes_of(*p, pg.b)) << "QEMU flushed it anyway";
  EXPECT_EQ(p->stale_log().count(Oracle::Observed), 0u);
  EXPECT_EQ(model_reports(*p), 1u) << "ASID 0's nG entry survives ASID 5's TLBI";
  p->stale_log().clear();
  p->tlbi(1, tlbi_op(TlbiKind::VaAllAsids), ng, 1);
  p->load(1, ng, 16);
  EXPECT_EQ(p->stale_log().size(), 0u);
}

TEST(Arm64Asid, TlbiByVaIsPreciseAboutTheVa) {
  auto p = make_arm64(2);
  const vaddr_t va = p->kva_space().start;
  const Pages pg = two_pages(*p);
  for (int i = 0; i < 2; ++i) {
    p->kenter(va + i * PAGE_SIZE, pg.a->phys_addr);
    p->load(1, va + i * PAGE_SIZE, 8);
    p->kremove(va + i * PAGE_SIZE);
    p->kenter(va + i * PAGE_SIZE, pg.b->phys_addr);
  }
  p->tlbi(1, tlbi_op(TlbiKind::VaAllAsidsLast), va, 1);
  p->load(1, va, 8);
  EXPECT_EQ(model_reports(*p), 0u);
  p->load(1, va + PAGE_SIZE, 8);
  EXPECT_EQ(model_reports(*p), 1u) << "the next page was not named";
  EXPECT_EQ(p->stale_log().count(Oracle::Observed), 0u) << "QEMU flushed it anyway";
}

// flush_local is TLBI ASIDE1 of the current ASID: non-global entries go, global ones stay
// (the report names the rule); with `include_global` it is VMALLE1.
TEST(Arm64Asid, AsidScopedFlushKeepsGlobalEntries) {
  auto p = make_arm64(2);
  const vaddr_t ng = p->kva_space().start, g = ng + PAGE_SIZE;
  const Pages pg = two_pages(*p);
  for (vaddr_t va : {ng, g}) {
    const KenterAttrs attrs{va == g, {}, {}};
    p->kenter(va, pg.a->phys_addr, attrs);
    p->load(1, va, 8);
    p->kremove(va);
    p->kenter(va, pg.b->phys_addr, attrs);
  }
  p->flush_local(1);
  EXPECT_EQ(p->stats().full_flushes, 1u);
  p->load(1, ng, 8);
  EXPECT_EQ(model_reports(*p), 0u);
  p->load(1, g, 8);
  ASSERT_EQ(model_reports(*p), 1u);
  EXPECT_NE(p->stale_log().entries().back().rule.find("global entry (nG=0) survives TLBI ASIDE1"), std::string::npos)
      << p->stale_log().entries().back().rule;
  p->stale_log().clear();
  p->flush_local(1, /*include_global=*/true);
  p->load(1, g, 8);
  EXPECT_EQ(p->stale_log().size(), 0u);
}

// cpu 1 uses va -> a; the L3 table is replaced by a copy in which va -> b (no TLBI yet).
void replace_table_under_cpu1(Pmap& p, vaddr_t va, const Pages& pg) {
  p.kenter(va, pg.a->phys_addr);
  p.load(1, va, 8);
  p.replace_table(va, 1, /*copy=*/true);
  p.kremove(va);
  p.kenter(va, pg.b->phys_addr);
}

// A last-level TLBI leaves walk-cache entries: after a page table is replaced, a CPU may walk
// through the old one. The pmap itself invalidates all levels then (as FreeBSD does after
// replacing a page-table page), which is silent.
TEST(Arm64WalkCache, LastLevelTlbiLeavesTheOldTableEntry) {
  for (bool last_level : {true, false}) {
    auto p = make_arm64(2);
    const vaddr_t va = p->kva_space().start + 5 * PAGE_SIZE;
    const Pages pg = two_pages(*p);
    replace_table_under_cpu1(*p, va, pg);
    p->tlbi(0, tlbi_op(last_level ? TlbiKind::VaAllAsidsLast : TlbiKind::VaAllAsids, true), va, 1);
    p->load(1, va, 8);
    if (last_level) {
      ASSERT_EQ(p->stale_log().count(Oracle::Architectural), 1u);
      const StaleAccess& s = p->stale_log().entries().front();
      EXPECT_TRUE(s.via_table);
      EXPECT_EQ(s.cached_pa, pg.a->phys_addr) << "the walk through the old L3 table";
      EXPECT_NE(s.rule.find("walk-cache entry survives a last-level TLBI"), std::string::npos) << s.rule;
    } else {
      EXPECT_EQ(p->stale_log().size(), 0u);
    }
  }
}

TEST(Arm64WalkCache, ThePmapInvalidatesAllLevelsAfterReplacingATable) {
  std::ostringstream trace;
  auto p = make_arm64(2, 8u << 20, false, &trace);
  const vaddr_t va = p->kva_space().start + 5 * PAGE_SIZE;
  const Pages pg = two_pages(*p);
  replace_table_under_cpu1(*p, va, pg);
  p->invalidate_range_all(0, va, 1);
  p->load(1, va, 8);
  EXPECT_EQ(p->stale_log().size(), 0u);
  EXPECT_NE(trace.str().find("tlbi vaae1is"), std::string::npos);
  p->invalidate_range_all(0, va, 1);  // nothing changed since: last level again
  EXPECT_NE(trace.str().find("tlbi vaale1is"), std::string::npos);
}

// A block is one entry: a TLBI by VA anywhere inside it drops it, including the 4K pieces the
// CPU never touched.
TEST(Arm64Block, TlbiAnywhereInsideDropsTheWholeBlock) {
  auto p = make_arm64(2, 16u << 20);
  const std::uint64_t two_m = 2u << 20;
  const vaddr_t L = (p->growable_kva().start + two_m - 1) & ~(two_m - 1);
  vm_page* f1 = p->phys().vm_page_alloc_aligned(two_m);
  vm_page* f2 = p->phys().vm_page_alloc_aligned(two_m);
  p->kenter_large(L, f1->phys_addr, two_m);
  p->load(1, L, 8);
  p->kremove(L);
  p->kenter_large(L, f2->phys_addr, two_m);
  p->load(1, L + 300 * PAGE_SIZE, 8);  // a piece never touched: the same entry
  EXPECT_EQ(model_reports(*p), 1u);
  p->stale_log().clear();
  p->tlbi(1, tlbi_op(TlbiKind::VaAllAsidsLast), L + 17 * PAGE_SIZE, 1);
  p->load(1, L + 300 * PAGE_SIZE, 8);
  p->load(1, L, 8);
  EXPECT_EQ(p->stale_log().size(), 0u);
}

}  // namespace
}  // namespace kva::test
