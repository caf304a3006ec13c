// Definitions of X86Pmap<Paging>; included only by the .cpp that instantiates a variant.
#pragma once
#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "archs/x86/x86_pmap.h"
#include "archs/x86/x86_stub_abi.h"

namespace kva::x86 {

inline std::string hex_string(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

template <class Paging>
X86Pmap<Paging>::X86Pmap(const MachineConfig& cfg, Platform platform)
    : EmulatedPmap(cfg, kRamBase), platform_(std::move(platform)), tables_(phys()) {
  PhysicalMemory& ram = phys();
  map_firmware();
  // Direct map: all of physical memory up to the end of RAM, in global 2 MiB pages with A and
  // M preset (FreeBSD's create_pagetables builds the DMAP from PA 0 the same way).
  if (platform_.dmap_base) {
    constexpr int kLevel = Paging::kLevels - 2;
    constexpr std::uint64_t kLarge = std::uint64_t{1} << Paging::kShift[kLevel];
    const KernelPteBits dmap_bits{true, true, platform_.kenter_bits.no_execute};
    paddr_t end = (ram.base() + ram.size() + kLarge - 1) & ~(kLarge - 1);
    for (paddr_t pa = 0; pa < end; pa += kLarge)
      tables_.write_leaf(*platform_.dmap_base + pa, kLevel, leaf_entry(pa, dmap_bits, {}, true));
  }
  tables_.populate(platform_.kva.start, platform_.kva.end);

  start_machine(guest_isa(platform_.mode, tables_.root(), platform_.cr4_bits, platform_.efer_bits),
                *platform_.stubs, kFirmwareBase);
  invlrng_ = &machine().routine(stub_abi::kInvalidateRange);
  invltlb_ = &machine().routine(stub_abi::kInvalidateAll);
  invltlb_glob_ = &machine().routine(kStubInvltlbGlob);
  global_survives_cr3_ = tlb_model().rule("x86: global entry survives CR3 load");
  register_survives_invlpg_ =
      tlb_model().rule("x86: PAE PDPTE register survives INVLPG (reloaded only at CR3 load)");
  for (cpuid_t c = 0; c < cfg.ncpus; ++c) load_root_registers(c);  // boot loaded CR3
}

template <class Paging>
void X86Pmap<Paging>::map_firmware() {
  // Identity, global, skipping page 0 so a null pointer still faults.
  FirmwareLayout fw{kFirmwareBase};
  for (paddr_t pa = fw.base + PAGE_SIZE; pa < fw.end(); pa += PAGE_SIZE) tables_.map_page(pa, pa, /*global=*/true);
  // The data pages are user pages (U/S at every level that has it), so with CR4.SMEP the
  // kernel cannot execute them: Unicorn then keeps the fast path for stores there
  // (emu/firmware.h). This works on every format; plain i386 has no NX bit.
  for (paddr_t pa = fw.data(); pa < fw.end(); pa += PAGE_SIZE) {
    auto w = tables_.walk(pa);
    for (int level = 0; level < w.depth; ++level) {
      if (level == 0 && Paging::kTopLevelPresentOnly) continue;
      Entry e = w.steps[level].entry;
      e.set_user(true);
      tables_.write(w.steps[level].slot, e);
    }
  }
}
template <class Paging>
PmapCapabilities X86Pmap<Paging>::make_capabilities() const {
  return capabilities_for(platform_);
}

template <class Paging>
PmapCapabilities X86Pmap<Paging>::capabilities_for(const Platform& platform_) {
  PmapCapabilities c;
  for (int l = kLeafLevel - 1; l >= 0; --l) {
    if (Paging::kLargeAllowed[l]) c.large_page_sizes.push_back(PageTables<Paging>::level_bytes(l));
    c.table_reach.push_back(PageTables<Paging>::level_bytes(l));
  }
  c.global_entries = (platform_.cr4_bits & kCr4Pge) != 0;
  c.cache_modes = true;
  c.walk_cache = true;
  c.root_registers = Paging::kTopLevelCachedAtCr3Load;
  c.growable_kva = !platform_.grow.empty();
  return c;
}

template <class Paging>
void X86Pmap<Paging>::load_root_registers(cpuid_t cpu) {
  if constexpr (Paging::kTopLevelCachedAtCr3Load) {
    const std::uint64_t reach = PageTables<Paging>::level_bytes(0);
    for (std::size_t i = 0; i < Paging::kEntries[0]; ++i) {
      const Entry e = tables_.read(tables_.root() + i * sizeof(typename Entry::raw_type));
      if (e.is_present()) tlb_model().note_walk(cpu, translation(i * reach, 0, e, true));
    }
  }
}

template <class Paging>
vaddr_t X86Pmap<Paging>::phys_to_dmap(paddr_t pa) const {
  if (!platform_.dmap_base) return Pmap::phys_to_dmap(pa);  // throws: no direct map
  if (!phys_->contains(pa)) throw KvaError("phys_to_dmap: pa outside guest RAM");
  return *platform_.dmap_base + pa;
}

template <class Paging>
bool X86Pmap<Paging>::in_kernel_kva(vaddr_t va, std::uint64_t len) const {
  for (const VaRange& r : {platform_.kva, platform_.grow})
    if (r.contains(va) && len <= r.end - va) return true;
  return false;
}

template <class Paging>
paddr_t X86Pmap<Paging>::kernel_pte_slot(vaddr_t va) const {
  if (!in_kernel_kva(va))
    throw KvaError(platform_.name + ": no kernel page table for va " + hex_string(va) +
                   " (outside kva_space and growable_kva)");
  auto slot = tables_.leaf_slot(va);
  if (!slot) {
    if (tables_.walk(va).mapped)
      throw KvaError(platform_.name + ": a large page maps va " + hex_string(va) + "; kremove it first");
    throw KvaError(platform_.name + ": no kernel page table for va " + hex_string(va) +
                   " (growkernel first)");
  }
  return *slot;
}

template <class Paging>
std::optional<paddr_t> X86Pmap<Paging>::mapped_leaf_slot(vaddr_t va) const {
  auto w = tables_.walk(va);
  if (!w.mapped) return std::nullopt;
  return w.leaf().slot;
}

template <class Paging>
auto X86Pmap<Paging>::leaf_entry(paddr_t pa, const KernelPteBits& bits, const KenterAttrs& attrs,
                                 bool large) const -> Entry {
  Entry e;
  e.set_present(true);
  e.set_writable(attrs.writable.value_or(true));
  e.set_global(attrs.global.value_or(bits.global));
  e.set_accessed(bits.accessed_modified);
  e.set_dirty(bits.accessed_modified);
  e.set_cache_mode(attrs.cache.value_or(CacheMode::WriteBack));
  if constexpr (Entry::kHasNx) e.set_no_execute(bits.no_execute);
  e.set_large(large);
  e.set_physical_address(pa);
  return e;
}

template <class Paging>
void X86Pmap<Paging>::do_kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs) {
  // pmap_kenter: P | RW plus the arch's bits (amd64: pg_g | A | M | pg_nx; i386: none).
  tables_.write(kernel_pte_slot(va), leaf_entry(trunc_page(pa), platform_.kenter_bits, attrs, false));
}

template <class Paging>
void X86Pmap<Paging>::do_kremove(vaddr_t va) {
  if (!in_kernel_kva(va))
    throw KvaError(platform_.name + ": kremove of va " + hex_string(va) + " outside kernel KVA");
  if (auto slot = mapped_leaf_slot(va)) tables_.write(*slot, Entry{});
}

template <class Paging>
void X86Pmap<Paging>::do_kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size,
                                      const KenterAttrs& attrs) {
  if (!in_kernel_kva(va, size))
    throw KvaError(platform_.name + ": kenter_large: [" + hex_string(va) + ", +" + size_name(size) +
                   ") is not inside kva_space or growable_kva");
  int level = 0;
  while (PageTables<Paging>::level_bytes(level) != size) ++level;
  // Like a promotion: the PS entry replaces whatever the slot held (a page-table pointer too).
  tables_.write_leaf(va, level, leaf_entry(pa, platform_.kenter_bits, attrs, true));
}

template <class Paging>
void X86Pmap<Paging>::do_protect(vaddr_t va, std::size_t npages, bool writable) {
  if (!in_kernel_kva(va, npages * PAGE_SIZE))
    throw KvaError(platform_.name + ": protect outside kernel KVA at " + hex_string(va));
  for (std::size_t i = 0; i < npages; ++i)
    if (auto slot = mapped_leaf_slot(va + i * PAGE_SIZE)) {
      Entry e = tables_.read(*slot);
      e.set_writable(writable);
      tables_.write(*slot, e);
    }
}

template <class Paging>
std::size_t X86Pmap<Paging>::do_growkernel(vaddr_t va) {
  if (!in_kernel_kva(va))
    throw KvaError(platform_.name + ": growkernel: va " + hex_string(va) + " is not kernel KVA");
  std::size_t allocated = 0;
  tables_.ensure_slot(va, kLeafLevel, &allocated);
  return allocated;
}

template <class Paging>
paddr_t X86Pmap<Paging>::do_replace_table(vaddr_t va, int level, bool copy) {
  if (!in_kernel_kva(va))
    throw KvaError(platform_.name + ": replace_table: va " + hex_string(va) + " is not kernel KVA");
  const int at = kLeafLevel - level;  // walk level of the entry to re-point
  auto slot = tables_.slot_at(va, at);
  const Entry old = slot ? tables_.read(*slot) : Entry{};
  if (!slot || !old.is_present() || PageTables<Paging>::is_leaf(old, at))
    throw KvaError(platform_.name + ": replace_table: no " + Paging::kNames[at] +
                   " pointing at a table for va " + hex_string(va) + " (growkernel first)");
  const paddr_t page = tables_.alloc_table();
  if (copy)
    std::memcpy(phys_->host_ptr(page), phys_->host_ptr(old.physical_address()), PAGE_SIZE);
  Entry e = old;
  e.set_physical_address(page);
  tables_.write(*slot, e);
  return page;
}

template <class Paging>
PteState X86Pmap<Paging>::pte(vaddr_t va) const {
  auto w = tables_.walk(va);
  PteState s;
  if (!w.mapped) return s;
  const Entry& leaf = w.leaf().entry;
  s.valid = true;
  s.writable = w.writable;
  s.accessed = leaf.accessed();
  s.modified = leaf.dirty();
  s.global = leaf.global();
  s.pa = w.pa;
  s.page_size = w.page_bytes;
  s.cache = leaf.cache_mode();
  s.executable = leaf.executable();
  s.level = w.leaf_level;
  return s;
}

template <class Paging>
std::vector<WalkLevel> X86Pmap<Paging>::walk(vaddr_t va) const {
  auto w = tables_.walk(va);
  std::vector<WalkLevel> out;
  for (int l = 0; l < w.depth; ++l) {
    const auto& step = w.steps[l];
    const Entry& e = step.entry;
    const bool top_present_only = l == 0 && Paging::kTopLevelPresentOnly;
    WalkLevel v;
    v.level = l;
    v.name = Paging::kNames[l];
    v.slot = step.slot;
    v.raw = static_cast<std::uint64_t>(e.raw());
    v.present = e.is_present();
    v.leaf = v.present && PageTables<Paging>::is_leaf(e, l);
    v.writable = top_present_only ? v.present : e.is_writable();
    v.user = e.is_user();
    v.accessed = e.accessed();
    v.dirty = e.dirty();
    v.global = e.global();
    v.executable = e.executable();
    v.cache = e.cache_mode();
    v.reach = PageTables<Paging>::level_bytes(l);
    v.next = v.leaf ? e.physical_address(v.reach) : e.physical_address();
    v.index = static_cast<int>(step.index);
    v.table = step.slot - step.index * sizeof(typename Entry::raw_type);
    out.push_back(v);
  }
  return out;
}

template <class Paging>
void X86Pmap<Paging>::update_leaf(vaddr_t va, void (*edit)(Entry&)) {
  if (!in_kernel_kva(va) && !(platform_.dmap_base && pte(va).valid))
    throw KvaError(platform_.name + ": no kernel page table for va " + hex_string(va));
  auto slot = mapped_leaf_slot(va);
  if (!slot) return;
  Entry e = tables_.read(*slot);
  edit(e);
  tables_.write(*slot, e);
}

template <class Paging>
void X86Pmap<Paging>::do_clear_accessed(vaddr_t va) {
  update_leaf(va, [](Entry& e) { e.set_accessed(false); });
}

template <class Paging>
void X86Pmap<Paging>::do_clear_modified(vaddr_t va) {
  update_leaf(va, [](Entry& e) { e.set_dirty(false); });
}

// pmap_qenter: only PTEs whose frame or cache bits change are written; the range is invalidated
// everywhere when a rewritten PTE was valid.
template <class Paging>
bool X86Pmap<Paging>::do_qenter(vaddr_t va, std::span<const paddr_t> pas) {
  bool replaced_valid = false;
  for (std::size_t i = 0; i < pas.size(); ++i) {
    const paddr_t slot = kernel_pte_slot(va + i * PAGE_SIZE);
    const Entry old = tables_.read(slot);
    const Entry e = leaf_entry(trunc_page(pas[i]), platform_.qenter_bits, {}, false);
    if (old.physical_address() == e.physical_address() && old.cache_mode() == e.cache_mode()) continue;
    replaced_valid |= old.is_present();
    tables_.write(slot, e);
  }
  return replaced_valid;
}

template <class Paging>
Translation X86Pmap<Paging>::translation(vaddr_t va, int level, const Entry& e, bool writable) const {
  const std::uint64_t reach = PageTables<Paging>::level_bytes(level);
  Translation t;
  t.va = va & ~(reach - 1);
  t.span = reach;
  t.level = static_cast<std::uint8_t>(level);
  t.writable = writable;
  t.name = Paging::kNames[level];
  if (PageTables<Paging>::is_leaf(e, level)) {
    t.kind = EntryKind::Leaf;
    t.pa = e.physical_address(reach);
    t.global = e.global();
  } else {
    t.kind = level == 0 && Paging::kTopLevelCachedAtCr3Load ? EntryKind::RootRegister : EntryKind::Table;
    t.pa = e.physical_address();
  }
  return t;
}

// Depth-first over the entries whose reach meets `range`: leaves with A=1, upper-level entries
// with A=1 (paging-structure caches), PAE PDPTEs (registers, no A bit).
template <class Paging>
void X86Pmap<Paging>::enumerate(paddr_t table, int level, vaddr_t base, vaddr_t first,
                                vaddr_t last, bool writable, std::vector<Translation>& out) const {
  const std::uint64_t reach = PageTables<Paging>::level_bytes(level);
  const std::uint64_t span = reach * Paging::kEntries[level];  // what this table covers
  const vaddr_t lo = std::max(first, base);
  const vaddr_t hi = std::min(last, base + (span - 1));
  if (lo > hi) return;
  using PT = PageTables<Paging>;
  for (std::size_t i = PT::index_of(lo, level); i <= PT::index_of(hi, level); ++i) {
    const Entry e = tables_.read(table + i * sizeof(typename Entry::raw_type));
    if (!e.is_present()) continue;
    const vaddr_t eva = base + i * reach;
    const bool top_present_only = level == 0 && Paging::kTopLevelPresentOnly;
    const bool w = writable && (top_present_only || e.is_writable());
    const Translation t = translation(PT::canonical(eva), level, e, w);
    if (t.kind == EntryKind::Leaf) {
      if (e.accessed()) out.push_back(t);
      continue;
    }
    if (t.kind == EntryKind::RootRegister || e.accessed()) out.push_back(t);
    enumerate(e.physical_address(), level + 1, eva, first, last, w, out);
  }
}

template <class Paging>
void X86Pmap<Paging>::cacheable_translations(VaRange range, std::vector<Translation>& out) const {
  if (range.empty()) return;
  // The walk indexes kShift[0] + log2(kEntries[0]) bits of VA (48 on amd64, 32 on i386).
  constexpr unsigned kBits = Paging::kShift[0] + std::countr_zero(Paging::kEntries[0]);
  constexpr vaddr_t kMask = kBits >= 64 ? ~vaddr_t{0} : (vaddr_t{1} << kBits) - 1;
  const vaddr_t first = range.start & kMask, last = (range.end - 1) & kMask;
  if (first > last) return;  // across amd64's non-canonical hole: not a kernel range
  enumerate(tables_.root(), 0, 0, first, last, true, out);
}

template <class Paging>
std::optional<Translation> X86Pmap<Paging>::walk_via(const Translation& via, vaddr_t va) const {
  if (via.kind != EntryKind::Table && via.kind != EntryKind::RootRegister) return std::nullopt;
  auto w = tables_.walk_from(va, via.pa, via.level + 1, via.writable);
  if (!w.mapped) return std::nullopt;
  return translation(va, w.leaf_level, w.leaf().entry, w.writable);
}

template <class Paging>
std::string X86Pmap<Paging>::rule_text(const HeldEntry& e) const {
  if (e.note != kNoRule || e.bbm) return Pmap::rule_text(e);
  switch (e.t.kind) {
    case EntryKind::Table:
      return std::string("x86: ") + e.t.name + " cached in paging-structure cache";
    case EntryKind::RootRegister: return "x86: PAE PDPTE register loaded at CR3 load";
    case EntryKind::Leaf:
      if (e.holding == Holding::Demand)
        return "x86: cached by this CPU's walk; no INVLPG or CR3 load since the entry changed";
      if (e.walked_by >= 0) return "speculative fill after A=1 on cpu" + std::to_string(e.walked_by);
      return "speculative fill after A=1 (A preset in the entry)";
    case EntryKind::Invalid: break;
  }
  return Pmap::rule_text(e);
}

template <class Paging>
std::string X86Pmap<Paging>::describe_walk(vaddr_t va) const {
  return tables_.describe(va);
}

template <class Paging>
void X86Pmap<Paging>::account_invalidation(cpuid_t cpu, bool full_flush, vaddr_t va,
                                           std::size_t npages) {
  if (full_flush) {
    stats().full_flushes += 1;
    flush_model(cpu, /*include_global=*/true);
    return;
  }
  stats().local_invalidations += npages;
  // invlpg drops the page's entries (global and large ones too) and every paging-structure-
  // cache entry, whatever its address; PAE PDPTE registers stay.
  InvalidationScope s = InvalidationScope::range(va, va + npages * PAGE_SIZE);
  s.tables = InvalidationScope::Tables::All;
  s.register_rule = register_survives_invlpg_;
  tlb_model().invalidate(cpu, s);
}

template <class Paging>
void X86Pmap<Paging>::flush_model(cpuid_t cpu, bool include_global) {
  InvalidationScope s = InvalidationScope::everything();
  s.keep_global = !include_global;
  s.global_rule = global_survives_cr3_;
  tlb_model().invalidate(cpu, s);
  load_root_registers(cpu);
}

template <class Paging>
void X86Pmap<Paging>::do_flush_local(cpuid_t cpu, bool include_global) {
  run(cpu, include_global ? *invltlb_glob_ : *invltlb_, {});
  stats().full_flushes += 1;
  flush_model(cpu, include_global);
}

// A page fault invalidates the faulting page's TLB entries and the paging-structure-cache
// entries used to translate it (SDM 4.10.4.1).
template <class Paging>
void X86Pmap<Paging>::on_page_fault(cpuid_t cpu, vaddr_t va, AccessType type) {
  InvalidationScope s = InvalidationScope::range(trunc_page(va), trunc_page(va) + PAGE_SIZE);
  tlb_model().invalidate(cpu, s);
  Pmap::on_page_fault(cpu, va, type);
}

template <class Paging>
void X86Pmap<Paging>::do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  bool full = npages >= kInvlpgThresholdPages;
  if (full)
    run(cpu, *invltlb_glob_, {});  // pmap_invalidate_all: kernel pmap
  else
    run(cpu, *invlrng_, {trunc_page(va), npages});
  account_invalidation(cpu, full, trunc_page(va), npages);
}

template <class Paging>
void X86Pmap<Paging>::do_shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va,
                                   std::size_t npages) {
  // smp_targeted_tlb_shootdown: publish the request, IPI each target, wait for its ack.
  bool full = npages >= kInvlpgThresholdPages;
  auto op = full ? stub_abi::InvalOp::All : stub_abi::InvalOp::Range;
  targets.for_each([&](cpuid_t t) {
    stats().ipis += 1;
    run_shootdown_handler(t, op, va, npages);
    account_invalidation(t, full, trunc_page(va), npages);
  });
}

}  // namespace kva::x86
