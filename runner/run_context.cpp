#include "runner/run_context.h"

namespace kva::runner {

RunContext::RunContext(const Testcase& tc, const ArchInfo& arch, std::uint64_t seed,
                       const FaultSet& faults, std::ostream* trace, std::ostream* log)
    : tc_(tc), log_(log) {
  MachineConfig cfg;
  cfg.ncpus = tc.machine.cpus;
  cfg.mem_bytes = tc.machine.mem_bytes;
  cfg.trace = trace;
  pmap_ = arch.create(cfg);
  pmap_->faults() = faults;
  arch_ = {arch.name, pmap_->has_direct_map(), pmap_->features()};
  sched_ = std::make_unique<Scheduler>(seed);
  for (const auto& t : tc.threads) threads_[t.name] = &sched_->thread_create(t.name, t.cpu, t.pinned);
  sfbufs_ = std::make_unique<SfBufSubsystem>(*pmap_, *sched_, SfBufConfig{tc.machine.nsfbufs});
  kva_top_ = pmap_->kva_space().end;
}

RunContext::~RunContext() = default;

vm_page* RunContext::page(const std::string& name) const { return pages_.at(name); }
void RunContext::bind_page(const std::string& name, vm_page* m) { pages_[name] = m; }
Thread& RunContext::thread(const std::string& name) { return *threads_.at(name); }

AllocRecord& RunContext::new_alloc(const std::string& name, const std::string& thread) {
  auto& rec = allocs_[name];
  rec = std::make_unique<AllocRecord>();
  rec->thread = thread;
  return *rec;
}

AllocRecord& RunContext::alloc(const std::string& name) { return *allocs_.at(name); }

std::vector<std::pair<std::string, const AllocRecord*>> RunContext::allocs() const {
  std::vector<std::pair<std::string, const AllocRecord*>> out;
  for (const auto& [name, rec] : allocs_) out.emplace_back(name, rec.get());
  return out;
}

sf_buf* RunContext::sf(const std::string& name) {
  AllocRecord& rec = alloc(name);
  if (!rec.done) throw StepError("sf_buf '" + name + "' is not allocated yet (its thread sleeps)");
  if (!rec.result) throw StepError("sf_buf '" + name + "' is NULL (sf_buf_alloc returned NULL)");
  return rec.result;
}

void RunContext::reserve_kva(const std::string& name, std::size_t pages) {
  VaRange space = pmap_->kva_space();
  vaddr_t va = kva_top_ - pages * PAGE_SIZE;
  if (va < space.start || va > kva_top_) throw StepError("kva_reserve: kva_space() exhausted");
  // The sf_buf pool is carved from the bottom of the same range; never overlap it.
  for (const auto& sf : sfbufs_->pool())
    if (sf->kva >= va && sf->kva < kva_top_)
      throw StepError("kva_reserve: would overlap the sf_buf pool");
  kva_top_ = va;
  kvas_[name] = {va, pages};
}

void RunContext::reserve_grow_kva(const std::string& name, std::uint64_t bytes) {
  const VaRange grow = pmap_->growable_kva();
  if (grow.empty()) throw StepError("kva_reserve: this arch has no growable kernel VA (requires: [growkernel])");
  if (!grow_next_) grow_next_ = grow.start;
  const vaddr_t va = (grow_next_ + bytes - 1) & ~(bytes - 1);
  if (va < grow_next_ || va + bytes < va || va + bytes > grow.end)
    throw StepError("kva_reserve: growable_kva() has no room for " + std::to_string(bytes) + " more bytes");
  grow_next_ = va + bytes;
  kvas_[name] = {va, bytes / PAGE_SIZE};
}

vaddr_t RunContext::kva(const std::string& name) const { return kvas_.at(name).va; }
std::size_t RunContext::kva_pages(const std::string& name) const { return kvas_.at(name).pages; }

void RunContext::begin_step(const std::string& label) {
  step_ = label;
  pmap_->set_step(label);
}

void RunContext::fail(Failure f) {
  if (f.step.empty()) f.step = step_;
  failures_.push_back(std::move(f));
}

CounterValues RunContext::counters() const {
  return snapshot_counters({sfbufs_->stats(), pmap_->stats(), pmap_->stale_log()});
}

const CounterValues* RunContext::snapshot(const std::string& label) const {
  auto it = snapshots_.find(label);
  return it == snapshots_.end() ? nullptr : &it->second;
}

}  // namespace kva::runner
