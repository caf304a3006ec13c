// The two execution modes (core/exec_mode.h) run the same stubs: every observable result must be
// identical (data, faults, staleness reports, counters, traces). Retired-instruction counts are
// also checked against numbers worked out by hand from the stubs.
#include <sstream>

#include "archs/x86/x86_stub_abi.h"
#include "emu/emulated_pmap.h"
#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

std::string hex(const std::vector<std::uint8_t>& v) {
  std::ostringstream o;
  o << std::hex;
  for (auto b : v) o << static_cast<int>(b) << ".";
  return o.str();
}

std::string stats_text(const PmapStats& s) {
  std::ostringstream o;
  o << "linv " << s.local_invalidations << " full " << s.full_flushes << " sd " << s.shootdowns << " sdt "
    << s.shootdown_targets << " ipis " << s.ipis << " bc " << s.broadcasts << " loads " << s.loads << " stores "
    << s.stores << " insns " << s.guest_instructions << " calls " << s.emu_calls;
  return o.str();
}

// A scenario touching every mechanism; returns a log of everything observable.
std::string scenario(Pmap& p) {
  std::ostringstream log;
  PhysicalMemory& phys = p.phys();
  vm_page* a = pattern_page(phys, 0x11);
  vm_page* b = pattern_page(phys, 0x99);
  const vaddr_t va = p.kva_space().start + 8 * PAGE_SIZE;
  const vaddr_t hole = va + PAGE_SIZE;  // never mapped
  auto attempt = [&](const std::string& what, auto&& fn) {
    const std::uint64_t before = p.stats().guest_instructions;
    try {
      log << what << ": " << fn();
    } catch (const PageFault& f) {
      log << what << ": page fault va " << f.va << " walk " << f.walk;
    }
    log << " [" << p.stats().guest_instructions - before << " insns]\n";
  };
  p.kenter(va, a->phys_addr);
  for (std::size_t n : {1u, 3u, 8u, 15u, 16u, 17u, 63u, 64u, 65u, 255u, 256u, 257u, 1000u, 4096u})
    for (std::size_t off : {0u, 1u, 7u, 3000u})
      if (off + n <= PAGE_SIZE)
        attempt("load " + std::to_string(n) + "@" + std::to_string(off), [&] { return hex(p.load(1, va + off, n)); });
  std::vector<std::uint8_t> data(700);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 13 + 5);
  attempt("store", [&] { p.store(2, va + 100, data); return std::string("ok"); });
  attempt("reload", [&] { return hex(p.load(0, va + 90, 720)); });
  // Stale: cpu 1 cached a; remapping without invalidation leaves it reading a.
  p.kenter(va, b->phys_addr);
  attempt("stale load", [&] { return hex(p.load(1, va, 300)); });
  attempt("fresh load", [&] { return hex(p.load(3, va, 300)); });
  p.invalidate_range_all(0, va, 1);
  attempt("after shootdown", [&] { return hex(p.load(1, va, 40)); });
  // Faults: at once, after a completed chunk, and on a store.
  attempt("unmapped load", [&] { return hex(p.load(2, hole, 4096)); });
  attempt("load into the hole", [&] { return hex(p.load(2, hole - 64, 128)); });
  attempt("unmapped store", [&] { p.store(0, hole + 8, data); return std::string("ok"); });
  p.invalidate_range_all(1, p.kva_space().start, x86::kInvlpgThresholdPages);  // full flushes
  p.shootdown(3, CpuSet::only(0) | CpuSet::only(2), va, 2);
  attempt("end", [&] { return hex(p.load(0, va + 4000, 96)); });
  log << stats_text(p.stats()) << "\n";
  for (const auto& s : p.stale_log().entries()) log << s.describe() << "\n";
  return log.str();
}

std::unique_ptr<Pmap> make(const std::string& arch, ExecMode mode, std::ostream* trace = nullptr) {
  return find_arch(arch)->create(MachineConfig{4, 8u << 20, trace, mode});
}

class ExecModeTest : public testing::TestWithParam<std::string> {};

TEST_P(ExecModeTest, EveryObservableResultIsTheSameInBothModes) {
  auto fast = make(GetParam(), ExecMode::Fast);
  auto ref = make(GetParam(), ExecMode::Reference);
  const std::string f = scenario(*fast), r = scenario(*ref);
  EXPECT_EQ(f, r);
  EXPECT_NE(f.find("page fault"), std::string::npos) << f;
  EXPECT_GT(fast->stale_log().size(), 0u) << "the scenario reads stale data";
}

TEST_P(ExecModeTest, TracesAreTheSameInBothModes) {
  std::ostringstream tf, tr;
  auto fast = make(GetParam(), ExecMode::Fast, &tf);
  auto ref = make(GetParam(), ExecMode::Reference, &tr);
  scenario(*fast);
  scenario(*ref);
  EXPECT_EQ(tf.str(), tr.str());
  EXPECT_NE(tf.str().find("movdqu"), std::string::npos);
}

// Counts worked out from kva_copy (archs/*/*_stubs.S): 4096 bytes = the entry region (cmp, jb:
// 2), 16 passes of the 256-byte loop (37 each), the word and byte regions that find nothing to
// do (cmp, jb: 2; test, jz: 2).
TEST_P(ExecModeTest, RetiredInstructionsAreExactIncludingFaults) {
  for (ExecMode mode : {ExecMode::Fast, ExecMode::Reference}) {
    SCOPED_TRACE(std::string(to_string(mode)));
    auto p = make(GetParam(), mode);
    const vaddr_t va = p->kva_space().start;
    p->kenter(va, pattern_page(p->phys(), 3)->phys_addr);
    std::uint64_t n0 = p->stats().guest_instructions;
    (void)p->load(1, va, PAGE_SIZE);
    EXPECT_EQ(p->stats().guest_instructions - n0, 2u + 16 * 37 + 2 + 2);
    // A fault on the first load: only the entry region's cmp and jb retired, although the
    // loop's region was charged (fast) and its block entered (reference).
    n0 = p->stats().guest_instructions;
    EXPECT_THROW((void)p->load(1, va + PAGE_SIZE, PAGE_SIZE), PageFault);
    EXPECT_EQ(p->stats().guest_instructions - n0, 2u);
    EXPECT_EQ(p->stats().emu_calls, 2u);
  }
}

// A load that runs off a mapped page into an unmapped one: the first page's chunk completes, the
// second faults at its own address, in both modes.
TEST_P(ExecModeTest, LoadCrossingIntoAnUnmappedPageFaultsThere) {
  for (ExecMode mode : {ExecMode::Fast, ExecMode::Reference}) {
    SCOPED_TRACE(std::string(to_string(mode)));
    auto p = make(GetParam(), mode);
    const vaddr_t va = p->kva_space().start;
    p->kenter(va, pattern_page(p->phys(), 5)->phys_addr);
    try {
      (void)p->load(2, va + PAGE_SIZE - 64, 128);
      ADD_FAILURE() << "no page fault";
    } catch (const PageFault& f) {
      EXPECT_EQ(f.va, va + PAGE_SIZE);
      EXPECT_EQ(f.cpu, 2);
      EXPECT_EQ(f.type, AccessType::Read);
    }
    EXPECT_EQ(p->stats().loads, 2u);
    EXPECT_EQ(p->stats().emu_calls, 2u);
    EXPECT_EQ(p->stale_log().size(), 0u);
  }
}

// The firmware data pages (scratch, mailboxes) are mapped so that the kernel cannot execute them
// (emu/firmware.h): fetching there is a page fault, not a run.
TEST_P(ExecModeTest, ScratchPagesCannotBeExecuted) {
  auto p = make(GetParam(), ExecMode::Fast);
  Machine& m = dynamic_cast<EmulatedPmap&>(*p).machine();
  const paddr_t scratch = m.firmware().scratch(0);
  RunResult r = m.run(0, StubRoutine{"scratch", scratch, scratch + 16}, {});
  ASSERT_TRUE(r.trap);
  EXPECT_TRUE(r.trap->page_fault);
  EXPECT_EQ(r.trap->fault_va, scratch);
  EXPECT_EQ(r.instructions, 0u);
  // The vCPU goes on working.
  p->kenter(p->kva_space().start, pattern_page(p->phys(), 9)->phys_addr);
  EXPECT_EQ(p->load(0, p->kva_space().start, 2), (std::vector<std::uint8_t>{9, 16}));
}

INSTANTIATE_TEST_SUITE_P(X86, ExecModeTest, testing::ValuesIn(x86_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
