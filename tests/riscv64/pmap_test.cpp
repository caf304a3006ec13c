// The registered riscv64 variants (Sv39 and Sv48): FreeBSD riscv's layout, the software walk
// equal to what the harts read for every kind of kernel mapping, and FreeBSD's invalidation
// protocol as guest code: pmap_qenter's fence + SBI remote sfence.vma + local sfence.vma,
// answered by the host firmware on the target harts, with its counters.
#include <sstream>

#include "tests/riscv64/riscv_test_util.h"

namespace kva::test {
namespace {

class RiscvPmapTest : public testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Pmap> make(int ncpus = 4, std::ostream* trace = nullptr) {
    return make_pmap(GetParam(), ncpus, 16u << 20, trace);
  }
};

TEST_P(RiscvPmapTest, FreeBsdLayoutAndCapabilities) {
  auto pmap = make(2);
  EXPECT_EQ(pmap->arch_name(), GetParam());
  EXPECT_TRUE(pmap->has_direct_map());
  EXPECT_EQ(pmap->kva_space().start, 0xffffffc000000000ull) << "VM_MIN_KERNEL_ADDRESS";
  EXPECT_EQ(pmap->phys_to_dmap(pmap->phys().base()), 0xffffffd000000000ull + (pmap->phys().base() - 0x80000000u))
      << "DMAP_MIN_ADDRESS + pa - dmap_phys_base";
  EXPECT_THROW(pmap->phys_to_dmap(0x1000), KvaError);
  const PmapCapabilities& c = pmap->capabilities();
  EXPECT_EQ(c.large_page_sizes, (std::vector<std::uint64_t>{std::uint64_t{2} << 20, std::uint64_t{1} << 30}));
  EXPECT_EQ(c.table_levels(), GetParam() == "riscv64" ? 2 : 3);
  EXPECT_TRUE(c.walk_cache);
  EXPECT_TRUE(c.caches_invalid_entries);
  EXPECT_TRUE(c.global_entries);
  EXPECT_FALSE(c.cache_modes);
  EXPECT_FALSE(c.requires_break_before_make);
  EXPECT_EQ(find_arch(GetParam())->capabilities().table_reach, c.table_reach);
  std::vector<std::string> f = pmap->features();
  EXPECT_NE(std::find(f.begin(), f.end(), "negative_cache"), f.end());
}

// Every kind of kernel mapping: kenter'd pages, megapages, gigapages, the direct map. The
// software walk (pte) names the frame the hart then reads, and PTE_KERN has A and D preset.
TEST_P(RiscvPmapTest, SoftwareWalkEqualsGuestReadsForEveryMappingKind) {
  auto pmap = make(2);
  PhysicalMemory& phys = pmap->phys();
  std::vector<std::pair<vaddr_t, paddr_t>> probes;  // va -> the 4K frame it must read
  for (int i = 0; i < 6; ++i) {
    vm_page* m = pattern_page(phys, static_cast<std::uint8_t>(11 * i + 1));
    const vaddr_t va = pmap->kva_space().start + ((i * 5) % 6) * PAGE_SIZE;
    pmap->kenter(va, m->phys_addr);
    probes.emplace_back(va, m->phys_addr);
    probes.emplace_back(pmap->phys_to_dmap(m->phys_addr), m->phys_addr);
  }
  const VaRange grow = pmap->growable_kva();
  for (std::uint64_t size : pmap->capabilities().large_page_sizes) {
    const vaddr_t va = (grow.start + size - 1) & ~(size - 1);
    const paddr_t pa = phys.base() & ~(size - 1);  // RAM lies inside; the rest is unbacked
    pmap->kenter_large(va, pa, size);
    vm_page* m = pattern_page(phys, static_cast<std::uint8_t>(size >> 20));
    ASSERT_LT(m->phys_addr - pa, size);
    probes.emplace_back(va + (m->phys_addr - pa), m->phys_addr);
  }
  for (auto [va, frame] : probes) {
    const PteState p = pmap->pte(va + 100);
    ASSERT_TRUE(p.valid) << pmap->describe_walk(va);
    EXPECT_EQ(p.pa, frame);
    EXPECT_TRUE(p.accessed && p.modified) << "PTE_KERN presets A and D";
    EXPECT_FALSE(p.executable);
    for (cpuid_t cpu = 0; cpu < 2; ++cpu)
      EXPECT_EQ(pmap->load(cpu, va + 100, 64), phys_bytes(phys, frame + 100, 64)) << pmap->describe_walk(va);
    const std::vector<std::uint8_t> data(16, 0x5c);
    pmap->store(1, va + 256, data);
    EXPECT_EQ(phys_bytes(phys, frame + 256, 16), data);
  }
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  const std::vector<WalkLevel> w = pmap->walk(pmap->kva_space().start);
  ASSERT_EQ(static_cast<int>(w.size()), GetParam() == "riscv64" ? 3 : 4);
  EXPECT_EQ(w.back().name, "L3");
  EXPECT_TRUE(w.back().leaf);
}

// pmap_qenter always invalidates, even over invalid PTEs: one SBI call per qenter (the remote
// size is eva - sva + 1, above OpenSBI's one-page limit: each target flushes its whole TLB),
// plus the issuer's local sfence.vma. The kernel sends no IPIs.
TEST_P(RiscvPmapTest, QenterIsFenceSbiRemoteFenceThenLocalFence) {
  std::ostringstream trace;
  auto pmap = make(4, &trace);
  const vaddr_t va = pmap->kva_space().start + 64 * PAGE_SIZE;
  const paddr_t a[] = {pattern_page(pmap->phys(), 1)->phys_addr, pattern_page(pmap->phys(), 2)->phys_addr};
  const paddr_t b[] = {pattern_page(pmap->phys(), 3)->phys_addr, pattern_page(pmap->phys(), 4)->phys_addr};
  pmap->qenter(2, va, a);
  EXPECT_EQ(pmap->stats().broadcasts, 1u);
  EXPECT_EQ(pmap->stats().shootdowns, 1u);
  EXPECT_EQ(pmap->stats().shootdown_targets, 3u);
  EXPECT_EQ(pmap->stats().full_flushes, 4u) << "the issuer's sfence.vma and one per target";
  EXPECT_EQ(pmap->stats().local_invalidations, 0u);
  EXPECT_EQ(pmap->stats().ipis, 0u);
  for (cpuid_t c = 0; c < 4; ++c) pmap->load(c, va + PAGE_SIZE, 32);
  pmap->qenter(1, va, b);
  for (cpuid_t c = 0; c < 4; ++c)
    EXPECT_EQ(pmap->load(c, va + PAGE_SIZE, 32), phys_bytes(pmap->phys(), b[1], 32)) << "cpu" << c;
  pmap->qremove(3, va, 2);
  EXPECT_EQ(pmap->stats().broadcasts, 3u);
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  const std::string t = trace.str();
  for (const char* s : {"emu_start kva_invalidate_range", "fence rw, rw", "firmware call (trap 8)",
                        "emu_start kva_shootdown_handler", "sfence.vma"})
    EXPECT_NE(t.find(s), std::string::npos) << s;
  // Each firmware call resumes its caller: one more uc_emu_start than runs.
  EXPECT_GT(pmap->stats().emu_calls, pmap->stats().loads + pmap->stats().stores);
}

// Single pages use FreeBSD's page forms: sfence.vma va locally, and an SBI call of size 1, which
// OpenSBI turns into one sfence.vma va per target. Longer ranges are whole-TLB flushes.
TEST_P(RiscvPmapTest, OnePageFencesArePreciseLongerRangesFlushEverything) {
  auto pmap = make(4);
  const vaddr_t va = pmap->kva_space().start;
  pmap->invalidate_local(1, va);
  EXPECT_EQ(pmap->stats().local_invalidations, 1u);
  pmap->shootdown(1, CpuSet::only(0) | CpuSet::only(3), va);
  EXPECT_EQ(pmap->stats().local_invalidations, 3u);
  EXPECT_EQ(pmap->stats().broadcasts, 1u);
  EXPECT_EQ(pmap->stats().full_flushes, 0u);
  pmap->shootdown(1, CpuSet::only(2), va, 2);
  EXPECT_EQ(pmap->stats().full_flushes, 1u);
  pmap->invalidate_local(2, va, 3);
  EXPECT_EQ(pmap->stats().full_flushes, 2u);
  EXPECT_EQ(pmap->stats().local_invalidations, 3u);
  EXPECT_EQ(pmap->stats().ipis, 0u);
}

TEST_P(RiscvPmapTest, RepeatedFaultsAreReportedWithTheWalk) {
  auto pmap = make(2);
  const vaddr_t hole = pmap->kva_space().start + 40 * PAGE_SIZE + 24;
  for (int round = 0; round < 3; ++round) {
    try {
      pmap->load(1, hole, 16);
      FAIL() << "load of an unmapped va returned";
    } catch (const PageFault& f) {
      EXPECT_EQ(f.va, hole);
      EXPECT_EQ(f.type, AccessType::Read);
      EXPECT_NE(f.walk.find("not mapped (L3 invalid)"), std::string::npos) << f.walk;
    }
    EXPECT_THROW(pmap->store(1, hole, std::vector<std::uint8_t>(4, 1)), PageFault);
  }
  EXPECT_THROW(pmap->kenter(pmap->growable_kva().end, pmap->phys().base()), KvaError);
}

INSTANTIATE_TEST_SUITE_P(Riscv, RiscvPmapTest, testing::ValuesIn(riscv_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
