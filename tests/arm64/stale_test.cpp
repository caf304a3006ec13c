// A missing TLBI is observable on Unicorn: after a remap without invalidation the guest reads
// the old page. Every TLBI form makes the local engine re-walk; a DSB or ISB alone does not;
// an inner-shareable TLBI does not reach another engine (the host must carry the broadcast).
#include <sstream>

#include "tests/arm64/arm64_board.h"

namespace kva::test {
namespace {

struct StaleProbe : testing::Test {
  StaleProbe() : b(2) {
    va = arm64::kKva.start + 21 * PAGE_SIZE;
    a = b.pattern_page(0x10);
    c = b.pattern_page(0x80);
  }
  std::vector<std::uint8_t> bytes_of(vm_page* m) { return b.phys_bytes(m->phys_addr, 64); }
  // Both CPUs cache va -> a, then va is remapped to c with no TLB maintenance.
  void cache_then_remap() {
    b.kenter(va, a->phys_addr);
    ASSERT_EQ(b.read(0, va, 64), bytes_of(a));
    ASSERT_EQ(b.read(1, va, 64), bytes_of(a));
    b.kenter(va, c->phys_addr);
  }
  Arm64Board b;
  vaddr_t va = 0;
  vm_page* a = nullptr;
  vm_page* c = nullptr;
};

TEST_F(StaleProbe, MissingTlbiReadsTheOldPage) {
  b.kenter(va, a->phys_addr);
  ASSERT_EQ(b.read(0, va, 64), bytes_of(a));
  b.kenter(va, c->phys_addr);
  EXPECT_EQ(b.read(0, va, 64), bytes_of(a)) << "cpu0 translates through its TLB";
  EXPECT_EQ(b.read(1, va, 64), bytes_of(c)) << "cpu1 never cached va: it walks the new tables";
}

TEST_F(StaleProbe, BarriersAloneDoNotInvalidate) {
  cache_then_remap();
  b.tlbi(0, "vaale1is", {va, 0, 0});  // dsb ishst; (no tlbi); dsb ish; isb
  EXPECT_EQ(b.read(0, va, 64), bytes_of(a));
}

TEST_F(StaleProbe, EveryTlbiFormMakesTheLocalEngineWalkAgain) {
  struct Op {
    const char* name;
    std::vector<std::uint64_t> args;
  };
  const std::vector<Op> ops = {
      {"vae1is", {va, 1, 0}},   {"vale1is", {va, 1, 0}}, {"vaae1is", {va, 1, 0}}, {"vaale1is", {va, 1, 0}},
      {"vae1", {va, 1, 0}},     {"vale1", {va, 1, 0}},   {"vaae1", {va, 1, 0}},   {"vaale1", {va, 1, 0}},
      {"aside1is", {0}},        {"aside1", {0}},         {"vmalle1is", {}},       {"vmalle1", {}}};
  vm_page* pages[2] = {a, c};
  int current = 0;
  b.kenter(va, a->phys_addr);
  for (const Op& op : ops) {
    ASSERT_EQ(b.read(0, va, 64), bytes_of(pages[current])) << op.name;
    current ^= 1;
    b.kenter(va, pages[current]->phys_addr);
    ASSERT_EQ(b.read(0, va, 64), bytes_of(pages[current ^ 1])) << "stale before " << op.name;
    RunResult r = b.machine->run(0, b.machine->routine(arm64::tlbi_stub(op.name)), op.args);
    EXPECT_FALSE(r.trap);
    EXPECT_EQ(b.read(0, va, 64), bytes_of(pages[current])) << "after tlbi " << op.name;
  }
}

TEST_F(StaleProbe, InnerShareableTlbiDoesNotReachAnotherEngine) {
  cache_then_remap();
  b.tlbi(0, "vaale1is", {va, 1, 0});
  EXPECT_EQ(b.read(0, va, 64), bytes_of(c));
  EXPECT_EQ(b.read(1, va, 64), bytes_of(a)) << "engines do not share TLBs: no broadcast";
  b.tlbi(1, "vaale1", {va, 1, 0});  // what the host runs on each other engine
  EXPECT_EQ(b.read(1, va, 64), bytes_of(c));
}

// The direct map's blocks are cached like pages: a block re-pointed without TLBI still reads
// the old memory on a CPU that used it.
TEST_F(StaleProbe, BlockEntriesAreCachedToo) {
  const paddr_t pa = b.ram.base() + (2u << 20);
  const vaddr_t dva = arm64::phys_to_dmap(pa);
  const paddr_t slot = b.tables.walk(dva).leaf().slot;
  const std::vector<std::uint8_t> marker(32, 0xee);
  b.ram.write(pa + 0x1000, marker.data(), marker.size());
  ASSERT_EQ(b.read(0, dva + 0x1000, 32), marker);
  b.tables.write(slot, arm64::kernel_leaf(2, pa + (2u << 20)));  // now shows the next 2 MiB
  const std::vector<std::uint8_t> fresh = b.phys_bytes(pa + (2u << 20) + 0x1000, 32);
  ASSERT_NE(fresh, marker);
  EXPECT_EQ(b.read(0, dva + 0x1000, 32), marker) << "cpu0 still uses the old block";
  EXPECT_EQ(b.read(1, dva + 0x1000, 32), fresh) << "cpu1 walks the re-pointed block";
}

TEST(Arm64Trace, TraceShowsDisassembledTlbi) {
  std::ostringstream trace;
  Arm64Board b(1, 8u << 20, &trace);
  b.tlbi(0, "vaale1is", {arm64::kKva.start, 1, 0});
  const std::string t = trace.str();
  EXPECT_NE(t.find("emu_start kva_tlbi_vaale1is"), std::string::npos) << t;
  EXPECT_NE(t.find("tlbi vaale1is, x3"), std::string::npos) << t;
  EXPECT_NE(t.find("dsb ish"), std::string::npos) << t;
}

}  // namespace
}  // namespace kva::test
