// The stub convention checker (emu/stub_code.h) on hand-assembled i386 images: each rule of
// emu/guest_isa.h refused with a message that names it, and a conforming image accepted with
// the per-instruction facts exact counting needs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "archs/x86/x86_cpu.h"
#include "emu/stub_code.h"

namespace kva::test {
namespace {

constexpr vaddr_t kBase = 0x1000;

struct Image {
  std::vector<unsigned char> text;
  std::vector<StubSymbol> symbols;
};

// Routine "r" from `code`, its _done (hlt), then kva_budget_exhausted (hlt) unless omitted.
Image routine(std::vector<unsigned char> code, bool with_budget_trap = true, bool done_is_hlt = true) {
  Image im;
  im.text = std::move(code);
  im.symbols.push_back({"r", 0});
  im.symbols.push_back({"r_done", im.text.size()});
  im.text.push_back(done_is_hlt ? 0xf4 : 0x90);
  if (with_budget_trap) {
    im.symbols.push_back({"kva_budget_exhausted", im.text.size()});
    im.text.push_back(0xf4);
  }
  return im;
}

std::string check(const Image& im) {
  GuestIsa isa = x86::guest_isa(x86::CpuMode::Protected32, 0, 0);
  Disassembler dis(isa.cs_arch_id, isa.cs_mode_id);
  try {
    StubCode code(isa, StubImage{im.text, im.symbols}, kBase, dis);
  } catch (const KvaError& e) {
    return e.what();
  }
  return "";
}

void expect_refused(const Image& im, const std::string& because) {
  std::string msg = check(im);
  EXPECT_NE(msg.find(because), std::string::npos) << "message: '" << msg << "'";
}

// Encodings: sub $n,%ebp = 83 ed n; nop = 90; jz/jnz/js rel8 = 74/75/78; jmp rel8 = eb.
TEST(StubCode, RefusesImagesThatBreakTheConvention) {
  expect_refused(routine({0x83, 0xed, 0x01, 0x90}, false), "kva_budget_exhausted");
  expect_refused(routine({0x90}), "must start with a charge");
  expect_refused(routine({0x83, 0xed, 0x02, 0x90}), "charges 2 instructions but holds 1");
  expect_refused(routine({0x83, 0xed, 0x01, 0x90}, true, false), "must hold the ISA's halt");
  // jz in the middle of its region
  expect_refused(routine({0x83, 0xed, 0x03, 0x74, 0x01, 0x90, 0x90}), "must end its region");
  // jz to a nop that starts no region
  expect_refused(routine({0x83, 0xed, 0x01, 0x74, 0x03, 0x83, 0xed, 0x01, 0x90}), "neither a region start");
  // nop; jnz back to the routine's start, which has no budget check
  expect_refused(routine({0x83, 0xed, 0x02, 0x90, 0x75, 0xfa}), "no budget check");
  expect_refused(routine({0x83, 0xed, 0x01, 0xff, 0xe0}), "indirect");                     // jmp *%eax
  expect_refused(routine({0x83, 0xed, 0x01, 0xe8, 0x00, 0x00, 0x00, 0x00}), "calls and returns");
  expect_refused(routine({0x83, 0xed, 0x02, 0xf4, 0x90}), "a halt inside");
  // a budget check that does not follow its charge: sub $2; nop; js trap
  expect_refused(routine({0x83, 0xed, 0x02, 0x90, 0x78, 0x01}), "right after a charge");
}

TEST(StubCode, AcceptsAConformingLoopAndKnowsWhatAFaultLeavesUnretired) {
  //  0 r: sub $3,%ebp | 3 nop | 4 nop | 5 jz r_done          (region A: 3)
  //  7    sub $2,%ebp | 10 js trap | 12 nop | 13 jnz 7      (region B, a checked loop head: 2)
  // 15 r_done: hlt | 16 kva_budget_exhausted: hlt
  Image im = routine({0x83, 0xed, 0x03, 0x90, 0x90, 0x74, 0x08,
                      0x83, 0xed, 0x02, 0x78, 0x04, 0x90, 0x75, 0xf8});
  ASSERT_EQ(check(im), "");
  GuestIsa isa = x86::guest_isa(x86::CpuMode::Protected32, 0, 0);
  Disassembler dis(isa.cs_arch_id, isa.cs_mode_id);
  StubCode code(isa, StubImage{im.text, im.symbols}, kBase, dis);
  ASSERT_EQ(code.routines().size(), 1u);
  EXPECT_EQ(code.routine("r").entry, kBase);
  EXPECT_EQ(code.routine("r").done, kBase + 15);
  EXPECT_EQ(code.budget_exhausted(), kBase + 16);
  EXPECT_EQ(code.unretired_from(kBase + 0), 0u) << "a fault at the charge: nothing of A was charged";
  EXPECT_EQ(code.unretired_from(kBase + 3), 3u) << "a fault at A's first nop leaves all of A";
  EXPECT_EQ(code.unretired_from(kBase + 4), 2u);
  EXPECT_EQ(code.unretired_from(kBase + 5), 1u);
  EXPECT_EQ(code.unretired_from(kBase + 7), 0u);
  EXPECT_EQ(code.unretired_from(kBase + 10), 2u) << "the budget check is not counted";
  EXPECT_EQ(code.unretired_from(kBase + 12), 2u);
  EXPECT_EQ(code.unretired_from(kBase + 13), 1u);
  EXPECT_EQ(code.unretired_from(kBase + 15), 0u) << "the halt is no routine instruction";
  EXPECT_THROW(code.routine("nope"), KvaError);
}

}  // namespace
}  // namespace kva::test
