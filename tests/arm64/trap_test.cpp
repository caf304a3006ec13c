// Aborts reach the host as traps with the faulting VA recovered from the faulting
// instruction, again and again on the same engine; an AF=0 leaf faults as an access flag
// fault (no hardware AF update), and a faulting entry is not cached.
#include "tests/arm64/arm64_board.h"

namespace kva::test {
namespace {

using arm64::FaultKind;

void expect_data_abort(const RunResult& r, vaddr_t va) {
  ASSERT_TRUE(r.trap);
  EXPECT_EQ(r.trap->intno, arm64::kExcpDataAbort);
  EXPECT_TRUE(r.trap->page_fault);
  EXPECT_EQ(r.trap->fault_va, va);
}

TEST(Arm64Trap, RepeatedAbortsOnOneEngineAreEachReported) {
  Arm64Board b(2);
  const vaddr_t ok = arm64::kKva.start;
  vm_page* m = b.pattern_page(5);
  b.kenter(ok, m->phys_addr);
  const vaddr_t hole = arm64::kKva.start + 40 * PAGE_SIZE;
  for (int round = 0; round < 4; ++round) {
    // 64 bytes go through ldp, 8 through ldr, 3 through ldrb: each faulting form decodes.
    for (std::size_t n : {std::size_t{64}, std::size_t{8}, std::size_t{3}}) {
      const vaddr_t va = hole + round * PAGE_SIZE + 24 + n;
      expect_data_abort(b.load(1, va, n), va);
      expect_data_abort(b.store(1, va, std::vector<std::uint8_t>(n, 1)), va);
    }
    EXPECT_EQ(b.read(1, ok, 32), b.phys_bytes(m->phys_addr, 32)) << "the engine still works";
  }
  EXPECT_EQ(b.tables.walk(hole).fault, FaultKind::Translation);
}

TEST(Arm64Trap, FaultVaIsTheFirstUnmappedByteOfACrossingCopy) {
  Arm64Board b(1);
  const vaddr_t va = arm64::kKva.start + 7 * PAGE_SIZE;
  b.kenter(va, b.pattern_page(9)->phys_addr);
  expect_data_abort(b.load(0, va + PAGE_SIZE - 16, 32), va + PAGE_SIZE);
}

TEST(Arm64Trap, AccessFlagClearFaultsAndIsNotCached) {
  Arm64Board b(2);
  const vaddr_t va = arm64::kKva.start + 9 * PAGE_SIZE;
  vm_page* m = b.pattern_page(0x33);
  arm64::Descriptor d = arm64::kernel_leaf(3, m->phys_addr);
  d.set_access_flag(false);
  b.tables.write(*b.tables.leaf_slot(va), d);
  for (int i = 0; i < 3; ++i) expect_data_abort(b.load(0, va + 8, 8), va + 8);
  arm64::Walk w = b.tables.walk(va);
  EXPECT_EQ(w.fault, FaultKind::AccessFlag);
  EXPECT_EQ(w.fault_level, 3);
  EXPECT_NE(b.tables.describe(va).find("access flag fault, level 3"), std::string::npos)
      << b.tables.describe(va);
  // Setting AF needs no TLBI: the faulting entry was never cached.
  d.set_access_flag(true);
  b.tables.write(*b.tables.leaf_slot(va), d);
  EXPECT_EQ(b.read(0, va + 8, 8), b.phys_bytes(m->phys_addr + 8, 8));
}

TEST(Arm64Trap, AccessFlagClearOnABlockFaultsAtItsLevel) {
  Arm64Board b(1);
  const paddr_t pa = b.ram.base() + (4u << 20);
  const vaddr_t va = arm64::phys_to_dmap(pa);
  arm64::Descriptor d = arm64::kernel_leaf(2, pa);
  d.set_access_flag(false);
  b.tables.write(b.tables.walk(va).leaf().slot, d);
  expect_data_abort(b.load(0, va + 0x1234, 8), va + 0x1234);
  EXPECT_EQ(b.tables.walk(va).fault, FaultKind::AccessFlag);
  EXPECT_EQ(b.tables.walk(va).fault_level, 2);
}

TEST(Arm64Trap, StoreToReadOnlyPageIsAPermissionFault) {
  Arm64Board b(1);
  const vaddr_t va = arm64::kKva.start + 11 * PAGE_SIZE;
  vm_page* m = b.pattern_page(0x44);
  arm64::Descriptor d = arm64::kernel_leaf(3, m->phys_addr);
  d.set_access_permission(arm64::AccessPermission::KernelRo);
  b.tables.write(*b.tables.leaf_slot(va), d);
  EXPECT_EQ(b.read(0, va, 16), b.phys_bytes(m->phys_addr, 16));
  expect_data_abort(b.store(0, va, std::vector<std::uint8_t>(16, 7)), va);
  EXPECT_EQ(b.tables.walk(va).fault_for(AccessType::Write), FaultKind::Permission);
  EXPECT_EQ(b.tables.walk(va).fault_for(AccessType::Read), FaultKind::None);
  EXPECT_EQ(b.phys_bytes(m->phys_addr, 16), b.read(0, va, 16)) << "the store did not land";
}

TEST(Arm64Trap, VaOutsideBothHalvesFaults) {
  Arm64Board b(1);
  const vaddr_t va = 0x0001'0000'0000'1000ull;
  expect_data_abort(b.load(0, va, 8), va);
  EXPECT_EQ(b.tables.walk(va).fault, FaultKind::Translation);
}

TEST(Arm64Boot, EveryCpuRunsWithTheMmuOn) {
  Arm64Board b(4);
  for (cpuid_t cpu = 0; cpu < 4; ++cpu) {
    uc_arm64_cp_reg sctlr{1, 0, 3, 0, 0, 0};
    uc_reg_read(b.machine->engine(cpu), UC_ARM64_REG_CP_REG, &sctlr);
    EXPECT_EQ(sctlr.val & arm64::kSctlrM, 1u) << "cpu" << cpu;
    std::uint64_t ttbr1 = 0;
    uc_reg_read(b.machine->engine(cpu), UC_ARM64_REG_TTBR1_EL1, &ttbr1);
    EXPECT_EQ(ttbr1, b.tables.ttbr1_root());
  }
  // The direct map is only reachable through translation: a DMAP VA is far outside Unicorn's
  // physical regions.
  vm_page* m = b.pattern_page(0x21);
  EXPECT_EQ(b.read(3, arm64::phys_to_dmap(m->phys_addr), 16), b.phys_bytes(m->phys_addr, 16));
}

}  // namespace
}  // namespace kva::test
