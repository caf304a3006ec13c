// sf_buf's PG_A optimization on emulated i386: the A bit it reads is the one the guest's
// hardware walk set. A never-touched mapping is recycled without TLB work; a mapping a guest
// load touched is invalidated and shot down.
#include "core/sched.h"
#include "core/sf_buf.h"
#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

class SfBufAbitTest : public testing::TestWithParam<std::string> {};

TEST_P(SfBufAbitTest, RecycleSkipsInvalidationOnlyWhenTheGuestNeverWalked) {
  auto pmap = make_x86(GetParam(), 2);
  Scheduler sched(1);
  SfBufSubsystem sfb(*pmap, sched, SfBufConfig{1});
  Thread& td = sched.thread_create("td0", 0);
  vm_page* a = pattern_page(pmap->phys(), 1);
  vm_page* b = pattern_page(pmap->phys(), 2);
  vm_page* c = pattern_page(pmap->phys(), 3);

  sf_buf* sf = sfb.sf_buf_alloc_now(td, a, SFB_DEFAULT);  // nobody touches it
  EXPECT_FALSE(pmap->pte(sf->kva).accessed);
  sfb.sf_buf_free(td, sf);
  const auto shootdowns = pmap->stats().shootdowns;
  const auto invalidations = pmap->stats().local_invalidations;
  sf = sfb.sf_buf_alloc_now(td, b, SFB_DEFAULT);
  EXPECT_EQ(sfb.stats().invalidations_skipped_unaccessed, 1u);
  EXPECT_EQ(pmap->stats().shootdowns, shootdowns);
  EXPECT_EQ(pmap->stats().local_invalidations, invalidations);

  pmap->load(1, sf->kva, 16);  // cpu1's walk sets A in the real PTE
  EXPECT_TRUE(pmap->pte(sf->kva).accessed);
  sfb.sf_buf_free(td, sf);
  sf = sfb.sf_buf_alloc_now(td, c, SFB_DEFAULT);
  EXPECT_EQ(sfb.stats().invalidations_skipped_unaccessed, 1u);
  EXPECT_EQ(pmap->stats().shootdowns, shootdowns + 1);
  EXPECT_EQ(pmap->load(1, sf->kva, 16), phys_bytes(pmap->phys(), c->phys_addr, 16));
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  sfb.sf_buf_free(td, sf);
}

INSTANTIATE_TEST_SUITE_P(X86, SfBufAbitTest, testing::Values("i386", "i386-pae"), arch_test_name);

}  // namespace
}  // namespace kva::test
