// The arch-agnostic emu::Machine on an i386 engine with paging off, in both execution modes:
// runaway guest code is stopped by the instruction budget instead of hanging, traps are
// returned and survivable, and retired instructions are counted exactly.
#include <unicorn/x86.h>

#include "archs/x86/x86_cpu.h"
#include "emu/machine.h"
#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

// Hand-assembled i386, following emu/guest_isa.h (sub $N,%ebp charges; hlt at _done):
//  0 ok:    sub $1,%ebp | nop                 | 4 ok_done: hlt
//  5 spin:  sub $21,%ebp | js budget | 20 x nop | jmp spin   | 32 spin_done: hlt
// 33 trap:  sub $1,%ebp | int3                | 37 trap_done: hlt
// 38 bad:   sub $1,%ebp | ud2                 | 43 bad_done: hlt
// 44 kva_budget_exhausted: hlt
std::vector<unsigned char> text() {
  std::vector<unsigned char> t = {0x83, 0xed, 0x01, 0x90, 0xf4,                    // ok
                                  0x83, 0xed, 0x15, 0x78, 44 - 10};                // spin: charge, js
  t.insert(t.end(), 20, 0x90);
  t.insert(t.end(), {0xeb, static_cast<unsigned char>(5 - 32), 0xf4,               // jmp spin; hlt
                     0x83, 0xed, 0x01, 0xcc, 0xf4,                                 // trap
                     0x83, 0xed, 0x01, 0x0f, 0x0b, 0xf4,                           // bad
                     0xf4});                                                       // budget trap
  return t;
}
const std::vector<unsigned char> kText = text();
constexpr StubSymbol kSymbols[] = {{"ok", 0},    {"ok_done", 4},    {"spin", 5},  {"spin_done", 32},
                                   {"trap", 33}, {"trap_done", 37}, {"bad", 38},  {"bad_done", 43},
                                   {"kva_budget_exhausted", 44}};
const StubImage kImage{kText, kSymbols};

struct FlatMachine {
  explicit FlatMachine(ExecMode mode) : ram(1u << 20, 1u << 20) {
    GuestIsa isa = x86::guest_isa(x86::CpuMode::Protected32, 0, 0);
    isa.boot_cpu = [](uc_engine*, cpuid_t) {};  // paging stays off: VA == PA
    machine = std::make_unique<Machine>(isa, kImage, MachineConfig{2, 1u << 20, nullptr, mode}, ram, 0);
    machine->boot();
  }
  PhysicalMemory ram;
  std::unique_ptr<Machine> machine;
};

class MachineTest : public testing::TestWithParam<ExecMode> {};

TEST_P(MachineTest, RunawayGuestCodeIsStoppedNotHung) {
  FlatMachine f(GetParam());
  try {
    f.machine->run(1, f.machine->routine("spin"), {});
    FAIL() << "an endless loop returned";
  } catch (const KvaError& e) {
    EXPECT_NE(std::string(e.what()).find("runaway"), std::string::npos) << e.what();
  }
  RunResult r = f.machine->run(1, f.machine->routine("ok"), {});
  EXPECT_FALSE(r.trap);
  EXPECT_EQ(r.instructions, 1u) << "the nop; not the charge, not the hlt";
}

TEST_P(MachineTest, TrapsAreReportedAndTheEngineKeepsWorking) {
  FlatMachine f(GetParam());
  for (int i = 0; i < 3; ++i) {
    RunResult r = f.machine->run(0, f.machine->routine("trap"), {});
    ASSERT_TRUE(r.trap);
    EXPECT_EQ(r.trap->intno, 3u);  // #BP
    EXPECT_FALSE(r.trap->page_fault);
    EXPECT_EQ(r.instructions, 1u) << "int3 completes before its trap is taken";
  }
  EXPECT_FALSE(f.machine->run(0, f.machine->routine("ok"), {}).trap);
  EXPECT_EQ(f.machine->emu_calls(), 4u);
  EXPECT_EQ(f.machine->guest_instructions(), 4u);
}

// QEMU reports an invalid opcode as an emulator error, not a trap: it becomes KvaError.
TEST_P(MachineTest, InvalidInstructionIsAnErrorAndTheEngineKeepsWorking) {
  FlatMachine f(GetParam());
  EXPECT_THROW(f.machine->run(0, f.machine->routine("bad"), {}), KvaError);
  EXPECT_FALSE(f.machine->run(0, f.machine->routine("ok"), {}).trap);
}

TEST_P(MachineTest, RejectsMissingSymbolsAndBadConfigs) {
  FlatMachine f(GetParam());
  EXPECT_THROW(f.machine->routine("nope"), KvaError);
  EXPECT_THROW(f.machine->firmware_ptr(FirmwareLayout::kSize), KvaError);
  GuestIsa isa = x86::guest_isa(x86::CpuMode::Protected32, 0, 0);
  EXPECT_THROW(Machine(isa, kImage, MachineConfig{65, 1u << 20, nullptr}, f.ram, 0), KvaError);
  EXPECT_THROW(Machine(isa, kImage, MachineConfig{1, 1u << 20, nullptr}, f.ram, 1u << 20), KvaError)
      << "firmware overlapping RAM";
}

INSTANTIATE_TEST_SUITE_P(Modes, MachineTest, testing::Values(ExecMode::Fast, ExecMode::Reference),
                         [](const testing::TestParamInfo<ExecMode>& i) { return std::string(to_string(i.param)); });

}  // namespace
}  // namespace kva::test
