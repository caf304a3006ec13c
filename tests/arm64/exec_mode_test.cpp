// Both execution modes run every arm64 stub to the same end: the machine accepted the image's
// charges (emu/stub_code.h), and reference mode's block count agrees with the budget the fast
// mode reads, routine by routine, including a run cut short by a fault.
#include "emu/stub_abi.h"
#include "tests/arm64/arm64_board.h"

namespace kva::test {
namespace {

struct RunLog {
  std::vector<std::uint64_t> instructions;
  std::vector<std::vector<std::uint8_t>> data;
};

RunLog every_routine(ExecMode mode) {
  Arm64Board b(2, 8u << 20, nullptr, mode);
  RunLog log;
  const vaddr_t va = arm64::kKva.start + 5 * PAGE_SIZE;
  vm_page* m = b.pattern_page(0x42);
  b.kenter(va, m->phys_addr);
  auto note = [&](const RunResult& r) { log.instructions.push_back(r.instructions); };
  for (std::size_t n : {0u, 1u, 7u, 8u, 300u, 4096u}) {
    std::vector<std::uint8_t> out;
    note(b.load(1, va, n, &out));
    log.data.push_back(out);
  }
  note(b.store(0, va + 3, std::vector<std::uint8_t>(261, 0x5c)));
  note(b.load(0, va + 2 * PAGE_SIZE + 8, 64));  // faults: nothing mapped there
  for (const char* op : {"vae1is", "vale1is", "vaae1is", "vaale1is", "vae1", "vale1", "vaae1", "vaale1"})
    note(b.tlbi(0, op, {va, 3, 7}));
  note(b.tlbi(0, "aside1is", {7}));
  note(b.tlbi(0, "aside1", {7}));
  note(b.tlbi(0, "vmalle1is", {}));
  note(b.tlbi(0, "vmalle1", {}));
  const paddr_t mb = b.machine->firmware().mailbox(1);
  for (std::uint64_t op : {0u, 1u}) {
    const std::uint64_t req[] = {op, va, 2, 40 + op};
    b.machine->write_firmware(mb, req, sizeof req);
    note(b.machine->run(1, b.machine->routine(stub_abi::kShootdownHandler), std::vector<std::uint64_t>{mb}));
    std::uint64_t done = 0;
    b.machine->read_firmware(mb + stub_abi::MailboxOffsets::done, &done, sizeof done);
    EXPECT_EQ(done, 40 + op) << "the handler acknowledges its generation";
  }
  return log;
}

TEST(Arm64ExecModes, EveryRoutineRetiresTheSameInstructionsInBothModes) {
  RunLog fast = every_routine(ExecMode::Fast);
  RunLog ref = every_routine(ExecMode::Reference);
  EXPECT_EQ(fast.instructions, ref.instructions);
  EXPECT_EQ(fast.data, ref.data);
  // Worked out from arm64_stubs.S: a 300-byte copy runs the 256-byte block once (2 + 21),
  // five words (2 + 5 * 7) and four bytes (1 + 4 * 6).
  EXPECT_EQ(fast.instructions[4], 2u + 21 + 2 + 5 * 7 + 1 + 4 * 6);
  EXPECT_EQ(fast.instructions[0], 2u + 2 + 1) << "an empty copy checks each loop once";
  EXPECT_EQ(fast.instructions[7], 2u + 2) << "64 bytes go to the word loop, whose first ldr faults";
}

}  // namespace
}  // namespace kva::test
