#include "core/ref_pmap.h"

#include <cstdio>

namespace kva {

namespace {
constexpr paddr_t kRefRamBase = 0;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

RefPmap::RefPmap(const MachineConfig& cfg, RefPmapConfig rcfg) : Pmap(cfg, kRefRamBase), rcfg_(rcfg) {
  if (rcfg_.kva.start % PAGE_SIZE || rcfg_.kva.end % PAGE_SIZE || rcfg_.kva.end <= rcfg_.kva.start)
    throw KvaError("RefPmap: kva range must be non-empty and page aligned");
  if (rcfg_.direct_map) {
    const VaRange dmap{rcfg_.dmap_base, rcfg_.dmap_base + phys_->size()};
    if (rcfg_.dmap_base % PAGE_SIZE || (dmap.start < rcfg_.kva.end && rcfg_.kva.start < dmap.end))
      throw KvaError("RefPmap: direct map must be page aligned and disjoint from the kva range");
  }
}

vaddr_t RefPmap::phys_to_dmap(paddr_t pa) const {
  if (!rcfg_.direct_map) return Pmap::phys_to_dmap(pa);
  if (!phys_->contains(pa)) throw KvaError("PHYS_TO_DMAP: " + hex(pa) + " is outside RAM");
  return rcfg_.dmap_base + (pa - phys_->base());
}

void RefPmap::kenter(vaddr_t va, paddr_t pa) {
  if (!rcfg_.kva.contains(va)) throw KvaError("kenter: va " + hex(va) + " outside the kva range");
  if (pa % PAGE_SIZE || !phys_->contains(pa))
    throw KvaError("kenter: pa " + hex(pa) + " is not a page of RAM");
  ptes_[trunc_page(va)] = PteState{true, true, false, false, false, pa};
}

void RefPmap::kremove(vaddr_t va) {
  if (!rcfg_.kva.contains(va)) throw KvaError("kremove: va " + hex(va) + " outside the kva range");
  ptes_.erase(trunc_page(va));
}

PteState RefPmap::pte(vaddr_t va) const {
  if (rcfg_.direct_map && va >= rcfg_.dmap_base && va - rcfg_.dmap_base < phys_->size()) {
    // Like amd64's direct map: global, with A and D preset (the tables are never written).
    return PteState{true, true, true, true, true, phys_->base() + trunc_page(va - rcfg_.dmap_base)};
  }
  auto it = ptes_.find(trunc_page(va));
  return it == ptes_.end() ? PteState{} : it->second;
}

PteState* RefPmap::leaf(vaddr_t va) {
  auto it = ptes_.find(trunc_page(va));
  return it == ptes_.end() ? nullptr : &it->second;
}

void RefPmap::clear_accessed(vaddr_t va) {
  if (PteState* p = leaf(va)) p->accessed = false;
}

void RefPmap::clear_modified(vaddr_t va) {
  if (PteState* p = leaf(va)) p->modified = false;
}

std::string RefPmap::describe_walk(vaddr_t va) const {
  const PteState p = pte(va);
  std::string s = "ref leaf va=" + hex(va) + " pte:";
  if (!p.valid) return s + " not valid";
  if (p.writable) s += " W";
  if (p.accessed) s += " A";
  if (p.modified) s += " D";
  if (p.global) s += " G";
  return s + " V pa=" + hex(p.pa);
}

void RefPmap::do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  for (std::size_t i = 0; i < npages; ++i) tlb_model().invalidate_page(cpu, va + i * PAGE_SIZE);
  stats().local_invalidations += npages;
}

// The reference machine behaves like an IPI-based shootdown: each target invalidates itself.
void RefPmap::do_shootdown(cpuid_t, CpuSet targets, vaddr_t va, std::size_t npages) {
  targets.for_each([&](cpuid_t c) {
    for (std::size_t i = 0; i < npages; ++i) tlb_model().invalidate_page(c, va + i * PAGE_SIZE);
    stats().local_invalidations += npages;
  });
  stats().ipis += static_cast<std::uint64_t>(targets.count());
}

// A TLB miss is a hardware walk: like x86, it sets A (and D for a write) in the leaf, then caches.
void RefPmap::model_fill_on_access(cpuid_t cpu, vaddr_t va, AccessType type) {
  if (PteState* p = leaf(va); p && p->valid) {
    p->accessed = true;
    if (type == AccessType::Write) p->modified = true;
  }
  Pmap::model_fill_on_access(cpu, va, type);
}

void RefPmap::do_load(cpuid_t cpu, vaddr_t va, std::span<std::uint8_t> out) {
  const std::optional<TlbEntry> e = tlb_model().lookup(cpu, va);
  if (!e) throw PageFault(cpu, va, AccessType::Read, describe_walk(va));
  phys_->read(e->pa + (va & PAGE_MASK), out.data(), out.size());
}

void RefPmap::do_store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> in) {
  const std::optional<TlbEntry> e = tlb_model().lookup(cpu, va);
  if (!e) throw PageFault(cpu, va, AccessType::Write, describe_walk(va));
  // A store through a clean cached entry re-walks to set D, as x86 does.
  if (PteState* p = leaf(va); p && p->valid && p->pa == e->pa) p->modified = true;
  phys_->write(e->pa + (va & PAGE_MASK), in.data(), in.size());
}

}  // namespace kva
