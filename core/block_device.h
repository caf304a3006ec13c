// A block device behind the buffer cache: memory-backed by default (sparse, so a large device
// costs only what is written) or backed by a host file. I/O is asynchronous: strategy() queues a
// bio and its completion (transfer plus bufdone) runs later on an interrupt thread of the
// completion CPU, in the scheduler's seeded order. The device can be held (bios wait until
// released) and can fail a chosen read or write with BIO_ERROR.
//
// Transfers: a write's data leaves memory when the I/O starts (on the issuing CPU), a read's
// data arrives at completion (on the completing CPU). A mapped buffer transfers through its KVA
// with guest loads and stores (programmed I/O, so the staleness oracles see buffer KVA), an
// unmapped one through b_pages (DMA). DeviceConfig::pio = false makes every transfer DMA.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/buf_cache.h"
#include "core/intr.h"

namespace kva {

enum class CompletionCpu {
  Next,    // the CPU after the issuer (another CPU whenever there are two)
  Issuer,  // the issuing CPU
  Fixed,   // DeviceConfig::completion_cpu
  Seeded   // drawn from the scheduler's seed
};

struct DeviceConfig {
  std::uint64_t size = 64u << 20;  // bytes, a multiple of DEV_BSIZE
  std::string backing_file;        // host file (created or truncated); empty: memory
  CompletionCpu completion = CompletionCpu::Next;
  cpuid_t completion_cpu = 0;
  bool pio = true;
};

struct DeviceStats {
  std::uint64_t reads = 0, writes = 0;
  std::uint64_t bytes_read = 0, bytes_written = 0;
  std::uint64_t errors = 0;        // injected BIO_ERRORs
  std::uint64_t remote_completions = 0;  // completed on another CPU than the issuer
  std::uint64_t discarded = 0;     // lost in a crash
};

// The device's contents.
class BackingStore {
 public:
  virtual ~BackingStore() = default;
  virtual void read(std::uint64_t off, std::uint8_t* out, std::size_t n) const = 0;
  virtual void write(std::uint64_t off, const std::uint8_t* in, std::size_t n) = 0;
};

class BlockDevice {
 public:
  BlockDevice(const DeviceConfig& cfg, BufCache& bufs, InterruptThreads& intr, Scheduler& sched,
              int ncpus);
  ~BlockDevice();
  const DeviceConfig& config() const { return cfg_; }
  std::uint64_t size() const { return cfg_.size; }
  const DeviceStats& stats() const { return stats_; }

  // Direct access to the contents (file creation, the lost-write oracle); no I/O is modelled.
  void read(std::uint64_t off, std::span<std::uint8_t> out) const;
  void write(std::uint64_t off, std::span<const std::uint8_t> in);

  // Starts I/O of bp (b_iocmd, device block b_blkno, buffer bytes [b_ioboff, +b_iolen)).
  void strategy(buf* bp);

  // Fault injection: the next `count` reads (or writes) that start fail with BIO_ERROR; with
  // `blkno`, only those whose transfer covers that device block (DEV_BSIZE units). Armed faults
  // are independent; an I/O takes the oldest one that matches.
  void fail_next(std::uint8_t iocmd, int count = 1, std::optional<daddr_t> blkno = std::nullopt);
  int armed_faults() const;  // failures still to come, over every armed fault
  // Holding: bios queue up instead of completing; release completes the oldest `count`.
  void hold() { held_ = true; }
  void release(std::size_t count = SIZE_MAX);
  bool held() const { return held_; }
  std::size_t queued() const { return queue_.size(); }    // started, not yet dispatched
  std::size_t in_flight() const { return active_.size(); }  // started, not yet complete
  // A crash: queued and in-flight bios vanish (their writes never reach the store).
  void discard();

 private:
  struct Bio {
    buf* bp;
    std::uint8_t cmd;
    std::uint64_t offset;  // device bytes
    std::size_t boff, len;
    std::vector<std::uint8_t> data;  // a write's bytes, taken when it started
    cpuid_t done_cpu;
    bool fail;
  };
  void dispatch(std::uint64_t id);
  void complete(std::uint64_t id);
  cpuid_t completion_cpu(cpuid_t issuer);

  DeviceConfig cfg_;
  BufCache& bufs_;
  InterruptThreads& intr_;
  Scheduler& sched_;
  int ncpus_;
  std::unique_ptr<BackingStore> store_;
  std::map<std::uint64_t, Bio> active_;
  std::deque<std::uint64_t> queue_;  // held bios, oldest first
  std::uint64_t next_id_ = 1;
  bool held_ = false;
  struct ArmedFault {
    std::uint8_t cmd;
    std::optional<daddr_t> blkno;
    int remaining;
  };
  bool take_fault(const Bio& bio);
  std::vector<ArmedFault> armed_;
  DeviceStats stats_;
};

}  // namespace kva
