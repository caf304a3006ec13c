// Guest page faults reach the host as kva::PageFault, on the same engine again and again (QEMU
// would turn the second into a double fault and drop the third without the context restore).
#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

class PageFaultTest : public testing::TestWithParam<std::string> {};

TEST_P(PageFaultTest, RepeatedFaultsOnOneEngineAreEachReported) {
  auto pmap = make_x86(GetParam(), 2);
  const vaddr_t hole = pmap->kva_space().start + 40 * PAGE_SIZE;
  vm_page* m = pattern_page(pmap->phys(), 5);
  const vaddr_t ok = pmap->kva_space().start;
  pmap->kenter(ok, m->phys_addr);
  for (int round = 0; round < 4; ++round) {
    const vaddr_t va = hole + round * PAGE_SIZE + 24;
    try {
      pmap->load(1, va, 16);
      FAIL() << "load of an unmapped va returned";
    } catch (const PageFault& f) {
      EXPECT_EQ(f.cpu, 1);
      EXPECT_EQ(f.va, va);
      EXPECT_EQ(f.type, AccessType::Read);
      EXPECT_NE(f.walk.find("not mapped"), std::string::npos) << f.walk;
    }
    try {
      std::vector<std::uint8_t> data(8, 1);
      pmap->store(1, va, data);
      FAIL() << "store to an unmapped va returned";
    } catch (const PageFault& f) {
      EXPECT_EQ(f.va, va);
      EXPECT_EQ(f.type, AccessType::Write);
    }
    // The engine still works after the faults.
    EXPECT_EQ(pmap->load(1, ok, 32), phys_bytes(pmap->phys(), m->phys_addr, 32));
  }
  EXPECT_EQ(pmap->stale_log().count(Oracle::Architectural), 0u);
}

TEST_P(PageFaultTest, RemovedMappingFaultsAfterInvalidation) {
  auto pmap = make_x86(GetParam(), 1);
  const vaddr_t va = pmap->kva_space().start + 5 * PAGE_SIZE;
  pmap->kenter(va, pattern_page(pmap->phys(), 7)->phys_addr);
  pmap->load(0, va, 8);
  pmap->kremove(va);
  pmap->invalidate_local(0, va);
  EXPECT_THROW(pmap->load(0, va, 8), PageFault);
  EXPECT_THROW(pmap->load(0, va, 8), PageFault);
}

TEST(X86Trace, TraceShowsDisassembledGuestInstructions) {
  std::ostringstream trace;
  auto pmap = make_x86("i386", 1, 8u << 20, &trace);
  const vaddr_t va = pmap->kva_space().start;
  pmap->kenter(va, pattern_page(pmap->phys(), 7)->phys_addr);
  pmap->load(0, va, 4);
  pmap->invalidate_local(0, va);
  std::string t = trace.str();
  EXPECT_NE(t.find("emu_start kva_copy"), std::string::npos) << t;
  EXPECT_NE(t.find("invlpg"), std::string::npos) << t;
  EXPECT_NE(t.find("cpu0   0x"), std::string::npos) << t;
  EXPECT_NE(t.find("mov dword ptr [edi], eax"), std::string::npos) << t;
  EXPECT_EQ(t.find("hlt"), std::string::npos) << "the halt ending a routine is not traced\n" << t;
}

INSTANTIATE_TEST_SUITE_P(X86, PageFaultTest, testing::ValuesIn(x86_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
