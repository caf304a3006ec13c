#include "python/bindings/machine.h"

#include <stdexcept>

namespace kva::pyapi {

namespace {
template <class Registry, class NameOf>
std::string names_of(const Registry& registry, NameOf name_of) {
  std::string names;
  for (const auto& entry : registry) names += (names.empty() ? "" : ", ") + std::string(name_of(entry));
  return names;
}
}  // namespace

const ArchInfo& arch_by_name(const std::string& name) {
  if (const ArchInfo* a = find_arch(name)) return *a;
  throw std::invalid_argument("unknown arch '" + name + "'; valid archs: " +
                              names_of(arch_registry(), [](const ArchInfo& a) { return a.name; }));
}

Machine::Machine(const MachineOptions& opts) : arch_(&arch_by_name(opts.arch)) {
  if (opts.ncpus < 1 || opts.ncpus > MAXCPU)
    throw std::invalid_argument("cpus must be between 1 and " + std::to_string(MAXCPU) +
                                ", got " + std::to_string(opts.ncpus));
  if (opts.mem_bytes == 0 || opts.mem_bytes % PAGE_SIZE != 0)
    throw std::invalid_argument("memory must be a positive multiple of the page size (" +
                                std::to_string(PAGE_SIZE) + " bytes)");
  if (opts.nsfbufs < 1) throw std::invalid_argument("nsfbufs must be positive");
  // While constructing, whatever the arch or the sf_buf subsystem refuses is a bad argument
  // (e.g. more RAM than the paging format reaches, more sf_bufs than the KVA holds).
  try {
    KernelConfig kcfg;
    kcfg.nsfbufs = opts.nsfbufs;
    kcfg.seed = opts.seed;
    kcfg.buf = opts.buf;
    kcfg.device = opts.device;
    MachineConfig mcfg{opts.ncpus, opts.mem_bytes, opts.trace ? &trace_ : nullptr, opts.exec_mode};
    mcfg.ad_bits = opts.ad;
    mcfg.break_before_make = opts.bbm;
    kernel_ = std::make_unique<Kernel>(arch_->create(mcfg), kcfg);
  } catch (const KvaError& e) {
    throw std::invalid_argument(opts.arch + ": " + e.what());
  }
  for (const std::string& f : opts.inject) inject(f);
}

cpuid_t Machine::cpu(int c) const {
  if (c < 0 || c >= pmap().ncpus())
    throw std::invalid_argument("cpu " + std::to_string(c) + " does not exist (this machine has " +
                                std::to_string(pmap().ncpus()) + " cpus)");
  return c;
}

CpuSet Machine::cpus(const std::vector<int>& list) const {
  CpuSet set;
  for (int c : list) set.set(cpu(c));
  return set;
}

namespace {
void check_same_machine(const Machine* owner, const Machine* self, const char* what) {
  if (owner != self) throw std::invalid_argument(std::string(what) + " belongs to another Machine");
}
}  // namespace

vm_page* Machine::page(const PageHandle& p) const {
  check_same_machine(p.machine.get(), this, "page");
  return p.m;
}

Thread& Machine::thread(const ThreadHandle& t) const {
  check_same_machine(t.machine.get(), this, "thread");
  return *t.td;
}

sf_buf* Machine::sf_buf_of(const SfBufHandle& s) const {
  check_same_machine(s.machine.get(), this, "sf_buf");
  if (s.stale())
    throw StaleHandle("sf: this SfBuf handle is stale: slot " + std::to_string(s.sf->index) +
                      " was recycled for another page since it was returned (generation " +
                      std::to_string(s.generation) + ", now " + std::to_string(s.sf->generation) + ")");
  return s.sf;
}

buf* Machine::buffer(const BufHandle& b) const {
  check_same_machine(b.machine.get(), this, "buffer");
  return b.bp;
}

buf* Machine::locked_buffer(const BufHandle& b) const {
  buf* bp = buffer(b);
  if (bp->b_lockgen != b.lockgen)
    throw KvaError("stale buffer handle: buffer " + std::to_string(bp->b_index) +
                   " was released and locked again since this handle was returned");
  return bp;
}

vnode* Machine::file(const FileHandle& f) const {
  check_same_machine(f.machine.get(), this, "file");
  return f.vp;
}

void Machine::inject(const std::string& fault_name) {
  const std::optional<Fault> f = fault_by_name(fault_name);
  if (!f)
    throw std::invalid_argument(
        "unknown fault '" + fault_name + "'; valid faults: " +
        names_of(fault_registry(), [](const FaultInfo& i) { return i.name; }));
  kernel_->faults().enable(*f);
}

std::vector<std::string> Machine::enabled_faults() const {
  std::vector<std::string> names;
  for (const FaultInfo& i : fault_registry())
    if (kernel_->faults().enabled(i.fault)) names.emplace_back(i.name);
  return names;
}

vaddr_t Machine::kva_alloc(std::size_t npages) {
  if (npages == 0) throw std::invalid_argument("kva_alloc: npages must be positive");
  return kernel_->kva_alloc(npages);
}

void Machine::kva_free(vaddr_t va, std::size_t npages) { kernel_->kva_free(va, npages); }

PageHandle Machine::page_alloc() { return handle(pmap().phys().vm_page_alloc()); }

ThreadHandle Machine::thread_create(const std::string& name, int c, bool pinned) {
  return handle(&sched().thread_create(name, cpu(c), pinned));
}

std::string Machine::take_trace() {
  std::string text = trace_.str();
  trace_.str({});
  return text;
}

}  // namespace kva::pyapi
