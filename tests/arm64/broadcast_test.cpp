// Shootdown by broadcast: pmap_invalidate_range is one TLBI VAALE1IS from the issuer that the
// host carries to every other engine; counters record one broadcast and no IPIs; a shootdown
// cannot be targeted; the fault switches take one CPU out of the broadcast.
#include "core/faults.h"
#include "tests/arm64/arm64_pmap_util.h"

namespace kva::test {
namespace {

struct Remap {
  vaddr_t va = 0;
  vm_page* a = nullptr;
  vm_page* b = nullptr;
};

// va -> a, read (so cached) on every CPU, then va -> b by qenter from `issuer`.
Remap qenter_over_cached(Pmap& p, cpuid_t issuer) {
  Remap r{p.kva_space().start + 12 * PAGE_SIZE, pattern_page(p.phys(), 0x10), pattern_page(p.phys(), 0x90)};
  const paddr_t a[] = {r.a->phys_addr}, b[] = {r.b->phys_addr};
  p.qenter(issuer, r.va, a);
  for (cpuid_t c = 0; c < p.ncpus(); ++c) p.load(c, r.va, 32);
  p.qenter(issuer, r.va, b);
  return r;
}

TEST(Arm64Broadcast, QenterIsOneBroadcastReachingEveryCpu) {
  std::ostringstream trace;
  auto p = make_arm64(4, 8u << 20, false, &trace);
  const Remap r = qenter_over_cached(*p, 2);
  EXPECT_EQ(p->stats().broadcasts, 1u);
  EXPECT_EQ(p->stats().ipis, 0u);
  EXPECT_EQ(p->stats().shootdowns, 1u);
  EXPECT_EQ(p->stats().shootdown_targets, 3u);
  EXPECT_EQ(p->stats().local_invalidations, 4u) << "one page on each of the four CPUs";
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_EQ(p->load(c, r.va, 32), phys_bytes(p->phys(), r.b->phys_addr, 32));
  EXPECT_EQ(p->stale_log().size(), 0u);
  const std::string t = trace.str();
  EXPECT_NE(t.find("cpu2 emu_start kva_tlbi_vaale1is"), std::string::npos) << "the issuer's TLBI IS";
  EXPECT_NE(t.find("tlbi vaale1is, x3"), std::string::npos);
  for (const char* cpu : {"cpu0", "cpu1", "cpu3"})
    EXPECT_NE(t.find(std::string(cpu) + " emu_start kva_shootdown_handler"), std::string::npos) << cpu;
  EXPECT_EQ(t.find("cpu2 emu_start kva_shootdown_handler"), std::string::npos) << "not on the issuer";
}

TEST(Arm64Broadcast, QenterOverInvalidEntriesNeedsNoTlbi) {
  auto p = make_arm64(2);
  const paddr_t a[] = {pattern_page(p->phys(), 1)->phys_addr, pattern_page(p->phys(), 2)->phys_addr};
  p->qenter(0, p->kva_space().start, a);
  EXPECT_EQ(p->stats().broadcasts, 0u);
  EXPECT_EQ(p->stats().local_invalidations, 0u);
  p->qremove(1, p->kva_space().start, 2);  // always invalidates
  EXPECT_EQ(p->stats().broadcasts, 1u);
  EXPECT_EQ(p->stats().local_invalidations, 4u);
}

TEST(Arm64Broadcast, OneCpuStillRunsTheTlbi) {
  auto p = make_arm64(1);
  const Remap r = qenter_over_cached(*p, 0);
  EXPECT_EQ(p->stats().broadcasts, 1u);
  EXPECT_EQ(p->stats().shootdowns, 0u);
  EXPECT_EQ(p->stats().local_invalidations, 1u);
  EXPECT_EQ(p->load(0, r.va, 32), phys_bytes(p->phys(), r.b->phys_addr, 32));
  EXPECT_EQ(p->stale_log().size(), 0u);
}

TEST(Arm64Broadcast, AShootdownCannotBeTargeted) {
  auto p = make_arm64(4);
  const vaddr_t va = p->kva_space().start;
  vm_page* a = pattern_page(p->phys(), 0x21);
  vm_page* b = pattern_page(p->phys(), 0x42);
  p->kenter(va, a->phys_addr);
  for (cpuid_t c = 0; c < 4; ++c) p->load(c, va, 8);
  p->kremove(va);
  p->kenter(va, b->phys_addr);
  p->shootdown(0, CpuSet::only(1), va);
  EXPECT_EQ(p->stats().shootdown_targets, 1u) << "what was asked";
  EXPECT_EQ(p->stats().local_invalidations, 4u) << "what the broadcast did";
  p->stale_log().clear();
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_EQ(p->load(c, va, 8), phys_bytes(p->phys(), b->phys_addr, 8));
  EXPECT_EQ(p->stale_log().size(), 0u) << "CPUs 0, 2 and 3 were reached too";
}

TEST(Arm64Broadcast, InvalidateLocalIsThisCpuOnly) {
  auto p = make_arm64(2);
  const vaddr_t va = p->kva_space().start + PAGE_SIZE;
  vm_page* a = pattern_page(p->phys(), 0x31);
  vm_page* b = pattern_page(p->phys(), 0x62);
  p->kenter(va, a->phys_addr);
  p->load(0, va, 8);
  p->load(1, va, 8);
  p->kremove(va);
  p->kenter(va, b->phys_addr);
  p->invalidate_local(0, va);
  EXPECT_EQ(p->stats().broadcasts, 0u);
  EXPECT_EQ(p->load(0, va, 8), phys_bytes(p->phys(), b->phys_addr, 8));
  EXPECT_EQ(p->stale_log().size(), 0u);
  EXPECT_EQ(p->load(1, va, 8), phys_bytes(p->phys(), a->phys_addr, 8)) << "cpu1 keeps the old entry";
  EXPECT_EQ(p->stale_log().count(Oracle::Observed), 1u);
  EXPECT_EQ(p->stale_log().count(Oracle::Bbm), 1u) << "no TLBI completed the break on cpu1";
}

// The fault switches, each caught (observed: the engine really kept the old page; model) on
// the CPU the broadcast missed, and only there.
TEST(Arm64Broadcast, DropIpiMissesTheHighestNumberedCpu) {
  auto p = make_arm64(4);
  p->faults().enable(Fault::DropShootdownIpi);
  const Remap r = qenter_over_cached(*p, 0);
  EXPECT_EQ(p->stats().dropped_ipis, 1u);
  EXPECT_EQ(p->stats().local_invalidations, 3u);
  for (cpuid_t c = 0; c < 3; ++c) EXPECT_EQ(p->load(c, r.va, 32), phys_bytes(p->phys(), r.b->phys_addr, 32));
  EXPECT_EQ(p->stale_log().size(), 0u);
  EXPECT_EQ(p->load(3, r.va, 32), phys_bytes(p->phys(), r.a->phys_addr, 32));
  EXPECT_EQ(p->stale_log().count(Oracle::Observed), 1u);
  EXPECT_EQ(p->stale_log().count(Oracle::Bbm), 1u) << "qenter replaced the entry valid->valid";
  EXPECT_EQ(p->stale_log().entries().front().cpu, 3);
}

TEST(Arm64Broadcast, SkipLocalInvalidationMissesTheIssuer) {
  auto p = make_arm64(4);
  p->faults().enable(Fault::SkipLocalInvalidation);
  const Remap r = qenter_over_cached(*p, 1);
  EXPECT_EQ(p->stats().broadcasts, 1u);
  for (cpuid_t c : {0, 2, 3}) EXPECT_EQ(p->load(c, r.va, 32), phys_bytes(p->phys(), r.b->phys_addr, 32));
  EXPECT_EQ(p->stale_log().size(), 0u);
  EXPECT_EQ(p->load(1, r.va, 32), phys_bytes(p->phys(), r.a->phys_addr, 32));
  EXPECT_EQ(p->stale_log().count(Oracle::Observed), 1u);
  EXPECT_EQ(model_reports(*p), 1u);
}

}  // namespace
}  // namespace kva::test
