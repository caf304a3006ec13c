// The riscv TLB model's rules on the emulated harts, each shown reporting on a missing or
// too-narrow fence and silent on the correct sequence: global entries across an ASID-scoped
// fence, fences for another ASID, cached non-leaf entries across page fences, large pages as
// one entry, and negative caching (no Svvptc): a hart that walked an invalid entry may still
// fault after invalid->valid until it fences. QEMU flushes everything on every sfence.vma and
// never caches an invalid entry, so each report here comes from the model alone, next to the
// emulated access's own (correct) result.
#include "tests/riscv64/riscv_test_util.h"

namespace kva::test {
namespace {

template <class Format>
class RiscvModelRules : public testing::Test {
 protected:
  RiscvModelRules()
      : pmap(make_riscv<Format>(4, riscv::AdUpdate::Hardware, 16u << 20)),
        va(pmap->kva_space().start + 33 * PAGE_SIZE),
        a(pattern_page(pmap->phys(), 0x10)),
        b(pattern_page(pmap->phys(), 0x80)) {}
  std::vector<std::uint8_t> bytes_of(vm_page* m) { return phys_bytes(pmap->phys(), m->phys_addr, 16); }
  std::size_t count(Oracle o) const { return pmap->stale_log().count(o); }
  // The latest report of the model's oracles (the observed oracle reports after it).
  const StaleAccess& last() const {
    const auto& e = pmap->stale_log().entries();
    for (auto it = e.rbegin(); it != e.rend(); ++it)
      if (it->oracle != Oracle::Observed) return *it;
    throw KvaError("no model report");
  }

  std::unique_ptr<riscv::RiscvPmap<Format>> pmap;
  vaddr_t va;
  vm_page* a;
  vm_page* b;
};
TYPED_TEST_SUITE(RiscvModelRules, RiscvFormats, FormatName);

TYPED_TEST(RiscvModelRules, PageFenceDropsTheGlobalLeafToo) {
  auto& p = *this->pmap;
  p.kenter(this->va, this->a->phys_addr, KenterAttrs{true, {}, {}});
  p.load(1, this->va, 16);
  p.kenter(this->va, this->b->phys_addr, KenterAttrs{true, {}, {}});
  EXPECT_EQ(p.load(1, this->va, 16), this->bytes_of(this->a)) << "hart 1 still uses its TLB entry";
  EXPECT_EQ(this->count(Oracle::Architectural), 1u);
  EXPECT_EQ(this->count(Oracle::Observed), 1u);
  EXPECT_EQ(this->last().holding, Holding::Demand);
  p.invalidate_local(1, this->va);  // sfence.vma va, x0: every address space, globals included
  EXPECT_EQ(p.load(1, this->va, 16), this->bytes_of(this->b));
  EXPECT_EQ(this->count(Oracle::Architectural), 1u);
}

TYPED_TEST(RiscvModelRules, AsidScopedFenceKeepsGlobalEntries) {
  auto& p = *this->pmap;
  const vaddr_t g = this->va, n = this->va + PAGE_SIZE;
  p.kenter(g, this->a->phys_addr, KenterAttrs{true, {}, {}});
  p.kenter(n, this->a->phys_addr);
  p.load(1, g, 16);
  p.load(1, n, 16);
  p.kenter(g, this->b->phys_addr, KenterAttrs{true, {}, {}});
  p.kenter(n, this->b->phys_addr);
  p.flush_local(1);  // sfence.vma x0, <ASID 0>
  EXPECT_EQ(p.load(1, n, 16), this->bytes_of(this->b));
  EXPECT_EQ(p.stale_log().size(), 0u) << "the non-global entry is gone";
  EXPECT_EQ(p.load(1, g, 16), this->bytes_of(this->b)) << "QEMU flushed the global entry too";
  ASSERT_EQ(this->count(Oracle::Architectural), 1u);
  EXPECT_EQ(this->count(Oracle::Observed), 0u);
  EXPECT_EQ(this->last().rule, "riscv: global entry survives an ASID-scoped sfence.vma");
  p.flush_local(1, /*include_global=*/true);  // sfence.vma x0, x0
  p.load(1, g, 16);
  EXPECT_EQ(this->count(Oracle::Architectural), 1u);
}

TYPED_TEST(RiscvModelRules, FenceForAnotherAsidLeavesThisAddressSpace) {
  auto& p = *this->pmap;
  p.kenter(this->va, this->a->phys_addr);
  p.load(2, this->va, 16);
  p.kenter(this->va, this->b->phys_addr);
  p.sfence_vma_asid(2, this->va, 7);  // satp.ASID is 0
  EXPECT_EQ(p.load(2, this->va, 16), this->bytes_of(this->b)) << "QEMU ignores the ASID";
  EXPECT_EQ(this->count(Oracle::Architectural), 1u);
  p.sfence_vma_asid(2, this->va, 0);
  p.load(2, this->va, 16);
  EXPECT_EQ(this->count(Oracle::Architectural), 1u);
}

// Priv. spec: sfence.vma with rs1 != x0 covers only leaf PTEs; after changing a non-leaf PTE
// software must fence with rs1 = x0. A hart may keep walking through the old page table.
TYPED_TEST(RiscvModelRules, PageFenceLeavesCachedNonLeafEntries) {
  auto& p = *this->pmap;
  p.kenter(this->va, this->a->phys_addr);
  p.clear_accessed(this->va);
  p.invalidate_range_all(0, this->va, 1);  // no hart holds the leaf (A=0) from here on
  p.replace_table(this->va, 1, /*copy=*/true);
  p.kenter(this->va, this->b->phys_addr);  // in the copy only
  p.load(1, this->va, 16);
  ASSERT_EQ(this->count(Oracle::Architectural), 1u);
  EXPECT_TRUE(this->last().via_table);
  EXPECT_EQ(this->last().holding, Holding::Speculative);
  EXPECT_EQ(this->last().cached_pa, this->a->phys_addr) << "the walk through the old L3 table";
  p.invalidate_local(1, this->va);  // the page itself: the L2 entry stays
  p.load(1, this->va, 16);
  ASSERT_EQ(this->count(Oracle::Architectural), 2u);
  EXPECT_NE(this->last().rule.find("non-leaf entry survives"), std::string::npos) << this->last().rule;
  p.invalidate_local(1, this->va, 2);  // FreeBSD's range form: sfence.vma x0, x0
  p.load(1, this->va, 16);
  EXPECT_EQ(this->count(Oracle::Architectural), 2u);
  EXPECT_EQ(this->count(Oracle::Observed), 0u);
}

TYPED_TEST(RiscvModelRules, LargePageIsOneEntry) {
  auto& p = *this->pmap;
  const std::uint64_t size = p.capabilities().large_page_sizes.front();
  const vaddr_t L = (p.growable_kva().start + size - 1) & ~(size - 1);
  vm_page* f1 = p.phys().vm_page_alloc_aligned(size);
  vm_page* f2 = p.phys().vm_page_alloc_aligned(size);
  p.kenter_large(L, f1->phys_addr, size);
  p.load(1, L, 16);
  p.kenter_large(L, f2->phys_addr, size);
  p.load(1, L + 2 * PAGE_SIZE, 16);  // never touched, same entry
  EXPECT_EQ(this->count(Oracle::Architectural), 1u);
  p.invalidate_local(1, L + size / 2);  // any address inside drops it
  p.load(1, L + 2 * PAGE_SIZE, 16);
  p.load(1, L, 16);
  EXPECT_EQ(this->count(Oracle::Architectural), 1u);
}

// No Svvptc: the hart that faulted on the invalid entry may still fault after it becomes
// valid; the report (oracle negative) stands beside the access's emulated result, which QEMU
// got right. A hart that never walked the invalid entry is not reported.
TYPED_TEST(RiscvModelRules, NegativeEntryReportedUntilTheHartFences) {
  auto& p = *this->pmap;
  EXPECT_THROW(p.load(1, this->va, 16), PageFault);
  p.kenter(this->va, this->a->phys_addr);
  EXPECT_EQ(p.load(1, this->va, 16), this->bytes_of(this->a)) << "the emulated access succeeds";
  ASSERT_EQ(this->count(Oracle::Negative), 1u);
  EXPECT_EQ(this->count(Oracle::Observed), 0u);
  EXPECT_EQ(this->count(Oracle::Architectural), 0u);
  EXPECT_NE(this->last().rule.find("invalid entry cached"), std::string::npos) << this->last().rule;
  EXPECT_EQ(this->last().expected_pa, this->a->phys_addr);
  p.load(0, this->va, 16);
  EXPECT_EQ(this->count(Oracle::Negative), 1u) << "hart 0 never walked the invalid entry";
  p.invalidate_local(1, this->va);
  p.load(1, this->va, 16);
  EXPECT_EQ(this->count(Oracle::Negative), 1u);
}

TYPED_TEST(RiscvModelRules, QenterAfterAFaultLeavesNoNegativeEntry) {
  auto& p = *this->pmap;
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_THROW(p.load(c, this->va, 16), PageFault);
  const paddr_t pages[] = {this->a->phys_addr};
  p.qenter(3, this->va, pages);  // always invalidates: every hart fences
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_EQ(p.load(c, this->va, 16), this->bytes_of(this->a));
  EXPECT_EQ(p.stale_log().size(), 0u);
}

// A permission fault walked a valid leaf: nothing to cache as invalid.
TYPED_TEST(RiscvModelRules, PermissionFaultCachesNoInvalidEntry) {
  auto& p = *this->pmap;
  p.kenter(this->va, this->a->phys_addr, KenterAttrs{{}, false, {}});
  const std::vector<std::uint8_t> data(8, 0x3c);
  EXPECT_THROW(p.store(1, this->va, data), PageFault);
  p.protect(this->va, 1, true);  // widened without a fence: permitted
  p.store(1, this->va, data);
  EXPECT_EQ(p.stale_log().size(), 0u);
  EXPECT_EQ(phys_bytes(p.phys(), this->a->phys_addr, 8), data);
}

}  // namespace
}  // namespace kva::test
