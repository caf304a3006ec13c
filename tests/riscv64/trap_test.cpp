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
      EXPECT_TRUE(rig.is_memory_insn(load.trap->pc, /*store=*/false)) << "pc is the load itself";
      auto store = rig.store(1, va, std::vector<std::uint8_t>(off == 24 ? 8 : 3, 1));
      ASSERT_TRUE(store);
      EXPECT_EQ(store->intno, riscv::kTrapStorePageFault);
      EXPECT_EQ(store->fault_va, va);
      EXPECT_TRUE(rig.is_memory_insn(store->pc, /*store=*/true));
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

// An ecall is a firmware call (emu/guest_isa.h, rule 5): the handler sees trap 8 at the ecall
// with the caller's registers, may run other harts, and the caller resumes after the ecall.
TYPED_TEST(RiscvTrap, EcallIsAFirmwareCallAndTheCallerResumes) {
  RiscvRig<TypeParam> rig(2);
  std::vector<Trap> calls;
  std::vector<std::uint64_t> seen;
  rig.machine->set_firmware_handler([&](cpuid_t cpu, const Trap& t) {
    calls.push_back(t);
    uc_engine* uc = rig.machine->engine(cpu);
    for (int reg : {UC_RISCV_REG_A0, UC_RISCV_REG_A3, UC_RISCV_REG_A6, UC_RISCV_REG_A7}) {
      std::uint64_t v = 0;
      uc_reg_read(uc, reg, &v);
      seen.push_back(v);
    }
    rig.run_ok(1 - cpu, rig.sfence_all);  // the other hart runs while the caller waits
    const std::uint64_t err = 0, value = 42;
    uc_reg_write(uc, UC_RISCV_REG_A0, &err);
    uc_reg_write(uc, UC_RISCV_REG_A1, &value);
  });
  const std::uint64_t args[] = {1, 0, rig.km.kva.start, PAGE_SIZE, riscv::kSbiRfenceRemoteSfenceVma,
                                riscv::kSbiExtRfence};
  for (int round = 0; round < 3; ++round) {
    RunResult r = rig.machine->run(0, rig.ecall, args);
    EXPECT_FALSE(r.trap);
    EXPECT_EQ(r.emu_starts, 2u) << "the call, then the resume";
    EXPECT_EQ(r.instructions, 3u) << "mv, mv, ecall";
    std::uint64_t a1 = 0;
    uc_reg_read(rig.machine->engine(0), UC_RISCV_REG_A1, &a1);
    EXPECT_EQ(a1, 42u);
  }
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].intno, riscv::kTrapEcall) << "QEMU's cause before its S-mode remap";
  EXPECT_FALSE(calls[0].page_fault);
  EXPECT_EQ(calls[0].pc, rig.ecall.entry + 12) << "charge, mv, mv: the ecall itself";
  EXPECT_EQ(seen[0], 1u);
  EXPECT_EQ(seen[1], PAGE_SIZE);
  EXPECT_EQ(seen[2], riscv::kSbiRfenceRemoteSfenceVma);
  EXPECT_EQ(seen[3], riscv::kSbiExtRfence);
}

TYPED_TEST(RiscvTrap, FirmwareCallErrorsAbandonTheRunAndTheEngineKeepsWorking) {
  RiscvRig<TypeParam> rig(2);
  const std::uint64_t args[] = {0, 0, 0, 0, 0, 0};
  EXPECT_THROW(rig.machine->run(0, rig.ecall, args), KvaError) << "no firmware handler";
  rig.machine->set_firmware_handler([&](cpuid_t cpu, const Trap&) { rig.run_ok(cpu, rig.sfence_all); });
  try {
    rig.machine->run(1, rig.ecall, args);
    FAIL() << "a firmware call ran its own caller";
  } catch (const KvaError& e) {
    EXPECT_NE(std::string(e.what()).find("already running"), std::string::npos) << e.what();
  }
  rig.machine->set_firmware_handler([](cpuid_t, const Trap&) { throw KvaError("firmware says no"); });
  EXPECT_THROW(rig.machine->run(1, rig.ecall, args), KvaError);
  vm_page* m = pattern_page(rig.ram, 9);
  rig.kenter(rig.km.kva.start, m->phys_addr);
  auto got = rig.load(1, rig.km.kva.start, 16);
  ASSERT_FALSE(got.trap);
  EXPECT_EQ(got.bytes, rig.ram_bytes(m->phys_addr, 16));
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

// Both execution modes (core/exec_mode.h) count the same retired instructions for a copy, a
// faulting copy and a firmware call; reference mode checks its block count against the budget.
TYPED_TEST(RiscvTrap, ReferenceAndFastModesCountTheSameInstructions) {
  std::vector<std::uint64_t> counts[2];
  for (ExecMode mode : {ExecMode::Fast, ExecMode::Reference}) {
    RiscvRig<TypeParam> rig(2, 8u << 20, mode);
    rig.machine->set_firmware_handler([&](cpuid_t, const Trap&) { rig.run_ok(1, rig.sfence_all); });
    auto& c = counts[mode == ExecMode::Reference];
    rig.kenter(rig.km.kva.start, pattern_page(rig.ram, 1)->phys_addr);
    for (std::size_t n : {std::size_t{3}, std::size_t{77}, std::size_t{200}}) {
      const std::uint64_t args[] = {rig.fw.scratch(0), rig.km.kva.start + 8, n};
      c.push_back(rig.machine->run(0, rig.copy, args).instructions);
    }
    const std::uint64_t hole[] = {rig.fw.scratch(0), rig.km.kva.start + 5 * PAGE_SIZE + 8, 100};
    RunResult fault = rig.machine->run(0, rig.copy, hole);
    EXPECT_TRUE(fault.trap);
    c.push_back(fault.instructions);
    const std::uint64_t call[] = {2, 0, 0, 0, riscv::kSbiRfenceRemoteSfenceVma, riscv::kSbiExtRfence};
    c.push_back(rig.machine->run(0, rig.ecall, call).instructions);
  }
  EXPECT_EQ(counts[0], counts[1]);
  EXPECT_GT(counts[0][2], counts[0][1]);
}

}  // namespace
}  // namespace kva::test
