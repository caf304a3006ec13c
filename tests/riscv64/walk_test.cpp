// The software walk (riscv_page_tables.h) equals what the emulated harts read, for every leaf
// size on both formats, for FreeBSD's kernel map (KVA pages, direct-map gigapages, the firmware
// identity map), and for every encoding that must fault.
#include "tests/riscv64/riscv_test_util.h"

namespace kva::test {
namespace {

using riscv::WalkOutcome;

// Low-half VAs away from the firmware identity map (0x80000000), one region per leaf level.
template <class Format>
vaddr_t probe_base(int level) {
  if (level == 0 && Format::kLevels == 4) return 0x100'0000'0000ull;  // Sv48 L0: 512 GiB aligned
  return 0x20'0000'0000ull + static_cast<vaddr_t>(level) * 0x4000'0000ull;
}

template <class Format>
class RiscvWalk : public testing::Test {};
TYPED_TEST_SUITE(RiscvWalk, RiscvFormats, FormatName);

TYPED_TEST(RiscvWalk, EveryLeafSizeReadsWhatTheSoftwareWalkMaps) {
  using Tables = typename RiscvRig<TypeParam>::Tables;
  RiscvRig<TypeParam> rig;
  for (int level = 0; level < Tables::kLevels; ++level) {
    SCOPED_TRACE("leaf in " + std::string(Tables::level_name(level)));
    vm_page* m = pattern_page(rig.ram, static_cast<std::uint8_t>(40 + level));
    const std::uint64_t size = Tables::level_bytes(level);
    const paddr_t pa_base = m->phys_addr & ~(size - 1);
    const vaddr_t va_base = probe_base<TypeParam>(level);
    rig.tables.map(va_base, level, Pte::leaf(pa_base, {true, true, false}));  // A = D = 0
    const vaddr_t va = va_base + (m->phys_addr - pa_base);

    auto w = rig.tables.walk(va);
    ASSERT_TRUE(w.mapped()) << rig.tables.describe(va);
    EXPECT_EQ(w.last_level(), level);
    EXPECT_EQ(w.page_bytes, size);
    EXPECT_EQ(w.pa, m->phys_addr);
    EXPECT_NE(rig.tables.describe(va).find("leaf " + Tables::size_name(size)), std::string::npos);
    for (cpuid_t cpu = 0; cpu < 2; ++cpu) {
      for (std::size_t off : {std::size_t{0}, std::size_t{100}, PAGE_SIZE - 80}) {
        auto got = rig.load(cpu, va + off, 80);
        ASSERT_FALSE(got.trap) << "trap " << got.trap->intno;
        const auto wo = rig.tables.walk(va + off);
        EXPECT_EQ(got.bytes, rig.ram_bytes(wo.pa + ((va + off) & PAGE_MASK), 80)) << "cpu" << cpu << " off " << off;
      }
    }
    EXPECT_TRUE(rig.pte(va).accessed()) << "the hart's walk sets A (Svadu)\n" << rig.tables.describe(va);
    EXPECT_FALSE(rig.pte(va).dirty()) << "loads do not set D";
    const std::vector<std::uint8_t> data(24, static_cast<std::uint8_t>(0xa0 + level));
    EXPECT_FALSE(rig.store(1, va + 8, data));
    EXPECT_TRUE(rig.pte(va).dirty()) << "a store sets D, even through a TLB entry a load filled";
    EXPECT_EQ(rig.ram_bytes(m->phys_addr + 8, data.size()), data);
  }
}

TYPED_TEST(RiscvWalk, KernelPagesHaveAccessedAndDirtyPresetAndAreNotGlobal) {
  RiscvRig<TypeParam> rig;
  const vaddr_t base = rig.km.kva.start;
  constexpr int kPages = 12;
  std::vector<vm_page*> pages;
  for (int i = 0; i < kPages; ++i) {
    pages.push_back(pattern_page(rig.ram, static_cast<std::uint8_t>(17 * i + 3)));
    rig.kenter(base + ((i * 5) % kPages) * PAGE_SIZE, pages.back()->phys_addr);  // VA order != PA order
  }
  for (int i = 0; i < kPages; ++i) {
    const vaddr_t va = base + ((i * 5) % kPages) * PAGE_SIZE;
    const auto w = rig.tables.walk(va);
    ASSERT_TRUE(w.mapped());
    EXPECT_EQ(w.pa, pages[i]->phys_addr);
    EXPECT_EQ(w.last_level(), TypeParam::kLevels - 1);
    EXPECT_FALSE(w.global);
    const Pte before = w.last().entry;
    EXPECT_TRUE(before.accessed() && before.dirty());
    auto got = rig.load(i % 2, va + 200, 64);
    ASSERT_FALSE(got.trap);
    EXPECT_EQ(got.bytes, rig.ram_bytes(pages[i]->phys_addr + 200, 64));
    EXPECT_FALSE(rig.store(i % 2, va, std::vector<std::uint8_t>(8, 0x5a)));
    EXPECT_EQ(rig.pte(va).raw(), before.raw()) << "nothing for the hart to update";
  }
}

TYPED_TEST(RiscvWalk, DirectMapIsGigapagesFromTheGibibyteBelowRam) {
  RiscvRig<TypeParam> rig;
  // RAM starts at 0x80200000, so dmap_phys_base = 0x80000000 and DMAP_MIN_ADDRESS maps it.
  EXPECT_EQ(rig.km.dmap_phys_base, 0x80000000u);
  for (int i = 0; i < 6; ++i) {
    vm_page* m = pattern_page(rig.ram, static_cast<std::uint8_t>(90 + i));
    const vaddr_t va = rig.km.phys_to_dmap(m->phys_addr);
    EXPECT_EQ(va, 0xffffffd000000000ull + (m->phys_addr - 0x80000000u));
    const auto w = rig.tables.walk(va + 16);
    ASSERT_TRUE(w.mapped());
    EXPECT_EQ(w.page_bytes, std::uint64_t{1} << 30);
    EXPECT_EQ(w.pa, m->phys_addr);
    EXPECT_TRUE(w.last().entry.accessed() && w.last().entry.dirty());
    auto got = rig.load(i % 2, va + 16, 64);
    ASSERT_FALSE(got.trap);
    EXPECT_EQ(got.bytes, rig.ram_bytes(m->phys_addr + 16, 64));
  }
}

TYPED_TEST(RiscvWalk, FirmwareIsIdentityMappedExceptItsFirstPage) {
  RiscvRig<TypeParam> rig;
  const auto w = rig.tables.walk(rig.fw.scratch(1) + 24);
  ASSERT_TRUE(w.mapped());
  EXPECT_EQ(w.pa, rig.fw.scratch(1));
  EXPECT_TRUE(w.global);
  EXPECT_EQ(rig.tables.walk(rig.fw.base).outcome, WalkOutcome::Invalid);
  auto got = rig.load(0, rig.fw.base + 8, 8);
  ASSERT_TRUE(got.trap);
  EXPECT_EQ(got.trap->intno, riscv::kTrapLoadPageFault);
}

// Each encoding the spec makes fault: the software walk names it and the hart faults on it,
// reporting the exact VA.
TYPED_TEST(RiscvWalk, FaultingEncodingsFaultOnTheHartToo) {
  using Tables = typename RiscvRig<TypeParam>::Tables;
  RiscvRig<TypeParam> rig;
  const paddr_t pa = pattern_page(rig.ram, 7)->phys_addr;
  const vaddr_t kva = rig.km.kva.start;
  struct Case {
    const char* what;
    vaddr_t va;
    WalkOutcome outcome;
  };
  std::vector<Case> cases;
  cases.push_back({"invalid", kva + 3 * PAGE_SIZE, WalkOutcome::Invalid});
  rig.tables.write(*rig.tables.leaf_slot(kva + 4 * PAGE_SIZE), Pte::leaf(pa, {false, true, false}));
  cases.push_back({"W without R", kva + 4 * PAGE_SIZE, WalkOutcome::Reserved});
  rig.tables.write(*rig.tables.leaf_slot(kva + 5 * PAGE_SIZE), Pte::pointer(pa));
  cases.push_back({"pointer at the last level", kva + 5 * PAGE_SIZE, WalkOutcome::NoLeaf});
  const vaddr_t mega = probe_base<TypeParam>(Tables::kLeafLevel - 1);
  rig.tables.write(rig.tables.ensure_slot(mega, Tables::kLeafLevel - 1), riscv::kernel_pte(rig.ram.base() + PAGE_SIZE));
  cases.push_back({"misaligned megapage", mega + 0x3000, WalkOutcome::MisalignedSuperpage});
  cases.push_back({"not canonical", vaddr_t{1} << (TypeParam::kVaBits + 1), WalkOutcome::NotCanonical});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(rig.tables.walk(c.va).outcome, c.outcome) << rig.tables.describe(c.va);
    for (int round = 0; round < 2; ++round) {
      auto got = rig.load(1, c.va + 40, 8);
      ASSERT_TRUE(got.trap);
      EXPECT_EQ(got.trap->intno, riscv::kTrapLoadPageFault);
      EXPECT_TRUE(got.trap->page_fault);
      EXPECT_EQ(got.trap->fault_va, c.va + 40);
    }
  }
}

TYPED_TEST(RiscvWalk, DescribeNamesEveryLevelTheFreeBsdWay) {
  RiscvRig<TypeParam> rig;
  const vaddr_t va = rig.km.kva.start + 3 * PAGE_SIZE;
  rig.kenter(va, pattern_page(rig.ram, 1)->phys_addr);
  const std::string d = rig.tables.describe(va);
  std::vector<std::string> levels = {"L1[256]", "L2[0]", "L3[3]"};
  if (TypeParam::kLevels == 4) levels.insert(levels.begin(), "L0[511]");
  for (const auto& l : levels) EXPECT_NE(d.find(l), std::string::npos) << d;
  EXPECT_NE(d.find("V R W A D leaf 4 KiB"), std::string::npos) << d;
  EXPECT_NE(d.find("-> pa 0x"), std::string::npos) << d;
  EXPECT_NE(rig.tables.describe(va + PAGE_SIZE).find("not mapped (L3 invalid)"), std::string::npos);
  EXPECT_THROW(rig.tables.map(va + 1, TypeParam::kLevels - 1, riscv::kernel_pte(rig.ram.base())), KvaError);
  EXPECT_THROW(rig.tables.map(va, TypeParam::kLevels - 1, Pte::pointer(rig.ram.base())), KvaError);
  EXPECT_THROW(rig.tables.ensure_slot(rig.km.phys_to_dmap(rig.ram.base()), TypeParam::kLevels - 1), KvaError)
      << "a gigapage is in the way";
}

// Svade is emulated by the host, since QEMU always sets A/D: access_fault() is its rule.
TYPED_TEST(RiscvWalk, AccessFaultRulesForSvaduAndSvade) {
  using Tables = typename RiscvRig<TypeParam>::Tables;
  RiscvRig<TypeParam> rig;
  const vaddr_t va = rig.km.kva.start;
  const paddr_t pa = rig.ram.base();
  auto check = [&](Pte e, AccessType t, riscv::AdUpdate ad) {
    rig.tables.write(*rig.tables.leaf_slot(va), e);
    auto why = Tables::access_fault(rig.tables.walk(va), t, ad);
    return why ? std::string(riscv::to_string(*why)) : std::string();
  };
  const Pte clean = Pte::leaf(pa, {true, true, false});
  EXPECT_EQ(check(clean, AccessType::Write, riscv::AdUpdate::Hardware), "");
  EXPECT_EQ(check(clean, AccessType::Read, riscv::AdUpdate::Software), "A=0 (Svade)");
  Pte accessed = clean;
  accessed.set_accessed(true);
  EXPECT_EQ(check(accessed, AccessType::Read, riscv::AdUpdate::Software), "");
  EXPECT_EQ(check(accessed, AccessType::Write, riscv::AdUpdate::Software), "D=0 on a store (Svade)");
  EXPECT_EQ(check(riscv::kernel_pte(pa), AccessType::Write, riscv::AdUpdate::Software), "");
  EXPECT_EQ(check(Pte::leaf(pa, {true, false, false}), AccessType::Write, riscv::AdUpdate::Hardware), "leaf not writable");
  EXPECT_EQ(check(riscv::kernel_pte(pa), AccessType::Execute, riscv::AdUpdate::Hardware), "leaf not executable");
  Pte user = riscv::kernel_pte(pa);
  user.set_user(true);
  EXPECT_EQ(check(user, AccessType::Read, riscv::AdUpdate::Hardware), "U page (supervisor access with SUM=0)");
}

}  // namespace
}  // namespace kva::test
