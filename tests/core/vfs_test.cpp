#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>

#include "buf_machine.h"

namespace kva {
namespace {

using test::BufMachine;
using test::bytes;

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t base) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(base + i * 3);
  return v;
}

TEST(Vfs, ReadReturnsTheModelAcrossBlocksAndPages) {
  BufMachine mc;
  vnode& f = mc.file("f", 2048, 40000);
  EXPECT_EQ(mc.read(0, f, 1000, 9000), mc.model(f, 1000, 9000));
  EXPECT_EQ(mc.read(1, f, 39990, 100).size(), 10u);  // short read at EOF
  EXPECT_EQ(mc.stale(), 0u);
}

TEST(Vfs, WriteThenReadEveryModeAndFsyncMatchesTheDevice) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 32 << 10);
  ASSERT_EQ(mc.write(0, f, 100, pattern(5000, 1), WriteMode::Delayed), 0);
  ASSERT_EQ(mc.write(1, f, 9000, pattern(300, 2), WriteMode::Async), 0);
  ASSERT_EQ(mc.write(0, f, 20000, pattern(7000, 3), WriteMode::Sync), 0);
  EXPECT_EQ(mc.read(1, f, 0, 32 << 10), mc.model(f, 0, 32 << 10));
  EXPECT_EQ(mc.model(f, 100, 5000), pattern(5000, 1));
  ASSERT_EQ(mc.fsync(0, f), 0);
  EXPECT_EQ(mc.vfs().on_device(f, 0, 32 << 10), mc.model(f, 0, 32 << 10));
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
  EXPECT_EQ(mc.bc().stats().numdirtybuffers, 0);
}

TEST(Vfs, AWriteOfADirtyRangeTransfersOnlyThoseBytes) {
  BufMachine mc;
  vnode& f = mc.file("f", 8192, 16 << 10);
  ASSERT_EQ(mc.write(0, f, 10, pattern(20, 9)), 0);
  const std::uint64_t before = mc.k->device().stats().bytes_written;
  ASSERT_EQ(mc.fsync(0, f), 0);
  EXPECT_EQ(mc.k->device().stats().bytes_written - before, 20u);
  EXPECT_EQ(mc.vfs().on_device(f, 0, 64), mc.model(f, 0, 64));
}

TEST(Vfs, WritesGrowTheFileAndHolesReadAsZeros) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 0, false);
  ASSERT_EQ(mc.write(0, f, 20000, pattern(100, 4)), 0);
  EXPECT_EQ(f.size(), 20100u);
  EXPECT_EQ(f.blkno(0), -1);  // never written: a hole
  EXPECT_EQ(mc.read(1, f, 0, 100), bytes(100, 0));
  EXPECT_EQ(mc.read(1, f, 20000, 100), pattern(100, 4));
  ASSERT_EQ(mc.fsync(1, f), 0);
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
}

TEST(Vfs, CrashKeepsWhatWasSyncedAndDropsTheRest) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 32 << 10);
  ASSERT_EQ(mc.write(0, f, 0, pattern(4096, 5)), 0);
  ASSERT_EQ(mc.fsync(0, f), 0);
  ASSERT_EQ(mc.write(0, f, 8192, pattern(100, 6)), 0);  // delayed, never synced
  const auto before = mc.vfs().on_device(f, 8192, 100);
  mc.vfs().crash(0);
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
  EXPECT_EQ(mc.read(1, f, 0, 4096), pattern(4096, 5));
  EXPECT_EQ(mc.read(1, f, 8192, 100), before);  // the model adopted the device
  EXPECT_EQ(mc.vfs().stats().crashes, 1u);
  EXPECT_EQ(f.object().pages().size(), 2u);  // only what the two reads brought back
}

TEST(Vfs, CrashOracleReportsSyncedDataMissingFromTheDevice) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  ASSERT_EQ(mc.write(0, f, 0, pattern(64, 7)), 0);
  ASSERT_EQ(mc.fsync(0, f), 0);
  // Corrupt the device behind the file system's back: what a lost write looks like.
  mc.k->device().write(static_cast<std::uint64_t>(f.blkno(0)) * DEV_BSIZE + 10, bytes(4, 0));
  mc.vfs().crash(1);
  ASSERT_EQ(mc.vfs().lost_writes().size(), 1u);
  const LostWrite& lw = mc.vfs().lost_writes()[0];
  EXPECT_EQ(lw.file, "f");
  EXPECT_EQ(lw.offset, 10u);
  EXPECT_EQ(lw.length, 4u);
  EXPECT_EQ(lw.when, "after crash");
}

TEST(Vfs, FsyncOracleReportsADeviceThatDiffers) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 16 << 10);
  ASSERT_EQ(mc.write(0, f, 0, pattern(64, 8), WriteMode::Sync), 0);
  mc.k->device().write(static_cast<std::uint64_t>(f.blkno(0)) * DEV_BSIZE, bytes(1, 0xff));
  ASSERT_EQ(mc.fsync(0, f), 0);  // nothing dirty to write: the device stays wrong
  ASSERT_EQ(mc.vfs().lost_writes().size(), 1u);
  EXPECT_EQ(mc.vfs().lost_writes()[0].when, "after fsync");
}

TEST(Vfs, MappedWriteDirtiesThePageAndFsyncWritesIt) {
  BufMachine mc;
  vnode& f = mc.file("f", 16384, 64 << 10);
  ASSERT_EQ(mc.write_mapped(1, f, 5000, pattern(200, 9)), 0);
  vm_page* m = f.object().lookup(1);
  ASSERT_NE(m, nullptr);
  EXPECT_NE(m->dirty, 0u);
  EXPECT_EQ(m->wire_count, 1);  // by block 0's cached buffer; the sf_buf's wiring is gone
  EXPECT_EQ(mc.read(0, f, 5000, 200), pattern(200, 9));
  ASSERT_EQ(mc.fsync(0, f), 0);
  EXPECT_EQ(m->dirty, 0u);
  EXPECT_EQ(mc.vfs().on_device(f, 5000, 200), pattern(200, 9));
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
  EXPECT_THROW(mc.write_mapped(0, f, (64 << 10) - 10, pattern(20, 1)), KvaError);  // past EOF
}

// The read that makes a page valid for fsync puts bogus_page over the dirty page.
TEST(Vfs, FsyncOfAMappedWriteUsesBogusPageWhenTheBlockIsPartlyCached) {
  BufMachine mc;
  vnode& f = mc.file("f", 16384, 64 << 10);
  ASSERT_EQ(mc.write_mapped(0, f, PAGE_SIZE + 8, pattern(100, 10)), 0);  // reads block 0
  // Memory pressure: the block's buffer lets go of its pages, vm_pageout takes the clean ones.
  mc.bc().release_clean(0);
  EXPECT_EQ(mc.vfs().pageout(), 3u);  // pages 0, 2, 3; page 1 is dirty
  ASSERT_EQ(mc.fsync(1, f), 0);
  EXPECT_EQ(mc.bc().stats().bogus_pages, 1u);
  EXPECT_EQ(mc.bc().stats().bogus_restores, 1u);
  EXPECT_EQ(mc.vfs().on_device(f, 0, 64 << 10), mc.model(f, 0, 64 << 10));
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
}

TEST(Vfs, AGuestStoreIntoAFileBufferChangesTheFileUpToEof) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 6000);
  buf* bp = mc.bread(0, f, 1);  // bytes [4096, 6000) of the file, the rest of the block past EOF
  mc.k->store(1, bp->b_data + 100, pattern(64, 7));
  const std::vector<std::uint8_t> tail = pattern(40, 8);
  mc.k->store(1, bp->b_data + 1880, tail);  // 24 bytes before EOF, 16 past it
  EXPECT_EQ(mc.model(f, 4196, 64), pattern(64, 7));
  EXPECT_EQ(f.size(), 6000u);  // a store does not extend the file
  EXPECT_EQ(mc.model(f, 5976, 24), std::vector<std::uint8_t>(tail.begin(), tail.begin() + 24));
  mc.bc().vfs_bio_set_dirty(mc.td(0), bp, 100, 1820);
  mc.bc().bdwrite(mc.td(0), bp);
  ASSERT_EQ(mc.fsync(0, f), 0);
  EXPECT_EQ(mc.vfs().on_device(f, 0, 6000), mc.model(f, 0, 6000));
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
}

TEST(Vfs, AStoreIntoABufferThatIsNeverWrittenIsALostWrite) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 8192);
  buf* bp = mc.bread(0, f, 0);
  std::vector<std::uint8_t> src = pattern(32, 9);
  const vaddr_t va = mc.k->kva_alloc(1);
  vm_page* m = mc.k->phys().vm_page_alloc();
  mc.k->kenter(va, m->phys_addr);
  mc.k->store(0, va, src);
  mc.k->copy(1, bp->b_data + 8, va, src.size());  // the copy is a store into the file's page
  EXPECT_EQ(mc.model(f, 8, 32), src);
  mc.bc().brelse(mc.td(0), bp);  // not marked dirty: the change never reaches the device
  mc.bc().release_clean(0);
  mc.k->vm().pageout();
  ASSERT_EQ(mc.fsync(0, f), 0);
  ASSERT_FALSE(mc.vfs().lost_writes().empty());
  EXPECT_EQ(mc.vfs().lost_writes().front().offset, 8u);
}

TEST(Vfs, TruncateShrinksAndExtendsWithZeros) {
  BufMachine mc;
  vnode& f = mc.file("f", 4096, 32 << 10);
  ASSERT_EQ(mc.read(0, f, 0, 32 << 10).size(), 32u << 10);  // cache every block
  bool done = false;
  mc.vfs().truncate(mc.td(0), f, 10000, [&](int e) {
    EXPECT_EQ(e, 0);
    done = true;
  });
  mc.settle(done, "truncate");
  EXPECT_EQ(f.size(), 10000u);
  EXPECT_EQ(mc.bc().incore(f.bo(), 3), nullptr);
  EXPECT_EQ(f.object().lookup(5), nullptr);
  done = false;
  mc.vfs().truncate(mc.td(1), f, 20000, [&](int e) {
    EXPECT_EQ(e, 0);
    done = true;
  });
  mc.settle(done, "truncate");
  EXPECT_EQ(mc.read(1, f, 9990, 30), mc.model(f, 9990, 30));
  EXPECT_EQ(mc.model(f, 10000, 20), bytes(20, 0));
  ASSERT_EQ(mc.fsync(0, f), 0);
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
  mc.vfs().crash(0);
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
  EXPECT_EQ(mc.read(0, f, 9000, 2000), mc.model(f, 9000, 2000));
}

TEST(Vfs, SendfileReadsEveryPageThroughAnSfBuf) {
  BufMachine mc;
  vnode& f = mc.file("f", 8192, 100000);
  const SendfileResult r = mc.sendfile(0, f, 1000, 50000, /*checksum_cpu=*/1);
  EXPECT_EQ(r.bytes, 50000u);
  EXPECT_EQ(r.pages, 13u);  // [1000, 51000) touches pages 0..12
  EXPECT_FALSE(r.first_mismatch.has_value());
  const SendfileResult again = mc.sendfile(1, f, 1000, 50000);
  EXPECT_EQ(again.checksum, r.checksum);
  EXPECT_EQ(mc.vfs().stats().sendfile_pages, 26u);
  // Only the cached buffers still wire pages; sendfile's own wirings are gone.
  for (const auto& [pindex, m] : f.object().pages()) {
    const buf* bp = mc.bc().incore(f.bo(), static_cast<daddr_t>(pindex * PAGE_SIZE / 8192));
    EXPECT_EQ(m->wire_count, bp ? 1 : 0) << pindex;
  }
  EXPECT_GT(mc.k->sfbufs().stats().nsfbufspeak, 0);
  EXPECT_EQ(mc.k->sfbufs().stats().nsfbufsused, 0);
  EXPECT_EQ(mc.stale(), 0u);
}

TEST(Vfs, SendfileOfAFileLargerThanMemoryReclaimsPages) {
  BufConfig cfg = test::small_buf_config();
  BufMachine mc(cfg);  // 8 MiB of RAM
  vnode& f = mc.file("big", 65536, 12u << 20);
  const SendfileResult r = mc.sendfile(0, f, 0, 12u << 20);
  EXPECT_EQ(r.bytes, 12u << 20);
  EXPECT_FALSE(r.first_mismatch.has_value());
  EXPECT_GT(mc.vfs().pages_reclaimed(), 0u);
}

TEST(Vfs, UnmappedModeCopiesThroughSfBufsAndMapsNoBuffer) {
  BufConfig cfg = test::small_buf_config();
  cfg.unmapped = true;
  BufMachine mc(cfg);
  vnode& f = mc.file("f", 16384, 64 << 10);
  ASSERT_EQ(mc.write(0, f, 3000, pattern(9000, 11)), 0);
  EXPECT_EQ(mc.read(1, f, 0, 64 << 10), mc.model(f, 0, 64 << 10));
  ASSERT_EQ(mc.fsync(0, f), 0);
  EXPECT_EQ(mc.bc().stats().kva_maps, 0u);
  EXPECT_EQ(mc.bc().stats().mapped_ios, 0u);
  EXPECT_GT(mc.bc().stats().unmapped_ios, 0u);
  EXPECT_GT(mc.k->sfbufs().stats().hash_hits + mc.k->sfbufs().stats().remaps +
                static_cast<std::uint64_t>(mc.k->sfbufs().stats().nsfbufspeak),
            0u);
  EXPECT_TRUE(mc.vfs().lost_writes().empty());
  EXPECT_EQ(mc.stale(), 0u);
}

TEST(Vfs, FileBackedDeviceHoldsTheData) {
  char path[] = "/tmp/kvabench-dev-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  DeviceConfig dev;
  dev.size = 1u << 20;
  dev.backing_file = path;
  {
    BufMachine mc(test::small_buf_config(), 2, {}, dev);
    vnode& f = mc.file("f", 4096, 16 << 10);
    ASSERT_EQ(mc.write(0, f, 4096, pattern(4096, 12)), 0);
    ASSERT_EQ(mc.fsync(0, f), 0);
    std::FILE* host = std::fopen(path, "rb");
    ASSERT_NE(host, nullptr);
    std::fseek(host, static_cast<long>(f.blkno(1)) * DEV_BSIZE, SEEK_SET);
    std::vector<std::uint8_t> got(4096);
    ASSERT_EQ(std::fread(got.data(), 1, got.size(), host), got.size());
    std::fclose(host);
    EXPECT_EQ(got, pattern(4096, 12));
  }
  std::remove(path);
}

TEST(Vfs, CompletionCpuPolicies) {
  for (auto [policy, want] : {std::pair{CompletionCpu::Issuer, 0}, {CompletionCpu::Next, 1},
                              {CompletionCpu::Fixed, 2}}) {
    DeviceConfig dev;
    dev.completion = policy;
    dev.completion_cpu = 2;
    BufMachine mc(test::small_buf_config(), 3, {}, dev);
    vnode& f = mc.file("f", 4096, 16 << 10);
    mc.bc().brelse(mc.td(0), mc.bread(0, f, 0));
    EXPECT_EQ(mc.k->device().stats().remote_completions, want == 0 ? 0u : 1u);
  }
  DeviceConfig bad;
  bad.completion = CompletionCpu::Fixed;
  bad.completion_cpu = 5;
  EXPECT_THROW(BufMachine(test::small_buf_config(), 2, {}, bad), KvaError);
}

}  // namespace
}  // namespace kva
