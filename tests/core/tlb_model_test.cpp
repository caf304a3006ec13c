// The TLB model's machinery, independent of any arch: retired records and holder masks,
// invalidation scopes (range, ASID, global, table entries, root registers) with survival notes,
// large pages as one record, break-before-make marks and negative entries.
#include <gtest/gtest.h>

#include "core/tlb_model.h"

namespace kva {
namespace {

constexpr std::uint64_t k2M = std::uint64_t{1} << 21;
constexpr std::uint64_t k1G = std::uint64_t{1} << 30;

Translation leaf(vaddr_t va, paddr_t pa, std::uint64_t span = PAGE_SIZE) {
  Translation t;
  t.va = va;
  t.pa = pa;
  t.span = span;
  return t;
}

Translation table(vaddr_t va, paddr_t pa, std::uint64_t reach, EntryKind kind = EntryKind::Table) {
  Translation t;
  t.va = va;
  t.pa = pa;
  t.span = reach;
  t.kind = kind;
  t.name = "PDE";
  return t;
}

std::vector<HeldEntry> held(const TlbModel& m, cpuid_t cpu, vaddr_t va) {
  std::vector<HeldEntry> out;
  m.held(cpu, va, out);
  return out;
}

TEST(TlbModel, CurrentTranslationsAreDemandOnlyAndNeverHeldAsStale) {
  TlbModel m(4);
  const Translation t = leaf(0x5000, 0x9000);
  m.note_walk(1, t);
  EXPECT_FALSE(m.any_retired());
  EXPECT_TRUE(held(m, 1, 0x5123).empty());
  ASSERT_TRUE(m.demand_leaf(1, 0x5fff).has_value());
  EXPECT_EQ(m.demand_leaf(1, 0x5fff)->pa, 0x9000u);
  EXPECT_FALSE(m.demand_leaf(0, 0x5000).has_value()) << "cpu 0 never walked it";
  ASSERT_EQ(m.view(1).size(), 1u);
  EXPECT_FALSE(m.view(1)[0].retired);
  EXPECT_TRUE(m.view(0).empty());
  EXPECT_THROW(m.note_walk(4, t), KvaError);
}

TEST(TlbModel, RetiredTranslationMayBeHeldByEveryCpuAndSaysWhoWalkedIt) {
  TlbModel m(4);
  const Translation t = leaf(0x5000, 0x9000);
  m.note_walk(2, t);
  m.retire(t);
  EXPECT_EQ(m.retired_count(), 1u);
  for (cpuid_t c = 0; c < 4; ++c) {
    auto h = held(m, c, 0x5010);
    ASSERT_EQ(h.size(), 1u) << c;
    EXPECT_EQ(h[0].holding, c == 2 ? Holding::Demand : Holding::Speculative) << c;
    EXPECT_EQ(h[0].walked_by, 2);
  }
  EXPECT_TRUE(held(m, 0, 0x6000).empty());
  EXPECT_EQ(m.demand_leaf(2, 0x5000)->pa, 0x9000u) << "the walker still translates through it";
  EXPECT_FALSE(m.demand_leaf(1, 0x5000).has_value()) << "speculative holders did not walk it";
}

TEST(TlbModel, RetiringTheSameTranslationAgainKeepsOneRecord) {
  TlbModel m(2);
  const Translation t = leaf(0x5000, 0x9000);
  m.retire(t);
  m.note_walk(0, t);
  m.retire(t);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(held(m, 0, 0x5000).at(0).holding, Holding::Demand);
}

TEST(TlbModel, RangeInvalidationDropsOnlyThatCpuAndRange) {
  TlbModel m(2);
  m.retire(leaf(0x5000, 0x9000));
  m.retire(leaf(0x7000, 0xa000));
  m.invalidate(0, InvalidationScope::range(0x5000, 0x6000));
  EXPECT_TRUE(held(m, 0, 0x5000).empty());
  EXPECT_EQ(held(m, 1, 0x5000).size(), 1u);
  EXPECT_EQ(held(m, 0, 0x7000).size(), 1u);
  m.invalidate(1, InvalidationScope::range(0x5000, 0x6000));
  EXPECT_EQ(m.size(), 1u) << "a record nobody may hold is dropped";
  InvalidationScope empty = InvalidationScope::range(0x7000, 0x7000);
  m.invalidate(0, empty);
  EXPECT_EQ(held(m, 0, 0x7000).size(), 1u);
}

TEST(TlbModel, LargePageIsOneRecordDroppedByAnyAddressInside) {
  TlbModel m(MAXCPU);
  const vaddr_t base = 0x4000'0000;
  m.retire(leaf(base, 0x8000'0000, k1G));
  EXPECT_EQ(m.size(), 1u);
  auto h = held(m, 63, base + 0x1234'5678);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].t.frame_of(base + 0x1234'5678), 0x8000'0000u + 0x1234'5000u);
  for (cpuid_t c = 0; c < MAXCPU; ++c) {
    m.invalidate(c, InvalidationScope::range(base + 0x3000'0000, base + 0x3000'1000));
    EXPECT_TRUE(held(m, c, base).empty()) << c;
  }
  EXPECT_EQ(m.size(), 0u);
}

TEST(TlbModel, FlushKeepingGlobalNotesTheRuleForThatCpuOnly) {
  TlbModel m(2);
  Translation g = leaf(0x5000, 0x9000);
  g.global = true;
  m.retire(g);
  m.retire(leaf(0x6000, 0xa000));
  const RuleId rule = m.rule("test: global survives");
  EXPECT_EQ(m.rule("test: global survives"), rule) << "rule texts are interned";
  InvalidationScope s = InvalidationScope::everything();
  s.keep_global = true;
  s.global_rule = rule;
  m.invalidate(0, s);
  EXPECT_TRUE(held(m, 0, 0x6000).empty());
  ASSERT_EQ(held(m, 0, 0x5000).size(), 1u);
  EXPECT_EQ(held(m, 0, 0x5000)[0].note, rule);
  EXPECT_EQ(m.rule_text(rule), "test: global survives");
  EXPECT_EQ(held(m, 1, 0x5000)[0].note, kNoRule) << "cpu 1 did not flush";
  m.invalidate(0, InvalidationScope::everything());
  EXPECT_TRUE(held(m, 0, 0x5000).empty());
}

TEST(TlbModel, AsidScopeSparesOtherAsidsAndGlobalsOnlyWhenAsked) {
  TlbModel m(1);
  Translation a1 = leaf(0x1000, 0x9000), a2 = leaf(0x1000, 0xa000), g = leaf(0x1000, 0xb000);
  a1.asid = 1;
  a2.asid = 2;
  g.global = true;
  for (const auto& t : {a1, a2, g}) m.retire(t);
  InvalidationScope s = InvalidationScope::range(0x1000, 0x2000);
  s.asid = 1;
  s.keep_global = true;  // e.g. riscv sfence.vma rs1, rs2: global mappings are not ordered
  m.invalidate(0, s);
  auto h = held(m, 0, 0x1000);
  ASSERT_EQ(h.size(), 2u);
  for (const auto& e : h) EXPECT_NE(e.t.pa, 0x9000u);
  s.keep_global = false;  // e.g. arm64 TLBI VAE1: global entries for the VA go too
  m.invalidate(0, s);
  h = held(m, 0, 0x1000);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].t.asid, 2);
}

TEST(TlbModel, TableEntriesFollowTheScopesTableRule) {
  TlbModel m(1);
  const Translation pde = table(0x20'0000, 0x7000, k2M);
  const RuleId last_level = m.rule("test: walk cache survives a last-level invalidation");
  m.retire(pde);
  InvalidationScope s = InvalidationScope::range(0x20'0000, 0x20'1000);
  s.tables = InvalidationScope::Tables::None;
  s.table_rule = last_level;
  m.invalidate(0, s);
  ASSERT_EQ(held(m, 0, 0x30'0000).size(), 1u) << "the PDE covers the whole 2 MiB";
  EXPECT_EQ(held(m, 0, 0x30'0000)[0].note, last_level);
  s = InvalidationScope::range(0x100'0000, 0x100'1000);  // another address
  s.tables = InvalidationScope::Tables::InRange;
  m.invalidate(0, s);
  EXPECT_EQ(held(m, 0, 0x20'0000).size(), 1u);
  s.tables = InvalidationScope::Tables::All;  // x86 INVLPG: every paging-structure entry
  m.invalidate(0, s);
  EXPECT_TRUE(held(m, 0, 0x20'0000).empty());
}

TEST(TlbModel, RootRegistersAreHeldByTheirLoadersUntilARootReload) {
  TlbModel m(3);
  const Translation pdpte = table(0xc000'0000, 0x8000, k1G, EntryKind::RootRegister);
  m.note_walk(0, pdpte);
  m.note_walk(2, pdpte);
  m.retire(pdpte);
  EXPECT_EQ(held(m, 0, 0xc000'0000).at(0).holding, Holding::Demand);
  EXPECT_TRUE(held(m, 1, 0xc000'0000).empty()) << "cpu 1 never loaded it: no speculation";
  const RuleId survives = m.rule("test: register survives invlpg");
  InvalidationScope invlpg = InvalidationScope::range(0xc000'0000, 0xc000'1000);
  invlpg.tables = InvalidationScope::Tables::All;
  invlpg.register_rule = survives;
  m.invalidate(0, invlpg);
  ASSERT_EQ(held(m, 0, 0xc000'0000).size(), 1u);
  EXPECT_EQ(held(m, 0, 0xc000'0000)[0].note, survives);
  m.invalidate(0, InvalidationScope::everything());
  EXPECT_TRUE(held(m, 0, 0xc000'0000).empty());
  m.retire(table(0x4000'0000, 0x9000, k1G, EntryKind::RootRegister));
  EXPECT_EQ(m.size(), 1u) << "a register nobody loaded retires to nothing";
}

TEST(TlbModel, BreakBeforeMakeMarksOnlyRetiredLeavesWithAnotherOutputStillHeld) {
  TlbModel m(2);
  m.retire(leaf(0x5000, 0x9000));
  m.retire(leaf(0x6000, 0xa000));
  EXPECT_EQ(m.mark_bbm(leaf(0x6000, 0xa000)), 0u) << "same output: no violation";
  EXPECT_EQ(m.mark_bbm(leaf(0x5000, 0xb000)), 1u);
  EXPECT_TRUE(held(m, 1, 0x5000).at(0).bbm);
  EXPECT_FALSE(held(m, 1, 0x6000).at(0).bbm);
  // A large page made over the 4 KiB one: overlapping, different output.
  EXPECT_EQ(m.mark_bbm(leaf(0, 0x40'0000, k2M)), 1u);
  for (cpuid_t c = 0; c < 2; ++c) m.invalidate(c, InvalidationScope::range(0x6000, 0x7000));
  for (cpuid_t c = 0; c < 2; ++c) m.invalidate(c, InvalidationScope::range(0x5000, 0x6000));
  EXPECT_EQ(m.mark_bbm(leaf(0x5000, 0xc000)), 0u) << "after the TLBIs nobody holds the old one";
}

TEST(TlbModel, NegativeEntriesAreDemandOnlyAndGoWithAnInvalidationOrARewalk) {
  TlbModel m(2);
  m.note_invalid(1, 0x5123);
  EXPECT_TRUE(m.demand_invalid(1, 0x5000));
  EXPECT_FALSE(m.demand_invalid(0, 0x5000));
  ASSERT_EQ(held(m, 1, 0x5000).size(), 1u);
  EXPECT_EQ(held(m, 1, 0x5000)[0].t.kind, EntryKind::Invalid);
  EXPECT_TRUE(held(m, 0, 0x5000).empty());
  m.invalidate(1, InvalidationScope::range(0x5000, 0x6000));
  EXPECT_FALSE(m.demand_invalid(1, 0x5000));
  m.note_invalid(1, 0x5000);
  m.forget_demand(1, 0x5000);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_THROW(m.note_walk(0, [] {
    Translation t;
    t.kind = EntryKind::Invalid;
    return t;
  }()), KvaError);
}

TEST(TlbModel, ForgetDemandMovesTheCpuOffItsOldLeafButKeepsMayHold) {
  TlbModel m(2);
  const Translation old_t = leaf(0x5000, 0x9000);
  m.note_walk(0, old_t);
  m.retire(old_t);
  m.forget_demand(0, 0x5000);
  EXPECT_FALSE(m.demand_leaf(0, 0x5000).has_value());
  ASSERT_EQ(held(m, 0, 0x5000).size(), 1u);
  EXPECT_EQ(held(m, 0, 0x5000)[0].holding, Holding::Speculative);
  m.note_walk(0, leaf(0x5000, 0xa000));
  m.forget_demand(0, 0x5000);
  EXPECT_EQ(m.size(), 1u) << "a current record nobody walked any more is dropped";
}

TEST(TlbModel, ViewListsHeldAndWalkedEntriesByVa) {
  TlbModel m(2);
  m.note_walk(0, leaf(0x9000, 0x1000));
  m.retire(leaf(0x3000, 0x2000));
  m.note_walk(1, leaf(0x1000, 0x3000));
  auto v = m.view(0);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].t.va, 0x3000u);
  EXPECT_TRUE(v[0].retired);
  EXPECT_EQ(v[1].t.va, 0x9000u);
  EXPECT_FALSE(v[1].retired);
}

}  // namespace
}  // namespace kva
