// A minimal file layer over the buffer cache and the block device, with a lost-write oracle.
//
// A vnode has a block size (DEV_BSIZE..MAXBSIZE), a VM object of pages (its bufobj's), and a
// block map onto the device (blocks are allocated on first write; unallocated blocks read as
// zeros). read/write go through buffers like UFS: a partial block is read before it is written,
// data is copied through b_data by the thread's CPU (guest loads and stores, both staleness
// oracles), or, for unmapped buffers, through an sf_buf of each page. write_mapped stores into a
// cached page through an sf_buf and marks it dirty (what a store through a file mapping does).
//
// The reference model holds every file's logical contents. After fsync/sync the device must
// equal it over the synced range; after a simulated crash (all in-memory state discarded) every
// DEV_BSIZE chunk not written since it was last synced must still be on the device. Mismatches
// are recorded as lost writes.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/block_device.h"
#include "core/buf_cache.h"
#include "core/sf_buf.h"
#include "core/vm_object.h"

namespace kva {

enum class WriteMode { Delayed, Async, Sync };  // bdwrite, bawrite, bwrite

struct VfsStats {
  std::uint64_t files = 0;
  std::uint64_t reads = 0, writes = 0, mapped_writes = 0;
  std::uint64_t bytes_read = 0, bytes_written = 0;
  std::uint64_t fsyncs = 0, syncs = 0, truncates = 0, crashes = 0;
  std::uint64_t sendfiles = 0, sendfile_pages = 0, sendfile_bytes = 0;
  std::uint64_t blocks_allocated = 0;
  std::uint64_t lost_writes = 0;  // oracle reports
};

struct LostWrite {
  std::string step;
  std::string file;
  std::uint64_t offset;                 // first differing byte
  std::size_t length;                   // of the differing run reported
  std::vector<std::uint8_t> expected;   // the reference model (first bytes)
  std::vector<std::uint8_t> device;     // what the device holds
  std::string when;                     // "after fsync", "after crash"
};

struct SendfileResult {
  std::uint64_t bytes = 0;
  std::uint64_t pages = 0;
  std::uint32_t checksum = 0;                     // Adler-32 of what the guest read
  std::optional<std::uint64_t> first_mismatch;    // file offset where it differs from the model
};

class vnode final : public BufStrategy {
 public:
  const std::string& name() const { return name_; }
  std::size_t bsize() const { return bo_.bo_bsize; }
  std::uint64_t size() const { return size_; }
  bufobj& bo() { return bo_; }
  VmObject& object() { return *bo_.bo_object; }
  daddr_t blkno(daddr_t lblkno) const;  // device block (DEV_BSIZE units), -1 for a hole
  void bop_strategy(buf* bp) override;

 private:
  friend class Vfs;
  class Vfs* vfs_ = nullptr;
  std::string name_;
  bufobj bo_;
  std::uint64_t size_ = 0;
  std::vector<daddr_t> blocks_;          // lblkno -> device block, -1: hole
  // reference model
  bool tracked_ = true;
  std::vector<std::uint8_t> logical_;
  std::vector<std::uint64_t> chunk_seq_;   // per DEV_BSIZE chunk: write sequence number
  std::vector<std::uint64_t> synced_seq_;  // per chunk: the sequence number last synced
};

class Vfs {
 public:
  Vfs(Pmap& pmap, Scheduler& sched, VmObjects& vm, BufCache& bufs, BlockDevice& dev,
      SfBufSubsystem& sfbufs);
  ~Vfs();

  // A file of `size` bytes; with `fill`, its contents are on the device already (written and
  // synced), otherwise it is all holes (zeros). `track: false` skips the reference model (for
  // benchmarks; the oracle then checks nothing for this file).
  vnode& create(const std::string& name, std::size_t bsize, std::uint64_t size,
                const std::function<std::uint8_t(std::uint64_t)>& fill, bool track = true);
  vnode* find(const std::string& name);
  const std::vector<std::unique_ptr<vnode>>& files() const { return files_; }

  // --- thread ops (true: returned at once; else `done` runs from a later Scheduler::run)
  using ReadDone = std::function<void(std::vector<std::uint8_t> data, int error)>;
  using Done = std::function<void(int error)>;
  bool read(Thread& td, vnode& vp, std::uint64_t off, std::size_t len, ReadDone done);
  bool write(Thread& td, vnode& vp, std::uint64_t off, std::vector<std::uint8_t> data,
             WriteMode mode, Done done);
  bool write_mapped(Thread& td, vnode& vp, std::uint64_t off, std::vector<std::uint8_t> data, Done done);
  bool fsync(Thread& td, vnode& vp, std::uint64_t off, std::uint64_t len, Done done);  // len 0: to EOF
  bool sync(Thread& td, Done done);
  bool truncate(Thread& td, vnode& vp, std::uint64_t size, Done done);
  // sendfile: page by page, make the page valid through the cache, wire it, sf_buf_alloc, let
  // td's CPU read it through the sf_buf KVA (and checksum_cpu too, when >= 0), sf_buf_free,
  // unwire.
  bool sendfile(Thread& td, vnode& vp, std::uint64_t off, std::uint64_t len, cpuid_t checksum_cpu,
                std::function<void(SendfileResult, int error)> done);
  // vm_pageout: reclaims clean, unreferenced cached pages; returns how many.
  std::size_t pageout() { return vm_.pageout(); }
  // A crash: pending I/O, buffers and cached pages vanish; then the crash oracle runs and the
  // model adopts the device's contents for the chunks written since their last sync.
  void crash(cpuid_t cpu);
  // A store through b_data of a file's buffer (Kernel::store finds the buffer): the file's
  // logical contents change as with write(2), up to EOF, so the lost-write oracle expects those
  // bytes on the device after fsync. Buffers that belong to no file are ignored.
  void buffer_stored(const buf* bp, std::uint64_t boff, std::span<const std::uint8_t> data);

  // --- the oracle
  std::vector<std::uint8_t> model(const vnode& vp, std::uint64_t off, std::size_t len) const;
  std::vector<std::uint8_t> on_device(const vnode& vp, std::uint64_t off, std::size_t len) const;
  const std::vector<LostWrite>& lost_writes() const { return lost_; }
  const VfsStats& stats() const { return stats_; }
  std::uint64_t pages_reclaimed() const { return vm_.pages_reclaimed(); }

 private:
  friend class vnode;
  class FsyncOp;
  void strategy(vnode& vp, buf* bp);
  daddr_t allocate_block(vnode& vp);
  bool start(Thread& td, std::unique_ptr<ThreadOp> op);
  int gbflags() const;
  // Copies between the caller and a locked buffer, through b_data or sf_bufs, on td's CPU.
  void copy_out(Thread& td, buf* bp, std::size_t boff, std::uint8_t* out, std::size_t n);
  void copy_in(Thread& td, buf* bp, std::size_t boff, const std::uint8_t* in, std::size_t n);
  void through_sf_buf(Thread& td, vm_page* m, std::size_t page_off, std::size_t n,
                      const std::function<void(vaddr_t)>& access);
  void model_write(vnode& vp, std::uint64_t off, const std::uint8_t* data, std::size_t n);
  void model_resize(vnode& vp, std::uint64_t size);
  void check_synced(vnode& vp, std::uint64_t off, std::uint64_t end,
                    const std::vector<std::uint64_t>& seq_at_start, const char* when);
  std::unique_ptr<ThreadOp> fsync_op(vnode& vp, std::uint64_t off, std::uint64_t len, Done done);
  std::unique_ptr<ThreadOp> make_valid_op(vnode& vp, std::uint64_t pindex, Done done);
  using PageUse = std::function<void(Thread& td, sf_buf* sf, std::uint64_t pos, std::size_t page_off,
                                     std::size_t n)>;
  std::unique_ptr<ThreadOp> each_page_op(vnode& vp, std::uint64_t off, std::uint64_t end, PageUse use,
                                         Done done);

  Pmap& pmap_;
  Scheduler& sched_;
  VmObjects& vm_;
  BufCache& bufs_;
  BlockDevice& dev_;
  SfBufSubsystem& sfbufs_;
  std::vector<std::unique_ptr<vnode>> files_;
  std::uint64_t next_block_ = 1;                    // device block 0 stays unused
  std::map<std::size_t, std::vector<daddr_t>> free_blocks_;  // by size in DEV_BSIZE units
  std::uint64_t seq_ = 0;
  std::vector<LostWrite> lost_;
  VfsStats stats_;
};

}  // namespace kva
