#include <gtest/gtest.h>

#include "core/tlb_model.h"

namespace kva {
namespace {

TEST(TlbModel, FillIsPerCpuAndPageGranular) {
  TlbModel t(2);
  t.fill(0, 0x5123, TlbEntry{0x9000, true, false, 0});
  ASSERT_TRUE(t.lookup(0, 0x5FFF).has_value());
  EXPECT_EQ(t.lookup(0, 0x5000)->pa, 0x9000u);
  EXPECT_FALSE(t.lookup(0, 0x6000).has_value());
  EXPECT_FALSE(t.lookup(1, 0x5000).has_value());  // other CPU has its own TLB
  EXPECT_EQ(t.size(0), 1u);
  EXPECT_EQ(t.size(1), 0u);
  EXPECT_THROW(t.lookup(2, 0), KvaError);
}

TEST(TlbModel, RefillReplacesEntry) {
  TlbModel t(1);
  t.fill(0, 0x5000, TlbEntry{0x9000});
  t.fill(0, 0x5000, TlbEntry{0xA000});
  EXPECT_EQ(t.size(0), 1u);
  EXPECT_EQ(t.lookup(0, 0x5000)->pa, 0xA000u);
}

TEST(TlbModel, InvalidatePageDropsGlobalToo) {
  TlbModel t(1);
  t.fill(0, 0x5000, TlbEntry{0x9000, true, true, 0});
  t.fill(0, 0x6000, TlbEntry{0xA000});
  t.invalidate_page(0, 0x5010);
  EXPECT_FALSE(t.lookup(0, 0x5000).has_value());
  EXPECT_TRUE(t.lookup(0, 0x6000).has_value());
}

TEST(TlbModel, AsidScopedInvalidationsSpareGlobalAndOtherAsids) {
  TlbModel t(1);
  t.fill(0, 0x1000, TlbEntry{0x9000, true, false, 1});
  t.fill(0, 0x2000, TlbEntry{0x9000, true, false, 2});
  t.fill(0, 0x3000, TlbEntry{0x9000, true, true, 1});
  t.invalidate_page_asid(0, 0x2000, 1);  // wrong asid: stays
  EXPECT_TRUE(t.lookup(0, 0x2000).has_value());
  t.invalidate_page_asid(0, 0x3000, 1);  // global: stays
  EXPECT_TRUE(t.lookup(0, 0x3000).has_value());
  t.invalidate_page_asid(0, 0x1000, 1);
  EXPECT_FALSE(t.lookup(0, 0x1000).has_value());
  t.fill(0, 0x1000, TlbEntry{0x9000, true, false, 1});
  t.invalidate_asid(0, 1);
  EXPECT_FALSE(t.lookup(0, 0x1000).has_value());
  EXPECT_TRUE(t.lookup(0, 0x2000).has_value());
  EXPECT_TRUE(t.lookup(0, 0x3000).has_value());
}

TEST(TlbModel, InvalidateAllOptionallyKeepsGlobal) {
  TlbModel t(2);
  t.fill(0, 0x1000, TlbEntry{0x9000, true, true, 0});
  t.fill(0, 0x2000, TlbEntry{0x9000});
  t.fill(1, 0x2000, TlbEntry{0x9000});
  t.invalidate_all(0, /*keep_global=*/true);
  EXPECT_EQ(t.size(0), 1u);
  EXPECT_TRUE(t.lookup(0, 0x1000).has_value());
  EXPECT_EQ(t.size(1), 1u);  // only cpu 0 flushed
  t.invalidate_all(0, false);
  EXPECT_EQ(t.size(0), 0u);
}

TEST(TlbModel, EntriesOrderedByVa) {
  TlbModel t(1);
  t.fill(0, 0x3000, TlbEntry{0xC000});
  t.fill(0, 0x1000, TlbEntry{0xA000});
  const auto e = t.entries(0);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].first, 0x1000u);
  EXPECT_EQ(e[1].second.pa, 0xC000u);
}

}  // namespace
}  // namespace kva
