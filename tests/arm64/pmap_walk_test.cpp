// The arm64 pmap's software walk (pte, extract, walk, describe_walk) equals what the guest
// reads, for every kind of mapping it makes: KVA pages (global, nG, read-only, every cache
// mode), the direct map's L2 blocks and L3 tail, and 2M / 1G blocks from kenter_large.
#include "tests/arm64/arm64_pmap_util.h"

namespace kva::test {
namespace {

void expect_reads_match_walk(Pmap& p, vaddr_t va) {
  for (cpuid_t cpu = 0; cpu < p.ncpus(); ++cpu)
    for (std::size_t off : {std::size_t{0}, std::size_t{200}, PAGE_SIZE - 72}) {
      auto pa = p.extract(va + off);
      ASSERT_TRUE(pa) << p.describe_walk(va);
      EXPECT_EQ(p.load(cpu, va + off, 72), phys_bytes(p.phys(), *pa, 72)) << "cpu" << cpu << " off " << off;
    }
}

TEST(Arm64PmapWalk, KvaPagesWithEveryAttribute) {
  auto p = make_arm64(2);
  const vaddr_t base = p->kva_space().start + 16 * PAGE_SIZE;
  const CacheMode modes[] = {CacheMode::WriteBack, CacheMode::WriteThrough, CacheMode::UncachedMinus,
                             CacheMode::Uncacheable};
  for (int i = 0; i < 8; ++i) {
    vm_page* m = pattern_page(p->phys(), static_cast<std::uint8_t>(11 * i + 5));
    const vaddr_t va = base + ((i * 3) % 8) * PAGE_SIZE;
    const KenterAttrs attrs{i % 2 == 0, i % 3 != 2, modes[i % 4]};
    p->kenter(va, m->phys_addr, attrs);
    const PteState s = p->pte(va);
    ASSERT_TRUE(s.valid);
    EXPECT_EQ(s.pa, m->phys_addr);
    EXPECT_EQ(s.global, *attrs.global);
    EXPECT_EQ(s.writable, *attrs.writable);
    EXPECT_EQ(s.cache, *attrs.cache);
    EXPECT_TRUE(s.accessed) << "FreeBSD enters kernel mappings with AF set";
    EXPECT_FALSE(s.modified);
    EXPECT_FALSE(s.executable) << "kernel data is execute-never";
    EXPECT_EQ(s.page_size, PAGE_SIZE);
    EXPECT_EQ(s.level, 3);
    expect_reads_match_walk(*p, va);
    const auto levels = p->walk(va);
    ASSERT_EQ(levels.size(), 4u);
    EXPECT_TRUE(levels[3].leaf && levels[3].global == *attrs.global && levels[3].next == m->phys_addr);
    EXPECT_EQ(levels[0].name, "L0");
  }
  EXPECT_EQ(p->stale_log().size(), 0u);
}

TEST(Arm64PmapWalk, DirectMapBlocksAndTail) {
  auto p = make_arm64(2, (8u << 20) + (16u << 10));  // RAM ends 16K past a 2M boundary
  ASSERT_TRUE(p->has_direct_map());
  for (std::size_t off : {std::size_t{0x5000}, std::size_t{(3u << 20) + 0x123000}, std::size_t{(8u << 20) + 0x2000}}) {
    const paddr_t pa = p->phys().base() + off;
    const vaddr_t va = p->phys_to_dmap(pa);
    const PteState s = p->pte(va);
    ASSERT_TRUE(s.valid);
    EXPECT_EQ(s.pa, pa);
    EXPECT_EQ(s.page_size, off < (8u << 20) ? (2u << 20) : PAGE_SIZE) << "blocks, then pages";
    EXPECT_TRUE(s.global);
    expect_reads_match_walk(*p, va);
  }
  EXPECT_THROW(p->phys_to_dmap(p->phys().base() + p->phys().size()), KvaError);
  EXPECT_NE(p->describe_walk(p->phys_to_dmap(p->phys().base())).find("L2 block"), std::string::npos);
}

TEST(Arm64PmapWalk, KenterLargeMakesL2AndL1Blocks) {
  auto p = make_arm64(2, 16u << 20);
  ASSERT_EQ(p->capabilities().large_page_sizes, (std::vector<std::uint64_t>{2u << 20, 1u << 30}));
  const std::uint64_t two_m = 2u << 20;
  const vaddr_t l2 = (p->growable_kva().start + two_m - 1) & ~(two_m - 1);
  vm_page* f = p->phys().vm_page_alloc_aligned(two_m);
  p->kenter_large(l2, f->phys_addr, two_m);
  EXPECT_EQ(p->pte(l2 + 5 * PAGE_SIZE).level, 2);
  expect_reads_match_walk(*p, l2 + 5 * PAGE_SIZE);
  // A 1 GiB block needs a 1 GiB-aligned frame: RAM starts at 1 GiB, so its base is one.
  const vaddr_t l1 = p->kva_space().start + (1ull << 30);
  p->kenter_large(l1, p->phys().base(), 1ull << 30);
  const vaddr_t inside = l1 + (f->phys_addr - p->phys().base());
  EXPECT_EQ(p->pte(inside).level, 1);
  EXPECT_EQ(*p->extract(inside), f->phys_addr);
  expect_reads_match_walk(*p, inside);
  p->kremove(l1 + PAGE_SIZE);  // the leaf that maps it, whatever its size
  EXPECT_FALSE(p->pte(l1).valid);
}

TEST(Arm64PmapWalk, AccessFlagClearFaultsAndNamesTheFault) {
  auto p = make_arm64(2);
  const vaddr_t va = p->kva_space().start + 3 * PAGE_SIZE;
  p->kenter(va, pattern_page(p->phys(), 3)->phys_addr);
  p->clear_accessed(va);
  p->invalidate_range_all(0, va, 1);
  EXPECT_FALSE(p->pte(va).accessed);
  try {
    p->load(1, va + 16, 8);
    FAIL() << "an AF=0 entry was used";
  } catch (const PageFault& f) {
    EXPECT_EQ(f.va, va + 16);
    EXPECT_NE(f.walk.find("access flag fault, level 3"), std::string::npos) << f.walk;
  }
  EXPECT_EQ(model_reports(*p), 0u);
}

// pmap_fault's repair: AF set again, the retried access reads the page, no TLB maintenance and
// no report (the AF=0 entry was never cached, the frame is the same).
TEST(Arm64PmapWalk, SetAccessedAfterAnAccessFlagFaultLetsTheAccessRetry) {
  auto p = make_arm64(2);
  const vaddr_t va = p->kva_space().start + 3 * PAGE_SIZE;
  vm_page* m = pattern_page(p->phys(), 3);
  p->kenter(va, m->phys_addr);
  p->load(1, va, 8);
  p->clear_accessed(va);
  p->invalidate_range_all(0, va, 1);
  EXPECT_THROW(p->load(1, va + 16, 8), PageFault);
  const auto invalidations = p->stats().local_invalidations;
  p->set_accessed(va);
  EXPECT_TRUE(p->pte(va).accessed);
  EXPECT_EQ(p->load(1, va + 16, 8), phys_bytes(p->phys(), m->phys_addr + 16, 8));
  EXPECT_EQ(p->stats().local_invalidations, invalidations);
  EXPECT_EQ(model_reports(*p), 0u);
  p->kremove(va);
  EXPECT_NO_THROW(p->set_accessed(va)) << "no leaf: nothing to set, as pmap_fault finds none";
  EXPECT_FALSE(p->pte(va).valid);
}

TEST(Arm64PmapWalk, RejectsMappingsOutsideKernelKva) {
  auto p = make_arm64(1);
  EXPECT_THROW(p->kenter(p->growable_kva().end, p->phys().base()), KvaError);
  EXPECT_THROW(p->kenter(p->growable_kva().start, p->phys().base()), KvaError) << "growkernel first";
  EXPECT_EQ(p->growkernel(p->growable_kva().start), 1u) << "one L3 table below an existing L2";
  EXPECT_NO_THROW(p->kenter(p->growable_kva().start, p->phys().base()));
  EXPECT_THROW(p->kenter_large(p->kva_space().start + PAGE_SIZE, p->phys().base(), 2u << 20), KvaError);
}

}  // namespace
}  // namespace kva::test
