#include "core/block_device.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kva {

namespace {

// Sparse memory: 64 KiB chunks materialize when first written; unwritten bytes read as zero.
class MemoryStore final : public BackingStore {
 public:
  void read(std::uint64_t off, std::uint8_t* out, std::size_t n) const override {
    for (std::size_t done = 0; done < n;) {
      const std::uint64_t at = off + done;
      const std::size_t in = at % kChunk, len = std::min(n - done, kChunk - in);
      auto it = chunks_.find(at / kChunk);
      if (it == chunks_.end()) std::memset(out + done, 0, len);
      else std::memcpy(out + done, it->second.data() + in, len);
      done += len;
    }
  }
  void write(std::uint64_t off, const std::uint8_t* in, std::size_t n) override {
    for (std::size_t done = 0; done < n;) {
      const std::uint64_t at = off + done;
      const std::size_t o = at % kChunk, len = std::min(n - done, kChunk - o);
      auto& chunk = chunks_[at / kChunk];
      if (chunk.empty()) chunk.assign(kChunk, 0);
      std::memcpy(chunk.data() + o, in + done, len);
      done += len;
    }
  }

 private:
  static constexpr std::size_t kChunk = 64u << 10;
  std::map<std::uint64_t, std::vector<std::uint8_t>> chunks_;
};

class FileStore final : public BackingStore {
 public:
  FileStore(const std::string& path, std::uint64_t size) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw KvaError("block device: cannot open backing file " + path + ": " + std::strerror(errno));
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      const int e = errno;
      ::close(fd_);
      throw KvaError("block device: cannot size backing file " + path + ": " + std::strerror(e));
    }
  }
  ~FileStore() override { ::close(fd_); }
  void read(std::uint64_t off, std::uint8_t* out, std::size_t n) const override {
    for (std::size_t done = 0; done < n;) {
      const ssize_t r = ::pread(fd_, out + done, n - done, static_cast<off_t>(off + done));
      if (r <= 0) throw KvaError("block device: read of backing file " + path_ + " failed");
      done += static_cast<std::size_t>(r);
    }
  }
  void write(std::uint64_t off, const std::uint8_t* in, std::size_t n) override {
    for (std::size_t done = 0; done < n;) {
      const ssize_t r = ::pwrite(fd_, in + done, n - done, static_cast<off_t>(off + done));
      if (r <= 0) throw KvaError("block device: write of backing file " + path_ + " failed");
      done += static_cast<std::size_t>(r);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

BlockDevice::BlockDevice(const DeviceConfig& cfg, BufCache& bufs, InterruptThreads& intr,
                         Scheduler& sched, int ncpus)
    : cfg_(cfg), bufs_(bufs), intr_(intr), sched_(sched), ncpus_(ncpus) {
  if (cfg.size == 0 || cfg.size % DEV_BSIZE)
    throw KvaError("block device size must be a positive multiple of DEV_BSIZE (512)");
  if (cfg.completion == CompletionCpu::Fixed && (cfg.completion_cpu < 0 || cfg.completion_cpu >= ncpus))
    throw KvaError("block device completion cpu " + std::to_string(cfg.completion_cpu) + " does not exist");
  if (cfg.backing_file.empty()) store_ = std::make_unique<MemoryStore>();
  else store_ = std::make_unique<FileStore>(cfg.backing_file, cfg.size);
}

BlockDevice::~BlockDevice() = default;

void BlockDevice::read(std::uint64_t off, std::span<std::uint8_t> out) const {
  if (off > cfg_.size || out.size() > cfg_.size - off) throw KvaError("block device: read past the end");
  store_->read(off, out.data(), out.size());
}

void BlockDevice::write(std::uint64_t off, std::span<const std::uint8_t> in) {
  if (off > cfg_.size || in.size() > cfg_.size - off) throw KvaError("block device: write past the end");
  store_->write(off, in.data(), in.size());
}

cpuid_t BlockDevice::completion_cpu(cpuid_t issuer) {
  switch (cfg_.completion) {
    case CompletionCpu::Next: return (issuer + 1) % ncpus_;
    case CompletionCpu::Issuer: return issuer;
    case CompletionCpu::Fixed: return cfg_.completion_cpu;
    case CompletionCpu::Seeded: return static_cast<cpuid_t>(sched_.pick(static_cast<std::size_t>(ncpus_)));
  }
  return issuer;
}

void BlockDevice::strategy(buf* bp) {
  if (bp->b_blkno < 0) throw KvaError("block device: strategy without a device block (b_blkno)");
  Bio bio{bp, bp->b_iocmd, 0, static_cast<std::size_t>(bp->b_ioboff),
          static_cast<std::size_t>(bp->b_iolen), {}, completion_cpu(bp->b_iocpu), false};
  bio.offset = static_cast<std::uint64_t>(bp->b_blkno) * DEV_BSIZE + bio.boff;
  bp->b_iooffset = static_cast<off_t>(bio.offset);
  if (bio.offset > cfg_.size || bio.len > cfg_.size - bio.offset)
    throw KvaError("block device: I/O at byte " + std::to_string(bio.offset) + " runs past the " +
                   std::to_string(cfg_.size) + "-byte device");
  bio.fail = take_fault(bio);
  if (bio.cmd == BIO_WRITE) {
    ++stats_.writes;
    bio.data = bufs_.transfer_out(bp, bp->b_iocpu, bio.boff, bio.len, cfg_.pio);
  } else {
    ++stats_.reads;
  }
  const std::uint64_t id = next_id_++;
  active_.emplace(id, std::move(bio));
  if (held_) queue_.push_back(id);
  else dispatch(id);
}

void BlockDevice::dispatch(std::uint64_t id) {
  const cpuid_t cpu = active_.at(id).done_cpu;
  intr_.schedule(cpu, [this, id] { complete(id); });
}

void BlockDevice::release(std::size_t count) {
  held_ = false;
  for (std::size_t i = 0; i < count && !queue_.empty(); ++i) {
    dispatch(queue_.front());
    queue_.pop_front();
  }
  if (!queue_.empty()) held_ = true;  // a partial release keeps holding the rest
}

void BlockDevice::complete(std::uint64_t id) {
  auto it = active_.find(id);
  if (it == active_.end()) return;  // discarded by a crash
  Bio bio = std::move(it->second);
  active_.erase(it);
  buf* bp = bio.bp;
  if (bio.done_cpu != bp->b_iocpu) ++stats_.remote_completions;
  if (bio.fail) {
    ++stats_.errors;
    bp->b_ioflags |= BIO_ERROR;
    bp->b_error = EIO;
  } else if (bio.cmd == BIO_READ) {
    std::vector<std::uint8_t> data(bio.len);
    store_->read(bio.offset, data.data(), data.size());
    stats_.bytes_read += data.size();
    bufs_.transfer_in(bp, bio.done_cpu, bio.boff, data, cfg_.pio);
  } else {
    store_->write(bio.offset, bio.data.data(), bio.data.size());
    stats_.bytes_written += bio.data.size();
  }
  bp->b_resid = 0;
  bufs_.bufdone(bp, bio.done_cpu);
}

void BlockDevice::fail_next(std::uint8_t iocmd, int count, std::optional<daddr_t> blkno) {
  if (count < 0) throw KvaError("fail_next: negative count");
  if (iocmd != BIO_READ && iocmd != BIO_WRITE) throw KvaError("fail_next: iocmd must be BIO_READ or BIO_WRITE");
  if (blkno && (*blkno < 0 || static_cast<std::uint64_t>(*blkno) >= cfg_.size / DEV_BSIZE))
    throw KvaError("fail_next: device block " + std::to_string(*blkno) + " is not on the " +
                   std::to_string(cfg_.size / DEV_BSIZE) + "-block device");
  if (count > 0) armed_.push_back({iocmd, blkno, count});
}

int BlockDevice::armed_faults() const {
  int n = 0;
  for (const ArmedFault& f : armed_) n += f.remaining;
  return n;
}

bool BlockDevice::take_fault(const Bio& bio) {
  const auto first = static_cast<daddr_t>(bio.offset / DEV_BSIZE);
  const auto last = static_cast<daddr_t>((bio.offset + std::max<std::size_t>(bio.len, 1) - 1) / DEV_BSIZE);
  for (auto it = armed_.begin(); it != armed_.end(); ++it) {
    if (it->cmd != bio.cmd || (it->blkno && (*it->blkno < first || *it->blkno > last))) continue;
    if (--it->remaining == 0) armed_.erase(it);
    return true;
  }
  return false;
}

void BlockDevice::discard() {
  stats_.discarded += active_.size();
  active_.clear();
  queue_.clear();
  held_ = false;
}

}  // namespace kva
