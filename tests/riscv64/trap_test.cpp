// Guest traps as the host sees them: page faults on loads, stores and fetches carry the exact
// faulting VA (recovered from the trapping instruction, since Unicorn writes no stval), again
// and again on one engine; an ecall from S-mode arrives as trap 8 at the ecall; every hart runs
// in S-mode with the format's satp after boot.
#include <unicorn/riscv.h>

#include "tests/riscv64/riscv_test_util.h"

namespace kva::test {
namespace {

template <class Format>
class RiscvTrap : public testing::Test {};
TYPED_TEST_SUITE(RiscvTrap, RiscvFormats, FormatName);

TYPED_TEST(RiscvTrap, RepeatedLoadAndStoreFaultsOnOneEngineEachReportTheVa) {
  RiscvRig<TypeParam> rig;
  vm_page* m = pattern_page(rig.ram, 5);
  const vaddr_t ok = rig.km.kva.start;
  rig.kenter(ok, m->phys_addr);
  const vaddr_t hole = rig.km.kva.start + 40 * PAGE_SIZE;
  for (int round = 0; round < 4; ++round) {
    // 24 is word aligned, 100 is not: the copy stub takes its byte path for odd lengths.
    for (std::size_t off : {std::size_t{24}, std::size_t{100}}) {
      const vaddr_t va = hole + round * PAGE_SIZE + off;
      auto load = rig.load(1, va, off == 24 ? 16 : 3);
      ASSERT_TRUE(load.trap);
      EXPECT_EQ(load.trap->intno, riscv::kTrapLoadPageFault);
      EXPECT_TRUE(load.trap->page_fault);
      EXPECT_EQ(load.trap->fault_va, va);
      EXPECT_EQ(load.trap->pc, rig.copy.entry + (off == 24 ? 8 : 36)) << "the ld (or lbu) itself";
      auto store = rig.store(1, va, std::vector<std::uint8_t>(off == 24 ? 8 : 3, 1));
      ASSERT_TRUE(store);
      EXPECT_EQ(store->intno, riscv::kTrapStorePageFault);
      EXPECT_EQ(store->fault_va, va);
    }
    auto fine = rig.load(1, ok, 32);
    ASSERT_FALSE(fine.trap) << "the engine keeps working after faults";
    EXPECT_EQ(fine.bytes, rig.ram_bytes(m->phys_addr, 32));
  }
}

TYPED_TEST(RiscvTrap, StoreToAReadOnlyPageIsAStoreFault) {
  RiscvRig<TypeParam> rig;
  const vaddr_t va = rig.km.kva.start + 2 * PAGE_SIZE;
  Pte ro = riscv::kernel_pte(pattern_page(rig.ram, 3)->phys_addr);
  ro.set_rights({true, false, false});
  rig.tables.write(*rig.tables.leaf_slot(va), ro);
  ASSERT_FALSE(rig.load(0, va, 8).trap);
  auto st = rig.store(0, va + 16, std::vector<std::uint8_t>(8, 9));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->intno, riscv::kTrapStorePageFault);
  EXPECT_EQ(st->fault_va, va + 16);
}

TYPED_TEST(RiscvTrap, FetchFaultReportsTheTargetVa) {
  RiscvRig<TypeParam> rig;
  const vaddr_t target = rig.km.kva.start + 7 * PAGE_SIZE + 0x40;
  for (int round = 0; round < 2; ++round) {
    RunResult r = rig.machine->run(0, StubRoutine{"jump", target, target + 8}, {});
    ASSERT_TRUE(r.trap);
    EXPECT_EQ(r.trap->intno, riscv::kTrapFetchPageFault);
    EXPECT_EQ(r.trap->fault_va, target);
  }
  // Mapped but not executable (PTE_KERN has no X): still a fetch fault.
  rig.kenter(target & ~PAGE_MASK, rig.ram.base());
  RunResult r = rig.machine->run(0, StubRoutine{"jump", target, target + 8}, {});
  ASSERT_TRUE(r.trap);
  EXPECT_EQ(r.trap->intno, riscv::kTrapFetchPageFault);
}

TYPED_TEST(RiscvTrap, EcallFromSModeIsTrapEightAtTheEcall) {
  RiscvRig<TypeParam> rig;
  const std::uint64_t args[] = {1, 0, rig.km.kva.start, PAGE_SIZE, 0, 0,
                                riscv::kSbiRfenceRemoteSfenceVma, riscv::kSbiExtRfence};
  for (int round = 0; round < 3; ++round) {
    RunResult r = rig.machine->run(1, rig.ecall, args);
    ASSERT_TRUE(r.trap);
    EXPECT_EQ(r.trap->intno, riscv::kTrapEcall) << "QEMU's cause before its S-mode remap";
    EXPECT_FALSE(r.trap->page_fault);
    EXPECT_EQ(r.trap->pc, rig.ecall.entry);
  }
}

TYPED_TEST(RiscvTrap, EveryHartBootsIntoSModeWithTheFormatsSatp) {
  RiscvRig<TypeParam> rig(3);
  for (cpuid_t c = 0; c < 3; ++c) {
    std::uint64_t priv = 9, satp = 0;
    uc_reg_read(rig.machine->engine(c), UC_RISCV_REG_PRIV, &priv);
    uc_reg_read(rig.machine->engine(c), UC_RISCV_REG_SATP, &satp);
    EXPECT_EQ(priv, 1u) << "S-mode";
    EXPECT_EQ(satp >> 60, TypeParam::kSatpMode);
    EXPECT_EQ((satp & ((std::uint64_t{1} << 44) - 1)) << PAGE_SHIFT, rig.tables.root());
  }
}

}  // namespace
}  // namespace kva::test
