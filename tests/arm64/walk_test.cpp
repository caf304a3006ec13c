// The software walk equals what the emulated MMU does, for every mapping kind the layout uses:
// level-3 pages (KVA, firmware identity map, the direct map's unaligned tail), level-2 blocks
// (the direct map) and a level-1 block.
#include "tests/arm64/arm64_board.h"

namespace kva::test {
namespace {

using arm64::FaultKind;

// RAM that does not end on a 2 MiB boundary: the direct map ends in level-3 pages.
constexpr std::size_t kMem = (8u << 20) + (64u << 10);

void expect_guest_reads_walk(Arm64Board& b, vaddr_t va, int leaf_level) {
  arm64::Walk w = b.tables.walk(va);
  ASSERT_TRUE(w.mapped()) << b.tables.describe(va);
  EXPECT_EQ(w.leaf_level, leaf_level) << b.tables.describe(va);
  for (cpuid_t cpu = 0; cpu < b.machine->ncpus(); ++cpu)
    for (std::size_t off : {std::size_t{0}, std::size_t{72}, PAGE_SIZE - 96}) {
      arm64::Walk wo = b.tables.walk(va + off);
      paddr_t pa = wo.pa + ((va + off) & PAGE_MASK);
      EXPECT_EQ(b.read(cpu, va + off, 96), b.phys_bytes(pa, 96)) << "cpu" << cpu << " off " << off;
    }
}

TEST(Arm64Walk, KvaPagesReadWhatTheWalkMaps) {
  Arm64Board b(2, kMem);
  constexpr int kPages = 10;
  std::vector<vm_page*> pages;
  for (int i = 0; i < kPages; ++i) {
    pages.push_back(b.pattern_page(static_cast<std::uint8_t>(13 * i + 1)));
    b.kenter(arm64::kKva.start + ((i * 7) % kPages) * PAGE_SIZE, pages.back()->phys_addr);
  }
  for (int i = 0; i < kPages; ++i) {
    vaddr_t va = arm64::kKva.start + ((i * 7) % kPages) * PAGE_SIZE;
    EXPECT_EQ(b.tables.walk(va).pa, pages[i]->phys_addr);
    EXPECT_TRUE(b.tables.walk(va).global);
    expect_guest_reads_walk(b, va, 3);
  }
}

TEST(Arm64Walk, DirectMapUsesBlocksThenPagesAtTheUnalignedEnd) {
  Arm64Board b(2, kMem);
  for (paddr_t pa : {b.ram.base(), b.ram.base() + (3u << 20) + 0x5000, b.ram.base() + (6u << 20)}) {
    vaddr_t va = arm64::phys_to_dmap(pa);
    EXPECT_EQ(b.tables.walk(va).pa, pa);
    expect_guest_reads_walk(b, va, 2);
  }
  vaddr_t tail = arm64::phys_to_dmap(b.ram.base() + (8u << 20) + 0x3000);
  expect_guest_reads_walk(b, tail, 3);
  EXPECT_EQ(b.tables.walk(arm64::phys_to_dmap(b.ram.base() + kMem)).fault, FaultKind::Translation)
      << "the direct map ends with RAM";
  EXPECT_EQ(arm64::phys_to_dmap(arm64::kRamBase), arm64::kDmapMinAddress)
      << "dmap_phys_base is RAM's base rounded down to 1 GiB";
}

TEST(Arm64Walk, LevelOneBlockReadsWhatTheWalkMaps) {
  Arm64Board b(2, kMem);
  const vaddr_t base = arm64::kVmMinKernelAddress + (4ull << 30);  // 1 GiB aligned, unused
  b.tables.map(base, 1, arm64::kernel_leaf(1, arm64::kRamBase));  // covers all of RAM
  vm_page* m = b.pattern_page(0x5a);
  expect_guest_reads_walk(b, base + (m->phys_addr - arm64::kRamBase), 1);
  EXPECT_NE(b.tables.describe(base).find("L1 block"), std::string::npos) << b.tables.describe(base);
}

TEST(Arm64Walk, FirmwareIsIdentityMappedThroughTtbr0) {
  Arm64Board b(1);
  const FirmwareLayout& fw = b.machine->firmware();
  arm64::Walk w = b.tables.walk(fw.code());
  ASSERT_TRUE(w.mapped());
  EXPECT_EQ(w.half, arm64::AddressHalf::Lower);
  EXPECT_EQ(w.pa, fw.code());
  EXPECT_FALSE(w.leaf().desc.privileged_execute_never());
  std::vector<std::uint8_t> code(b.machine->firmware_ptr(fw.code(), 64), b.machine->firmware_ptr(fw.code(), 64) + 64);
  EXPECT_EQ(b.read(0, fw.code(), 64), code);
  EXPECT_EQ(b.tables.walk(fw.base).fault, FaultKind::Translation) << "page 0 stays unmapped";
}

TEST(Arm64Walk, DescribeNamesEveryLevelAndTheOutcome) {
  Arm64Board b(1);
  const vaddr_t va = arm64::kKva.start + 3 * PAGE_SIZE;
  b.kenter(va, b.pattern_page(1)->phys_addr);
  std::string d = b.tables.describe(va);
  for (const char* part : {"TTBR1", "L0[", "L1[", "L2[", "L3[", "TABLE", "PAGE", "-> pa", "global"})
    EXPECT_NE(d.find(part), std::string::npos) << d;
  std::string hole = b.tables.describe(va + PAGE_SIZE);
  EXPECT_NE(hole.find("not mapped"), std::string::npos) << hole;
  EXPECT_NE(hole.find("translation fault, level 3"), std::string::npos) << hole;
  std::string outside = b.tables.describe(0x0001'0000'0000'0000ull);
  EXPECT_NE(outside.find("outside"), std::string::npos) << outside;
}

TEST(Arm64Walk, BuilderRejectsMisuse) {
  Arm64Board b(1);
  const vaddr_t dmap = arm64::kDmapMinAddress;
  EXPECT_THROW(b.tables.ensure_slot(dmap, 3), KvaError) << "a block maps this range";
  EXPECT_THROW(b.tables.map(0x0001'0000'0000'0000ull, 3, arm64::kernel_leaf(3, arm64::kRamBase)), KvaError);
  EXPECT_THROW(b.tables.map(arm64::kKva.start + 0x800, 3, arm64::kernel_leaf(3, arm64::kRamBase)), KvaError);
  EXPECT_THROW(b.tables.map(arm64::kVmMinKernelAddress + (6ull << 30), 2, arm64::Descriptor::table(arm64::kRamBase)),
               KvaError)
      << "a table descriptor is no leaf";
  EXPECT_FALSE(b.tables.leaf_slot(dmap).has_value());
}

}  // namespace
}  // namespace kva::test
