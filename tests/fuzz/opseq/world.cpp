#include "tests/fuzz/opseq/world.h"

namespace kva::fuzz {

World::World(const ArchInfo& arch, const MachineShape& shape, const FaultSet& faults) : arch_(arch), shape_(shape) {
  MachineConfig mc;
  mc.ncpus = shape.ncpus;
  mc.mem_bytes = shape.mem_bytes;
  KernelConfig kc;
  kc.nsfbufs = shape.nsfbufs;
  kc.seed = 1;
  kc.faults = faults;
  // Room for every thread to hold a largest block at once (so no op sleeps for a buffer or its
  // KVA), few enough buffers that recycling and lazy unmapping happen; invariants checked.
  kc.buf.nbuf = 16;
  kc.buf.maxbufspace = 16 * 16384;
  kc.buf.unmapped = shape.unmapped_bufs;
  kc.buf.check_invariants = true;
  kc.device.size = 4u << 20;
  kernel_ = std::make_unique<Kernel>(arch.create(mc), kc);
  for (int i = 0; i < shape.ncpus * shape.threads_per_cpu; ++i)
    threads.push_back(&sched().thread_create("td" + std::to_string(i), i % shape.ncpus, true));
}

void World::start_alloc(int handle, int flags) {
  SfHandle& h = sfs[static_cast<std::size_t>(handle)];
  calling_ = handle;
  struct Reset {
    int& v;
    ~Reset() { v = -1; }
  } reset{calling_};
  sfbufs().sf_buf_alloc(*threads[static_cast<std::size_t>(h.thread)], pages[static_cast<std::size_t>(h.page)],
                        flags, [this, handle](sf_buf* sf) {
    SfHandle& done = sfs[static_cast<std::size_t>(handle)];
    done.sf = sf;
    done.state = sf ? SfHandle::State::Live : SfHandle::State::Null;
    if (handle != calling_)  // a sleeping call returning during a later op
      completions_ += " [sf#" + std::to_string(handle) + " returned " + describe(sf) + "]";
  });
}

std::string World::describe(const sf_buf* sf) const {
  if (!sf) return "NULL";
  std::string s = "sf_buf of page#" + std::to_string(page_handle(sf->m));
  if (!kernel_->sfbufs().direct_map_mode()) s += " slot " + std::to_string(sf->index);
  return s;
}

int World::page_handle(const vm_page* m) const {
  for (std::size_t i = 0; i < pages.size(); ++i)
    if (pages[i] == m) return static_cast<int>(i);
  return -1;
}

void World::start_getblk(int handle, bool read, int flags) {
  BufHandle& h = bufs_held[static_cast<std::size_t>(handle)];
  calling_buf_ = handle;
  struct Reset {
    int& v;
    ~Reset() { v = -1; }
  } reset{calling_buf_};
  auto done = [this, handle](buf* bp, int error) {
    BufHandle& got = bufs_held[static_cast<std::size_t>(handle)];
    got.bp = bp;
    got.state = bp ? BufHandle::State::Live : BufHandle::State::Null;
    got.cache = bp && (bp->b_flags & B_CACHE);
    got.error = error;
    if (handle != calling_buf_) note_completion("buf#" + std::to_string(handle) + " returned " + describe(got));
  };
  Thread& td = *threads[static_cast<std::size_t>(h.thread)];
  vnode& vp = *files[static_cast<std::size_t>(h.file)];
  const int size = static_cast<int>(vp.bsize());
  if (read)
    bufs().bread(td, vp.bo(), h.lblkno, size, flags, done);
  else
    bufs().getblk(td, vp.bo(), h.lblkno, size, flags, done);
}

std::string World::describe(const BufHandle& h) const {
  switch (h.state) {
    case BufHandle::State::Pending: return "sleeps";
    case BufHandle::State::Null: return "NULL";
    case BufHandle::State::Released: return "released";
    case BufHandle::State::Live: break;
  }
  std::string s = h.error ? "error " + std::to_string(h.error) + " buf" : "buf";
  for (const auto& f : kBufFlagNames)
    if (h.bp->b_flags & f.flag) s += std::string(" B_") + f.name;
  s += h.bp->b_data ? " mapped" : " unmapped";
  return s;
}

std::string World::take_completions() { return std::move(completions_); }

}  // namespace kva::fuzz
