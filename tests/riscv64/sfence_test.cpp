// What the emulated harts' TLBs do: a missing sfence.vma is observable (a hart keeps reading the
// old page), each hart has its own TLB, and a fence repairs it. Also two places where QEMU is
// more coherent than hardware, pinned here because the architectural TLB model exists for
// them: every sfence.vma flushes the whole TLB (whatever its address or ASID), and a walk that
// found an invalid entry is never cached.
#include "tests/riscv64/riscv_test_util.h"

namespace kva::test {
namespace {

template <class Format>
class RiscvSfence : public testing::Test {
 protected:
  RiscvSfence() : rig(2), va(rig.km.kva.start + 21 * PAGE_SIZE) {
    a = pattern_page(rig.ram, 0x10);
    b = pattern_page(rig.ram, 0x80);
  }
  std::vector<std::uint8_t> read(cpuid_t cpu) {
    auto got = rig.load(cpu, va, 64);
    EXPECT_FALSE(got.trap);
    return got.bytes;
  }
  std::vector<std::uint8_t> bytes_of(vm_page* m) { return rig.ram_bytes(m->phys_addr, 64); }

  RiscvRig<Format> rig;
  vaddr_t va;
  vm_page* a = nullptr;
  vm_page* b = nullptr;
};
TYPED_TEST_SUITE(RiscvSfence, RiscvFormats, FormatName);

TYPED_TEST(RiscvSfence, MissingSfenceVmaKeepsTheOldPageOnThatHartOnly) {
  auto& rig = this->rig;
  rig.kenter(this->va, this->a->phys_addr);
  ASSERT_EQ(this->read(0), this->bytes_of(this->a));
  rig.kenter(this->va, this->b->phys_addr);  // no fence
  EXPECT_EQ(this->read(0), this->bytes_of(this->a)) << "hart 0 still translates through its TLB";
  EXPECT_EQ(this->read(1), this->bytes_of(this->b)) << "hart 1 never cached va: it walks";
  rig.run_ok(0, rig.sfence_pages, {this->va, 1});
  EXPECT_EQ(this->read(0), this->bytes_of(this->b));
}

TYPED_TEST(RiscvSfence, QemuFlushesEverythingOnAnyFence) {
  auto& rig = this->rig;
  rig.kenter(this->va, this->a->phys_addr);
  this->read(0);
  rig.kenter(this->va, this->b->phys_addr);
  rig.run_ok(0, rig.sfence_pages, {this->va + 64 * PAGE_SIZE, 1});  // another page
  EXPECT_EQ(this->read(0), this->bytes_of(this->b)) << "hardware may still hold va here; QEMU does not";
  rig.kenter(this->va, this->a->phys_addr);
  rig.run_ok(0, rig.sfence_asid, {this->va, 7});  // an ASID nobody uses (satp.ASID is 0)
  EXPECT_EQ(this->read(0), this->bytes_of(this->a)) << "hardware keeps ASID 0's entry; QEMU does not";
}

TYPED_TEST(RiscvSfence, QemuNeverCachesAnInvalidEntry) {
  auto& rig = this->rig;
  auto miss = rig.load(0, this->va, 8);
  ASSERT_TRUE(miss.trap);
  EXPECT_EQ(miss.trap->intno, riscv::kTrapLoadPageFault);
  rig.kenter(this->va, this->a->phys_addr);  // invalid -> valid, no fence
  EXPECT_EQ(this->read(0), this->bytes_of(this->a)) << "without Svvptc hardware may still fault here";
}

TYPED_TEST(RiscvSfence, EachHartFencesOnlyItsOwnTlb) {
  RiscvRig<TypeParam> rig(4);
  vm_page* a = pattern_page(rig.ram, 0x21);
  vm_page* b = pattern_page(rig.ram, 0x42);
  const vaddr_t va = rig.km.kva.start + 9 * PAGE_SIZE;
  rig.kenter(va, a->phys_addr);
  for (cpuid_t c = 0; c < 4; ++c) ASSERT_FALSE(rig.load(c, va, 32).trap);
  rig.kenter(va, b->phys_addr);
  rig.run_ok(0, rig.sfence_all);
  rig.run_ok(2, rig.sfence_all);
  for (cpuid_t c = 0; c < 4; ++c) {
    vm_page* expect = (c == 0 || c == 2) ? b : a;
    EXPECT_EQ(rig.load(c, va, 32).bytes, rig.ram_bytes(expect->phys_addr, 32)) << "hart " << c;
  }
}

}  // namespace
}  // namespace kva::test
