#include "core/ref_pmap.h"

#include <cstdio>
#include <utility>

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
  global_survives_ = tlb_model().rule("ref: global entry survives a full flush");
}

PmapCapabilities RefPmap::capabilities_for(const RefPmapConfig& rcfg) {
  PmapCapabilities c;
  c.large_page_sizes = {kLargePage};
  c.global_entries = true;
  c.requires_break_before_make = rcfg.requires_break_before_make;
  c.caches_invalid_entries = rcfg.negative_caching;
  c.reference = true;
  return c;
}

PmapCapabilities RefPmap::make_capabilities() const { return capabilities_for(rcfg_); }

vaddr_t RefPmap::phys_to_dmap(paddr_t pa) const {
  if (!rcfg_.direct_map) return Pmap::phys_to_dmap(pa);
  if (!phys_->contains(pa)) throw KvaError("PHYS_TO_DMAP: " + hex(pa) + " is outside RAM");
  return rcfg_.dmap_base + (pa - phys_->base());
}

bool RefPmap::in_dmap(vaddr_t va) const {
  return rcfg_.direct_map && va >= rcfg_.dmap_base && va - rcfg_.dmap_base < phys_->size();
}

void RefPmap::check_kva(const char* op, vaddr_t va, std::uint64_t size) const {
  if (!rcfg_.kva.contains(va) || va + size > rcfg_.kva.end)
    throw KvaError(std::string(op) + ": va " + hex(va) + " outside the kva range");
}

std::pair<vaddr_t, RefPmap::Leaf*> RefPmap::find(vaddr_t va) {
  auto [first, leaf] = std::as_const(*this).find(va);
  return {first, const_cast<Leaf*>(leaf)};
}

std::pair<vaddr_t, const RefPmap::Leaf*> RefPmap::find(vaddr_t va) const {
  auto it = leaves_.upper_bound(va);
  if (it == leaves_.begin()) return {0, nullptr};
  --it;
  if (va - it->first >= it->second.size) return {0, nullptr};
  return {it->first, &it->second};
}

void RefPmap::do_kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs) {
  check_kva("kenter", va);
  if (pa % PAGE_SIZE || !phys_->contains(pa))
    throw KvaError("kenter: pa " + hex(pa) + " is not a page of RAM");
  if (auto [first, l] = find(va); l && l->size != PAGE_SIZE)
    throw KvaError("kenter: a " + size_name(l->size) + " page maps va " + hex(va) + "; kremove it first");
  leaves_[trunc_page(va)] = new_leaf(pa, PAGE_SIZE, attrs);
}

RefPmap::Leaf RefPmap::new_leaf(paddr_t pa, std::uint64_t size, const KenterAttrs& attrs) const {
  PteState p;
  p.valid = true;
  p.writable = attrs.writable.value_or(true);
  p.global = attrs.global.value_or(false);
  p.accessed = rcfg_.requires_break_before_make;
  p.pa = pa;
  p.page_size = size;
  p.level = 0;
  return Leaf{p, size};
}

void RefPmap::do_kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs) {
  check_kva("kenter_large", va, size);
  // Like a promotion: the large leaf replaces whatever mapped the range.
  leaves_.erase(leaves_.lower_bound(va), leaves_.lower_bound(va + size));
  if (auto [first, l] = find(va); l) leaves_.erase(first);
  leaves_[va] = new_leaf(pa, size, attrs);
}

void RefPmap::do_kremove(vaddr_t va) {
  check_kva("kremove", va);
  if (auto [first, l] = find(va); l) leaves_.erase(first);
}

void RefPmap::do_protect(vaddr_t va, std::size_t npages, bool writable) {
  check_kva("protect", va, npages * PAGE_SIZE);
  for (std::size_t i = 0; i < npages; ++i)
    if (auto [first, l] = find(va + i * PAGE_SIZE); l) l->pte.writable = writable;
}

void RefPmap::do_clear_accessed(vaddr_t va) {
  if (auto [first, l] = find(va); l) l->pte.accessed = false;
}

void RefPmap::do_clear_modified(vaddr_t va) {
  if (auto [first, l] = find(va); l) l->pte.modified = false;
}

PteState RefPmap::pte(vaddr_t va) const {
  if (in_dmap(va)) {
    // Like amd64's direct map: global, with A and D preset (the tables are never written).
    PteState p;
    p.valid = p.writable = p.accessed = p.modified = p.global = true;
    p.pa = phys_->base() + trunc_page(va - rcfg_.dmap_base);
    p.level = 0;
    return p;
  }
  auto [first, l] = find(va);
  if (!l) return PteState{};
  PteState p = l->pte;
  p.pa = l->pte.pa + (trunc_page(va) - first);
  return p;
}

std::vector<WalkLevel> RefPmap::walk(vaddr_t va) const {
  const PteState p = pte(va);
  WalkLevel w;
  w.name = "leaf";
  w.present = p.valid;
  w.leaf = p.valid;
  w.writable = p.writable;
  w.accessed = p.accessed;
  w.dirty = p.modified;
  w.global = p.global;
  w.next = p.valid ? p.pa - (trunc_page(va) & (p.page_size - 1)) : 0;
  w.reach = p.valid ? p.page_size : PAGE_SIZE;
  return {w};
}

void RefPmap::mapped_leaves(vaddr_t first, vaddr_t last, std::vector<MappedLeaf>& out,
                            std::vector<paddr_t>*) const {
  auto emit = [&](vaddr_t va) {
    const WalkLevel leaf = walk(va).front();
    out.push_back(MappedLeaf{va, leaf, leaf.writable});
  };
  // The direct map, page by page, goes in VA order among the leaves.
  bool dmap_done = !rcfg_.direct_map;
  auto emit_dmap = [&] {
    const vaddr_t dmap_last = rcfg_.dmap_base + (phys_->size() - 1);
    for (vaddr_t d = std::max(rcfg_.dmap_base, trunc_page(first)); d <= std::min(dmap_last, last); d += PAGE_SIZE)
      emit(d);
    dmap_done = true;
  };
  for (const auto& [va, leaf] : leaves_) {
    if (!leaf.pte.valid || va > last || va + (leaf.size - 1) < first) continue;
    if (!dmap_done && rcfg_.dmap_base < va) emit_dmap();
    emit(va);
  }
  if (!dmap_done) emit_dmap();
}

std::string RefPmap::describe_walk(vaddr_t va) const {
  const PteState p = pte(va);
  std::string s = "ref leaf va=" + hex(va) + " pte:";
  if (!p.valid) return s + " not valid";
  if (p.page_size != PAGE_SIZE) s += " " + size_name(p.page_size);
  if (p.writable) s += " W";
  if (p.accessed) s += " A";
  if (p.modified) s += " D";
  if (p.global) s += " G";
  return s + " V pa=" + hex(p.pa);
}

void RefPmap::cacheable_translations(VaRange range, std::vector<Translation>& out) const {
  if (in_dmap(range.start)) {
    for (vaddr_t va = trunc_page(range.start); va < range.end && in_dmap(va); va += PAGE_SIZE) {
      const PteState p = pte(va);
      out.push_back(Translation{va, PAGE_SIZE, p.pa, EntryKind::Leaf, 0, true, true, 0, "leaf"});
    }
    return;
  }
  // The leaf that may start before the range, then every leaf starting inside it.
  auto it = leaves_.upper_bound(range.start);
  if (it != leaves_.begin() && std::prev(it)->first + std::prev(it)->second.size > range.start) --it;
  for (; it != leaves_.end() && it->first < range.end; ++it) {
    const PteState& p = it->second.pte;
    if (!p.valid || !p.accessed) continue;  // A=0: no walk has happened, nobody may cache it
    out.push_back(Translation{it->first, it->second.size, p.pa, EntryKind::Leaf, 0, p.writable,
                              p.global, 0, "leaf"});
  }
}

void RefPmap::invalidate_pages(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  tlb_model().invalidate(cpu, InvalidationScope::range(trunc_page(va), trunc_page(va) + npages * PAGE_SIZE));
  stats().local_invalidations += npages;
}

void RefPmap::do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  invalidate_pages(cpu, va, npages);
}

// The reference machine behaves like an IPI-based shootdown: each target invalidates itself.
void RefPmap::do_shootdown(cpuid_t, CpuSet targets, vaddr_t va, std::size_t npages) {
  targets.for_each([&](cpuid_t c) { invalidate_pages(c, va, npages); });
  stats().ipis += static_cast<std::uint64_t>(targets.count());
}

void RefPmap::do_flush_local(cpuid_t cpu, bool include_global) {
  InvalidationScope s = InvalidationScope::everything();
  s.keep_global = !include_global;
  s.global_rule = global_survives_;
  tlb_model().invalidate(cpu, s);
  stats().full_flushes += 1;
}

// A TLB hit uses what cpu walked before (stale or not); a miss walks the tables like x86
// hardware: sets A (and D for a write), or faults. A store through a clean cached entry re-walks
// to set D, as x86 does.
paddr_t RefPmap::translate(cpuid_t cpu, vaddr_t va, AccessType type) {
  const bool write = type == AccessType::Write;
  if (auto t = tlb_model().demand_leaf(cpu, va, write)) {
    if (write)
      if (auto [first, l] = find(va); l && l->pte.valid && l->pte.writable &&
                                      l->pte.pa + (trunc_page(va) - first) == t->frame_of(va))
        l->pte.modified = true;
    return t->frame_of(va);
  }
  if (tlb_model().demand_invalid(cpu, va))
    throw PageFault(cpu, va, type, "cached invalid entry (no invalidation since the walk faulted)\n" +
                                       describe_walk(va));
  if (in_dmap(va)) return pte(va).pa;
  auto [first, l] = find(va);
  if (!l || !l->pte.valid || (write && !l->pte.writable)) throw PageFault(cpu, va, type, describe_walk(va));
  l->pte.accessed = true;
  if (write) l->pte.modified = true;
  return l->pte.pa + (trunc_page(va) - first);
}

void RefPmap::do_load(cpuid_t cpu, vaddr_t va, std::span<std::uint8_t> out) {
  const paddr_t pa = translate(cpu, va, AccessType::Read);
  phys_->read(pa + (va & PAGE_MASK), out.data(), out.size());
}

void RefPmap::do_store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> in) {
  const paddr_t pa = translate(cpu, va, AccessType::Write);
  phys_->write(pa + (va & PAGE_MASK), in.data(), in.size());
}

}  // namespace kva
