// Descriptor bit positions against the Arm ARM's stage-1 formats (D8.3), the level-dependent
// meaning of bits[1:0], and FreeBSD's kernel leaf attributes.
#include <gtest/gtest.h>

#include "archs/arm64/arm64_cpu.h"
#include "archs/arm64/arm64_descriptor.h"
#include "archs/arm64/arm64_layout.h"

namespace kva::test {
namespace {

using arm64::AccessPermission;
using arm64::Descriptor;
using arm64::DescriptorKind;
using arm64::Shareability;

TEST(Arm64Descriptor, LeafBitsAreWhereTheArmArmPutsThem) {
  Descriptor d = Descriptor::page(0x4000'1000);
  EXPECT_EQ(d.raw(), 0x4000'1003u) << "valid + page type";
  d.set_access_flag(true);
  EXPECT_EQ(d.raw() & (1u << 10), 1u << 10);
  d.set_shareability(Shareability::Inner);
  EXPECT_EQ((d.raw() >> 8) & 3, 3u);
  d.set_not_global(true);
  EXPECT_EQ(d.raw(), 0x4000'1000u | 0xf03u) << "PA | nG | AF | SH=IS | page";
  d.set_attr_index(5);
  EXPECT_EQ((d.raw() >> 2) & 7, 5u);
  d.set_access_permission(AccessPermission::KernelRo);
  EXPECT_EQ((d.raw() >> 6) & 3, 2u);
  EXPECT_TRUE(d.read_only());
  EXPECT_FALSE(d.el0_accessible());
  d.set_dirty_bit_modifier(true);
  d.set_privileged_execute_never(true);
  d.set_unprivileged_execute_never(true);
  EXPECT_EQ(d.raw() >> 51, 0b1101u) << "DBM bit 51, PXN 53, UXN 54";
  EXPECT_EQ(d.output_address(), 0x4000'1000u);
}

TEST(Arm64Descriptor, KindDependsOnLevel) {
  const Descriptor type01(0x4000'0001), type11(0x4000'0003), inval(0x4000'0002);
  const DescriptorKind k01[] = {DescriptorKind::Reserved, DescriptorKind::Block, DescriptorKind::Block,
                                DescriptorKind::Reserved};
  for (int level = 0; level < arm64::kLevels; ++level) {
    EXPECT_EQ(type01.kind(level), k01[level]) << "level " << level;
    EXPECT_EQ(type11.kind(level), level == 3 ? DescriptorKind::Page : DescriptorKind::Table);
    EXPECT_EQ(inval.kind(level), DescriptorKind::Invalid);
  }
}

TEST(Arm64Descriptor, BlockOutputAddressIsAlignedToItsLevel) {
  EXPECT_EQ(arm64::level_bytes(1), 1ull << 30);
  EXPECT_EQ(arm64::level_bytes(2), 2ull << 20);
  EXPECT_EQ(arm64::level_bytes(3), 4096u);
  Descriptor b = Descriptor::block(2, 0x4020'0000);
  EXPECT_EQ(b.raw() & 3, 1u);
  EXPECT_EQ(b.output_address(2), 0x4020'0000u);
  // Bits 20:12 of a level-2 block are RES0 for the address: they are not part of it.
  EXPECT_EQ(Descriptor(b.raw() | 0x1000).output_address(2), 0x4020'0000u);
  EXPECT_THROW(Descriptor::block(2, 0x4010'0000), KvaError) << "not 2 MiB aligned";
  EXPECT_THROW(Descriptor::block(3, 0x4000'0000), KvaError) << "no blocks at level 3";
  EXPECT_THROW(Descriptor::page(0x1'0000'0000'0000), KvaError) << "beyond 48 bits";
  EXPECT_THROW(Descriptor::page(0x4000'0800), KvaError) << "not page aligned";
}

TEST(Arm64Descriptor, TableAttributesRestrictWhatIsBelow) {
  Descriptor t = Descriptor::table(0x4000'5000);
  EXPECT_EQ(t.raw(), 0x4000'5003u);
  EXPECT_FALSE(t.ap_table_read_only());
  t.set_ap_table(2);
  EXPECT_EQ(t.raw() >> 61, 2u);
  EXPECT_TRUE(t.ap_table_read_only());
}

TEST(Arm64Descriptor, KernelLeafHasFreeBsdAttributes) {
  Descriptor d = arm64::kernel_leaf(3, 0x4000'3000);
  EXPECT_TRUE(d.access_flag()) << "pmap_kenter/qenter enter mappings with AF set";
  EXPECT_FALSE(d.not_global());
  EXPECT_EQ(d.shareability(), Shareability::Inner);
  EXPECT_EQ(d.access_permission(), AccessPermission::KernelRw);
  EXPECT_TRUE(d.privileged_execute_never());
  EXPECT_TRUE(d.unprivileged_execute_never());
  EXPECT_EQ(d.attr_index(), 2u) << "VM_MEMATTR_WRITE_BACK";
  const FirmwareLayout fw{arm64::kFirmwareBase};
  EXPECT_FALSE(arm64::firmware_leaf(fw, fw.code()).privileged_execute_never()) << "stubs execute there";
  EXPECT_TRUE(arm64::firmware_leaf(fw, fw.scratch(0)).privileged_execute_never())
      << "scratch stays off Unicorn's code-write slow path";
  std::string s = d.describe(3);
  for (const char* part : {"PAGE", "AttrIndx=2", "AP=RW-EL1", "SH=IS", "AF", "PXN", "UXN"})
    EXPECT_NE(s.find(part), std::string::npos) << s;
}

// The register values built from named fields equal the ones measured to work in Unicorn.
TEST(Arm64Cpu, TcrMatchesTheMeasuredValue) {
  EXPECT_EQ(arm64::kTcr, 0x15b5103510ull);
  EXPECT_EQ(arm64::ttbr(0x4000'0000, 7), 0x0007'0000'4000'0000ull);
}

}  // namespace
}  // namespace kva::test
