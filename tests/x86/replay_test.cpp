// Recording what a machine does (emu/recording.h) and replaying it on bare engines
// (emu/replay.h): the floor that bench/ measures kvabench against must do the same guest work.
#include <cstring>

#include "emu/emulated_pmap.h"
#include "emu/replay.h"
#include "emu/stub_abi.h"
#include "tests/x86/x86_test_util.h"

namespace kva::test {
namespace {

class ReplayTest : public testing::TestWithParam<std::string> {};

TEST_P(ReplayTest, ReplayOnBareEnginesRedoesTheRecordedGuestWork) {
  auto p = make_x86(GetParam(), 2);
  Machine& m = dynamic_cast<EmulatedPmap&>(*p).machine();
  PhysicalMemory& phys = p->phys();
  vm_page* page = pattern_page(phys, 0x40);
  const vaddr_t va = p->kva_space().start;
  std::vector<std::uint8_t> data(300);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(0xC0 ^ i);

  EmuRecording rec;
  m.start_recording(rec);
  const std::uint64_t calls0 = p->stats().emu_calls;
  p->kenter(va, page->phys_addr);
  p->store(1, va + 50, data);
  p->shootdown(0, CpuSet::only(1), va, 1);
  m.stop_recording();
  ASSERT_EQ(rec.runs(), p->stats().emu_calls - calls0);
  ASSERT_EQ(rec.events.front().kind, EmuEvent::Kind::Write) << "the PTE write of kenter";
  (void)p->load(0, va, 8);  // not recorded: recording is off
  ASSERT_EQ(rec.runs(), 2u);

  // Undo what the guest and the host did, then replay.
  p->kremove(va);
  std::vector<std::uint8_t> zeros(data.size(), 0);
  phys.write(page->phys_addr + 50, zeros.data(), zeros.size());
  const paddr_t mb = m.firmware().mailbox(1);
  std::memset(m.firmware_ptr(mb + stub_abi::MailboxOffsets::done, 8), 0, 8);
  std::uint64_t generation = 0;
  std::memcpy(&generation, m.firmware_ptr(mb + stub_abi::MailboxOffsets::generation, 8), 8);

  BareEngines bare(m);
  bare.replay(bare.compile(rec));
  EXPECT_TRUE(p->pte(va).valid) << "the recorded PTE write";
  EXPECT_EQ(phys_bytes(phys, page->phys_addr + 50, data.size()), data) << "the recorded store";
  std::uint64_t done = 0;
  std::memcpy(&done, m.firmware_ptr(mb + stub_abi::MailboxOffsets::done, 8), 8);
  const std::uint64_t mask = m.isa().word_bytes == 8 ? ~0ull : 0xffffffffull;
  EXPECT_EQ(done & mask, generation & mask) << "the shootdown handler acknowledged again";
}

INSTANTIATE_TEST_SUITE_P(X86, ReplayTest, testing::ValuesIn(x86_archs()), arch_test_name);

}  // namespace
}  // namespace kva::test
