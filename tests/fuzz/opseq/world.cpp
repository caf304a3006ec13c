#include "tests/fuzz/opseq/world.h"

namespace kva::fuzz {

World::World(const ArchInfo& arch, const MachineShape& shape) : arch_(arch), shape_(shape) {
  MachineConfig cfg;
  cfg.ncpus = shape.ncpus;
  cfg.mem_bytes = shape.mem_bytes;
  pmap_ = arch.create(cfg);
  sched_ = std::make_unique<Scheduler>(1);
  for (int i = 0; i < shape.ncpus * shape.threads_per_cpu; ++i)
    threads.push_back(&sched_->thread_create("td" + std::to_string(i), i % shape.ncpus, true));
  arena_ = std::make_unique<KvaArena>(pmap_->kva_space());
  sfbufs_ = std::make_unique<SfBufSubsystem>(*pmap_, *sched_, SfBufConfig{shape.nsfbufs}, *arena_);
}

void World::start_alloc(int handle, int flags) {
  SfHandle& h = sfs[static_cast<std::size_t>(handle)];
  calling_ = handle;
  struct Reset {
    int& v;
    ~Reset() { v = -1; }
  } reset{calling_};
  sfbufs_->sf_buf_alloc(*threads[static_cast<std::size_t>(h.thread)], pages[static_cast<std::size_t>(h.page)],
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
  if (!sfbufs_->direct_map_mode()) s += " slot " + std::to_string(sf->index);
  return s;
}

int World::page_handle(const vm_page* m) const {
  for (std::size_t i = 0; i < pages.size(); ++i)
    if (pages[i] == m) return static_cast<int>(i);
  return -1;
}

std::string World::take_completions() { return std::move(completions_); }

}  // namespace kva::fuzz
