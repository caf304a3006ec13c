// The arch-agnostic emu::Machine on an i386 engine with paging off: runaway guest code is
// stopped instead of hanging, and a non-page-fault trap is returned and survivable.
#include <unicorn/x86.h>

#include "archs/x86/x86_cpu.h"
#include "emu/machine.h"
#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

// spin: jmp spin | trap: int3 | ok: nop | bad: ud2   (each followed by its _done label)
constexpr unsigned char kText[] = {0xeb, 0xfe, 0x90, 0xcc, 0x90, 0x90, 0x90, 0x0f, 0x0b, 0x90};
constexpr StubSymbol kSymbols[] = {{"spin", 0}, {"spin_done", 2}, {"trap", 3}, {"trap_done", 4},
                                   {"ok", 5},   {"ok_done", 6},   {"bad", 7},  {"bad_done", 9}};
constexpr StubImage kImage{kText, kSymbols};

struct FlatMachine {
  FlatMachine() : ram(1u << 20, 1u << 20) {
    GuestIsa isa = x86::guest_isa(x86::CpuMode::Protected32, 0, 0);
    isa.boot_cpu = [](uc_engine*, cpuid_t) {};  // paging stays off: VA == PA
    machine = std::make_unique<Machine>(isa, kImage, MachineConfig{2, 1u << 20, nullptr}, ram, 0);
    machine->boot();
  }
  PhysicalMemory ram;
  std::unique_ptr<Machine> machine;
};

TEST(Machine, RunawayGuestCodeIsStoppedNotHung) {
  FlatMachine f;
  try {
    f.machine->run(1, f.machine->routine("spin"), {});
    FAIL() << "an endless loop returned";
  } catch (const KvaError& e) {
    EXPECT_NE(std::string(e.what()).find("runaway"), std::string::npos) << e.what();
  }
  RunResult r = f.machine->run(1, f.machine->routine("ok"), {});
  EXPECT_FALSE(r.trap);
  EXPECT_EQ(r.instructions, 1u);
}

TEST(Machine, TrapsAreReportedAndTheEngineKeepsWorking) {
  FlatMachine f;
  for (int i = 0; i < 3; ++i) {
    RunResult r = f.machine->run(0, f.machine->routine("trap"), {});
    ASSERT_TRUE(r.trap);
    EXPECT_EQ(r.trap->intno, 3u);  // #BP
    EXPECT_FALSE(r.trap->page_fault);
  }
  EXPECT_FALSE(f.machine->run(0, f.machine->routine("ok"), {}).trap);
  EXPECT_EQ(f.machine->emu_calls(), 4u);
}

// QEMU reports an invalid opcode as an emulator error, not a trap: it becomes KvaError.
TEST(Machine, InvalidInstructionIsAnErrorAndTheEngineKeepsWorking) {
  FlatMachine f;
  EXPECT_THROW(f.machine->run(0, f.machine->routine("bad"), {}), KvaError);
  EXPECT_FALSE(f.machine->run(0, f.machine->routine("ok"), {}).trap);
}

TEST(Machine, RejectsMissingSymbolsAndBadConfigs) {
  FlatMachine f;
  EXPECT_THROW(f.machine->routine("nope"), KvaError);
  EXPECT_THROW(f.machine->firmware_ptr(FirmwareLayout::kSize), KvaError);
  GuestIsa isa = x86::guest_isa(x86::CpuMode::Protected32, 0, 0);
  EXPECT_THROW(Machine(isa, kImage, MachineConfig{65, 1u << 20, nullptr}, f.ram, 0), KvaError);
  EXPECT_THROW(Machine(isa, kImage, MachineConfig{1, 1u << 20, nullptr}, f.ram, 1u << 20), KvaError)
      << "firmware overlapping RAM";
}

}  // namespace
}  // namespace kva::test
