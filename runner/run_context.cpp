#include "runner/run_context.h"

#include "runner/machine_spec.h"

namespace kva::runner {

RunContext::RunContext(const Testcase& tc, const ArchInfo& arch, std::uint64_t seed,
                       const FaultSet& faults, std::ostream* trace, std::ostream* log,
                       ExecMode exec_mode, std::optional<AdBits> ad)
    : tc_(tc), log_(log) {
  MachineConfig mcfg;
  mcfg.ncpus = tc.machine.cpus;
  mcfg.mem_bytes = tc.machine.mem_bytes;
  mcfg.trace = trace;
  mcfg.exec_mode = exec_mode;
  mcfg.ad_bits = tc.machine.ad ? tc.machine.ad : ad;
  mcfg.break_before_make = tc.machine.bbm;
  KernelConfig kcfg;
  apply_machine_spec(tc.machine, kcfg);
  kcfg.seed = seed;
  kcfg.faults = faults;
  kernel_ = std::make_unique<Kernel>(arch.create(mcfg), kcfg);
  arch_ = {arch.name, kernel_->pmap().has_direct_map(), kernel_->pmap().features()};
  for (const auto& t : tc.threads)
    threads_[t.name] = &kernel_->sched().thread_create(t.name, t.cpu, t.pinned);
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

OpRecord& RunContext::new_op(const std::string& name, const std::string& op, const std::string& thread) {
  auto& rec = ops_[name];
  rec = std::make_unique<OpRecord>();
  rec->op = op;
  rec->thread = thread;
  return *rec;
}

OpRecord& RunContext::op(const std::string& name) { return *ops_.at(name); }

std::vector<std::pair<std::string, const OpRecord*>> RunContext::ops() const {
  std::vector<std::pair<std::string, const OpRecord*>> out;
  for (const auto& [name, rec] : ops_) out.emplace_back(name, rec.get());
  return out;
}

buf* RunContext::buffer(const std::string& name) {
  OpRecord& rec = op(name);
  if (!rec.done) throw StepError(rec.op + " '" + name + "' has not returned yet (its thread sleeps)");
  if (!rec.bp) throw StepError(rec.op + " '" + name + "' returned NULL");
  return rec.bp;
}

buf* RunContext::locked_buffer(const std::string& name) {
  buf* bp = buffer(name);
  if (bp->b_lockgen != op(name).lockgen)
    throw KvaError("buffer '" + name + "' is a stale handle: released and locked again since " +
                   op(name).op + " returned it");
  return bp;
}

vnode* RunContext::file(const std::string& name) const { return files_.at(name); }

Thread& RunContext::actor(const std::optional<std::string>& thread, int cpu) {
  return thread ? this->thread(*thread) : kernel_->cpu_thread(cpu);
}

void RunContext::reserve_kva(const std::string& name, std::size_t pages, std::uint64_t align) {
  kvas_[name] = {kernel_->kva_alloc(pages, align), pages};
}

void RunContext::reserve_grow_kva(const std::string& name, std::uint64_t bytes) {
  if (kernel_->pmap().growable_kva().empty())
    throw StepError("kva_reserve: this arch has no growable kernel VA (requires: [growkernel])");
  kvas_[name] = {kernel_->kva_alloc_growable(bytes), bytes / PAGE_SIZE};
}

vaddr_t RunContext::kva(const std::string& name) const { return kvas_.at(name).va; }
std::size_t RunContext::kva_pages(const std::string& name) const { return kvas_.at(name).pages; }

void RunContext::begin_step(const std::string& label) {
  step_ = label;
  kernel_->pmap().set_step(label);
}

void RunContext::run_after_step() {
  std::vector<std::function<void()>> checks;
  checks.swap(after_step_);
  for (auto& c : checks) c();
}

void RunContext::fail(Failure f) {
  if (f.step.empty()) f.step = step_;
  failures_.push_back(std::move(f));
}

CounterValues RunContext::counters() const {
  Kernel& k = *kernel_;
  return snapshot_counters({k.sfbufs().stats(), k.pmap().stats(), k.pmap().stale_log(),
                            k.bufs().stats(), k.vfs().stats(), k.device().stats(),
                            k.vfs().pages_reclaimed()});
}

const CounterValues* RunContext::snapshot(const std::string& label) const {
  auto it = snapshots_.find(label);
  return it == snapshots_.end() ? nullptr : &it->second;
}

}  // namespace kva::runner
