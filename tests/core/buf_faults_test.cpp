// Every buffer-cache fault switch: the scenario that exposes it, run with the switch (the bug is
// caught by a data oracle: lost write, wrong bytes, staleness) and without (nothing reported).
#include <gtest/gtest.h>

#include "buf_machine.h"

namespace kva {
namespace {

using test::BufMachine;
using test::bytes;

FaultSet with(Fault f) {
  FaultSet s;
  s.enable(f);
  return s;
}

// What the detectors saw in one scenario run.
struct Seen {
  std::size_t lost_writes = 0;
  std::size_t stale = 0;
  bool wrong_data = false;
  std::size_t violations = 0;
};

Seen seen(BufMachine& mc, bool wrong_data) {
  return {mc.vfs().lost_writes().size(), mc.stale(), wrong_data, mc.bc().violations().size()};
}

// --- relbuf-delwri: bdwrite marks the pages clean; releasing them without the write loses it.
Seen relbuf_delwri(FaultSet faults) {
  BufMachine mc(test::small_buf_config(), 2, faults);
  vnode& f = mc.file("f", 4096, 16 << 10);
  EXPECT_EQ(mc.write(0, f, 0, bytes(512, 0xa5)), 0);
  buf* bp = mc.getblk(0, f, 0);
  bp->b_flags |= B_RELBUF;
  mc.bc().brelse(mc.td(0), bp);
  mc.vfs().pageout();  // memory pressure takes whatever is clean and unwired
  EXPECT_EQ(mc.fsync(1, f), 0);
  const bool wrong = mc.read(1, f, 0, 512) != bytes(512, 0xa5);
  return seen(mc, wrong);
}

TEST(BufFaults, RelbufDelwriIsCaughtAsALostWrite) {
  const Seen bug = relbuf_delwri(with(Fault::RelbufDelwriUnwritten));
  EXPECT_EQ(bug.lost_writes, 1u);
  EXPECT_TRUE(bug.wrong_data);
  const Seen ok = relbuf_delwri({});
  EXPECT_EQ(ok.lost_writes, 0u);
  EXPECT_FALSE(ok.wrong_data);
}

// --- skip-bogus-page: a read over a block whose page 1 is valid and dirty clobbers it.
Seen skip_bogus(FaultSet faults) {
  BufMachine mc(test::small_buf_config(), 2, faults);
  vnode& f = mc.file("f", 16384, 64 << 10);
  EXPECT_EQ(mc.write_mapped(0, f, PAGE_SIZE + 8, bytes(100, 0x99)), 0);
  mc.bc().release_clean(0);
  mc.vfs().pageout();  // pages 0, 2, 3 go; the dirty page 1 stays
  EXPECT_EQ(mc.fsync(1, f), 0);  // reads block 0 around the dirty page, then writes it
  const bool wrong = mc.read(0, f, PAGE_SIZE + 8, 100) != bytes(100, 0x99);
  return seen(mc, wrong);
}

TEST(BufFaults, SkipBogusPageIsCaughtAsALostWrite) {
  const Seen bug = skip_bogus(with(Fault::SkipBogusPage));
  EXPECT_EQ(bug.lost_writes, 1u);
  EXPECT_TRUE(bug.wrong_data);
  const Seen ok = skip_bogus({});
  EXPECT_EQ(ok.lost_writes, 0u);
  EXPECT_FALSE(ok.wrong_data);
}

// --- bogus-page-leak: after the read, b_pages and the KVA still hold bogus_page.
Seen bogus_leak(FaultSet faults) {
  BufMachine mc(test::small_buf_config(), 2, faults);
  vnode& f = mc.file("f", 16384, 64 << 10);
  EXPECT_EQ(mc.write_mapped(0, f, PAGE_SIZE, bytes(64, 0x42)), 0);
  mc.bc().release_clean(0);
  mc.vfs().pageout();
  buf* bp = mc.bread(1, f, 0);  // page 1 is bogus during this read
  const bool wrong = mc.bdata(1, bp, PAGE_SIZE, 64) != bytes(64, 0x42);
  mc.bc().brelse(mc.td(1), bp);
  return seen(mc, wrong);
}

TEST(BufFaults, BogusPageLeakIsCaughtByTheDataAndTheInvariants) {
  const Seen bug = bogus_leak(with(Fault::BogusPageLeak));
  EXPECT_TRUE(bug.wrong_data);
  EXPECT_GE(bug.violations, 1u);
  const Seen ok = bogus_leak({});
  EXPECT_FALSE(ok.wrong_data);
  EXPECT_EQ(ok.violations, 0u);
}

// --- dirty-range-hole: two writes into one block leave a hole; the write transfers only the
// dirty range, which without the hole rule misses the first write.
Seen dirty_hole(FaultSet faults) {
  BufMachine mc(test::small_buf_config(), 2, faults);
  vnode& f = mc.file("f", 4096, 16 << 10);
  EXPECT_EQ(mc.write(0, f, 0, bytes(100, 0x11)), 0);
  EXPECT_EQ(mc.write(1, f, 1000, bytes(100, 0x22)), 0);
  EXPECT_EQ(mc.fsync(0, f), 0);
  mc.vfs().crash(0);
  const bool wrong = mc.read(1, f, 0, 100) != bytes(100, 0x11);
  return seen(mc, wrong);
}

TEST(BufFaults, DirtyRangeHoleIsCaughtAsALostWrite) {
  const Seen bug = dirty_hole(with(Fault::DirtyRangeHole));
  EXPECT_GE(bug.lost_writes, 1u);
  EXPECT_TRUE(bug.wrong_data);
  const Seen ok = dirty_hole({});
  EXPECT_EQ(ok.lost_writes, 0u);
  EXPECT_FALSE(ok.wrong_data);
}

// --- skip-buf-kva-shootdown: buffer KVA given up by one block and reused by another; cpu 1
// still translates it to the old page.
// DMA transfers, so the device itself does not store through the stale translation.
DeviceConfig dma() {
  DeviceConfig d;
  d.pio = false;
  return d;
}

Seen kva_shootdown(FaultSet faults) {
  BufConfig cfg = test::small_buf_config();
  cfg.nbuf = 1;  // the next block must reuse this buffer and its KVA
  BufMachine mc(cfg, 2, faults, dma());
  vnode& f = mc.file("f", 4096, 16 << 10);
  buf* a = mc.bread(0, f, 0);
  mc.bdata(1, a, 0, 16);  // cpu 1 caches the translation
  mc.bc().brelse(mc.td(0), a);
  buf* b = mc.bread(0, f, 1);
  EXPECT_EQ(b, a);
  const bool wrong = mc.bdata(1, b, 0, 16) != mc.model(f, 4096, 16);
  mc.bc().brelse(mc.td(0), b);
  return seen(mc, wrong);
}

TEST(BufFaults, SkipBufKvaShootdownIsCaughtAsStaleness) {
  const Seen bug = kva_shootdown(with(Fault::SkipBufKvaShootdown));
  EXPECT_GE(bug.stale, 1u);
  EXPECT_TRUE(bug.wrong_data);
  const Seen ok = kva_shootdown({});
  EXPECT_EQ(ok.stale, 0u);
  EXPECT_FALSE(ok.wrong_data);
}

// --- clean-at-completion: a store through a mapping while the block's write is in flight.
Seen clean_at_completion(FaultSet faults) {
  BufMachine mc(test::small_buf_config(), 2, faults);
  vnode& f = mc.file("f", 4096, 16 << 10);
  EXPECT_EQ(mc.write(0, f, 0, bytes(64, 0x31)), 0);
  buf* bp = mc.getblk(0, f, 0);
  mc.k->device().hold();
  mc.bc().bawrite(mc.td(0), bp);  // the device took the bytes; completion pending
  EXPECT_EQ(mc.write_mapped(1, f, 32, bytes(16, 0x77)), 0);
  mc.k->device().release();
  mc.k->sched().run();
  EXPECT_EQ(mc.fsync(1, f), 0);
  mc.vfs().crash(1);
  const bool wrong = mc.read(0, f, 32, 16) != bytes(16, 0x77);
  return seen(mc, wrong);
}

TEST(BufFaults, CleanAtCompletionIsCaughtAsALostWrite) {
  const Seen bug = clean_at_completion(with(Fault::CleanAtCompletion));
  EXPECT_GE(bug.lost_writes, 1u);
  EXPECT_TRUE(bug.wrong_data);
  const Seen ok = clean_at_completion({});
  EXPECT_EQ(ok.lost_writes, 0u);
  EXPECT_FALSE(ok.wrong_data);
}

// --- bdata-stale-offset: one buffer reused from block 1 (offset 0x200 in its page) for block 2
// (0x400) keeps the old bits.
Seen bdata_offset(FaultSet faults) {
  BufConfig cfg = test::small_buf_config();
  cfg.nbuf = 1;
  BufMachine mc(cfg, 2, faults, dma());
  vnode& f = mc.file("f", 512, 16 << 10);
  mc.bc().brelse(mc.td(0), mc.bread(0, f, 1));
  buf* bp = mc.bread(0, f, 2);
  const bool wrong = mc.bdata(0, bp, 0, 64) != mc.model(f, 1024, 64);
  mc.bc().brelse(mc.td(0), bp);
  return seen(mc, wrong);
}

TEST(BufFaults, BdataStaleOffsetIsCaughtByTheDataAndTheInvariants) {
  const Seen bug = bdata_offset(with(Fault::BdataOffsetOnReuse));
  EXPECT_TRUE(bug.wrong_data);
  EXPECT_GE(bug.violations, 1u);
  const Seen ok = bdata_offset({});
  EXPECT_FALSE(ok.wrong_data);
  EXPECT_EQ(ok.violations, 0u);
}

}  // namespace
}  // namespace kva
