#include "core/kernel.h"

#include <algorithm>

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
  // The buffer map: maxbufspace of KVA right after the sf_buf pool.
  const std::optional<vaddr_t> map = arena_.alloc(cfg.buf.maxbufspace);
  if (!map)
    throw KvaError("maxbufspace " + std::to_string(cfg.buf.maxbufspace >> 10) +
                   "K does not fit the free kva space (" + std::to_string(kva_free_pages() * 4) + "K)");
  vm_ = std::make_unique<VmObjects>(pmap_->phys());
  bufs_ = std::make_unique<BufCache>(*pmap_, sched_, *vm_, VaRange{*map, *map + cfg.buf.maxbufspace},
                                     cfg.buf);
  // Out of memory: clean released buffers drop their pages' wiring so vm_pageout can take them.
  vm_->on_shortage = [this] {
    return bufs_->release_clean(sched_.in_op() ? sched_.curthread().cpu() : 0) > 0;
  };
  intr_ = std::make_unique<InterruptThreads>(sched_, pmap_->ncpus(), "kernel/intr");
  device_ = std::make_unique<BlockDevice>(cfg.device, *bufs_, *intr_, sched_, pmap_->ncpus());
  vfs_ = std::make_unique<Vfs>(*pmap_, sched_, *vm_, *bufs_, *device_, *sfbufs_);
  cpu_threads_.assign(static_cast<std::size_t>(pmap_->ncpus()), nullptr);
}

Thread& Kernel::cpu_thread(cpuid_t cpu) {
  if (cpu < 0 || cpu >= pmap_->ncpus())
    throw KvaError("cpu " + std::to_string(cpu) + " does not exist (ncpus=" +
                   std::to_string(pmap_->ncpus()) + ")");
  Thread*& td = cpu_threads_[static_cast<std::size_t>(cpu)];
  if (!td) td = &sched_.thread_create("kernel/cpu" + std::to_string(cpu), cpu);
  return *td;
}

Kernel::~Kernel() = default;

vaddr_t Kernel::kva_alloc(std::size_t npages, std::uint64_t align) {
  if (npages == 0) throw KvaError("kva_alloc: npages must be positive");
  const std::optional<vaddr_t> va = arena_.alloc(npages * PAGE_SIZE, align);
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
  // Growable reservations are not in the arena; their VA is simply not handed out again.
  if (!pmap_->growable_kva().contains(va)) arena_.free(va, npages * PAGE_SIZE);
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

vaddr_t Kernel::kva_alloc_growable(std::uint64_t bytes) {
  const VaRange grow = pmap_->growable_kva();
  if (grow.empty()) throw KvaError("kva_alloc_growable: this arch has no growable kernel VA");
  if (bytes == 0 || bytes % PAGE_SIZE || (bytes & (bytes - 1)))
    throw KvaError("kva_alloc_growable: size must be a power-of-two multiple of the page size");
  if (!grow_next_) grow_next_ = grow.start;
  const vaddr_t va = (grow_next_ + bytes - 1) & ~(bytes - 1);
  if (va < grow_next_ || va + bytes < va || va + bytes > grow.end)
    throw KvaError("kva_alloc_growable: growable kernel VA has no room for " + std::to_string(bytes) +
                   " more bytes");
  grow_next_ = va + bytes;
  raw_[va] = bytes / PAGE_SIZE;
  return va;
}

void Kernel::kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs) {
  pmap_->kenter(va, pa, attrs);
  track_map(va, pa);
}

void Kernel::kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs) {
  pmap_->kenter_large(va, pa, size, attrs);
  for (std::uint64_t off = 0; off < size; off += PAGE_SIZE) track_map(va + off, pa + off);
}

void Kernel::kremove(vaddr_t va) {
  const PteState old = pmap_->pte(va);
  pmap_->kremove(va);
  if (!old.valid) return track_unmap(va);
  const vaddr_t base = va & ~(old.page_size - 1);
  for (std::uint64_t off = 0; off < old.page_size; off += PAGE_SIZE) track_unmap(base + off);
}

void Kernel::qenter(cpuid_t cpu, vaddr_t va, std::span<const paddr_t> pas) {
  pmap_->qenter(cpu, va, pas);
  for (std::size_t i = 0; i < pas.size(); ++i) track_map(va + i * PAGE_SIZE, pas[i]);
}

void Kernel::qremove(cpuid_t cpu, vaddr_t va, std::size_t count) {
  pmap_->qremove(cpu, va, count);
  for (std::size_t i = 0; i < count; ++i) track_unmap(va + i * PAGE_SIZE);
}

void Kernel::store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> data) {
  pmap_->store(cpu, va, data);
  buffer_kva_stored(va, data);
}

void Kernel::copy(cpuid_t cpu, vaddr_t dst, vaddr_t src, std::size_t n) {
  pmap_->copy(cpu, dst, src, n,
              [this](vaddr_t va, std::span<const std::uint8_t> bytes) { buffer_kva_stored(va, bytes); });
}

void Kernel::buffer_kva_stored(vaddr_t va, std::span<const std::uint8_t> data) {
  const VaRange map = bufs_->buffer_map();
  if (data.empty() || va >= map.end || va + data.size() <= map.start) return;
  for (const auto& b : bufs_->bufs()) {
    const buf* bp = b.get();
    if (!buf_mapped(bp)) continue;
    const vaddr_t lo = std::max(va, bp->b_data);
    const vaddr_t hi = std::min<vaddr_t>(va + data.size(), bp->b_data + static_cast<vaddr_t>(bp->b_bcount));
    if (lo < hi) vfs_->buffer_stored(bp, lo - bp->b_data, data.subspan(lo - va, hi - lo));
  }
}

}  // namespace kva
