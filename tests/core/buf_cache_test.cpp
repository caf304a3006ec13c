#include <gtest/gtest.h>

#include "buf_machine.h"

namespace kva {
namespace {

using test::BufMachine;
using test::bytes;

TEST(BufCache, BreadReadsTheDeviceThenHitsTheCache) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 64 << 10);
  buf* bp = mc.bread(0, f, 3);
  ASSERT_NE(bp, nullptr);
  EXPECT_TRUE(bp->b_flags & B_CACHE);
  EXPECT_TRUE(bp->b_flags & B_VMIO);
  EXPECT_EQ(bp->b_offset, 3 * 4096);
  EXPECT_EQ(bp->b_bcount, 4096);
  EXPECT_EQ(mc.bdata(1, bp, 0, 64), mc.model(f, 3 * 4096, 64));
  EXPECT_EQ(mc.bc().stats().reads, 1u);
  mc.bc().brelse(mc.td(0), bp);
  buf* again = mc.bread(1, f, 3);
  EXPECT_EQ(again, bp);  // same struct buf, found by gbincore
  EXPECT_EQ(mc.bc().stats().reads, 1u);
  EXPECT_EQ(mc.bc().stats().getblk_hits, 1u);
  EXPECT_EQ(mc.stale(), 0u);
}

TEST(BufCache, BdataIsKvabasePlusThePageOffsetOfBOffset) {
  BufMachine mc;
  vnode& f = mc.file("f", 512, 16 << 10);
  for (daddr_t lbn : {0, 1, 3, 7, 9}) {
    buf* bp = mc.bread(0, f, lbn);
    EXPECT_EQ(bp->b_kvabase & PAGE_MASK, 0u);
    EXPECT_EQ(bp->b_data, bp->b_kvabase + ((lbn * 512) & PAGE_MASK)) << lbn;
    EXPECT_EQ(mc.bdata(0, bp, 0, 512), mc.model(f, static_cast<std::uint64_t>(lbn) * 512, 512));
    mc.bc().brelse(mc.td(0), bp);
  }
}

TEST(BufCache, SubPageBlocksShareOnePageMappedInEveryBufferAndAnSfBuf) {
  BufMachine mc;
  vnode& f = mc.file("f", 1024, 8 << 10);
  std::vector<buf*> bps;
  for (daddr_t lbn = 0; lbn < 4; ++lbn) bps.push_back(mc.bread(0, f, lbn));
  vm_page* m = bps[0]->b_pages[0];
  for (buf* bp : bps) {
    EXPECT_EQ(bp->b_npages, 1);
    EXPECT_EQ(bp->b_pages[0], m);
  }
  EXPECT_EQ(m->kmap_count, 4);  // four buffer KVAs map it
  std::set<vaddr_t> kvas;
  for (buf* bp : bps) kvas.insert(bp->b_kvabase);
  EXPECT_EQ(kvas.size(), 4u);
  sf_buf* sf = mc.k->sfbufs().sf_buf_alloc_now(mc.td(1), m, SFB_DEFAULT);
  EXPECT_EQ(mc.pmap().load(1, sf->kva + 2048, 32), mc.bdata(0, bps[2], 0, 32));
  mc.k->sfbufs().sf_buf_free(mc.td(1), sf);
  for (buf* bp : bps) mc.bc().brelse(mc.td(0), bp);
  EXPECT_EQ(mc.stale(), 0u);
}

TEST(BufCache, EveryBlockSizeFromDevBsizeToMaxbsize) {
  BufConfig cfg = test::small_buf_config();
  cfg.maxbufspace = 1u << 20;
  BufMachine mc(cfg);
  for (std::size_t bs = DEV_BSIZE; bs <= MAXBSIZE; bs *= 2) {
    vnode& f = mc.file("f" + std::to_string(bs), bs, 3 * bs);
    buf* bp = mc.bread(0, f, 1);
    EXPECT_EQ(bp->b_npages, static_cast<int>(std::max<std::size_t>(1, bs / PAGE_SIZE))) << bs;
    EXPECT_EQ(mc.bdata(1, bp, bs - 16, 16), mc.model(f, 2 * bs - 16, 16)) << bs;
    mc.bc().brelse(mc.td(0), bp);
  }
  EXPECT_EQ(mc.stale(), 0u);
}

TEST(BufCache, GetblkNocreatAndNowait) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  EXPECT_EQ(mc.getblk(0, f, 1, 0, GB_NOCREAT), nullptr);
  buf* bp = mc.getblk(0, f, 1);
  ASSERT_NE(bp, nullptr);
  EXPECT_EQ(mc.getblk(1, f, 1, 0, GB_NOWAIT), nullptr);  // td0 holds it
  EXPECT_THROW(mc.getblk(0, f, 1), KvaError);           // locking against itself
  mc.bc().brelse(mc.td(0), bp);
  EXPECT_EQ(mc.getblk(1, f, 1, 0, GB_NOCREAT), bp);
}

TEST(BufCache, GetblkSleepsOnALockedBufferUntilItIsReleased) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  buf* held = mc.getblk(0, f, 2);
  buf* got = nullptr;
  const bool now = mc.bc().getblk(mc.td(1), f.bo(), 2, 4096, 0, [&](buf* bp, int) { got = bp; });
  EXPECT_FALSE(now);
  EXPECT_EQ(mc.td(1).state(), Thread::State::Sleeping);
  EXPECT_STREQ(mc.td(1).wmesg(), "getblk");
  mc.bc().brelse(mc.td(0), held);
  mc.k->sched().run();
  EXPECT_EQ(got, held);
  EXPECT_TRUE(mc.bc().owned_by(mc.td(1), got));
}

TEST(BufCache, GeteblkIsAnonymousMappedAndFreedOnRelease) {
  BufMachine mc;
  const std::size_t before = mc.pmap().phys().free_count();
  bool done = false;
  buf* bp = nullptr;
  mc.bc().geteblk(mc.td(0), 10000, 0, [&](buf* b, int) { bp = b, done = true; });
  mc.settle(done, "geteblk");
  ASSERT_NE(bp, nullptr);
  EXPECT_EQ(bp->b_npages, 3);
  EXPECT_TRUE(buf_mapped(bp));
  EXPECT_EQ(bp->b_data, bp->b_kvabase);
  EXPECT_FALSE(bp->b_flags & B_VMIO);
  mc.pmap().store(1, bp->b_data + 9000, bytes(8, 0x5a));
  EXPECT_EQ(mc.bdata(0, bp, 9000, 8), bytes(8, 0x5a));
  EXPECT_THROW(mc.bc().bstrategy(mc.td(0), bp, BIO_READ), KvaError);  // no backing store
  mc.bc().brelse(mc.td(0), bp);
  EXPECT_EQ(mc.pmap().phys().free_count(), before);
  EXPECT_FALSE(buf_mapped(bp));
}

TEST(BufCache, AllocbufGrowsAndShrinksPagesAndMappings) {
  BufMachine mc;
  vnode& f = mc.file("f", 16384, 64 << 10);
  buf* bp = mc.getblk(0, f, 1, 2048);
  EXPECT_EQ(bp->b_npages, 1);
  EXPECT_EQ(bp->b_bufsize, 2048);
  mc.bc().allocbuf(mc.td(0), bp, 12000);
  EXPECT_EQ(bp->b_npages, 3);
  EXPECT_EQ(bp->b_bcount, 12000);
  EXPECT_EQ(bp->b_bufsize, 12288);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(mc.pmap().extract(bp->b_kvabase + static_cast<vaddr_t>(i) * PAGE_SIZE), bp->b_pages[static_cast<std::size_t>(i)]->phys_addr);
  vm_page* third = bp->b_pages[2];
  const vaddr_t kva = bp->b_kvabase;
  mc.bc().allocbuf(mc.td(0), bp, 1024);
  EXPECT_EQ(bp->b_npages, 1);
  EXPECT_FALSE(mc.pmap().pte(kva + 2 * PAGE_SIZE).valid);  // tail unmapped (qremove)
  EXPECT_EQ(third->wire_count, 0);
  EXPECT_EQ(third->kmap_count, 0);
  EXPECT_EQ(mc.bc().stats().allocbuf_grows, 1u);
  EXPECT_EQ(mc.bc().stats().allocbuf_shrinks, 1u);
  EXPECT_THROW(mc.bc().allocbuf(mc.td(0), bp, 32768), KvaError);  // beyond the block size
  mc.bc().brelse(mc.td(0), bp);
}

TEST(BufCache, BufferPagesCannotBeFreedWhileWiredOrMapped) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  buf* bp = mc.bread(0, f, 0);
  vm_page* m = bp->b_pages[0];
  EXPECT_THROW(f.object().free_page(m), KvaError);  // wired by the buffer
  // The D20986 path: unwired while the buffer KVA still maps it.
  mc.pmap().phys().vm_page_unwire(m);
  try {
    f.object().free_page(m);
    FAIL() << "freed a mapped page";
  } catch (const KvaError& e) {
    EXPECT_NE(std::string(e.what()).find("still mapped"), std::string::npos) << e.what();
  }
  mc.pmap().phys().vm_page_wire(m);
  EXPECT_EQ(f.object().lookup(0), m);  // the refused free left it in the object
  mc.bc().brelse(mc.td(0), bp);
}

TEST(BufCache, BrelseOfDelwriRelbufKeepsTheBufferDirtyUntilWritten) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  ASSERT_EQ(mc.write(0, f, 100, bytes(50, 0xd1)), 0);  // bdwrite: pages marked clean
  buf* bp = mc.getblk(0, f, 0);
  EXPECT_TRUE(bp->b_flags & B_DELWRI);
  EXPECT_EQ(bp->b_pages[0]->dirty, 0u);  // cleared at queue time
  bp->b_flags |= B_RELBUF;
  mc.bc().brelse(mc.td(0), bp);
  EXPECT_TRUE(bp->b_flags & B_DELWRI);
  EXPECT_EQ(bp->b_qindex, BufQueue::Dirty);
  EXPECT_EQ(bp->b_npages, 1);
  EXPECT_EQ(mc.vfs().pageout(), 0u);  // nothing may go: the data is only in memory
  EXPECT_EQ(mc.fsync(0, f), 0);
  EXPECT_EQ(mc.vfs().on_device(f, 100, 50), bytes(50, 0xd1));
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
}

TEST(BufCache, BawriteCompletesOnAnotherCpuAndReleasesTheBuffer) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  buf* bp = mc.bread(0, f, 1);
  mc.pmap().store(0, bp->b_data, bytes(16, 0x77));
  mc.k->device().hold();
  mc.bc().bawrite(mc.td(0), bp);
  mc.k->sched().run();
  EXPECT_EQ(mc.k->device().in_flight(), 1u);
  EXPECT_TRUE(bp->b_locked);
  EXPECT_EQ(bp->b_lockowner, nullptr);  // BUF_KERNPROC
  EXPECT_THROW(mc.bc().brelse(mc.td(0), bp), KvaError);
  mc.k->device().release();
  mc.k->sched().run();
  EXPECT_FALSE(bp->b_locked);
  EXPECT_EQ(bp->b_qindex, BufQueue::Clean);
  EXPECT_EQ(mc.k->device().stats().remote_completions, 2u);  // the read, then the write
  std::vector<std::uint8_t> dev(16);
  mc.k->device().read(static_cast<std::uint64_t>(f.blkno(1)) * DEV_BSIZE, dev);
  EXPECT_EQ(dev, bytes(16, 0x77));
}

TEST(BufCache, BstrategyAndBufwait) {
  BufMachine mc;
  vnode& f = mc.file("f", 8192, 32 << 10);
  buf* bp = mc.getblk(1, f, 2);
  EXPECT_FALSE(bp->b_flags & B_CACHE);
  mc.bc().bstrategy(mc.td(1), bp, BIO_READ);
  EXPECT_TRUE(bp->b_io_in_progress);
  bool done = false;
  int err = -1;
  EXPECT_FALSE(mc.bc().bufwait(mc.td(1), bp, [&](int e) { err = e, done = true; }));
  EXPECT_STREQ(mc.td(1).wmesg(), "biowait");
  mc.settle(done, "bufwait");
  EXPECT_EQ(err, 0);
  EXPECT_TRUE(bp->b_flags & B_DONE);
  EXPECT_TRUE(bp->b_flags & B_CACHE);
  EXPECT_EQ(mc.bdata(1, bp, 8000, 64), mc.model(f, 2 * 8192 + 8000, 64));
  mc.bc().brelse(mc.td(1), bp);
}

TEST(BufCache, BreadnReadsAheadAsynchronously) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 64 << 10);
  bool done = false;
  buf* bp = nullptr;
  const daddr_t ra[] = {1, 2};
  const int ras[] = {4096, 4096};
  mc.bc().breadn(mc.td(0), f.bo(), 0, 4096, ra, ras, 0, [&](buf* b, int) { bp = b, done = true; });
  mc.settle(done, "breadn");
  EXPECT_EQ(mc.bc().stats().reads, 3u);
  for (daddr_t lbn : {1, 2}) {
    buf* rabp = mc.bc().incore(f.bo(), lbn);
    ASSERT_NE(rabp, nullptr);
    EXPECT_FALSE(rabp->b_locked);  // completion released it
    EXPECT_TRUE(rabp->b_flags & B_CACHE);
  }
  mc.bc().brelse(mc.td(0), bp);
  buf* b1 = mc.bread(1, f, 1);
  EXPECT_EQ(mc.bc().stats().reads, 3u);  // a cache hit
  EXPECT_EQ(mc.bdata(1, b1, 0, 32), mc.model(f, 4096, 32));
  mc.bc().brelse(mc.td(1), b1);
}

TEST(BufCache, FailedWriteLeavesTheBufferDirtyAndLosesNothing) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  ASSERT_EQ(mc.write(0, f, 0, bytes(4096, 0x3c)), 0);
  mc.k->device().fail_next(BIO_WRITE);
  buf* bp = mc.getblk(0, f, 0);
  EXPECT_EQ(mc.bwrite(0, bp), EIO);
  EXPECT_TRUE(bp->b_flags & B_DELWRI);
  EXPECT_EQ(bp->b_qindex, BufQueue::Dirty);
  EXPECT_EQ(mc.bc().stats().io_errors, 1u);
  EXPECT_NE(mc.vfs().on_device(f, 0, 16), bytes(16, 0x3c));
  EXPECT_EQ(mc.fsync(1, f), 0);  // the retry succeeds
  EXPECT_EQ(mc.vfs().on_device(f, 0, 4096), bytes(4096, 0x3c));
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
}

TEST(BufCache, FailedReadInvalidatesTheBuffer) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  mc.k->device().fail_next(BIO_READ);
  int err = 0;
  buf* bp = mc.bread(0, f, 1, 0, &err);
  EXPECT_EQ(err, EIO);
  EXPECT_TRUE(bp->b_ioflags & BIO_ERROR);
  vm_page* m = bp->b_pages[0];
  mc.bc().brelse(mc.td(0), bp);
  EXPECT_EQ(m->valid, 0u);
  EXPECT_EQ(mc.bc().incore(f.bo(), 1), nullptr);
  EXPECT_EQ(mc.read(0, f, 4096, 64), mc.model(f, 4096, 64));  // a second try reads it
}

TEST(BufCache, AFaultArmedForOneBlockFailsOnlyTheIoCoveringIt) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  ASSERT_EQ(mc.write(0, f, 0, bytes(4 * 4096, 0x5a)), 0);
  mc.k->device().fail_next(BIO_WRITE, 1, f.blkno(2));
  mc.k->device().fail_next(BIO_READ, 1, f.blkno(3));
  EXPECT_EQ(mc.bwrite(0, mc.getblk(0, f, 0)), 0);  // another block: written
  EXPECT_EQ(mc.bwrite(0, mc.getblk(0, f, 1)), 0);
  buf* bp = mc.getblk(0, f, 2);
  EXPECT_EQ(mc.bwrite(0, bp), EIO);
  EXPECT_TRUE(bp->b_flags & B_DELWRI);
  EXPECT_EQ(mc.k->device().armed_faults(), 1);  // the read fault waits for block 3
  EXPECT_EQ(mc.vfs().on_device(f, 4096, 16), bytes(16, 0x5a));
  EXPECT_NE(mc.vfs().on_device(f, 2 * 4096, 16), bytes(16, 0x5a));
  EXPECT_EQ(mc.fsync(1, f), 0);  // both remaining dirty blocks go out, block 2 this time
  EXPECT_EQ(mc.vfs().on_device(f, 0, 4 * 4096), bytes(4 * 4096, 0x5a));
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
  EXPECT_EQ(mc.bc().stats().io_errors, 1u);
  EXPECT_THROW(mc.k->device().fail_next(BIO_READ, 1, mc.k->device().size() / DEV_BSIZE), KvaError);
}

TEST(BufCache, DirtyRangeExtendsOverAHoleAndValidRangeDoesNot) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10, /*fill=*/false);
  buf* bp = mc.getblk(0, f, 0);
  mc.bc().vfs_bio_set_valid(mc.td(0), bp, 0, 1024);
  mc.bc().vfs_bio_set_dirty(mc.td(0), bp, 0, 100);
  mc.bc().vfs_bio_set_dirty(mc.td(0), bp, 200, 100);  // a hole [100, 200)
  EXPECT_EQ(bp->b_dirtyoff, 0);
  EXPECT_EQ(bp->b_dirtyend, 300);
  mc.bc().vfs_bio_set_dirty(mc.td(0), bp, 150, 20);  // inside: unchanged
  EXPECT_EQ(bp->b_dirtyend, 300);
  EXPECT_THROW(mc.bc().vfs_bio_set_dirty(mc.td(0), bp, 4000, 200), KvaError);  // past b_bcount
  mc.bc().brelse(mc.td(0), bp);

  buf* vb = mc.getblk(0, f, 1);
  mc.bc().vfs_bio_set_valid(mc.td(0), vb, 0, 100);
  mc.bc().vfs_bio_set_valid(mc.td(0), vb, 200, 100);  // would leave a hole: range unchanged
  EXPECT_EQ(vb->b_validoff, 0);
  EXPECT_EQ(vb->b_validend, 100);
  mc.bc().vfs_bio_set_valid(mc.td(0), vb, 100, 412);  // adjacent: the range grows
  EXPECT_EQ(vb->b_validend, 512);
  // Page bits record only DEV_BSIZE chunks one validation covers entirely.
  EXPECT_EQ(vb->b_pages[0]->valid, 0u);
  mc.bc().vfs_bio_set_valid(mc.td(0), vb, 1024, 1024);
  EXPECT_EQ(vb->b_pages[0]->valid, 0xcu);
  EXPECT_EQ(vb->b_validend, 512);  // [1024,2048) is disjoint: byte range left alone
  mc.bc().brelse(mc.td(0), vb);
}

// A read with B_CACHE clear over a partly valid buffer: the valid page is swapped for bogus_page
// (in b_pages and the KVA) so the device cannot overwrite it, then put back.
TEST(BufCache, BogusPageProtectsValidPagesDuringARead) {
  BufMachine mc;
  vnode& f = mc.file("f", 16384, 64 << 10);
  vm_page* m1 = f.object().grab(1);  // page 1 of block 0: valid and dirty (a mapped store)
  const auto dirty = bytes(PAGE_SIZE, 0xee);
  mc.pmap().phys().write(m1->phys_addr, dirty.data(), dirty.size());
  m1->valid = VM_PAGE_BITS_ALL;
  m1->dirty = VM_PAGE_BITS_ALL;
  mc.k->device().hold();
  bool done = false;
  buf* bp = nullptr;
  mc.bc().bread(mc.td(0), f.bo(), 0, 16384, 0, [&](buf* b, int) { bp = b, done = true; });
  mc.k->sched().run();
  ASSERT_FALSE(done);
  buf* inflight = mc.bc().incore(f.bo(), 0);
  EXPECT_EQ(inflight->b_pages[1], mc.bc().bogus_page());
  EXPECT_EQ(mc.pmap().extract(inflight->b_kvabase + PAGE_SIZE), mc.bc().bogus_page()->phys_addr);
  EXPECT_EQ(mc.bc().stats().bogus_pages, 1u);
  mc.k->device().release();
  mc.settle(done, "bread");
  EXPECT_EQ(bp->b_pages[1], m1);
  EXPECT_EQ(mc.pmap().extract(bp->b_kvabase + PAGE_SIZE), m1->phys_addr);
  EXPECT_EQ(mc.bdata(0, bp, PAGE_SIZE, 64), bytes(64, 0xee));          // kept
  EXPECT_EQ(mc.bdata(1, bp, 0, 64), mc.model(f, 0, 64));              // read
  EXPECT_EQ(mc.bc().stats().bogus_restores, 1u);
  EXPECT_TRUE(bp->b_flags & B_CACHE);
  mc.bc().brelse(mc.td(0), bp);
  EXPECT_EQ(mc.stale(), 0u);
}

TEST(BufCache, BuffersAboveHibufspaceAreLazilyUnmappedAndRemappedOnReuse) {
  BufConfig cfg = test::small_buf_config();
  cfg.maxbufspace = 128u << 10;  // hibufspace 112K, lobufspace 96K
  BufMachine mc(cfg);
  vnode& f = mc.file("f", 16384, 256 << 10);
  std::vector<buf*> bps;
  for (daddr_t lbn = 0; lbn < 8; ++lbn) {
    buf* bp = mc.bread(0, f, lbn);
    bps.push_back(bp);
    mc.pmap().load(1, bp->b_data, 1);  // cpu 1 caches a translation of each
    mc.bc().brelse(mc.td(0), bp);
  }
  const BufStats& s = mc.bc().stats();
  EXPECT_GE(s.kva_lazy_unmaps, 1u);
  EXPECT_LE(s.bufkvaspace, static_cast<std::int64_t>(cfg.maxbufspace));
  buf* oldest = bps[0];
  EXPECT_FALSE(buf_mapped(oldest));
  EXPECT_EQ(oldest->b_npages, 4);  // struct buf and b_pages stay
  EXPECT_EQ(mc.bc().incore(f.bo(), 0), oldest);
  const std::uint64_t remaps = s.kva_remaps;
  buf* again = mc.bread(1, f, 0);
  EXPECT_EQ(again, oldest);
  EXPECT_TRUE(buf_mapped(again));
  EXPECT_EQ(s.kva_remaps, remaps + 1);
  EXPECT_EQ(mc.bc().stats().reads, 8u);  // the data stayed valid: no new read
  EXPECT_EQ(mc.bdata(1, again, 100, 32), mc.model(f, 100, 32));
  mc.bc().brelse(mc.td(1), again);
  EXPECT_EQ(mc.stale(), 0u);
  EXPECT_GT(mc.pmap().stats().shootdowns, 0u);  // qremove shot the other CPU down
}

TEST(BufCache, UnmappedBuffersGetKvaOnlyWhenAsked) {
  BufMachine mc;
  vnode& f = mc.file("f", 8192, 32 << 10);
  buf* bp = mc.bread(0, f, 1, GB_UNMAPPED);
  EXPECT_FALSE(buf_mapped(bp));
  EXPECT_EQ(bp->b_data, 0u);
  EXPECT_EQ(mc.bc().stats().unmapped_ios, 1u);
  const std::vector<std::uint8_t> dma = mc.bc().transfer_out(bp, 0, 100, 32, true);
  EXPECT_EQ(dma, mc.model(f, 8192 + 100, 32));
  bool done = false;
  mc.bc().bp_unmapped_get_kva(mc.td(0), bp, [&](int) { done = true; });
  mc.settle(done, "bp_unmapped_get_kva");
  EXPECT_TRUE(buf_mapped(bp));
  EXPECT_EQ(mc.bdata(1, bp, 100, 32), dma);
  mc.bc().brelse(mc.td(0), bp);
}

TEST(BufCache, BufferDaemonFlushesDownToLodirtybuffers) {
  BufConfig cfg = test::small_buf_config();
  cfg.hidirtybuffers = 4;
  cfg.lodirtybuffers = 2;
  BufMachine mc(cfg);
  vnode& f = mc.file("f", 4096, 64 << 10);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(mc.write(0, f, static_cast<std::uint64_t>(i) * 4096, bytes(10, 0x40 + i)), 0);
  EXPECT_EQ(mc.bc().stats().numdirtybuffers, 3);
  EXPECT_EQ(mc.bc().stats().daemon_runs, 0u);
  ASSERT_EQ(mc.write(0, f, 3 * 4096, bytes(10, 0x43)), 0);  // reaches hidirtybuffers
  EXPECT_EQ(mc.bc().stats().daemon_runs, 1u);
  EXPECT_EQ(mc.bc().stats().numdirtybuffers, 2);
  EXPECT_EQ(mc.bc().stats().daemon_flushes, 2u);
  EXPECT_EQ(mc.vfs().on_device(f, 0, 10), bytes(10, 0x40));  // the oldest went first
  EXPECT_EQ(mc.vfs().on_device(f, 4096, 10), bytes(10, 0x41));
  EXPECT_NE(mc.vfs().on_device(f, 3 * 4096, 10), bytes(10, 0x43));
}

TEST(BufCache, InvariantCheckerReportsABrokenBuffer) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  buf* bp = mc.bread(0, f, 0);
  EXPECT_TRUE(mc.bc().violations().empty());
  bp->b_data += 8;  // as if reused with stale offset bits
  mc.bc().check_invariants();
  ASSERT_EQ(mc.bc().violations().size(), 1u);
  EXPECT_NE(mc.bc().violations()[0].message.find("b_data"), std::string::npos);
  bp->b_data -= 8;
  mc.bc().clear_violations();
  mc.bc().brelse(mc.td(0), bp);
}

TEST(BufCache, ConfigurationErrorsAreClear) {
  BufConfig cfg = test::small_buf_config();
  cfg.maxbufspace = 32u << 10;
  EXPECT_THROW(BufMachine{cfg}, KvaError);
  cfg = test::small_buf_config();
  cfg.lobufspace = cfg.maxbufspace;
  cfg.hibufspace = 64u << 10;
  EXPECT_THROW(BufMachine{cfg}, KvaError);
  cfg = test::small_buf_config();
  cfg.nbuf = 0;
  EXPECT_THROW(BufMachine{cfg}, KvaError);
}

}  // namespace
}  // namespace kva
