// The typed PTE and the instruction decoder against encodings written out from the specs.
#include <gtest/gtest.h>

#include "archs/riscv64/riscv_insn.h"
#include "archs/riscv64/riscv_kernel_map.h"

namespace kva::test {
namespace {

using riscv::Pte;

TEST(RiscvPte, KernelPteIsFreeBsdPteKern) {
  // PTE_KERN = V|R|W|A|D = 0xc7; PPN of 0x80201000 is 0x80201, at bit 10.
  Pte e = riscv::kernel_pte(0x80201000);
  EXPECT_EQ(e.raw(), (std::uint64_t{0x80201} << 10) | 0xc7);
  EXPECT_TRUE(e.is_leaf());
  EXPECT_FALSE(e.is_pointer());
  EXPECT_FALSE(e.global());
  EXPECT_FALSE(e.executable());
  EXPECT_EQ(e.physical_address(), 0x80201000u);
}

TEST(RiscvPte, PointerLeafAndReservedEncodings) {
  Pte p = Pte::pointer(0x80300000);
  EXPECT_EQ(p.raw(), (std::uint64_t{0x80300} << 10) | 1);
  EXPECT_TRUE(p.is_pointer());
  EXPECT_FALSE(p.is_leaf());
  EXPECT_FALSE(Pte(0).is_pointer()) << "V=0 is neither";
  EXPECT_FALSE(Pte(0).is_leaf());
  EXPECT_TRUE(Pte(0x9).is_leaf()) << "X alone is a leaf";
  EXPECT_TRUE(Pte(0x5).write_without_read());
  EXPECT_FALSE(Pte(0x7).write_without_read());
  EXPECT_TRUE(Pte(std::uint64_t{1} << 54 | 0x3).reserved_bits_set());
  EXPECT_FALSE(Pte(std::uint64_t{1} << 53 | 0x3).reserved_bits_set()) << "bit 53 is the top PPN bit";
}

TEST(RiscvPte, RejectsUnalignedOrTooWidePhysicalAddresses) {
  Pte e;
  EXPECT_THROW(e.set_physical_address(0x80200800), KvaError);
  EXPECT_THROW(e.set_physical_address(std::uint64_t{1} << 56), KvaError);
  e.set_physical_address((std::uint64_t{1} << 56) - PAGE_SIZE);
  EXPECT_EQ(e.ppn(), (std::uint64_t{1} << 44) - 1);
}

TEST(RiscvInsn, DecodesBaseAndOffsetOfLoadsStoresAndAmos) {
  // ld a0, 0(a1) = 0x0005b503
  auto ld = riscv::memory_operand(0x0005b503);
  ASSERT_TRUE(ld);
  EXPECT_EQ(ld->base_reg, 11u);
  EXPECT_EQ(ld->offset, 0);
  EXPECT_FALSE(ld->store);
  // lbu t0, -1(a1) = imm 0xfff, rs1 11, funct3 4, rd 5, opcode 0x03
  auto lbu = riscv::memory_operand((0xfffu << 20) | (11u << 15) | (4u << 12) | (5u << 7) | 0x03);
  ASSERT_TRUE(lbu);
  EXPECT_EQ(lbu->offset, -1);
  // sd t0, 40(a0): imm 40 = 0b0000001_01000, rs2 5, rs1 10, funct3 3, opcode 0x23
  auto sd = riscv::memory_operand((1u << 25) | (5u << 20) | (10u << 15) | (3u << 12) | (8u << 7) | 0x23);
  ASSERT_TRUE(sd);
  EXPECT_EQ(sd->base_reg, 10u);
  EXPECT_EQ(sd->offset, 40);
  EXPECT_TRUE(sd->store);
  // sw x1, -2048(x2): imm 0x800 = 0b1000000_00000
  auto sw = riscv::memory_operand((0x40u << 25) | (1u << 20) | (2u << 15) | (2u << 12) | 0x23);
  ASSERT_TRUE(sw);
  EXPECT_EQ(sw->offset, -2048);
  // amoswap.d a0, a2, (a1) = funct5 00001
  auto amo = riscv::memory_operand((1u << 27) | (12u << 20) | (11u << 15) | (3u << 12) | (10u << 7) | 0x2f);
  ASSERT_TRUE(amo);
  EXPECT_EQ(amo->base_reg, 11u);
  EXPECT_EQ(amo->offset, 0);
  EXPECT_TRUE(amo->store);
  EXPECT_FALSE(riscv::memory_operand(0x00000073)) << "ecall is not a memory access";
}

TEST(RiscvLayout, SatpEncodesModeAsidAndRootPpn) {
  EXPECT_EQ(riscv::satp_value(8, 0, 0x80200000), 0x8000000000080200ull);
  EXPECT_EQ(riscv::satp_value(9, 5, 0x80200000), 0x9000500000080200ull);
}

}  // namespace
}  // namespace kva::test
