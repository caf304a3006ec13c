// The software walk (pte / extract / describe_walk) agrees with the emulated hardware walk:
// what the guest reads, and the A/D bits that the guest's walk sets in the real tables.
#include <algorithm>

#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

class WalkTest : public testing::TestWithParam<std::string> {};

TEST_P(WalkTest, GuestLoadsWhatSoftwareWalkMapsAndSetsAccessed) {
  auto pmap = make_x86(GetParam(), 2);
  PhysicalMemory& phys = pmap->phys();
  const vaddr_t base = pmap->kva_space().start;
  constexpr int kPages = 12;
  std::vector<vm_page*> pages;
  for (int i = 0; i < kPages; ++i) {
    pages.push_back(pattern_page(phys, static_cast<std::uint8_t>(17 * i + 3)));
    // Map in a scrambled order so VA order and PA order differ.
    pmap->kenter(base + ((i * 5) % kPages) * PAGE_SIZE, pages.back()->phys_addr);
  }
  for (int i = 0; i < kPages; ++i) {
    const vaddr_t va = base + ((i * 5) % kPages) * PAGE_SIZE;
    PteState before = pmap->pte(va);
    ASSERT_TRUE(before.valid);
    EXPECT_EQ(before.pa, pages[i]->phys_addr);
    EXPECT_TRUE(before.writable);
    // FreeBSD's pmap_kenter: amd64 stores pg_g | A | M | pg_nx, i386 none of them.
    const bool amd64 = GetParam() == "amd64";
    EXPECT_EQ(before.accessed, amd64);
    EXPECT_EQ(before.modified, amd64);
    EXPECT_EQ(before.global, amd64);
    EXPECT_EQ(before.executable, !amd64);
    EXPECT_EQ(before.page_size, PAGE_SIZE);
    for (cpuid_t cpu = 0; cpu < 2; ++cpu) {
      for (std::size_t off : {std::size_t{0}, std::size_t{100}, PAGE_SIZE - 80}) {
        auto got = pmap->load(cpu, va + off, 80);
        EXPECT_EQ(got, phys_bytes(phys, *pmap->extract(va + off), 80)) << "cpu" << cpu << " off " << off;
        EXPECT_EQ(*pmap->extract(va + off), pages[i]->phys_addr + off);
      }
    }
    PteState after = pmap->pte(va);
    EXPECT_TRUE(after.accessed) << "the guest walk sets A\n" << pmap->describe_walk(va);
    EXPECT_EQ(after.modified, amd64) << "a load does not set D";
    std::vector<std::uint8_t> data(40, 0xa5);
    pmap->store(1, va + 8, data);
    EXPECT_TRUE(pmap->pte(va).modified) << "a store sets D\n" << pmap->describe_walk(va);
    EXPECT_EQ(phys_bytes(phys, pages[i]->phys_addr + 8, 40), data);
  }
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  EXPECT_GT(pmap->stats().guest_instructions, 0u);
  EXPECT_EQ(pmap->stats().emu_calls, pmap->stats().loads + pmap->stats().stores);
}

// The hardware does not walk on a TLB hit: after clear_accessed without invalidation, a load on
// the CPU that caches the page leaves A clear; after invlpg it walks again and sets A. This is
// what sf_buf's A-bit optimization relies on.
TEST_P(WalkTest, AccessedBitSetOnlyByARealWalk) {
  auto pmap = make_x86(GetParam(), 2);
  const vaddr_t va = pmap->kva_space().start + 7 * PAGE_SIZE;
  vm_page* m = pattern_page(pmap->phys(), 9);
  pmap->kenter(va, m->phys_addr);
  pmap->load(0, va, 8);
  ASSERT_TRUE(pmap->pte(va).accessed);
  pmap->clear_accessed(va);
  pmap->load(0, va, 8);
  EXPECT_FALSE(pmap->pte(va).accessed) << "TLB hit on cpu0 must not walk";
  pmap->load(1, va, 8);
  EXPECT_TRUE(pmap->pte(va).accessed) << "cpu1 has no entry: it walks and sets A";
  pmap->clear_accessed(va);
  pmap->invalidate_local(0, va);
  pmap->load(0, va, 8);
  EXPECT_TRUE(pmap->pte(va).accessed) << "after invlpg cpu0 walks again";
}

TEST_P(WalkTest, DescribeWalkNamesEveryLevel) {
  auto pmap = make_x86(GetParam(), 1);
  const vaddr_t va = pmap->kva_space().start + 3 * PAGE_SIZE;
  pmap->kenter(va, pattern_page(pmap->phys(), 1)->phys_addr);
  std::string w = pmap->describe_walk(va);
  if (GetParam() == "amd64") {
    for (const char* lvl : {"PML4E[", "PDPTE[", "PDE[", "PTE["}) EXPECT_NE(w.find(lvl), std::string::npos) << w;
  } else if (GetParam() == "i386-pae") {
    for (const char* lvl : {"PDPTE[", "PDE[", "PTE["}) EXPECT_NE(w.find(lvl), std::string::npos) << w;
  } else {
    for (const char* lvl : {"PDE[", "PTE["}) EXPECT_NE(w.find(lvl), std::string::npos) << w;
  }
  EXPECT_NE(w.find("-> pa"), std::string::npos) << w;
  pmap->kremove(va);
  EXPECT_NE(pmap->describe_walk(va).find("not mapped"), std::string::npos);
  EXPECT_FALSE(pmap->extract(va).has_value());
}

TEST(Amd64DirectMap, DmapLoadsReadPhysicalMemoryThroughGlobalLargePages) {
  auto pmap = make_x86("amd64", 2);
  ASSERT_TRUE(pmap->has_direct_map());
  for (int i = 0; i < 6; ++i) {
    vm_page* m = pattern_page(pmap->phys(), static_cast<std::uint8_t>(40 + i));
    vaddr_t va = pmap->phys_to_dmap(m->phys_addr);
    EXPECT_EQ(va, 0xfffff80000000000ull + m->phys_addr);
    PteState p = pmap->pte(va + 16);
    ASSERT_TRUE(p.valid);
    EXPECT_TRUE(p.global);
    EXPECT_EQ(p.pa, m->phys_addr);
    EXPECT_EQ(pmap->load(i % 2, va + 16, 64), phys_bytes(pmap->phys(), m->phys_addr + 16, 64));
    EXPECT_TRUE(pmap->pte(va).accessed);
    EXPECT_NE(pmap->describe_walk(va).find(" PS"), std::string::npos) << pmap->describe_walk(va);
  }
  EXPECT_EQ(pmap->stale_log().size(), 0u);
}

TEST(I386, HasNoDirectMapAndRejectsKenterOutsideKva) {
  for (const char* arch : {"i386", "i386-pae"}) {
    auto pmap = make_x86(arch, 1);
    EXPECT_FALSE(pmap->has_direct_map());
    EXPECT_THROW(pmap->phys_to_dmap(pmap->phys().base()), KvaError);
    EXPECT_THROW(pmap->kenter(pmap->kva_space().end, pmap->phys().base()), KvaError);
  }
}

// The VA format front ends check addresses against: the KVA fits, and one bit beyond a 32-bit
// format does not (a 32-bit arch would otherwise translate va mod 2^32).
TEST_P(WalkTest, VaFormatHoldsTheKernelVaAndNothingWider) {
  auto pmap = make_x86(GetParam(), 1);
  const VaFormat f = pmap->va_format();
  EXPECT_TRUE(f.fits(pmap->kva_space().start));
  EXPECT_TRUE(f.fits(pmap->kva_space().end - 1));
  EXPECT_LE(f.bits, f.width);
  if (f.width < 64) {
    EXPECT_EQ(f.bits, f.width);
    EXPECT_FALSE(f.fits(pmap->kva_space().start + (vaddr_t{1} << f.width)));
  } else {
    EXPECT_FALSE(f.fits(vaddr_t{1} << (f.bits - 1))) << "non-canonical";
  }
}

// mapped_leaves finds what kenter mapped, in VA order, skipping the unmapped space between,
// and names the page-table pages it read; walk() places every entry in its table.
TEST_P(WalkTest, MappedLeavesListsTheTablesLeaves) {
  auto pmap = make_x86(GetParam(), 1);
  PhysicalMemory& phys = pmap->phys();
  const vaddr_t base = pmap->kva_space().start;
  vm_page* a = pattern_page(phys, 1);
  vm_page* b = pattern_page(phys, 2);
  pmap->kenter(base + 5 * PAGE_SIZE, b->phys_addr);
  pmap->kenter(base + PAGE_SIZE, a->phys_addr);
  std::vector<MappedLeaf> out;
  std::vector<paddr_t> tables;
  pmap->mapped_leaves(base, pmap->kva_space().end - 1, out, &tables);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].va, base + PAGE_SIZE);
  EXPECT_EQ(out[0].entry.next, a->phys_addr);
  EXPECT_EQ(out[1].va, base + 5 * PAGE_SIZE);
  EXPECT_EQ(out[1].entry.next, b->phys_addr);
  EXPECT_TRUE(out[1].writable && out[1].entry.leaf);
  for (const WalkLevel& l : pmap->walk(base + 5 * PAGE_SIZE)) {
    EXPECT_GE(l.index, 0);
    EXPECT_GT(l.slot, l.table - 1);
    EXPECT_NE(std::find(tables.begin(), tables.end(), trunc_page(l.table)), tables.end()) << l.name;
  }
  // The whole address space, as the format allows it: every leaf once, in VA order.
  const VaFormat f = pmap->va_format();
  std::vector<MappedLeaf> all;
  if (f.bits == f.width) {
    pmap->mapped_leaves(0, f.width == 64 ? ~vaddr_t{0} : (vaddr_t{1} << f.width) - 1, all);
  } else {
    pmap->mapped_leaves(0, (vaddr_t{1} << (f.bits - 1)) - 1, all);
    pmap->mapped_leaves(~vaddr_t{0} << (f.bits - 1), ~vaddr_t{0}, all);
  }
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].va, all[i].va);
  EXPECT_EQ(std::count_if(all.begin(), all.end(), [&](const MappedLeaf& l) {
              return l.va >= base && l.va < pmap->kva_space().end;
            }), 2);
  if (pmap->has_direct_map()) {
    const vaddr_t dmap = pmap->phys_to_dmap(phys.base());
    EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const MappedLeaf& l) {
      return l.va <= dmap && dmap - l.va < l.entry.reach && l.entry.reach > PAGE_SIZE;
    })) << "the direct map is made of large pages";
  }
}

INSTANTIATE_TEST_SUITE_P(X86, WalkTest, testing::ValuesIn(x86_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
