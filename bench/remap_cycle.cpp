#include "bench/remap_cycle.h"

namespace kva::bench {

RemapCycle::RemapCycle(const ArchInfo& arch, bool cpuprivate, int ncpus)
    : pmap_(arch.create(MachineConfig{ncpus, 16u << 20})), cpuprivate_(cpuprivate),
      reader_(cpuprivate ? 0 : 1) {
  if (cpuprivate && pmap_->has_direct_map()) throw KvaError("CPUPRIVATE cycle needs pool mode");
  td_ = &sched_.thread_create("bench", 0);
  if (!pmap_->has_direct_map())
    sfb_ = std::make_unique<SfBufSubsystem>(*pmap_, sched_, SfBufConfig{kSfBufs});
  else
    qenter_va_ = pmap_->kva_space().start;
  // Distinct contents, so every read compares real data.
  std::vector<std::uint8_t> bytes(PAGE_SIZE);
  for (int i = 0; i < kSfBufs + 1; ++i) {
    vm_page* m = pmap_->phys().vm_page_alloc();
    pmap_->phys().vm_page_wire(m);
    for (std::size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<std::uint8_t>(i * 31 + k * 7);
    pmap_->phys().write(m->phys_addr, bytes.data(), bytes.size());
    pages_.push_back(m);
  }
}

std::string RemapCycle::description() const {
  if (!sfb_) return "pmap_qenter remap, read on cpu " + std::to_string(reader_);
  return std::string(cpuprivate_ ? "sf_buf CPUPRIVATE" : "sf_buf flags 0") + ", read on cpu " +
         std::to_string(reader_);
}

void RemapCycle::run() {
  vm_page* m = pages_[next_];
  next_ = (next_ + 1) % pages_.size();
  if (sfb_) {
    sf_buf* sf = sfb_->sf_buf_alloc_now(*td_, m, cpuprivate_ ? SFB_CPUPRIVATE : SFB_DEFAULT);
    (void)pmap_->load(reader_, sf->kva, PAGE_SIZE);
    sfb_->sf_buf_free(*td_, sf);
    return;
  }
  const paddr_t pa[] = {m->phys_addr};
  pmap_->qenter(0, qenter_va_, pa);
  (void)pmap_->load(reader_, qenter_va_, PAGE_SIZE);
}

}  // namespace kva::bench
