// A/D handling, the machine option: hardware-managed (Svadu-like: the walk sets A, and D on a
// store, as QEMU does) or software-managed (Svade: a walk that finds A=0, or D=0 for a store,
// faults; emulated on the host, and the hardware never writes A or D). FreeBSD presets A and D
// in kernel PTEs, so sf_buf works the same under both.
#include "core/sched.h"
#include "core/sf_buf.h"
#include "tests/riscv64/riscv_test_util.h"

namespace kva::test {
namespace {

template <class Format>
class RiscvAd : public testing::Test {};
TYPED_TEST_SUITE(RiscvAd, RiscvFormats, FormatName);

TYPED_TEST(RiscvAd, SvaduSetsAccessedAndDirtyOnTheWalk) {
  auto p = make_riscv<TypeParam>(2, riscv::AdUpdate::Hardware);
  const vaddr_t va = p->kva_space().start;
  p->kenter(va, pattern_page(p->phys(), 1)->phys_addr);
  p->clear_accessed(va);
  p->clear_modified(va);
  p->invalidate_range_all(0, va, 1);
  p->load(1, va, 8);
  EXPECT_TRUE(p->pte(va).accessed);
  EXPECT_FALSE(p->pte(va).modified);
  p->store(1, va, std::vector<std::uint8_t>(8, 1));
  EXPECT_TRUE(p->pte(va).modified);
  EXPECT_EQ(p->stale_log().size(), 0u);
}

TYPED_TEST(RiscvAd, SvadeFaultsOnClearAccessedOrDirtyAndNeverSetsThem) {
  auto p = make_riscv<TypeParam>(2, riscv::AdUpdate::Software);
  const vaddr_t va = p->kva_space().start;
  vm_page* m = pattern_page(p->phys(), 1);
  p->kenter(va, m->phys_addr);
  EXPECT_EQ(p->load(1, va, 8), phys_bytes(p->phys(), m->phys_addr, 8)) << "PTE_KERN: A and D preset";
  p->clear_accessed(va);
  p->invalidate_range_all(0, va, 1);
  try {
    p->load(1, va, 8);
    FAIL() << "a walk that finds A=0 must fault under Svade";
  } catch (const PageFault& f) {
    EXPECT_EQ(f.va, va);
    EXPECT_NE(f.walk.find("A=0 (Svade)"), std::string::npos) << f.walk;
  }
  EXPECT_FALSE(p->pte(va).accessed) << "the hart never sets A";
  EXPECT_EQ(p->stale_log().count(Oracle::Negative), 0u) << "the walk found a valid leaf";
  p->kenter(va, m->phys_addr);  // A and D again
  p->clear_modified(va);
  p->invalidate_range_all(0, va, 1);
  p->load(0, va, 8);
  EXPECT_THROW(p->store(0, va, std::vector<std::uint8_t>(8, 2)), PageFault) << "D=0 on a store";
  EXPECT_FALSE(p->pte(va).modified);
}

// A hart that still holds the translation in its TLB does not walk, so it cannot fault: the
// host asks the model. QEMU re-walked (it flushes more than the ISA requires) and set A; the
// host puts it back, since Svade hardware never writes A.
TYPED_TEST(RiscvAd, SvadeTlbHitDoesNotWalk) {
  auto p = make_riscv<TypeParam>(2, riscv::AdUpdate::Software);
  const vaddr_t va = p->kva_space().start, other = va + 8 * PAGE_SIZE;
  p->kenter(va, pattern_page(p->phys(), 1)->phys_addr);
  p->load(1, va, 8);
  p->clear_accessed(va);        // no fence: hart 1 may keep the entry
  p->invalidate_local(1, other);  // QEMU flushes hart 1's whole TLB; the ISA drops only `other`
  EXPECT_NO_THROW(p->load(1, va, 8));
  EXPECT_FALSE(p->pte(va).accessed);
  EXPECT_THROW(p->load(0, va, 8), PageFault) << "hart 0 never held it: it walks and faults";
}

TYPED_TEST(RiscvAd, SfBufWorksUnderBoth) {
  for (riscv::AdUpdate ad : {riscv::AdUpdate::Hardware, riscv::AdUpdate::Software}) {
    auto p = make_riscv<TypeParam>(4, ad);
    Scheduler sched(1);
    SfBufSubsystem sfb(*p, sched, SfBufConfig{2});
    Thread& td = sched.thread_create("td", 2);
    for (int i = 0; i < 6; ++i) {
      vm_page* m = pattern_page(p->phys(), static_cast<std::uint8_t>(i + 1));
      sf_buf* sf = sfb.sf_buf_alloc_now(td, m, SFB_DEFAULT);
      EXPECT_EQ(sf->kva, p->phys_to_dmap(m->phys_addr));
      for (cpuid_t c = 0; c < 4; ++c) EXPECT_EQ(p->load(c, sf->kva + 64 * c, 32), phys_bytes(p->phys(), m->phys_addr + 64 * c, 32));
      p->store(i % 4, sf->kva + 512, std::vector<std::uint8_t>(16, 0xee));
      sfb.sf_buf_free(td, sf);
    }
    EXPECT_EQ(p->stale_log().size(), 0u);
  }
}

}  // namespace
}  // namespace kva::test
