// Upper-level entries re-pointed at new table pages (replace_table) without invalidation.
// Every x86 CPU may keep walking through the old table pages: PML4E/PDPTE/PDE entries sit in
// paging-structure caches (SDM vol. 3, 4.10.3) until an INVLPG (of any address) or a CR3 load.
// PAE also loads its four PDPTEs into registers at CR3 load and walks through those until the
// next one (4.4.1): INVLPG leaves them. QEMU re-reads every level from memory, so only the
// architectural oracle can show either.
#include "archs/x86/x86_stub_abi.h"
#include "x86_test_util.h"

namespace kva::test {
namespace {

class UpperLevelCaching : public testing::TestWithParam<std::string> {};

TEST_P(UpperLevelCaching, RepointedTablesAreReportedUntilTheIsaDropsTheCachedEntry) {
  auto pmap = make_x86(GetParam(), 2);
  PhysicalMemory& phys = pmap->phys();
  const vaddr_t va = pmap->kva_space().start;
  vm_page* a = pattern_page(phys, 0x11);
  vm_page* b = pattern_page(phys, 0x77);
  const bool registers = pmap->capabilities().root_registers;
  pmap->kenter(va, a->phys_addr);
  // Make sure no leaf translation of va is cacheable, so only upper-level entries can be stale
  // (amd64 presets A in kernel PTEs).
  pmap->clear_accessed(va);
  pmap->invalidate_range_all(0, va, 1);
  // Copies of every table level from the top down; then va's PTE changes in the new copy only.
  for (int level = pmap->capabilities().table_levels(); level >= 1; --level)
    pmap->replace_table(va, level, /*copy=*/true);
  pmap->kenter(va, b->phys_addr);
  ASSERT_EQ(pmap->extract(va), b->phys_addr);

  const auto got = pmap->load(1, va, 16);
  EXPECT_EQ(got, phys_bytes(phys, b->phys_addr, 16)) << "the emulator re-reads every level";
  EXPECT_EQ(pmap->stale_log().count(Oracle::Observed), 0u);
  ASSERT_EQ(pmap->stale_log().count(Oracle::Architectural), 1u);
  const StaleAccess& r = pmap->stale_log().entries()[0];
  EXPECT_EQ(r.cpu, 1);
  EXPECT_EQ(r.cached_pa, a->phys_addr) << "the walk through the old tables reaches page a";
  EXPECT_EQ(r.expected_pa, b->phys_addr);
  EXPECT_TRUE(r.via_table);
  if (registers) {
    EXPECT_EQ(r.holding, Holding::Demand) << "every CPU loaded its PDPTEs at boot";
    EXPECT_NE(r.rule.find("PDPTE register"), std::string::npos) << r.rule;
  } else {
    EXPECT_EQ(r.holding, Holding::Speculative);
    EXPECT_NE(r.rule.find("paging-structure cache"), std::string::npos) << r.rule;
  }

  // INVLPG drops every paging-structure-cache entry; PAE's PDPTE registers stay.
  pmap->stale_log().clear();
  pmap->invalidate_local(1, va);
  pmap->load(1, va, 16);
  if (registers) {
    ASSERT_EQ(pmap->stale_log().count(Oracle::Architectural), 1u);
    EXPECT_NE(pmap->stale_log().entries()[0].rule.find("survives INVLPG"), std::string::npos)
        << pmap->stale_log().entries()[0].rule;
  } else {
    EXPECT_EQ(pmap->stale_log().size(), 0u);
  }
  // A CR3 load reloads the registers: the report stops. cpu 0 has done neither.
  pmap->stale_log().clear();
  pmap->flush_local(1);
  pmap->load(1, va, 16);
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  pmap->load(0, va, 16);
  EXPECT_EQ(pmap->stale_log().count(Oracle::Architectural), 1u);
}

// An INVLPG of an unrelated address is enough to drop a stale PDE (4.10.4.1), and a CR3 load
// of another CPU drops nothing on this one.
TEST_P(UpperLevelCaching, AnyInvlpgDropsEveryPagingStructureEntry) {
  auto pmap = make_x86(GetParam(), 2);
  const vaddr_t va = pmap->kva_space().start + 8 * PAGE_SIZE;
  vm_page* a = pattern_page(pmap->phys(), 1);
  vm_page* b = pattern_page(pmap->phys(), 2);
  pmap->kenter(va, a->phys_addr);
  pmap->clear_accessed(va);
  pmap->invalidate_range_all(0, va, 1);
  pmap->replace_table(va, 1, /*copy=*/true);
  pmap->kenter(va, b->phys_addr);
  pmap->flush_local(0);
  pmap->load(1, va, 8);
  EXPECT_EQ(pmap->stale_log().count(Oracle::Architectural), 1u);
  pmap->invalidate_local(1, pmap->kva_space().end - PAGE_SIZE);  // far away, other PDE
  pmap->load(1, va, 8);
  EXPECT_EQ(pmap->stale_log().count(Oracle::Architectural), 1u) << "no new report";
}

// The same sequence with the invalidation FreeBSD does after freeing a page-table page
// (pmap_invalidate_page / _range on every CPU): nothing to report.
TEST_P(UpperLevelCaching, InvalidationOnEveryCpuLeavesNothingStale) {
  auto pmap = make_x86(GetParam(), 4);
  const vaddr_t va = pmap->kva_space().start;
  vm_page* a = pattern_page(pmap->phys(), 1);
  vm_page* b = pattern_page(pmap->phys(), 2);
  pmap->kenter(va, a->phys_addr);
  for (cpuid_t c = 0; c < 4; ++c) pmap->load(c, va, 8);
  pmap->replace_table(va, 1, /*copy=*/false);  // an empty page table: va unmapped
  pmap->invalidate_range_all(2, va, 1);
  for (cpuid_t c = 0; c < 4; ++c) EXPECT_THROW(pmap->load(c, va, 8), PageFault) << "cpu" << c;
  pmap->kenter(va, b->phys_addr);
  for (cpuid_t c = 0; c < 4; ++c)
    EXPECT_EQ(pmap->load(c, va, 8), phys_bytes(pmap->phys(), b->phys_addr, 8)) << "cpu" << c;
  EXPECT_EQ(pmap->stale_log().size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(X86, UpperLevelCaching, testing::ValuesIn(x86_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
