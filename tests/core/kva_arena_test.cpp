#include <gtest/gtest.h>

#include "core/kva_arena.h"

namespace kva {
namespace {

constexpr vaddr_t kBase = 0x10000000;
constexpr std::size_t P = PAGE_SIZE;

TEST(KvaArena, FirstFitRoundsToPages) {
  KvaArena a({kBase, kBase + 8 * P});
  EXPECT_EQ(a.alloc(1), kBase);
  EXPECT_EQ(a.alloc(P + 1), kBase + P);  // two pages
  EXPECT_EQ(a.alloc(P), kBase + 3 * P);
  EXPECT_EQ(a.free_bytes(), 4 * P);  // 1 + 2 + 1 pages used of 8
}

TEST(KvaArena, ExhaustionReturnsNullopt) {
  KvaArena a({kBase, kBase + 4 * P});
  EXPECT_FALSE(a.alloc(5 * P).has_value());
  ASSERT_TRUE(a.alloc(4 * P).has_value());
  EXPECT_FALSE(a.alloc(1).has_value());
  EXPECT_EQ(a.free_bytes(), 0u);
}

TEST(KvaArena, FreeCoalescesBothNeighbours) {
  KvaArena a({kBase, kBase + 3 * P});
  const vaddr_t x = *a.alloc(P), y = *a.alloc(P), z = *a.alloc(P);
  a.free(x, P);
  a.free(z, P);
  EXPECT_FALSE(a.alloc(2 * P).has_value());  // two separate one-page holes
  a.free(y, P);                               // joins both
  EXPECT_EQ(a.alloc(3 * P), kBase);
}

TEST(KvaArena, FirstFitReusesFreedHole) {
  KvaArena a({kBase, kBase + 4 * P});
  const vaddr_t x = *a.alloc(P);
  a.alloc(P);
  a.free(x, P);
  EXPECT_EQ(a.alloc(P), x);
}

TEST(KvaArena, DoubleAndPartialFreeThrow) {
  KvaArena a({kBase, kBase + 4 * P});
  const vaddr_t x = *a.alloc(2 * P);
  EXPECT_THROW(a.free(x, P), KvaError);        // partial
  EXPECT_THROW(a.free(x + P, P), KvaError);    // interior
  a.free(x, 2 * P);
  EXPECT_THROW(a.free(x, 2 * P), KvaError);    // double
  EXPECT_THROW(a.free(kBase + 8 * P, P), KvaError);
  EXPECT_EQ(a.free_bytes(), 4 * P);
}

TEST(KvaArena, RejectsBadRangeAndZeroAlloc) {
  EXPECT_THROW(KvaArena({kBase + 1, kBase + P}), KvaError);
  EXPECT_THROW(KvaArena({kBase, kBase}), KvaError);
  KvaArena a({kBase, kBase + P});
  EXPECT_THROW(a.alloc(0), KvaError);
}

}  // namespace
}  // namespace kva

namespace kva {
namespace {

// An aligned allocation skips to the next multiple of the alignment and leaves the skipped
// part free for later first-fit allocations.
TEST(KvaArena, AlignedAllocationKeepsTheSkippedPartFree) {
  constexpr std::uint64_t k2M = 2u << 20;
  KvaArena arena({k2M, 3 * k2M});
  const auto small = arena.alloc(PAGE_SIZE);
  ASSERT_TRUE(small);
  EXPECT_EQ(*small, k2M);
  const auto big = arena.alloc(k2M, k2M);
  ASSERT_TRUE(big);
  EXPECT_EQ(*big, 2 * k2M);
  EXPECT_EQ(arena.alloc(k2M, k2M), std::nullopt) << "no aligned 2 MiB hole is left";
  const auto gap = arena.alloc(k2M - PAGE_SIZE);
  ASSERT_TRUE(gap) << "the pages skipped for alignment are still free";
  EXPECT_EQ(*gap, k2M + PAGE_SIZE);
  EXPECT_THROW(arena.alloc(PAGE_SIZE, 3 * PAGE_SIZE), KvaError);
}

}  // namespace
}  // namespace kva
