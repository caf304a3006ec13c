#include "core/kernel.h"

namespace kva {

namespace {
std::unique_ptr<Pmap> checked(std::unique_ptr<Pmap> pmap) {
  if (!pmap) throw KvaError("Kernel: no pmap");
  return pmap;
}
}  // namespace

Kernel::Kernel(std::unique_ptr<Pmap> pmap, const KernelConfig& cfg)
    : cfg_(cfg), pmap_(checked(std::move(pmap))), sched_(cfg.seed), arena_(pmap_->kva_space()) {
  pmap_->faults() = cfg.faults;
  sfbufs_ = std::make_unique<SfBufSubsystem>(*pmap_, sched_, SfBufConfig{cfg.nsfbufs}, arena_);
}

Kernel::~Kernel() = default;

vaddr_t Kernel::kva_alloc(std::size_t npages) {
  if (npages == 0) throw KvaError("kva_alloc: npages must be positive");
  const std::optional<vaddr_t> va = arena_.alloc(npages * PAGE_SIZE);
  if (!va)
    throw KvaError("kva_alloc: no hole of " + std::to_string(npages) + " pages left in kva_space (" +
                   std::to_string(kva_free_pages()) + " pages free)");
  raw_[*va] = npages;
  return *va;
}

void Kernel::kva_free(vaddr_t va, std::size_t npages) {
  auto it = raw_.find(va);
  if (it == raw_.end()) throw KvaError("kva_free: no raw KVA reservation starts at this address");
  if (it->second != npages) throw KvaError("kva_free: size differs from the reservation");
  for (std::size_t i = 0; i < npages; ++i)
    if (raw_mapped_.count(va + i * PAGE_SIZE))
      throw KvaError("kva_free: the reservation still maps a page (kremove/qremove it first)");
  arena_.free(va, npages * PAGE_SIZE);
  raw_.erase(it);
}

bool Kernel::in_raw_reservation(vaddr_t va) const {
  auto it = raw_.upper_bound(va);
  if (it == raw_.begin()) return false;
  --it;
  return va < it->first + it->second * PAGE_SIZE;
}

void Kernel::track_unmap(vaddr_t va) {
  auto it = raw_mapped_.find(trunc_page(va));
  if (it == raw_mapped_.end()) return;
  --it->second->kmap_count;
  raw_mapped_.erase(it);
}

void Kernel::track_map(vaddr_t va, paddr_t pa) {
  track_unmap(va);
  if (!in_raw_reservation(va)) return;
  vm_page* m = phys().PHYS_TO_VM_PAGE(pa);
  if (m == nullptr) return;  // device memory or a frame outside RAM: nothing to protect
  ++m->kmap_count;
  raw_mapped_[trunc_page(va)] = m;
}

void Kernel::kenter(vaddr_t va, paddr_t pa) {
  pmap_->kenter(va, pa);
  track_map(va, pa);
}

void Kernel::kremove(vaddr_t va) {
  pmap_->kremove(va);
  track_unmap(va);
}

void Kernel::qenter(cpuid_t cpu, vaddr_t va, std::span<const paddr_t> pas) {
  pmap_->qenter(cpu, va, pas);
  for (std::size_t i = 0; i < pas.size(); ++i) track_map(va + i * PAGE_SIZE, pas[i]);
}

void Kernel::qremove(cpuid_t cpu, vaddr_t va, std::size_t count) {
  pmap_->qremove(cpu, va, count);
  for (std::size_t i = 0; i < count; ++i) track_unmap(va + i * PAGE_SIZE);
}

}  // namespace kva
