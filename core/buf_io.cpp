// Buffer I/O: bstrategy, bwrite / bawrite / bdwrite, bufwait, the device-side transfers and
// bufdone (which may run on another CPU than the one that started the I/O).
#include <algorithm>

#include "core/buf_cache.h"

namespace kva {

void BufCache::prepare_write(buf* bp) {
  bundirty(bp);
  bp->b_flags &= ~B_DONE;
  bp->b_ioflags &= ~BIO_ERROR;
  bp->b_iocmd = BIO_WRITE;
}

// Starts b_iocmd I/O: pages busied (bogus_page for a read, dirty bits cleared for a write), the
// byte range chosen (a write transfers only its dirty range when it has one), then the bufobj's
// strategy routine.
void BufCache::start_io(buf* bp, cpuid_t cpu) {
  bufobj* bo = bp->b_bufobj;
  if (bo == nullptr || bo->bo_ops == nullptr)
    throw KvaError("bstrategy: buffer " + std::to_string(bp->b_index) +
                   " has no backing store (geteblk buffers do no I/O)");
  if (bp->b_io_in_progress) throw KvaError("bstrategy: buffer already has I/O in progress");
  bp->b_flags &= ~(B_DONE | B_INVAL);
  bp->b_ioflags &= ~BIO_ERROR;
  bp->b_error = 0;
  bp->b_iocpu = cpu;
  const bool write = bp->b_iocmd == BIO_WRITE;
  vfs_busy_pages(bp, write);
  if (write && bp->b_dirtyend > bp->b_dirtyoff) {
    bp->b_ioboff = bp->b_dirtyoff;
    bp->b_iolen = bp->b_dirtyend - bp->b_dirtyoff;
  } else {
    bp->b_ioboff = 0;
    bp->b_iolen = bp->b_bcount;
  }
  if (write) {
    ++bo->bo_numoutput;
    ++stats_.writes;
  } else {
    ++stats_.reads;
  }
  ++(buf_mapped(bp) ? stats_.mapped_ios : stats_.unmapped_ios);
  bp->b_io_in_progress = true;
  bo->bo_ops->bop_strategy(bp);
}

void BufCache::bstrategy(Thread& td, buf* bp, std::uint8_t iocmd) {
  check_owner(td, bp, "bstrategy");
  if (iocmd != BIO_READ && iocmd != BIO_WRITE) throw KvaError("bstrategy: iocmd must be BIO_READ or BIO_WRITE");
  if (iocmd == BIO_WRITE) prepare_write(bp);
  bp->b_iocmd = iocmd;
  start_io(bp, td.cpu());
  after_op();
}

std::unique_ptr<ThreadOp> BufCache::bufwait_op(buf* bp, IoResult done) {
  auto start = [this, bp](Thread& td) { check_owner(td, bp, "bufwait"); };
  auto wait = [this, bp](Thread&) -> std::optional<Sleep> {
    if (bp->b_io_in_progress) return sleep_on(&bp->b_iocmd, "biowait");
    return std::nullopt;
  };
  auto then = [this, bp, done = std::move(done)](Thread&) {
    after_op();
    if (done) done(io_error(bp));
  };
  return wait_op(start, wait, then);
}

bool BufCache::bufwait(Thread& td, buf* bp, IoResult done) {
  check_owner(td, bp, "bufwait");
  return start_op(td, bufwait_op(bp, std::move(done)));
}

// Synchronous write: the buffer is released (brelse) once the write is done; a failed write is
// redirtied there, so nothing is lost.
std::unique_ptr<ThreadOp> BufCache::bwrite_op(buf* bp, IoResult done) {
  auto invalid = std::make_shared<bool>(false);
  auto start = [this, bp, invalid](Thread& td) {
    check_owner(td, bp, "bwrite");
    if (bp->b_flags & B_INVAL) {
      *invalid = true;
      return;
    }
    prepare_write(bp);
    start_io(bp, td.cpu());
  };
  auto wait = [this, bp, invalid](Thread&) -> std::optional<Sleep> {
    if (!*invalid && bp->b_io_in_progress) return sleep_on(&bp->b_iocmd, "biowr");
    return std::nullopt;
  };
  auto then = [this, bp, invalid, done = std::move(done)](Thread& t) {
    const int error = *invalid ? 0 : io_error(bp);
    release(bp, t.cpu(), false);
    after_op();
    if (done) done(error);
  };
  return wait_op(start, wait, then);
}

bool BufCache::bwrite(Thread& td, buf* bp, IoResult done) {
  check_owner(td, bp, "bwrite");
  return start_op(td, bwrite_op(bp, std::move(done)));
}

int BufCache::io_error(const buf* bp) {
  return (bp->b_ioflags & BIO_ERROR) ? (bp->b_error ? bp->b_error : EIO) : 0;
}

void BufCache::bawrite(Thread& td, buf* bp) {
  check_owner(td, bp, "bawrite");
  ++stats_.bawrites;
  if (bp->b_flags & B_INVAL) {
    release(bp, td.cpu(), false);
    after_op();
    return;
  }
  prepare_write(bp);
  bp->b_flags |= B_ASYNC;
  bp->b_lockowner = nullptr;  // BUF_KERNPROC: bufdone releases it
  start_io(bp, td.cpu());
  after_op();
}

void BufCache::bdwrite(Thread& td, buf* bp) {
  check_owner(td, bp, "bdwrite");
  if (!bp->b_bufobj) throw KvaError("bdwrite: buffer has no backing store (geteblk buffer)");
  ++stats_.bdwrites;
  if (bp->b_flags & B_INVAL) {
    release(bp, td.cpu(), false);
    after_op();
    return;
  }
  bdirty(bp);
  update_bcache(bp);
  vfs_clean_pages_dirty_buf(bp);  // the buffer owns the dirtiness from now on
  release(bp, td.cpu(), true);
  after_op();
}

// --- device side

namespace {
struct Piece {
  int page;
  std::size_t page_off, boff, len;
};
// Splits buffer bytes [boff, boff+len) by page.
template <class F>
void for_pieces(const buf* bp, std::size_t boff, std::size_t len, F&& f) {
  const std::size_t poff = bp->b_offset == NOOFFSET ? 0 : static_cast<std::size_t>(bp->b_offset) & PAGE_MASK;
  for (std::size_t done = 0; done < len;) {
    const std::size_t at = poff + boff + done;
    const std::size_t in_page = at & PAGE_MASK;
    const std::size_t n = std::min(len - done, PAGE_SIZE - in_page);
    f(Piece{static_cast<int>(at / PAGE_SIZE), in_page, boff + done, n});
    done += n;
  }
}

void check_transfer(const buf* bp, std::size_t boff, std::size_t len) {
  if (boff + len > static_cast<std::size_t>(bp->b_bcount))
    throw KvaError("transfer outside the buffer's " + std::to_string(bp->b_bcount) + " bytes");
}
}  // namespace

std::vector<std::uint8_t> BufCache::transfer_out(buf* bp, cpuid_t cpu, std::size_t boff,
                                                 std::size_t len, bool pio) {
  check_transfer(bp, boff, len);
  if (pio && buf_mapped(bp)) return pmap_.load(cpu, bp->b_data + boff, len);
  std::vector<std::uint8_t> out(len);
  for_pieces(bp, boff, len, [&](const Piece& p) {
    vm_page* m = bp->b_pages[static_cast<std::size_t>(p.page)];
    vm_.phys().read(m->phys_addr + p.page_off, out.data() + (p.boff - boff), p.len);
  });
  return out;
}

void BufCache::transfer_in(buf* bp, cpuid_t cpu, std::size_t boff,
                           std::span<const std::uint8_t> data, bool pio) {
  check_transfer(bp, boff, data.size());
  if (pio && buf_mapped(bp)) {
    pmap_.store(cpu, bp->b_data + boff, data);
    return;
  }
  for_pieces(bp, boff, data.size(), [&](const Piece& p) {
    vm_page* m = bp->b_pages[static_cast<std::size_t>(p.page)];
    vm_.phys().write(m->phys_addr + p.page_off, data.data() + (p.boff - boff), p.len);
  });
}

void BufCache::bufdone(buf* bp, cpuid_t cpu) {
  check_buf(bp, "bufdone");
  if (!bp->b_io_in_progress) throw KvaError("bufdone: buffer has no I/O in progress");
  bp->b_io_in_progress = false;
  const bool error = bp->b_ioflags & BIO_ERROR;
  if (error) {
    ++stats_.io_errors;
    if (!bp->b_error) bp->b_error = EIO;
  }
  if (bp->b_iocmd == BIO_WRITE) {
    bufobj* bo = bp->b_bufobj;
    --bo->bo_numoutput;
    sched_.wakeup(bo);
    if (!error) bp->b_dirtyoff = bp->b_dirtyend = 0;
    // Injected bug: the dirty bits are cleared now, after stores made during the write.
    if (pmap_.faults().enabled(Fault::CleanAtCompletion)) clean_pages(bp);
  }
  vfs_vmio_iodone(bp, cpu);
  if (bp->b_iocmd == BIO_READ && !error) update_bcache(bp);
  bp->b_flags |= B_DONE;
  if (bp->b_flags & B_ASYNC) {
    const bool junk = (bp->b_flags & (B_NOCACHE | B_INVAL | B_RELBUF)) || error;
    release(bp, cpu, !junk);
  } else {
    sched_.wakeup(&bp->b_iocmd);
  }
  after_op();
}

}  // namespace kva
