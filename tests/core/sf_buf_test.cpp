#include <gtest/gtest.h>

#include "core/sf_buf.h"
#include "test_machine.h"

namespace kva {
namespace {

using test::SfBufMachine;
using test::wired_page;

constexpr std::uint8_t kA = 0xAA, kB = 0xBB, kC = 0xCC;

// --- direct-map mode

TEST(SfBufDmap, ReturnsDirectMapAddressWithoutTlbWork) {
  SfBufMachine mc(2, 4, /*direct_map=*/true);
  EXPECT_TRUE(mc.sfb.direct_map_mode());
  EXPECT_TRUE(mc.sfb.pool().empty());
  EXPECT_EQ(mc.sfb.stats().nsfbufs, 0);
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  sf_buf* sf = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, SFB_DEFAULT);
  ASSERT_NE(sf, nullptr);
  EXPECT_EQ(mc.sfb.sf_buf_kva(sf), mc.pmap.phys_to_dmap(a->phys_addr));
  EXPECT_EQ(mc.sfb.sf_buf_page(sf), a);
  EXPECT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[1], a, SFB_DEFAULT), sf);  // one object per page
  EXPECT_EQ(sf->ref_count, 2);
  EXPECT_EQ(mc.read_byte(1, sf->kva), kA);
  mc.sfb.sf_buf_free(*mc.td[0], sf);
  mc.sfb.sf_buf_free(*mc.td[1], sf);
  EXPECT_THROW(mc.sfb.sf_buf_free(*mc.td[1], sf), KvaError);
  const PmapStats& ps = mc.pmap.stats();
  EXPECT_EQ(ps.local_invalidations + ps.shootdowns + ps.ipis, 0u);
  EXPECT_EQ(mc.sfb.stats().local_invalidations + mc.sfb.stats().shootdowns, 0u);
  EXPECT_EQ(mc.pmap.stale_log().size(), 0u);
}

// --- pool mode: hash, reference counts, LRU

TEST(SfBufPool, PoolIsContiguousKvaAllFree) {
  SfBufMachine mc(2, 4);
  ASSERT_EQ(mc.sfb.pool().size(), 4u);
  EXPECT_EQ(mc.sfb.stats().nsfbufs, 4);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(mc.sfb.pool()[i]->kva, mc.pmap.kva_space().start + i * PAGE_SIZE);
    EXPECT_EQ(mc.sfb.pool()[i]->m, nullptr);
    EXPECT_EQ(mc.sfb.pool()[i]->ref_count, 0);
  }
}

TEST(SfBufPool, HashHitSharesTheSfBufAndCountsReferences) {
  SfBufMachine mc(2, 4);
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  sf_buf* sf = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, SFB_DEFAULT);
  EXPECT_EQ(mc.pmap.extract(sf->kva), a->phys_addr);
  EXPECT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[1], a, SFB_DEFAULT), sf);
  EXPECT_EQ(sf->ref_count, 2);
  mc.sfb.sf_buf_ref(sf);
  EXPECT_EQ(sf->ref_count, 3);
  EXPECT_EQ(mc.sfb.stats().hash_hits, 1u);
  EXPECT_EQ(mc.sfb.stats().nsfbufsused, 1);
  mc.sfb.sf_buf_free(*mc.td[0], sf);
  mc.sfb.sf_buf_free(*mc.td[0], sf);
  EXPECT_EQ(mc.sfb.stats().nsfbufsused, 1);
  mc.sfb.sf_buf_free(*mc.td[1], sf);
  EXPECT_EQ(sf->ref_count, 0);
  EXPECT_EQ(mc.sfb.stats().nsfbufsused, 0);
  EXPECT_THROW(mc.sfb.sf_buf_free(*mc.td[0], sf), KvaError);
  EXPECT_THROW(mc.sfb.sf_buf_ref(sf), KvaError);
}

TEST(SfBufPool, ReallocOfFreedPageIsAHashHitWithoutRemapOrInvalidation) {
  SfBufMachine mc(2, 4);
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  sf_buf* sf = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, SFB_DEFAULT);
  EXPECT_EQ(mc.read_byte(0, sf->kva), kA);
  EXPECT_EQ(mc.read_byte(1, sf->kva), kA);
  mc.sfb.sf_buf_free(*mc.td[0], sf);
  EXPECT_TRUE(mc.pmap.pte(sf->kva).valid);  // the mapping is kept while on the free list
  const PmapStats before = mc.pmap.stats();
  EXPECT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[1], a, SFB_DEFAULT), sf);
  EXPECT_EQ(mc.sfb.stats().remaps, 0u);
  EXPECT_EQ(mc.sfb.stats().hash_hits, 1u);
  EXPECT_EQ(mc.pmap.stats().local_invalidations, before.local_invalidations);
  EXPECT_EQ(mc.pmap.stats().shootdowns, before.shootdowns);
  EXPECT_EQ(mc.sfb.stats().nsfbufsused, 1);
}

TEST(SfBufPool, FreeListIsLru) {
  SfBufMachine mc(1, 2);
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  vm_page* b = wired_page(mc.pmap.phys(), kB);
  vm_page* c = wired_page(mc.pmap.phys(), kC);
  sf_buf* sa = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, SFB_DEFAULT);
  sf_buf* sb = mc.sfb.sf_buf_alloc_now(*mc.td[0], b, SFB_DEFAULT);
  ASSERT_NE(sa, sb);
  mc.sfb.sf_buf_free(*mc.td[0], sb);  // b freed first: it is the least recently used
  mc.sfb.sf_buf_free(*mc.td[0], sa);
  sf_buf* sc = mc.sfb.sf_buf_alloc_now(*mc.td[0], c, SFB_DEFAULT);
  EXPECT_EQ(sc, sb);
  EXPECT_EQ(mc.sfb.stats().remaps, 1u);
  // a is still cached in the other slot: a hash hit. b was evicted and no slot is free.
  EXPECT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[0], a, SFB_DEFAULT), sa);
  EXPECT_EQ(mc.sfb.stats().hash_hits, 1u);
  EXPECT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[0], b, SFB_NOWAIT), nullptr);
}

TEST(SfBufPool, GenerationCountsRecyclesNotHashHits) {
  SfBufMachine mc(1, 1);
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  vm_page* b = wired_page(mc.pmap.phys(), kB);
  sf_buf* sf = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, SFB_DEFAULT);
  const std::uint64_t first = sf->generation;
  mc.sfb.sf_buf_free(*mc.td[0], sf);
  EXPECT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[0], a, SFB_DEFAULT), sf);  // hash hit: same mapping
  EXPECT_EQ(sf->generation, first);
  mc.sfb.sf_buf_free(*mc.td[0], sf);
  EXPECT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[0], b, SFB_DEFAULT), sf);  // the slot, recycled
  EXPECT_EQ(sf->generation, first + 1);
}

TEST(SfBufPool, UsedAndPeakCounters) {
  SfBufMachine mc(1, 4);
  std::vector<sf_buf*> bufs;
  for (int i = 0; i < 3; ++i)
    bufs.push_back(mc.sfb.sf_buf_alloc_now(*mc.td[0], wired_page(mc.pmap.phys(), 1), 0));
  EXPECT_EQ(mc.sfb.stats().nsfbufsused, 3);
  mc.sfb.sf_buf_free(*mc.td[0], bufs[0]);
  mc.sfb.sf_buf_free(*mc.td[0], bufs[1]);
  EXPECT_EQ(mc.sfb.stats().nsfbufsused, 1);
  EXPECT_EQ(mc.sfb.stats().nsfbufspeak, 3);
  mc.sfb.sf_buf_alloc_now(*mc.td[0], wired_page(mc.pmap.phys(), 1), 0);
  EXPECT_EQ(mc.sfb.stats().nsfbufsused, 2);
  EXPECT_EQ(mc.sfb.stats().nsfbufspeak, 3);
}

// --- TLB protocol

TEST(SfBufPool, FirstMappingInvalidatesEveryCpuOnce) {
  SfBufMachine mc(4, 1);
  sf_buf* sf = mc.sfb.sf_buf_alloc_now(*mc.td[2], wired_page(mc.pmap.phys(), kA), 0);
  EXPECT_EQ(sf->cpumask, mc.pmap.all_cpus());
  EXPECT_EQ(mc.sfb.stats().local_invalidations, 1u);
  EXPECT_EQ(mc.sfb.stats().shootdowns, 1u);
  EXPECT_EQ(mc.sfb.stats().shootdown_targets, 3u);
  EXPECT_EQ(mc.pmap.stats().shootdown_targets, 3u);
}

TEST(SfBufPool, RecycleToNewPageShootsDownCpusThatUsedIt) {
  SfBufMachine mc(2, 1);
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  vm_page* b = wired_page(mc.pmap.phys(), kB);
  sf_buf* sf = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, 0);
  EXPECT_EQ(mc.read_byte(0, sf->kva), kA);
  EXPECT_EQ(mc.read_byte(1, sf->kva), kA);
  mc.sfb.sf_buf_free(*mc.td[0], sf);
  const PmapStats before = mc.pmap.stats();
  EXPECT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[0], b, 0), sf);
  EXPECT_EQ(sf->m, b);
  EXPECT_EQ(mc.sfb.stats().remaps, 1u);
  EXPECT_EQ(mc.pmap.stats().shootdowns, before.shootdowns + 1);
  EXPECT_EQ(mc.pmap.stats().shootdown_targets, before.shootdown_targets + 1);
  EXPECT_EQ(mc.pmap.stats().local_invalidations, before.local_invalidations + 2);  // cpu0, cpu1
  EXPECT_EQ(mc.read_byte(1, sf->kva), kB);
  EXPECT_EQ(mc.read_byte(0, sf->kva), kB);
  EXPECT_EQ(mc.pmap.stale_log().size(), 0u);
}

TEST(SfBufPool, AbitOptimizationSkipsInvalidationOnlyForUnusedMapping) {
  for (bool accessed : {false, true}) {
    SCOPED_TRACE(accessed ? "old mapping accessed" : "old mapping never accessed");
    SfBufMachine mc(2, 1);
    vm_page* a = wired_page(mc.pmap.phys(), kA);
    vm_page* b = wired_page(mc.pmap.phys(), kB);
    sf_buf* sf = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, 0);
    if (accessed) {
      EXPECT_EQ(mc.read_byte(1, sf->kva), kA);
    }
    EXPECT_EQ(mc.pmap.pte(sf->kva).accessed, accessed);
    mc.sfb.sf_buf_free(*mc.td[0], sf);
    const PmapStats before = mc.pmap.stats();
    mc.sfb.sf_buf_alloc_now(*mc.td[0], b, 0);
    const std::uint64_t invalidations = mc.pmap.stats().local_invalidations - before.local_invalidations;
    const std::uint64_t shootdowns = mc.pmap.stats().shootdowns - before.shootdowns;
    EXPECT_EQ(invalidations, accessed ? 2u : 0u);
    EXPECT_EQ(shootdowns, accessed ? 1u : 0u);
    EXPECT_EQ(mc.sfb.stats().invalidations_skipped_unaccessed, accessed ? 0u : 1u);
    EXPECT_EQ(mc.read_byte(1, sf->kva), kB);
    EXPECT_EQ(mc.read_byte(0, sf->kva), kB);
    EXPECT_EQ(mc.pmap.stale_log().size(), 0u);
  }
}

TEST(SfBufPool, CpuPrivateThenSharedFromOtherCpuShootsDownOnlyCpusOutsideCpumask) {
  SfBufMachine mc(4, 1);
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  vm_page* b = wired_page(mc.pmap.phys(), kB);
  sf_buf* sf = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, 0);
  for (int c = 0; c < 4; ++c) EXPECT_EQ(mc.read_byte(c, sf->kva), kA);
  mc.sfb.sf_buf_free(*mc.td[0], sf);

  const PmapStats before_private = mc.pmap.stats();
  ASSERT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[0], b, SFB_CPUPRIVATE), sf);
  EXPECT_EQ(sf->cpumask, CpuSet::only(0));
  EXPECT_EQ(mc.pmap.stats().shootdowns, before_private.shootdowns);  // private: nobody else
  EXPECT_EQ(mc.read_byte(0, sf->kva), kB);
  // The ISA still allows the other CPUs to hold page a for this kva: that is allowed while private.
  EXPECT_EQ(mc.pmap.tlb_model().lookup(2, sf->kva)->pa, a->phys_addr);

  const PmapStats before = mc.pmap.stats();
  ASSERT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[1], b, SFB_DEFAULT), sf);  // hash hit, shared
  EXPECT_EQ(mc.pmap.stats().shootdowns, before.shootdowns + 1);
  EXPECT_EQ(mc.pmap.stats().shootdown_targets, before.shootdown_targets + 2);  // cpus 2 and 3
  EXPECT_EQ(mc.pmap.stats().ipis, before.ipis + 2);
  EXPECT_EQ(sf->cpumask, mc.pmap.all_cpus());
  EXPECT_FALSE(mc.pmap.tlb_model().lookup(2, sf->kva).has_value());
  EXPECT_FALSE(mc.pmap.tlb_model().lookup(3, sf->kva).has_value());
  for (int c = 0; c < 4; ++c) EXPECT_EQ(mc.read_byte(c, sf->kva), kB) << "cpu " << c;
  EXPECT_EQ(mc.pmap.stale_log().size(), 0u);
}

// --- fault injection: each fault makes CPU 1 read page a through a kva now mapping page b.

struct StaleScenario {
  const char* name;
  Fault fault;
  cpuid_t recycling_cpu;      // CPU whose sf_buf_alloc recycles the slot to page b
  bool private_then_shared;   // b first mapped SFB_CPUPRIVATE on cpu 0, then shared (hash hit)
};

void PrintTo(const StaleScenario& sc, std::ostream* os) { *os << sc.name; }

struct StaleOutcome {
  std::uint8_t seen_by_cpu1;
  std::size_t observed, architectural;
  std::vector<StaleAccess> entries;
};

StaleOutcome run_scenario(const StaleScenario& sc, bool inject) {
  SfBufMachine mc(2, 1);
  if (inject) mc.pmap.faults().enable(sc.fault);
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  vm_page* b = wired_page(mc.pmap.phys(), kB);
  sf_buf* sf = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, 0);
  EXPECT_EQ(mc.read_byte(1, sf->kva), kA);  // cpu 1 caches kva -> a
  mc.sfb.sf_buf_free(*mc.td[0], sf);
  if (sc.private_then_shared) {
    mc.sfb.sf_buf_alloc_now(*mc.td[0], b, SFB_CPUPRIVATE);
    EXPECT_EQ(mc.read_byte(0, sf->kva), kB);
    mc.sfb.sf_buf_free(*mc.td[0], sf);
    mc.sfb.sf_buf_alloc_now(*mc.td[0], b, SFB_DEFAULT);  // hash hit, now shared
  } else {
    mc.sfb.sf_buf_alloc_now(*mc.td[sc.recycling_cpu], b, 0);
  }
  EXPECT_EQ(mc.pmap.extract(sf->kva), b->phys_addr);
  mc.pmap.set_step("cpu1 reads b");
  const std::uint8_t seen = mc.read_byte(1, sf->kva);
  const StaleLog& log = mc.pmap.stale_log();
  return {seen, log.count(Oracle::Observed), log.count(Oracle::Architectural), log.entries()};
}

class SfBufFault : public ::testing::TestWithParam<StaleScenario> {};

TEST_P(SfBufFault, WithoutFaultCpu1ReadsFreshData) {
  const StaleOutcome out = run_scenario(GetParam(), /*inject=*/false);
  EXPECT_EQ(out.seen_by_cpu1, kB);
  EXPECT_EQ(out.observed + out.architectural, 0u);
}

TEST_P(SfBufFault, WithFaultCpu1ReadsStaleDataAndBothOraclesReportIt) {
  const StaleOutcome out = run_scenario(GetParam(), /*inject=*/true);
  EXPECT_EQ(out.seen_by_cpu1, kA);
  EXPECT_EQ(out.observed, 1u);
  EXPECT_EQ(out.architectural, 1u);
  for (const StaleAccess& s : out.entries) {
    EXPECT_EQ(s.cpu, 1);
    EXPECT_EQ(s.kind, AccessKind::Load);
    EXPECT_EQ(s.step, "cpu1 reads b");
    ASSERT_TRUE(s.cached_pa.has_value());
    ASSERT_TRUE(s.expected_pa.has_value());
    EXPECT_NE(*s.cached_pa, *s.expected_pa);
    if (s.oracle == Oracle::Observed) {
      EXPECT_EQ(s.observed, std::vector<std::uint8_t>{kA});
      EXPECT_EQ(s.expected, std::vector<std::uint8_t>{kB});
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Faults, SfBufFault,
    ::testing::Values(StaleScenario{"drop_ipi", Fault::DropShootdownIpi, 0, false},
                      StaleScenario{"keep_cpumask", Fault::KeepCpumaskOnRemap, 0, false},
                      StaleScenario{"cpuprivate_sticky", Fault::CpuPrivateSticky, 0, true},
                      StaleScenario{"skip_abit_check", Fault::SkipAbitCheck, 0, false},
                      StaleScenario{"skip_local_inval", Fault::SkipLocalInvalidation, 1, false}),
    [](const auto& info) { return std::string(info.param.name); });

// --- sleeping for a free sf_buf

TEST(SfBufSleep, WaitsForFreeSfBufAndWakesOnFree) {
  SfBufMachine mc(2, 1);
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  vm_page* b = wired_page(mc.pmap.phys(), kB);
  sf_buf* sa = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, 0);
  sf_buf* got = nullptr;
  bool called = false;
  EXPECT_FALSE(mc.sfb.sf_buf_alloc(*mc.td[1], b, 0, [&](sf_buf* s) { got = s; called = true; }));
  EXPECT_FALSE(called);
  EXPECT_EQ(mc.td[1]->state(), Thread::State::Sleeping);
  EXPECT_STREQ(mc.td[1]->wmesg(), "sfbufa");
  EXPECT_EQ(mc.sfb.stats().sf_allocwait, 1u);
  EXPECT_EQ(mc.sched.run(), 0u);  // nobody freed anything
  mc.sfb.sf_buf_free(*mc.td[0], sa);
  EXPECT_EQ(mc.td[1]->state(), Thread::State::Runnable);
  EXPECT_EQ(mc.sched.run(), 1u);
  ASSERT_TRUE(called);
  EXPECT_EQ(got, sa);
  EXPECT_EQ(got->m, b);
  EXPECT_EQ(mc.read_byte(1, got->kva), kB);
  EXPECT_EQ(mc.sfb.stats().nsfbufsused, 1);
  EXPECT_EQ(mc.sfb.stats().sf_allocfail, 0u);
  EXPECT_EQ(mc.pmap.stale_log().size(), 0u);
}

TEST(SfBufSleep, WakeupWakesAllWaitersAndLosersSleepAgain) {
  SfBufMachine mc(3, 1, false, /*seed=*/5);
  sf_buf* held = mc.sfb.sf_buf_alloc_now(*mc.td[0], wired_page(mc.pmap.phys(), kA), 0);
  int completed = 0;
  mc.sfb.sf_buf_alloc(*mc.td[1], wired_page(mc.pmap.phys(), kB), 0, [&](sf_buf*) { ++completed; });
  mc.sfb.sf_buf_alloc(*mc.td[2], wired_page(mc.pmap.phys(), kC), 0, [&](sf_buf*) { ++completed; });
  EXPECT_EQ(mc.sfb.stats().sf_allocwait, 2u);
  mc.sfb.sf_buf_free(*mc.td[0], held);
  EXPECT_EQ(mc.sched.run(), 2u);  // both resumed; one won, one went back to sleep
  EXPECT_EQ(completed, 1);
  EXPECT_EQ(mc.sfb.stats().sf_allocwait, 3u);
  const int sleeping = (mc.td[1]->state() == Thread::State::Sleeping) +
                       (mc.td[2]->state() == Thread::State::Sleeping);
  EXPECT_EQ(sleeping, 1);
}

TEST(SfBufSleep, NowaitReturnsNullAndCountsFailure) {
  SfBufMachine mc(1, 1);
  mc.sfb.sf_buf_alloc_now(*mc.td[0], wired_page(mc.pmap.phys(), kA), 0);
  EXPECT_EQ(mc.sfb.sf_buf_alloc_now(*mc.td[0], wired_page(mc.pmap.phys(), kB), SFB_NOWAIT), nullptr);
  EXPECT_EQ(mc.sfb.stats().sf_allocfail, 1u);
  EXPECT_EQ(mc.sfb.stats().sf_allocwait, 0u);
  EXPECT_EQ(mc.td[0]->state(), Thread::State::Idle);
}

TEST(SfBufSleep, CatchSleepInterruptedBySignalReturnsNull) {
  SfBufMachine mc(2, 1);
  sf_buf* held = mc.sfb.sf_buf_alloc_now(*mc.td[0], wired_page(mc.pmap.phys(), kA), 0);
  sf_buf* got = held;
  bool called = false;
  mc.sfb.sf_buf_alloc(*mc.td[1], wired_page(mc.pmap.phys(), kB), SFB_CATCH,
                      [&](sf_buf* s) { got = s; called = true; });
  mc.sched.signal(*mc.td[1]);
  mc.sched.run();
  ASSERT_TRUE(called);
  EXPECT_EQ(got, nullptr);
  EXPECT_EQ(mc.sfb.stats().sf_allocfail, 1u);
  // The interrupted waiter is gone: freeing wakes nobody and the slot stays free.
  mc.sfb.sf_buf_free(*mc.td[0], held);
  EXPECT_EQ(mc.sched.run(), 0u);
  EXPECT_EQ(mc.sfb.stats().nsfbufsused, 0);
}

TEST(SfBufSleep, PendingSignalFailsCatchAllocationAtOnce) {
  SfBufMachine mc(2, 1);
  mc.sfb.sf_buf_alloc_now(*mc.td[0], wired_page(mc.pmap.phys(), kA), 0);
  mc.sched.signal(*mc.td[1]);
  sf_buf* got = reinterpret_cast<sf_buf*>(1);
  EXPECT_TRUE(mc.sfb.sf_buf_alloc(*mc.td[1], wired_page(mc.pmap.phys(), kB), SFB_CATCH,
                                  [&](sf_buf* s) { got = s; }));
  EXPECT_EQ(got, nullptr);
  EXPECT_EQ(mc.sfb.stats().sf_allocfail, 1u);
}

TEST(SfBufSleep, SignalDoesNotInterruptUncatchableWait) {
  SfBufMachine mc(2, 1);
  sf_buf* held = mc.sfb.sf_buf_alloc_now(*mc.td[0], wired_page(mc.pmap.phys(), kA), 0);
  sf_buf* got = nullptr;
  mc.sfb.sf_buf_alloc(*mc.td[1], wired_page(mc.pmap.phys(), kB), 0, [&](sf_buf* s) { got = s; });
  mc.sched.signal(*mc.td[1]);
  EXPECT_EQ(mc.sched.run(), 0u);
  EXPECT_EQ(mc.td[1]->state(), Thread::State::Sleeping);
  mc.sfb.sf_buf_free(*mc.td[0], held);
  mc.sched.run();
  EXPECT_EQ(got, held);
}

TEST(SfBufSleep, WaiterFindsPageMappedWhileItSleptAndSharesIt) {
  SfBufMachine mc(3, 1);
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  vm_page* b = wired_page(mc.pmap.phys(), kB);
  sf_buf* held = mc.sfb.sf_buf_alloc_now(*mc.td[0], a, 0);
  sf_buf* got = nullptr;
  mc.sfb.sf_buf_alloc(*mc.td[1], b, 0, [&](sf_buf* s) { got = s; });
  mc.sfb.sf_buf_free(*mc.td[0], held);  // td1 runnable, but td2 gets there first
  sf_buf* other = mc.sfb.sf_buf_alloc_now(*mc.td[2], b, 0);
  mc.sched.run();
  EXPECT_EQ(got, other);  // re-checked the hash: one mapping of b, two references
  EXPECT_EQ(other->ref_count, 2);
}

// --- misuse

TEST(SfBufMisuse, ErrorsInsteadOfUndefinedBehaviour) {
  SfBufMachine mc(2, 1);
  Thread& unpinned = mc.sched.thread_create("unpinned", 0, /*pinned=*/false);
  vm_page* unwired = mc.pmap.phys().vm_page_alloc();
  vm_page* a = wired_page(mc.pmap.phys(), kA);
  EXPECT_THROW(mc.sfb.sf_buf_alloc_now(*mc.td[0], nullptr, 0), KvaError);
  EXPECT_THROW(mc.sfb.sf_buf_alloc_now(*mc.td[0], unwired, 0), KvaError);
  EXPECT_THROW(mc.sfb.sf_buf_alloc_now(*mc.td[0], a, 0x40), KvaError);
  EXPECT_THROW(mc.sfb.sf_buf_alloc_now(unpinned, a, SFB_CPUPRIVATE), KvaError);
  EXPECT_NE(mc.sfb.sf_buf_alloc_now(unpinned, a, 0), nullptr);  // shared use needs no pin
  Thread& far = mc.sched.thread_create("far", 5);
  EXPECT_THROW(mc.sfb.sf_buf_alloc_now(far, a, 0), KvaError);  // machine has 2 CPUs
  // Pool is full: a blocking sf_buf_alloc_now would sleep; a sleeping thread is busy.
  EXPECT_THROW(mc.sfb.sf_buf_alloc_now(*mc.td[1], wired_page(mc.pmap.phys(), kB), 0), KvaError);
  mc.sfb.sf_buf_alloc(*mc.td[1], wired_page(mc.pmap.phys(), kB), 0, nullptr);
  EXPECT_THROW(mc.sfb.sf_buf_alloc_now(*mc.td[1], a, 0), KvaError);

  SfBufMachine other(2, 1);
  sf_buf* foreign = other.sfb.sf_buf_alloc_now(*other.td[0], wired_page(other.pmap.phys(), kA), 0);
  EXPECT_THROW(mc.sfb.sf_buf_free(*mc.td[0], foreign), KvaError);
  EXPECT_THROW(mc.sfb.sf_buf_alloc_now(*mc.td[0], foreign->m, 0), KvaError);  // other machine's page
  EXPECT_THROW(mc.sfb.sf_buf_free(*mc.td[0], nullptr), KvaError);
  EXPECT_EQ(mc.sfb.stats().sf_allocfail, 0u);
}

TEST(SfBufMisuse, PoolLargerThanKvaSpaceIsRejected) {
  RefPmap pmap(MachineConfig{1, 1u << 20, nullptr},
               RefPmapConfig{false, {0x10000000, 0x10000000 + 2 * PAGE_SIZE}});
  Scheduler sched;
  EXPECT_THROW(SfBufSubsystem(pmap, sched, SfBufConfig{3}), KvaError);
  EXPECT_THROW(SfBufSubsystem(pmap, sched, SfBufConfig{0}), KvaError);
  EXPECT_EQ(SfBufSubsystem(pmap, sched, SfBufConfig{2}).pool().size(), 2u);
}

TEST(SfBufPool, SharedArenaLeavesRoomForOtherUsers) {
  RefPmap pmap(MachineConfig{1, 1u << 20, nullptr},
               RefPmapConfig{false, {0x10000000, 0x10000000 + 8 * PAGE_SIZE}});
  Scheduler sched;
  KvaArena kva(pmap.kva_space());
  const vaddr_t buffer_map = *kva.alloc(2 * PAGE_SIZE);  // e.g. a buf(9) map taken first
  SfBufSubsystem sfb(pmap, sched, SfBufConfig{4}, kva);
  EXPECT_EQ(sfb.pool().front()->kva, buffer_map + 2 * PAGE_SIZE);
  EXPECT_EQ(kva.free_bytes(), 2 * PAGE_SIZE);
  EXPECT_THROW(SfBufSubsystem(pmap, sched, SfBufConfig{3}, kva), KvaError);
}

}  // namespace
}  // namespace kva
