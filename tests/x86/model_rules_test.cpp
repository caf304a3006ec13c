// The x86 TLB model's rules on the emulated machines, each shown reporting on a missing
// invalidation and silent on FreeBSD's correct sequence: speculative holders (A=1), global
// entries across a CR3 load, large pages as one entry, rights, and FreeBSD's kernel PTE bits.
#include "archs/x86/x86_stub_abi.h"
#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

class ModelRules : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    pmap = make_x86(GetParam(), 4, 16u << 20);
    va = pmap->kva_space().start + 33 * PAGE_SIZE;
    a = pattern_page(pmap->phys(), 0x10);
    b = pattern_page(pmap->phys(), 0x80);
  }
  std::vector<std::uint8_t> bytes_of(paddr_t pa, std::size_t n = 16) { return phys_bytes(pmap->phys(), pa, n); }
  std::size_t arch_reports() const { return pmap->stale_log().count(Oracle::Architectural); }
  std::size_t observed_reports() const { return pmap->stale_log().count(Oracle::Observed); }
  const StaleAccess& last() const { return pmap->stale_log().entries().back(); }

  std::unique_ptr<Pmap> pmap;
  vaddr_t va = 0;
  vm_page* a = nullptr;
  vm_page* b = nullptr;
};

TEST_P(ModelRules, CapabilitiesMatchTheVariant) {
  const PmapCapabilities& c = pmap->capabilities();
  EXPECT_TRUE(c.global_entries);
  EXPECT_TRUE(c.walk_cache);
  EXPECT_TRUE(c.growable_kva);
  EXPECT_FALSE(c.requires_break_before_make);
  EXPECT_FALSE(c.caches_invalid_entries);
  const std::uint64_t M = 1u << 20;
  if (GetParam() == "amd64") {
    EXPECT_EQ(c.large_page_sizes, (std::vector<std::uint64_t>{2 * M, 1024 * M}));
    EXPECT_EQ(c.table_levels(), 3);
    EXPECT_FALSE(c.root_registers);
  } else if (GetParam() == "i386") {
    EXPECT_EQ(c.large_page_sizes, (std::vector<std::uint64_t>{4 * M}));
    EXPECT_EQ(c.table_levels(), 1);
    EXPECT_FALSE(c.root_registers);
  } else {
    EXPECT_EQ(c.large_page_sizes, (std::vector<std::uint64_t>{2 * M}));
    EXPECT_EQ(c.table_levels(), 2);
    EXPECT_TRUE(c.root_registers);
  }
  // The registry answers the same without building a machine (job planning).
  EXPECT_EQ(find_arch(GetParam())->capabilities().large_page_sizes, c.large_page_sizes);
}

// SDM 4.10.2.3: any CPU may cache a present translation whose A bit is set. A subset
// shootdown after a change leaves the CPUs outside it as speculative holders.
TEST_P(ModelRules, SpeculativeHoldersOutsideASubsetShootdownAreReported) {
  pmap->kenter(va, a->phys_addr);
  pmap->load(0, va, 16);  // A=1 from cpu 0's walk
  pmap->kenter(va, b->phys_addr);
  pmap->invalidate_local(0, va);
  pmap->shootdown(0, CpuSet::only(1), va);
  EXPECT_EQ(pmap->load(1, va, 16), bytes_of(b->phys_addr));
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  EXPECT_EQ(pmap->load(2, va, 16), bytes_of(b->phys_addr)) << "the emulator never cached it on cpu 2";
  EXPECT_EQ(observed_reports(), 0u);
  ASSERT_EQ(arch_reports(), 1u);
  EXPECT_EQ(last().cpu, 2);
  EXPECT_EQ(last().holding, Holding::Speculative);
  EXPECT_EQ(last().rule, "speculative fill after A=1 on cpu0");
  EXPECT_EQ(last().cached_pa, a->phys_addr);
  EXPECT_EQ(pmap->stale_log().count(Holding::Speculative), 1u);
  // FreeBSD's pmap_invalidate_page reaches every CPU: silence.
  pmap->invalidate_range_all(0, va, 1);
  for (cpuid_t c = 0; c < 4; ++c) pmap->load(c, va, 16);
  EXPECT_EQ(arch_reports(), 1u);
}

// A=0 means no walk happened, so no CPU can hold the translation (4.10.4.3): changing such a
// PTE needs no invalidation, which is what FreeBSD i386's sf_buf PG_A check relies on. amd64's
// pmap_kenter presets A, so there the same change leaves speculative holders.
TEST_P(ModelRules, NeverAccessedPteHasNoHoldersUnlessThePmapPresetsA) {
  pmap->kenter(va, a->phys_addr);
  const bool preset = pmap->pte(va).accessed;
  EXPECT_EQ(preset, GetParam() == "amd64");
  pmap->kenter(va, b->phys_addr);
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_EQ(pmap->load(c, va, 16), bytes_of(b->phys_addr));
  EXPECT_EQ(observed_reports(), 0u);
  if (!preset) {
    EXPECT_EQ(arch_reports(), 0u);
    return;
  }
  EXPECT_EQ(arch_reports(), 4u);
  EXPECT_EQ(last().rule, "speculative fill after A=1 (A preset in the entry)");
}

// A CR3 load keeps global entries (QEMU drops them: only the model reports); a CR4.PGE toggle
// and an invlpg drop them.
TEST_P(ModelRules, GlobalEntrySurvivesCr3LoadButNotAPgeToggle) {
  const KenterAttrs global{true, {}, {}};
  pmap->kenter(va, a->phys_addr, global);
  pmap->load(1, va, 16);
  pmap->kenter(va, b->phys_addr, global);
  pmap->flush_local(1);
  EXPECT_EQ(pmap->load(1, va, 16), bytes_of(b->phys_addr)) << "QEMU flushes global entries at CR3 load";
  ASSERT_EQ(arch_reports(), 1u);
  EXPECT_EQ(last().holding, Holding::Demand);
  EXPECT_EQ(last().rule, "x86: global entry survives CR3 load");
  pmap->flush_local(1, /*include_global=*/true);
  pmap->load(1, va, 16);
  EXPECT_EQ(arch_reports(), 1u);
  // Not global: a CR3 load is enough.
  const vaddr_t other = va + PAGE_SIZE;
  pmap->kenter(other, a->phys_addr, KenterAttrs{false, {}, {}});
  pmap->load(1, other, 16);
  pmap->kenter(other, b->phys_addr, KenterAttrs{false, {}, {}});
  pmap->flush_local(1);
  pmap->load(1, other, 16);
  EXPECT_EQ(arch_reports(), 1u);
  EXPECT_EQ(pmap->stats().full_flushes, 3u);
}

// One entry per large page: an invlpg of any address inside drops the whole translation
// (4.10.4.1), so FreeBSD's single-page invalidation of a replaced superpage leaves nothing,
// while a missing invalidation is reported at every address inside.
TEST_P(ModelRules, LargePageIsOneEntry) {
  const std::uint64_t size = pmap->capabilities().large_page_sizes.front();
  const VaRange grow = pmap->growable_kva();
  const vaddr_t L = (grow.start + size - 1) & ~(size - 1);
  vm_page* f1 = pmap->phys().vm_page_alloc_aligned(size);
  vm_page* f2 = pmap->phys().vm_page_alloc_aligned(size);
  pmap->kenter_large(L, f1->phys_addr, size);
  EXPECT_EQ(pmap->pte(L + PAGE_SIZE).page_size, size);
  EXPECT_EQ(pmap->extract(L + PAGE_SIZE + 5), f1->phys_addr + PAGE_SIZE + 5);
  EXPECT_EQ(pmap->load(1, L, 16), bytes_of(f1->phys_addr));
  pmap->kenter_large(L, f2->phys_addr, size);  // no invalidation
  const vaddr_t inside = L + 2 * PAGE_SIZE;    // never touched by cpu 1
  EXPECT_EQ(pmap->load(1, inside, 16), bytes_of(f2->phys_addr + 2 * PAGE_SIZE));
  ASSERT_EQ(arch_reports(), 1u);
  EXPECT_EQ(last().cached_pa, f1->phys_addr + 2 * PAGE_SIZE);
  EXPECT_EQ(last().holding, Holding::Demand) << "cpu 1 walked the large page at L";
  EXPECT_NE(last().entry.find(size_name(size)), std::string::npos) << last().entry;
  pmap->load(1, L, 16);
  EXPECT_EQ(arch_reports(), 2u);
  // One invlpg at the other end of the page drops the whole entry.
  pmap->invalidate_local(1, L + size - PAGE_SIZE);
  pmap->stale_log().clear();
  EXPECT_EQ(pmap->load(1, L, 16), bytes_of(f2->phys_addr));
  pmap->load(1, inside, 16);
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  // kremove of a large page, invalidated everywhere at one address: no false alarm anywhere.
  pmap->kremove(L + 3 * PAGE_SIZE);
  EXPECT_FALSE(pmap->pte(L).valid);
  pmap->invalidate_range_all(0, L, 1);
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_THROW(pmap->load(c, L + size / 2, 8), PageFault);
  EXPECT_EQ(pmap->stale_log().size(), 0u);
}

// Rights (4.10.4.3): a cached writable entry outlives a PTE made read-only until it is
// invalidated, and the emulated store really lands; a cached read-only entry cannot be used
// for a store, so widening rights needs no invalidation.
TEST_P(ModelRules, NarrowedRightsAreReportedWidenedRightsAreNot) {
  pmap->kenter(va, a->phys_addr);
  const std::vector<std::uint8_t> data(8, 0x5a);
  pmap->store(1, va, data);
  pmap->protect(va, 1, /*writable=*/false);
  pmap->store(1, va, data);  // through cpu 1's cached writable entry
  EXPECT_EQ(observed_reports(), 1u) << "the store landed through a read-only PTE";
  ASSERT_EQ(arch_reports(), 1u);
  EXPECT_EQ(pmap->stale_log().rights_count(), 2u);
  for (const StaleAccess& r : pmap->stale_log().entries()) {
    EXPECT_TRUE(r.rights) << r.describe();
    if (r.oracle == Oracle::Architectural) EXPECT_EQ(r.holding, Holding::Demand);
  }
  pmap->load(1, va, 8);
  EXPECT_EQ(arch_reports(), 1u) << "a load through the same frame is fine";
  pmap->invalidate_range_all(0, va, 1);  // what pmap_protect does next
  EXPECT_THROW(pmap->store(1, va, data), PageFault);
  EXPECT_THROW(pmap->store(2, va, data), PageFault);
  // Widening: cpu 2 caches the read-only entry, the PTE becomes writable, no invalidation.
  pmap->load(2, va, 8);
  pmap->protect(va, 1, /*writable=*/true);
  pmap->store(2, va, data);
  EXPECT_EQ(pmap->stale_log().size(), 2u) << "a read-only cached entry is no false alarm";
}

// The false alarm the old model gave: a store through a cached read-only translation of an
// old frame. Hardware cannot write through it; it re-walks (or faults, which invalidates).
TEST_P(ModelRules, StoreThroughAStaleReadOnlyEntryIsNoFalseAlarm) {
  pmap->kenter(va, a->phys_addr, KenterAttrs{{}, false, {}});
  pmap->load(1, va, 8);
  pmap->kenter(va, b->phys_addr);  // writable, new frame, no invalidation
  const std::vector<std::uint8_t> data(8, 0x66);
  pmap->store(1, va, data);
  EXPECT_EQ(bytes_of(b->phys_addr, 8), data);
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  pmap->load(1, va, 8);
  EXPECT_EQ(pmap->stale_log().size(), 0u) << "the store's re-walk replaced cpu 1's entry";
  pmap->load(2, va, 8);
  EXPECT_EQ(arch_reports(), 1u) << "cpu 2 may still hold the old read-only translation";
}

TEST_P(ModelRules, KernelPteBitsFollowFreeBsd) {
  const bool amd64 = GetParam() == "amd64";
  const bool pae = GetParam() == "i386-pae";
  const paddr_t pas[] = {a->phys_addr};
  pmap->qenter(0, va, pas);
  PteState q = pmap->pte(va);
  EXPECT_EQ(q.global, amd64);
  EXPECT_EQ(q.accessed, amd64);
  EXPECT_EQ(q.modified, amd64);
  EXPECT_EQ(q.executable, !(amd64 || pae)) << "pg_nx in pmap_qenter on amd64 and PAE";
  // qenter writes only PTEs whose frame or cache bits change, and then invalidates nothing.
  pmap->load(1, va, 8);
  pmap->qenter(2, va, pas);
  EXPECT_EQ(pmap->stats().shootdowns, 0u);
  // Explicit attributes win over the defaults.
  pmap->kenter(va + PAGE_SIZE, b->phys_addr,
               KenterAttrs{true, false, CacheMode::Uncacheable});
  PteState k = pmap->pte(va + PAGE_SIZE);
  EXPECT_TRUE(k.global);
  EXPECT_FALSE(k.writable);
  EXPECT_EQ(k.cache, CacheMode::Uncacheable);
  const std::string walk = pmap->describe_walk(va + PAGE_SIZE);
  EXPECT_NE(walk.find("PCD"), std::string::npos) << walk;
  EXPECT_NE(walk.find("PWT"), std::string::npos) << walk;
  auto levels = pmap->walk(va + PAGE_SIZE);
  ASSERT_EQ(static_cast<int>(levels.size()), pmap->capabilities().table_levels() + 1);
  EXPECT_TRUE(levels.back().leaf);
  EXPECT_EQ(levels.back().next, b->phys_addr);
  EXPECT_EQ(levels.back().cache, CacheMode::Uncacheable);
  for (std::size_t l = 0; l + 1 < levels.size(); ++l) EXPECT_FALSE(levels[l].leaf);
  EXPECT_EQ(pmap->load(3, va + PAGE_SIZE, 16), bytes_of(b->phys_addr));
}

// pmap_growkernel: page-table pages appear (with A and M preset in their upper entries, as
// FreeBSD installs them) only where none existed; kenter needs them.
TEST_P(ModelRules, GrowkernelAllocatesMissingTablesOnce) {
  const vaddr_t g = pmap->growable_kva().start + 3 * PAGE_SIZE;
  EXPECT_THROW(pmap->kenter(g, a->phys_addr), KvaError);
  EXPECT_GE(pmap->growkernel(g), 1u);
  EXPECT_EQ(pmap->growkernel(g), 0u);
  pmap->kenter(g, a->phys_addr);
  EXPECT_EQ(pmap->load(2, g, 16), bytes_of(a->phys_addr));
  auto levels = pmap->walk(g);
  for (std::size_t l = 0; l + 1 < levels.size(); ++l)
    if (!(l == 0 && pmap->capabilities().root_registers)) EXPECT_TRUE(levels[l].accessed) << l;
  EXPECT_THROW(pmap->growkernel(pmap->growable_kva().end), KvaError);
  EXPECT_EQ(pmap->stale_log().size(), 0u);
}

TEST_P(ModelRules, RejectsUnsupportedOrMisalignedLargePages) {
  const std::uint64_t size = pmap->capabilities().large_page_sizes.front();
  const vaddr_t L = (pmap->growable_kva().start + size - 1) & ~(size - 1);
  EXPECT_THROW(pmap->kenter_large(L + PAGE_SIZE, 0, size), KvaError);
  EXPECT_THROW(pmap->kenter_large(L, PAGE_SIZE, size), KvaError);
  EXPECT_THROW(pmap->kenter_large(L, 0, 8 * PAGE_SIZE), KvaError) << "no 32K pages on x86";
  EXPECT_THROW(pmap->replace_table(va, 0, false), KvaError);
  EXPECT_THROW(pmap->replace_table(va, pmap->capabilities().table_levels() + 1, false), KvaError);
}

INSTANTIATE_TEST_SUITE_P(X86, ModelRules, testing::ValuesIn(x86_archs()), arch_test_name);

// amd64's 1 GiB pages, mapped over RAM that starts at 1 GiB.
TEST(Amd64GigaPage, OneGigabytePageIsOneEntry) {
  auto pmap = make_x86("amd64", 2, (1u << 30) + (1u << 20));
  const std::uint64_t G = 1u << 30;
  const VaRange grow = pmap->growable_kva();
  const vaddr_t L = (grow.start + G - 1) & ~(G - 1);
  ASSERT_LE(L + G, grow.end);
  vm_page* frame = pmap->phys().vm_page_alloc_aligned(G);
  pmap->kenter_large(L, frame->phys_addr, G);
  const std::vector<std::uint8_t> data(8, 0x3c);
  pmap->store(1, L + 5 * PAGE_SIZE, data);
  EXPECT_EQ(phys_bytes(pmap->phys(), frame->phys_addr + 5 * PAGE_SIZE, 8), data);
  pmap->protect(L, 1, false);  // the whole 1 GiB leaf becomes read-only
  // cpu 1 may still write anywhere inside through its one writable entry; QEMU caches 4 KiB
  // pieces and walks this new one, so only the model reports it.
  EXPECT_THROW(pmap->store(1, L + 100 * PAGE_SIZE, data), PageFault);
  EXPECT_EQ(pmap->stale_log().count(Oracle::Architectural), 1u);
  pmap->invalidate_local(1, L + G / 2);  // anywhere inside
  EXPECT_THROW(pmap->store(1, L + 5 * PAGE_SIZE, data), PageFault);
  EXPECT_EQ(pmap->stale_log().count(Oracle::Architectural), 1u);
}

}  // namespace
}  // namespace kva::test
