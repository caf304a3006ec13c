#include "core/vfs.h"

#include <algorithm>
#include <cstring>

#include "core/op_chain.h"

namespace kva {

namespace {
std::size_t chunks_for(std::uint64_t bytes) { return (bytes + DEV_BSIZE - 1) / DEV_BSIZE; }

std::unique_ptr<ThreadOp> call(std::function<void(Thread&)> fn) {
  return std::make_unique<CallOp>(std::move(fn));
}
}  // namespace

daddr_t vnode::blkno(daddr_t lblkno) const {
  if (lblkno < 0 || static_cast<std::size_t>(lblkno) >= blocks_.size()) return -1;
  return blocks_[static_cast<std::size_t>(lblkno)];
}

void vnode::bop_strategy(buf* bp) { vfs_->strategy(*this, bp); }

Vfs::Vfs(Pmap& pmap, Scheduler& sched, VmObjects& vm, BufCache& bufs, BlockDevice& dev,
         SfBufSubsystem& sfbufs)
    : pmap_(pmap), sched_(sched), vm_(vm), bufs_(bufs), dev_(dev), sfbufs_(sfbufs) {}

Vfs::~Vfs() = default;

int Vfs::gbflags() const { return bufs_.config().unmapped ? GB_UNMAPPED : 0; }

bool Vfs::start(Thread& td, std::unique_ptr<ThreadOp> op) {
  if (td.state() != Thread::State::Idle)
    throw KvaError("thread " + td.name() + " is busy (sleeping or running an operation)");
  return sched_.start(td, std::move(op));
}

// --- files and blocks

vnode& Vfs::create(const std::string& name, std::size_t bsize, std::uint64_t size,
                   const std::function<std::uint8_t(std::uint64_t)>& fill, bool track) {
  if (bsize < DEV_BSIZE || bsize > MAXBSIZE || bsize % DEV_BSIZE)
    throw KvaError("file " + name + ": block size must be a multiple of 512 between 512 and 64K");
  if (find(name)) throw KvaError("file " + name + " already exists");
  if (size > dev_.size()) throw KvaError("file " + name + ": larger than the device");
  auto vp = std::make_unique<vnode>();
  vp->vfs_ = this;
  vp->name_ = name;
  vp->bo_.bo_name = name;
  vp->bo_.bo_bsize = bsize;
  vp->bo_.bo_object = &vm_.create(name);
  vp->bo_.bo_ops = vp.get();
  vp->size_ = size;
  vp->tracked_ = track;
  vp->blocks_.assign((size + bsize - 1) / bsize, -1);
  if (track) {
    vp->logical_.assign(size, 0);
    vp->chunk_seq_.assign(chunks_for(size), 0);
    vp->synced_seq_.assign(chunks_for(size), 0);
  }
  if (fill) {
    std::vector<std::uint8_t> block(bsize);
    for (std::size_t lbn = 0; lbn < vp->blocks_.size(); ++lbn) {
      const std::uint64_t base = lbn * bsize;
      for (std::size_t i = 0; i < bsize; ++i) block[i] = base + i < size ? fill(base + i) : 0;
      const daddr_t blk = allocate_block(*vp);
      vp->blocks_[lbn] = blk;
      dev_.write(static_cast<std::uint64_t>(blk) * DEV_BSIZE, block);
      if (track) std::memcpy(vp->logical_.data() + base, block.data(), std::min<std::uint64_t>(bsize, size - base));
    }
  }
  ++stats_.files;
  files_.push_back(std::move(vp));
  return *files_.back();
}

vnode* Vfs::find(const std::string& name) {
  for (auto& f : files_)
    if (f->name_ == name) return f.get();
  return nullptr;
}

// New blocks are cleared on the device (as UFS clears a newly allocated block), so bytes a
// partial write never covers read back as zeros.
daddr_t Vfs::allocate_block(vnode& vp) {
  const std::size_t units = vp.bsize() / DEV_BSIZE;
  daddr_t blk;
  auto& free = free_blocks_[units];
  if (!free.empty()) {
    blk = free.back();
    free.pop_back();
  } else {
    if ((next_block_ + units) * DEV_BSIZE > dev_.size())
      throw KvaError("file " + vp.name() + ": the device is full");
    blk = static_cast<daddr_t>(next_block_);
    next_block_ += units;
  }
  dev_.write(static_cast<std::uint64_t>(blk) * DEV_BSIZE, std::vector<std::uint8_t>(vp.bsize(), 0));
  ++stats_.blocks_allocated;
  return blk;
}

// VOP_BMAP plus VOP_STRATEGY: writes allocate their block; a read of a hole is zeros, completed
// here without device I/O.
void Vfs::strategy(vnode& vp, buf* bp) {
  const auto lbn = static_cast<std::size_t>(bp->b_lblkno);
  if (lbn >= vp.blocks_.size()) vp.blocks_.resize(lbn + 1, -1);
  daddr_t blk = vp.blocks_[lbn];
  if (blk < 0 && bp->b_iocmd == BIO_WRITE) blk = vp.blocks_[lbn] = allocate_block(vp);
  bp->b_blkno = blk;
  if (blk >= 0) {
    dev_.strategy(bp);
    return;
  }
  const std::vector<std::uint8_t> zeros(static_cast<std::size_t>(bp->b_iolen), 0);
  bufs_.transfer_in(bp, bp->b_iocpu, static_cast<std::size_t>(bp->b_ioboff), zeros, dev_.config().pio);
  bufs_.bufdone(bp, bp->b_iocpu);
}

// --- copies between a buffer and the caller

void Vfs::through_sf_buf(Thread& td, vm_page* m, std::size_t page_off, std::size_t n,
                         const std::function<void(vaddr_t)>& access) {
  // Buffer pages are wired, so a short-lived sf_buf may map them. NOWAIT: a copy must not sleep
  // here; with every sf_buf in use the kernel would have to block, which is a misuse here.
  const int flags = SFB_NOWAIT | (td.pinned() ? SFB_CPUPRIVATE : 0);
  sf_buf* sf = nullptr;
  std::unique_ptr<ThreadOp> op = sfbufs_.sf_buf_alloc_op(td, m, flags, [&sf](sf_buf* s) { sf = s; });
  op->run(td, WakeReason::Start);
  if (!sf) throw KvaError("unmapped buffer copy: no free sf_buf (every sf_buf is in use)");
  access(sf->kva + page_off);
  (void)n;
  sfbufs_.sf_buf_free(td, sf);
}

namespace {
struct Piece {
  int page;
  std::size_t page_off, off, len;  // off: from the start of the copy
};
template <class F>
void pieces(const buf* bp, std::size_t boff, std::size_t n, F&& f) {
  const std::size_t poff = static_cast<std::size_t>(bp->b_offset) & PAGE_MASK;
  for (std::size_t done = 0; done < n;) {
    const std::size_t at = poff + boff + done;
    const std::size_t len = std::min(n - done, PAGE_SIZE - (at & PAGE_MASK));
    f(Piece{static_cast<int>(at / PAGE_SIZE), at & PAGE_MASK, done, len});
    done += len;
  }
}
}  // namespace

void Vfs::copy_out(Thread& td, buf* bp, std::size_t boff, std::uint8_t* out, std::size_t n) {
  const cpuid_t cpu = td.cpu();
  if (buf_mapped(bp)) {
    const std::vector<std::uint8_t> bytes = pmap_.load(cpu, bp->b_data + boff, n);
    std::memcpy(out, bytes.data(), n);
    return;
  }
  pieces(bp, boff, n, [&](const Piece& p) {
    through_sf_buf(td, bp->b_pages[static_cast<std::size_t>(p.page)], p.page_off, p.len, [&](vaddr_t va) {
      const std::vector<std::uint8_t> bytes = pmap_.load(cpu, va, p.len);
      std::memcpy(out + p.off, bytes.data(), p.len);
    });
  });
}

void Vfs::copy_in(Thread& td, buf* bp, std::size_t boff, const std::uint8_t* in, std::size_t n) {
  const cpuid_t cpu = td.cpu();
  if (buf_mapped(bp)) {
    pmap_.store(cpu, bp->b_data + boff, std::span<const std::uint8_t>(in, n));
    return;
  }
  pieces(bp, boff, n, [&](const Piece& p) {
    through_sf_buf(td, bp->b_pages[static_cast<std::size_t>(p.page)], p.page_off, p.len, [&](vaddr_t va) {
      pmap_.store(cpu, va, std::span<const std::uint8_t>(in + p.off, p.len));
    });
  });
}

// --- read and write

bool Vfs::read(Thread& td, vnode& vp, std::uint64_t off, std::size_t len, ReadDone done) {
  struct St {
    std::uint64_t pos, end;
    std::vector<std::uint8_t> out;
    buf* bp = nullptr;
    int err = 0;
    bool have = false;
  };
  auto st = std::make_shared<St>();
  st->pos = std::min(off, vp.size());
  st->end = std::min<std::uint64_t>(off + len, vp.size());
  st->out.resize(st->end - st->pos);
  const std::uint64_t start_pos = st->pos;
  ++stats_.reads;
  auto next = [this, &vp, st, start_pos, done = std::move(done)](Thread& td) -> std::unique_ptr<ThreadOp> {
    for (;;) {
      if (st->have) {
        st->have = false;
        if (st->err) {
          bufs_.brelse(td, st->bp);
          if (done) done({}, st->err);
          return nullptr;
        }
        const std::size_t bsize = vp.bsize();
        const std::size_t boff = st->pos % bsize;
        const std::size_t n = std::min<std::uint64_t>(bsize - boff, st->end - st->pos);
        copy_out(td, st->bp, boff, st->out.data() + (st->pos - start_pos), n);
        bufs_.bqrelse(td, st->bp);
        st->pos += n;
        stats_.bytes_read += n;
        continue;
      }
      if (st->pos >= st->end) {
        if (done) done(std::move(st->out), 0);
        return nullptr;
      }
      st->have = true;
      return bufs_.bread_op(vp.bo(), static_cast<daddr_t>(st->pos / vp.bsize()),
                            static_cast<int>(vp.bsize()), gbflags(), [st](buf* bp, int err) {
                              st->bp = bp;
                              st->err = err;
                            });
    }
  };
  return start(td, std::make_unique<OpChain>(std::move(next)));
}

bool Vfs::write(Thread& td, vnode& vp, std::uint64_t off, std::vector<std::uint8_t> data,
                WriteMode mode, Done done) {
  if (data.empty()) throw KvaError("write: no data");
  if (off + data.size() > dev_.size()) throw KvaError("write: past the end of the device");
  struct St {
    std::uint64_t pos, end;
    std::vector<std::uint8_t> data;
    buf* bp = nullptr;
    int err = 0;
    int first_err = 0;
    enum class Phase { Get, Copy, Written } phase = Phase::Get;
  };
  auto st = std::make_shared<St>();
  st->pos = off;
  st->end = off + data.size();
  st->data = std::move(data);
  ++stats_.writes;
  if (st->end > vp.size()) model_resize(vp, st->end);
  auto next = [this, &vp, st, off, mode, done = std::move(done)](Thread& td) -> std::unique_ptr<ThreadOp> {
    const std::size_t bsize = vp.bsize();
    for (;;) {
      switch (st->phase) {
        case St::Phase::Get: {
          if (st->pos >= st->end) {
            if (done) done(st->first_err);
            return nullptr;
          }
          const std::size_t boff = st->pos % bsize;
          const std::size_t n = std::min<std::uint64_t>(bsize - boff, st->end - st->pos);
          const auto lbn = static_cast<daddr_t>(st->pos / bsize);
          st->phase = St::Phase::Copy;
          auto got = [st](buf* bp, int err) {
            st->bp = bp;
            st->err = err;
          };
          // A whole block needs no read; a partial one is read first (UFS does the same).
          if (boff == 0 && n == bsize)
            return bufs_.getblk_op(vp.bo(), lbn, static_cast<int>(bsize), gbflags(), got);
          return bufs_.bread_op(vp.bo(), lbn, static_cast<int>(bsize), gbflags(), got);
        }
        case St::Phase::Copy: {
          const std::size_t boff = st->pos % bsize;
          const std::size_t n = std::min<std::uint64_t>(bsize - boff, st->end - st->pos);
          if (st->err) {
            bufs_.brelse(td, st->bp);
            if (done) done(st->err);
            return nullptr;
          }
          const std::uint8_t* src = st->data.data() + (st->pos - off);
          copy_in(td, st->bp, boff, src, n);
          bufs_.vfs_bio_set_valid(td, st->bp, static_cast<int>(boff), static_cast<int>(n));
          bufs_.vfs_bio_set_dirty(td, st->bp, static_cast<int>(boff), static_cast<int>(n));
          model_write(vp, st->pos, src, n);
          st->pos += n;
          stats_.bytes_written += n;
          st->phase = St::Phase::Get;
          if (mode == WriteMode::Delayed) {
            bufs_.bdwrite(td, st->bp);
          } else if (mode == WriteMode::Async) {
            bufs_.bawrite(td, st->bp);
          } else {
            st->phase = St::Phase::Written;
            return bufs_.bwrite_op(st->bp, [st](int err) { st->err = err; });
          }
          break;
        }
        case St::Phase::Written:
          if (st->err && !st->first_err) st->first_err = st->err;
          st->err = 0;
          st->phase = St::Phase::Get;
          break;
      }
    }
  };
  return start(td, std::make_unique<OpChain>(std::move(next)));
}

// Makes the page at pindex entirely valid through the cache: the blocks it holds are read
// (unmapped buffers: no KVA needed) and the part past EOF is zeroed (vm_page_zero_invalid).
std::unique_ptr<ThreadOp> Vfs::make_valid_op(vnode& vp, std::uint64_t pindex, Done done) {
  struct St {
    daddr_t lbn, last;
    buf* bp = nullptr;
    int err = 0;
    bool have = false;
  };
  auto st = std::make_shared<St>();
  const std::uint64_t pstart = pindex * PAGE_SIZE;
  st->lbn = static_cast<daddr_t>(pstart / vp.bsize());
  st->last = static_cast<daddr_t>((pstart + PAGE_SIZE - 1) / vp.bsize());
  auto next = [this, &vp, st, pindex, done = std::move(done)](Thread& td) -> std::unique_ptr<ThreadOp> {
    for (;;) {
      if (st->have) {
        st->have = false;
        if (st->err) {
          bufs_.brelse(td, st->bp);
          if (done) done(st->err);
          return nullptr;
        }
        bufs_.bqrelse(td, st->bp);
        ++st->lbn;
        continue;
      }
      vm_page* m = vp.object().lookup(pindex);
      const bool valid = m && m->valid == VM_PAGE_BITS_ALL;
      const bool past_eof = static_cast<std::uint64_t>(st->lbn) * vp.bsize() >= vp.size();
      if (!valid && st->lbn <= st->last && !past_eof) {
        st->have = true;
        return bufs_.bread_op(vp.bo(), st->lbn, static_cast<int>(vp.bsize()), GB_UNMAPPED,
                              [st](buf* bp, int err) {
                                st->bp = bp;
                                st->err = err;
                              });
      }
      m = vp.object().grab(pindex);
      if (m->valid != VM_PAGE_BITS_ALL) {
        for (std::size_t c = 0; c < PAGE_SIZE / DEV_BSIZE; ++c) {
          if (m->valid & (1u << c)) continue;
          const std::vector<std::uint8_t> zeros(DEV_BSIZE, 0);
          vm_.phys().write(m->phys_addr + c * DEV_BSIZE, zeros.data(), zeros.size());
        }
        m->valid = VM_PAGE_BITS_ALL;
      }
      if (done) done(0);
      return nullptr;
    }
  };
  return std::make_unique<OpChain>(std::move(next));
}

// The page loop sendfile and mapped writes share: each page of [off, end) is made valid through
// the cache, wired, mapped with sf_buf_alloc (which may sleep), handed to `use` (with the byte
// range of the page that falls in [off, end)), then sf_buf_free'd and unwired.
std::unique_ptr<ThreadOp> Vfs::each_page_op(vnode& vp, std::uint64_t off, std::uint64_t end,
                                            PageUse use, Done done) {
  struct St {
    std::uint64_t pos, end;
    sf_buf* sf = nullptr;
    int err = 0;
    enum class Phase { Valid, Alloc, Use } phase = Phase::Valid;
  };
  auto st = std::make_shared<St>();
  st->pos = off;
  st->end = end;
  auto next = [this, &vp, st, use = std::move(use), done = std::move(done)](Thread& td) -> std::unique_ptr<ThreadOp> {
    for (;;) {
      const std::uint64_t pindex = st->pos / PAGE_SIZE;
      switch (st->phase) {
        case St::Phase::Valid:
          if (st->err || st->pos >= st->end) {
            if (done) done(st->err);
            return nullptr;
          }
          st->phase = St::Phase::Alloc;
          return make_valid_op(vp, pindex, [st](int err) { st->err = err; });
        case St::Phase::Alloc: {
          if (st->err) {
            st->phase = St::Phase::Valid;
            break;
          }
          vm_page* m = vp.object().lookup(pindex);
          vm_.phys().vm_page_wire(m);
          st->phase = St::Phase::Use;
          return sfbufs_.sf_buf_alloc_op(td, m, SFB_DEFAULT, [st](sf_buf* sf) { st->sf = sf; });
        }
        case St::Phase::Use: {
          const std::size_t poff = st->pos & PAGE_MASK;
          const std::size_t n = std::min<std::uint64_t>(PAGE_SIZE - poff, st->end - st->pos);
          vm_page* m = st->sf->m;
          use(td, st->sf, st->pos, poff, n);
          sfbufs_.sf_buf_free(td, st->sf);
          vm_.phys().vm_page_unwire(m);
          st->pos += n;
          st->phase = St::Phase::Valid;
          break;
        }
      }
    }
  };
  return std::make_unique<OpChain>(std::move(next));
}

bool Vfs::write_mapped(Thread& td, vnode& vp, std::uint64_t off, std::vector<std::uint8_t> data,
                       Done done) {
  if (data.empty()) throw KvaError("write_mapped: no data");
  if (off + data.size() > vp.size())
    throw KvaError("write_mapped: [" + std::to_string(off) + ", " + std::to_string(off + data.size()) +
                   ") is past the end of " + vp.name() + " (a mapping cannot extend a file)");
  ++stats_.mapped_writes;
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(std::move(data));
  const std::uint64_t end = off + bytes->size();
  auto store = [this, &vp, bytes, off](Thread& t, sf_buf* sf, std::uint64_t pos, std::size_t poff, std::size_t n) {
    const std::uint8_t* src = bytes->data() + (pos - off);
    pmap_.store(t.cpu(), sf->kva + poff, std::span<const std::uint8_t>(src, n));
    // vm_page_dirty for the chunks the store touched.
    for (std::size_t c = poff / DEV_BSIZE; c * DEV_BSIZE < poff + n; ++c) sf->m->dirty |= 1u << c;
    model_write(vp, pos, src, n);
    stats_.bytes_written += n;
  };
  return start(td, each_page_op(vp, off, end, std::move(store), std::move(done)));
}

void Vfs::buffer_stored(const buf* bp, std::uint64_t boff, std::span<const std::uint8_t> data) {
  if (bp->b_offset == NOOFFSET) return;
  for (auto& vp : files_)
    if (&vp->bo() == bp->b_bufobj) {
      // Bytes past EOF are not file contents: a store does not extend the file (write(2) does).
      const std::uint64_t off = static_cast<std::uint64_t>(bp->b_offset) + boff;
      if (off < vp->size_) model_write(*vp, off, data.data(), std::min<std::uint64_t>(data.size(), vp->size_ - off));
      return;
    }
}

// --- the reference model

void Vfs::model_resize(vnode& vp, std::uint64_t size) {
  const std::uint64_t old = vp.size_;
  vp.size_ = size;
  vp.blocks_.resize((size + vp.bsize() - 1) / vp.bsize(), -1);
  if (!vp.tracked_) return;
  vp.logical_.resize(size, 0);
  // Zeros past a holey extension match the device (holes read as zeros); the chunk holding the
  // old or new end may have changed in memory only.
  vp.chunk_seq_.resize(chunks_for(size), 0);
  vp.synced_seq_.resize(chunks_for(size), 0);
  const std::uint64_t edge = std::min(old, size) / DEV_BSIZE;
  if (edge < vp.chunk_seq_.size()) vp.chunk_seq_[edge] = ++seq_;
}

void Vfs::model_write(vnode& vp, std::uint64_t off, const std::uint8_t* data, std::size_t n) {
  if (off + n > vp.size_) model_resize(vp, off + n);
  if (!vp.tracked_) return;
  std::memcpy(vp.logical_.data() + off, data, n);
  const std::uint64_t s = ++seq_;
  for (std::uint64_t c = off / DEV_BSIZE; c * DEV_BSIZE < off + n; ++c) vp.chunk_seq_[c] = s;
}

std::vector<std::uint8_t> Vfs::model(const vnode& vp, std::uint64_t off, std::size_t len) const {
  if (!vp.tracked_) throw KvaError("file " + vp.name() + " has no reference model (track: false)");
  if (off > vp.size_) return {};
  const std::size_t n = std::min<std::uint64_t>(len, vp.size_ - off);
  return {vp.logical_.begin() + static_cast<std::ptrdiff_t>(off),
          vp.logical_.begin() + static_cast<std::ptrdiff_t>(off + n)};
}

std::vector<std::uint8_t> Vfs::on_device(const vnode& vp, std::uint64_t off, std::size_t len) const {
  std::vector<std::uint8_t> out(len, 0);
  const std::size_t bsize = vp.bsize();
  for (std::size_t done = 0; done < len;) {
    const std::uint64_t at = off + done;
    const std::size_t in = at % bsize, n = std::min(len - done, bsize - in);
    const daddr_t blk = vp.blkno(static_cast<daddr_t>(at / bsize));
    if (blk >= 0)
      dev_.read(static_cast<std::uint64_t>(blk) * DEV_BSIZE + in, std::span<std::uint8_t>(out.data() + done, n));
    done += n;
  }
  return out;
}

// The oracle: every chunk of [off, end) that no write touched since seq_at_start was taken must
// be on the device exactly as the model has it; then those chunks count as synced.
void Vfs::check_synced(vnode& vp, std::uint64_t off, std::uint64_t end,
                       const std::vector<std::uint64_t>& seq_at_start, const char* when) {
  if (!vp.tracked_) return;
  end = std::min(end, vp.size_);
  const std::uint64_t first = off / DEV_BSIZE;
  std::optional<LostWrite> lost;
  for (std::uint64_t c = first; c * DEV_BSIZE < end && c - first < seq_at_start.size(); ++c) {
    const std::uint64_t s0 = seq_at_start[c - first];
    if (vp.chunk_seq_[c] != s0) continue;  // written meanwhile: not part of this sync
    vp.synced_seq_[c] = s0;
    const std::uint64_t lo = c * DEV_BSIZE, hi = std::min<std::uint64_t>(lo + DEV_BSIZE, vp.size_);
    const std::vector<std::uint8_t> dev = on_device(vp, lo, hi - lo);
    for (std::uint64_t b = lo; b < hi; ++b) {
      if (dev[b - lo] == vp.logical_[b]) continue;
      if (!lost) {
        lost = LostWrite{pmap_.step(), vp.name(), b, 0, {}, {}, when};
      }
      if (b == lost->offset + lost->length) {
        ++lost->length;
        if (lost->expected.size() < 16) {
          lost->expected.push_back(vp.logical_[b]);
          lost->device.push_back(dev[b - lo]);
        }
      }
    }
  }
  if (lost) {
    ++stats_.lost_writes;
    lost_.push_back(std::move(*lost));
  }
}

// --- fsync, sync, truncate

std::unique_ptr<ThreadOp> Vfs::fsync_op(vnode& vp, std::uint64_t off, std::uint64_t len, Done done) {
  struct St {
    std::uint64_t off, end;
    std::vector<std::uint64_t> seq0;
    std::vector<daddr_t> todo;  // blocks to write, in order
    std::size_t next = 0;
    buf* bp = nullptr;
    int err = 0, first_err = 0;
    enum class Phase { Plan, Get, Write, Written, Drain, Done } phase = Phase::Plan;
  };
  auto st = std::make_shared<St>();
  st->off = off;
  st->end = len == 0 ? vp.size() : std::min(off + len, vp.size());
  if (vp.tracked_ && st->off < st->end) {
    const std::uint64_t c0 = st->off / DEV_BSIZE, c1 = chunks_for(st->end);
    st->seq0.assign(vp.chunk_seq_.begin() + static_cast<std::ptrdiff_t>(c0),
                    vp.chunk_seq_.begin() + static_cast<std::ptrdiff_t>(c1));
  }
  ++stats_.fsyncs;
  auto next = [this, &vp, st, done = std::move(done)](Thread& td) -> std::unique_ptr<ThreadOp> {
    const std::size_t bsize = vp.bsize();
    for (;;) {
      switch (st->phase) {
        case St::Phase::Plan: {
          // Delayed-write buffers in the range, then blocks of pages dirtied through mappings.
          std::vector<daddr_t> blocks;
          for (buf* bp : bufs_.dirty_buffers(vp.bo())) {
            const std::uint64_t lo = static_cast<std::uint64_t>(bp->b_lblkno) * bsize;
            if (lo < st->end && lo + bsize > st->off) blocks.push_back(bp->b_lblkno);
          }
          for (const auto& [pindex, m] : vp.object().pages()) {
            if (!m->dirty) continue;
            const std::uint64_t lo = pindex * PAGE_SIZE;
            for (std::size_t c = 0; c < PAGE_SIZE / DEV_BSIZE; ++c) {
              const std::uint64_t at = lo + c * DEV_BSIZE;
              if (!(m->dirty & (1u << c)) || at >= st->end || at + DEV_BSIZE <= st->off) continue;
              const auto lbn = static_cast<daddr_t>(at / bsize);
              if (std::find(blocks.begin(), blocks.end(), lbn) == blocks.end()) blocks.push_back(lbn);
            }
          }
          st->todo = std::move(blocks);
          st->phase = St::Phase::Get;
          break;
        }
        case St::Phase::Get:
          if (st->next == st->todo.size()) {
            st->phase = St::Phase::Drain;
            break;
          }
          st->phase = St::Phase::Write;
          return bufs_.bread_op(vp.bo(), st->todo[st->next++], static_cast<int>(bsize), gbflags(),
                                [st](buf* bp, int err) {
                                  st->bp = bp;
                                  st->err = err;
                                });
        case St::Phase::Write:
          if (st->err) {
            if (!st->first_err) st->first_err = st->err;
            bufs_.brelse(td, st->bp);
            st->phase = St::Phase::Get;
            break;
          }
          st->phase = St::Phase::Written;
          return bufs_.bwrite_op(st->bp, [st](int err) { st->err = err; });
        case St::Phase::Written:
          if (st->err && !st->first_err) st->first_err = st->err;
          st->err = 0;
          st->phase = St::Phase::Get;
          break;
        case St::Phase::Done:
          return nullptr;
        case St::Phase::Drain: {
          // bufobj_wwait: writes started earlier (bawrite, the buffer daemon) must finish too.
          st->phase = St::Phase::Done;
          bufobj* bo = &vp.bo();
          return BufCache::wait_op(
              nullptr,
              [bo](Thread&) -> std::optional<Sleep> {
                if (bo->bo_numoutput > 0) return Sleep{bo, false, "bo_wwait"};
                return std::nullopt;
              },
              [this, &vp, st, done](Thread&) {
                if (!st->first_err) check_synced(vp, st->off, st->end, st->seq0, "after fsync");
                if (done) done(st->first_err);
              });
        }
      }
    }
  };
  return std::make_unique<OpChain>(std::move(next));
}

bool Vfs::fsync(Thread& td, vnode& vp, std::uint64_t off, std::uint64_t len, Done done) {
  return start(td, fsync_op(vp, off, len, std::move(done)));
}

bool Vfs::sync(Thread& td, Done done) {
  auto i = std::make_shared<std::size_t>(0);
  auto first_err = std::make_shared<int>(0);
  ++stats_.syncs;
  auto next = [this, i, first_err, done = std::move(done)](Thread&) -> std::unique_ptr<ThreadOp> {
    if (*i == files_.size()) {
      if (done) done(*first_err);
      return nullptr;
    }
    vnode& vp = *files_[(*i)++];
    return fsync_op(vp, 0, 0, [first_err](int err) {
      if (err && !*first_err) *first_err = err;
    });
  };
  return start(td, std::make_unique<OpChain>(std::move(next)));
}

bool Vfs::truncate(Thread& td, vnode& vp, std::uint64_t size, Done done) {
  if (size > dev_.size()) throw KvaError("truncate: larger than the device");
  ++stats_.truncates;
  if (size >= vp.size()) {
    model_resize(vp, size);
    return start(td, call([done = std::move(done)](Thread&) {
                   if (done) done(0);
                 }));
  }
  const std::size_t bsize = vp.bsize();
  const auto keep = static_cast<daddr_t>((size + bsize - 1) / bsize);  // blocks that stay
  bufs_.invalidate(td.cpu(), vp.bo(), keep);
  for (std::size_t lbn = static_cast<std::size_t>(keep); lbn < vp.blocks_.size(); ++lbn)
    if (vp.blocks_[lbn] >= 0) free_blocks_[bsize / DEV_BSIZE].push_back(vp.blocks_[lbn]);
  // Cached pages wholly past the new end go; the one holding it loses the chunks past it.
  const std::uint64_t keep_pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
  std::vector<vm_page*> gone;
  for (const auto& [pindex, m] : vp.object().pages())
    if (pindex >= keep_pages) gone.push_back(m);
  for (vm_page* m : gone) {
    m->dirty = 0;
    vp.object().free_page(m);  // refuses a page still wired or mapped (e.g. by an sf_buf)
  }
  if (size % PAGE_SIZE)
    if (vm_page* m = vp.object().lookup(size / PAGE_SIZE)) {
      const std::size_t from = (size % PAGE_SIZE + DEV_BSIZE - 1) / DEV_BSIZE;
      for (std::size_t c = from; c < PAGE_SIZE / DEV_BSIZE; ++c) {
        m->valid &= ~(1u << c);
        m->dirty &= ~(1u << c);
      }
    }
  model_resize(vp, size);
  if (size % bsize == 0) {
    return start(td, call([done = std::move(done)](Thread&) {
                   if (done) done(0);
                 }));
  }
  // The last block keeps its head; its tail is zeroed through the buffer (delayed write).
  const std::size_t tail = size % bsize;
  auto zero_tail = std::make_shared<std::pair<buf*, int>>(nullptr, 0);
  auto stage = std::make_shared<int>(0);
  auto next = [this, &vp, tail, zero_tail, stage, keep, bsize, done = std::move(done)](
                  Thread& td) -> std::unique_ptr<ThreadOp> {
    if ((*stage)++ == 0)
      return bufs_.bread_op(vp.bo(), keep - 1, static_cast<int>(bsize), gbflags(),
                            [zero_tail](buf* bp, int err) { *zero_tail = {bp, err}; });
    auto [bp, err] = *zero_tail;
    if (err) {
      bufs_.brelse(td, bp);
    } else {
      const std::vector<std::uint8_t> zeros(bsize - tail, 0);
      copy_in(td, bp, tail, zeros.data(), zeros.size());
      bufs_.vfs_bio_set_dirty(td, bp, static_cast<int>(tail), static_cast<int>(zeros.size()));
      bufs_.bdwrite(td, bp);
    }
    if (done) done(err);
    return nullptr;
  };
  return start(td, std::make_unique<OpChain>(std::move(next)));
}

// --- crash

void Vfs::crash(cpuid_t cpu) {
  ++stats_.crashes;
  dev_.discard();
  bufs_.discard_all(cpu);
  for (auto& vp : files_) {
    std::vector<vm_page*> pages;
    for (const auto& [pindex, m] : vp->object().pages()) pages.push_back(m);
    for (vm_page* m : pages) {
      // Memory is gone: wirings and I/O state go with it. A kernel mapping that still names the
      // page (a raw reservation) would outlive the crash, which the caller must undo first.
      if (m->kmap_count > 0)
        throw KvaError("crash: page " + std::to_string(m->pindex) + " of " + vp->name() +
                       " is still mapped by a KVA reservation (qremove it first)");
      m->dirty = 0;
      m->busy = 0;
      m->wire_count = 0;
      vp->object().free_page(m);
    }
  }
  for (auto& vp : files_) {
    if (!vp->tracked_) continue;
    // Chunks synced and not written since must have survived.
    std::vector<std::uint64_t> synced(vp->synced_seq_);
    std::vector<std::uint64_t> durable(vp->chunk_seq_.size());
    for (std::size_t c = 0; c < durable.size(); ++c)
      durable[c] = vp->chunk_seq_[c] == synced[c] ? synced[c] : ~std::uint64_t{0};
    check_synced(*vp, 0, vp->size(), durable, "after crash");
    // The rest is whatever reached the device: that is the file now.
    const std::vector<std::uint8_t> dev = on_device(*vp, 0, vp->size());
    vp->logical_ = dev;
    vp->synced_seq_ = vp->chunk_seq_;
  }
}

}  // namespace kva
