#include "archs/arm64/arm64_pmap.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "archs/arm64/arm64_cpu.h"
#include "archs/arm64/arm64_layout.h"
#include "archs/arm64/arm64_stub_abi.h"
#include "stubs/arm64_stubs.h"

namespace kva::arm64 {

namespace {

constexpr const char* kLevelNames[kLevels] = {"L0", "L1", "L2", "L3"};

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

MemAttr mem_attr(CacheMode m) {
  switch (m) {
    case CacheMode::WriteBack: return MemAttr::WriteBack;
    case CacheMode::WriteThrough: return MemAttr::WriteThrough;
    case CacheMode::UncachedMinus: return MemAttr::Uncacheable;   // Normal non-cacheable
    case CacheMode::Uncacheable: return MemAttr::DeviceNGnRnE;   // strongly ordered
  }
  return MemAttr::WriteBack;
}

CacheMode cache_mode(unsigned attr_index) {
  switch (static_cast<MemAttr>(attr_index)) {
    case MemAttr::WriteBack: return CacheMode::WriteBack;
    case MemAttr::WriteThrough: return CacheMode::WriteThrough;
    case MemAttr::Uncacheable: return CacheMode::UncachedMinus;
    default: return CacheMode::Uncacheable;  // the Device types
  }
}

// The dirty state of a DBM entry is "writable" (Arm ARM D8.4.6); without DBM it is not tracked.
bool dirty(const Descriptor& d) { return d.dirty_bit_modifier() && !d.read_only(); }

}  // namespace

Arm64Pmap::Arm64Pmap(const MachineConfig& cfg)
    : EmulatedPmap(cfg, kRamBase), tables_(phys()), rules_(tlb_model()) {
  const FirmwareLayout fw{kFirmwareBase};
  build_kernel_tables(tables_, phys(), fw);
  start_machine(guest_isa(boot_params(stubs::arm64_stubs, fw, ttbr(tables_.ttbr0_root(), kAsid),
                                      ttbr(tables_.ttbr1_root(), 0))),
                stubs::arm64_stubs, kFirmwareBase);
}

PmapCapabilities Arm64Pmap::capabilities_for() {
  PmapCapabilities c;
  c.large_page_sizes = {level_bytes(2), level_bytes(1)};
  c.global_entries = true;
  c.cache_modes = true;
  c.table_reach = {level_bytes(2), level_bytes(1), level_bytes(0)};
  c.walk_cache = true;
  c.requires_break_before_make = true;
  c.broadcast_invalidation = true;
  c.accessed_flag_faults = true;
  c.growable_kva = true;
  return c;
}

vaddr_t Arm64Pmap::phys_to_dmap(paddr_t pa) const {
  if (!phys_->contains(pa)) throw KvaError("phys_to_dmap: pa outside guest RAM");
  return arm64::phys_to_dmap(pa);
}

VaRange Arm64Pmap::kva_space() const { return kKva; }
VaRange Arm64Pmap::growable_kva() const { return kGrowableKva; }

bool Arm64Pmap::in_kernel_kva(vaddr_t va, std::uint64_t len) const {
  for (const VaRange& r : {kKva, kGrowableKva})
    if (r.contains(va) && len <= r.end - va) return true;
  return false;
}

paddr_t Arm64Pmap::kernel_pte_slot(vaddr_t va) const {
  if (!in_kernel_kva(va))
    throw KvaError("arm64: no kernel page table for va " + hex(va) + " (outside kva_space and growable_kva)");
  auto slot = tables_.leaf_slot(va);
  if (!slot) {
    if (tables_.walk(va).reached_leaf())
      throw KvaError("arm64: a block maps va " + hex(va) + "; kremove it first");
    throw KvaError("arm64: no kernel page table for va " + hex(va) + " (growkernel first)");
  }
  return *slot;
}

std::optional<paddr_t> Arm64Pmap::mapped_leaf_slot(vaddr_t va) const {
  const Walk w = tables_.walk(va);
  if (!w.reached_leaf()) return std::nullopt;
  return w.leaf().slot;
}

Descriptor Arm64Pmap::leaf(int level, paddr_t pa, const KenterAttrs& attrs) const {
  Descriptor d = kernel_leaf(level, pa);
  d.set_not_global(!attrs.global.value_or(true));  // kernel entries are global
  d.set_access_permission(attrs.writable.value_or(true) ? AccessPermission::KernelRw : AccessPermission::KernelRo);
  d.set_mem_attr(mem_attr(attrs.cache.value_or(CacheMode::WriteBack)));
  return d;
}

void Arm64Pmap::do_kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs) {
  tables_.write(kernel_pte_slot(va), leaf(kLeafLevel, trunc_page(pa), attrs));
}

void Arm64Pmap::do_kremove(vaddr_t va) {
  if (!in_kernel_kva(va)) throw KvaError("arm64: kremove of va " + hex(va) + " outside kernel KVA");
  if (auto slot = mapped_leaf_slot(va)) tables_.write(*slot, Descriptor{});
}

void Arm64Pmap::do_kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs) {
  if (!in_kernel_kva(va, size))
    throw KvaError("arm64: kenter_large: [" + hex(va) + ", +" + size_name(size) +
                   ") is not inside kva_space or growable_kva");
  const int level = size == level_bytes(1) ? 1 : 2;
  // Like a promotion: the block replaces whatever the slot held (a table pointer too).
  if (auto slot = tables_.slot_at(va, level); slot && tables_.read(*slot).is_table(level))
    tables_changed_.push_back({va, va + size});
  tables_.map(va, level, leaf(level, pa, attrs));
}

void Arm64Pmap::do_protect(vaddr_t va, std::size_t npages, bool writable) {
  if (!in_kernel_kva(va, npages * PAGE_SIZE)) throw KvaError("arm64: protect outside kernel KVA at " + hex(va));
  for (std::size_t i = 0; i < npages; ++i)
    if (auto slot = mapped_leaf_slot(va + i * PAGE_SIZE)) {
      Descriptor d = tables_.read(*slot);
      d.set_access_permission(writable ? AccessPermission::KernelRw : AccessPermission::KernelRo);
      tables_.write(*slot, d);
    }
}

std::size_t Arm64Pmap::do_growkernel(vaddr_t va) {
  if (!in_kernel_kva(va)) throw KvaError("arm64: growkernel: va " + hex(va) + " is not kernel KVA");
  std::size_t allocated = 0;
  tables_.ensure_slot(va, kLeafLevel, &allocated);
  return allocated;
}

paddr_t Arm64Pmap::do_replace_table(vaddr_t va, int level, bool copy) {
  if (!in_kernel_kva(va)) throw KvaError("arm64: replace_table: va " + hex(va) + " is not kernel KVA");
  const int at = kLeafLevel - level;  // walk level of the table descriptor to re-point
  auto slot = tables_.slot_at(va, at);
  const Descriptor old = slot ? tables_.read(*slot) : Descriptor{};
  if (!old.is_table(at))
    throw KvaError(std::string("arm64: replace_table: no ") + kLevelNames[at] +
                   " table descriptor for va " + hex(va) + " (growkernel first)");
  const paddr_t page = tables_.alloc_table();
  if (copy) std::memcpy(phys_->host_ptr(page), phys_->host_ptr(old.output_address(at)), PAGE_SIZE);
  Descriptor d = old;
  d.set_output_address(page);
  tables_.write(*slot, d);
  const vaddr_t base = va & ~(level_bytes(at) - 1);
  tables_changed_.push_back({base, base + level_bytes(at)});
  return page;
}

void Arm64Pmap::update_leaf(vaddr_t va, void (*edit)(Descriptor&)) {
  if (!in_kernel_kva(va) && !(va >= kDmapMinAddress && va < kDmapMaxAddress))
    throw KvaError("arm64: no kernel mapping for va " + hex(va));
  auto slot = mapped_leaf_slot(va);
  if (!slot) return;
  Descriptor d = tables_.read(*slot);
  edit(d);
  tables_.write(*slot, d);
}

void Arm64Pmap::do_clear_accessed(vaddr_t va) {
  update_leaf(va, [](Descriptor& d) { d.set_access_flag(false); });
}

void Arm64Pmap::do_set_accessed(vaddr_t va) {
  update_leaf(va, [](Descriptor& d) { d.set_access_flag(true); });
}

void Arm64Pmap::do_clear_modified(vaddr_t va) {
  update_leaf(va, [](Descriptor& d) {
    if (d.dirty_bit_modifier()) d.set_access_permission(AccessPermission::KernelRo);  // clean
  });
}

PteState Arm64Pmap::pte(vaddr_t va) const {
  const Walk w = tables_.walk(va);
  PteState s;
  if (!w.reached_leaf()) return s;
  const Descriptor& d = w.leaf().desc;
  s.valid = true;
  s.writable = w.writable;
  s.accessed = d.access_flag();
  s.modified = dirty(d);
  s.global = !d.not_global();
  s.pa = w.pa;
  s.page_size = w.leaf_bytes();
  s.cache = cache_mode(d.attr_index());
  s.executable = !d.privileged_execute_never();
  s.level = w.leaf_level;
  return s;
}

std::vector<WalkLevel> Arm64Pmap::walk(vaddr_t va) const {
  const Walk w = tables_.walk(va);
  std::vector<WalkLevel> out;
  for (int i = 0; i < w.depth; ++i) {
    const WalkStep& s = w.steps[i];
    const Descriptor& d = s.desc;
    WalkLevel v;
    v.level = s.level;
    v.name = kLevelNames[s.level];
    v.slot = s.slot;
    v.raw = d.raw();
    v.present = d.valid();
    v.leaf = d.is_leaf(s.level);
    v.writable = v.leaf ? !d.read_only() : (v.present && !d.ap_table_read_only());
    v.user = v.leaf && d.el0_accessible();
    v.accessed = v.leaf && d.access_flag();
    v.dirty = v.leaf && dirty(d);
    v.global = v.leaf && !d.not_global();
    v.executable = v.leaf ? !d.privileged_execute_never() : !d.pxn_table();
    v.cache = cache_mode(d.attr_index());
    v.reach = level_bytes(s.level);
    v.next = d.output_address(s.level);
    v.index = static_cast<int>(s.index);
    v.table = s.slot - s.index * sizeof(std::uint64_t);
    out.push_back(v);
  }
  return out;
}

std::string Arm64Pmap::describe_walk(vaddr_t va) const { return tables_.describe(va); }

Translation Arm64Pmap::translation(vaddr_t va, int level, const Descriptor& d, bool writable) const {
  Translation t;
  t.span = level_bytes(level);
  t.va = va & ~(t.span - 1);
  t.level = static_cast<std::uint8_t>(level);
  t.writable = writable;
  t.name = kLevelNames[level];
  t.pa = d.output_address(level);
  if (d.is_leaf(level)) {
    t.kind = EntryKind::Leaf;
    t.global = !d.not_global();
    t.asid = t.global ? 0 : kAsid;
  } else {
    t.kind = EntryKind::Table;
    t.asid = kAsid;
  }
  return t;
}

// Depth-first over the descriptors whose reach meets [first, last]: leaves with AF=1 (an AF=0
// leaf faults and is never cached) and every table descriptor (walk caches).
void Arm64Pmap::enumerate(paddr_t table, int level, vaddr_t base, vaddr_t first, vaddr_t last,
                          bool writable, std::vector<Translation>& out) const {
  const std::uint64_t reach = level_bytes(level);
  const std::uint64_t span = reach * 512;
  const vaddr_t lo = std::max(first, base);
  const vaddr_t hi = std::min(last, base + (span - 1));
  if (lo > hi) return;
  for (std::size_t i = PageTables::index_of(lo, level); i <= PageTables::index_of(hi, level); ++i) {
    const Descriptor d = tables_.read(table + i * sizeof(std::uint64_t));
    const vaddr_t eva = base + i * reach;
    if (d.is_leaf(level)) {
      if (d.access_flag()) out.push_back(translation(eva, level, d, writable && !d.read_only()));
    } else if (d.is_table(level)) {
      const bool w = writable && !d.ap_table_read_only();
      out.push_back(translation(eva, level, d, w));
      enumerate(d.output_address(level), level + 1, eva, first, last, w, out);
    }
  }
}

void Arm64Pmap::cacheable_translations(VaRange range, std::vector<Translation>& out) const {
  if (range.empty()) return;
  const AddressHalf half = address_half(range.start);
  if (half == AddressHalf::Neither || address_half(range.end - 1) != half) return;  // not one half
  const vaddr_t base = half == AddressHalf::Upper ? 0xffff'0000'0000'0000ull : 0;
  enumerate(tables_.root_for(half), 0, base, range.start, range.end - 1, true, out);
}

std::optional<Translation> Arm64Pmap::walk_via(const Translation& via, vaddr_t va) const {
  if (via.kind != EntryKind::Table) return std::nullopt;
  const Walk w = tables_.walk_from(va, via.pa, via.level + 1, via.writable);
  if (!w.mapped()) return std::nullopt;  // that walk faults (invalid, or AF=0)
  return translation(va, w.leaf_level, w.leaf().desc, w.writable);
}

std::string Arm64Pmap::rule_text(const HeldEntry& e) const {
  if (e.note != kNoRule || e.bbm) return Pmap::rule_text(e);
  switch (e.t.kind) {
    case EntryKind::Table: return std::string("arm64: ") + e.t.name + " table descriptor cached in a walk cache";
    case EntryKind::Leaf:
      if (e.holding == Holding::Demand) return "arm64: cached by this CPU's walk; no TLBI since the entry changed";
      if (e.walked_by >= 0) return "arm64: speculative fill while valid with AF=1 (walked by cpu" + std::to_string(e.walked_by) + ")";
      return "arm64: speculative fill while valid with AF=1 (AF preset by the pmap)";
    default: break;
  }
  return Pmap::rule_text(e);
}

void Arm64Pmap::execute(cpuid_t cpu, CpuSet reach, TlbiOp op, vaddr_t va, std::size_t npages,
                        std::uint16_t asid) {
  const StubRoutine& r = machine().routine(tlbi_stub(op.name().c_str()));
  if (reach.isset(cpu)) {
    if (op.by_va())
      run(cpu, r, {trunc_page(va), npages, asid});
    else if (op.kind == TlbiKind::Asid)
      run(cpu, r, {asid});
    else
      run(cpu, r, {});
  }
  if (op.inner_shareable)
    carry_broadcast(cpu, reach, op.by_va() ? stub_abi::InvalOp::Range : stub_abi::InvalOp::All, trunc_page(va), npages);
  const InvalidationScope s = tlbi_scope(op, rules_, va, npages, asid);
  reach.for_each([&](cpuid_t c) {
    tlb_model().invalidate(c, s);
    if (op.by_va())
      stats().local_invalidations += npages;
    else
      stats().full_flushes += 1;
  });
}

void Arm64Pmap::do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  execute(cpu, CpuSet::only(cpu), {va_form(va, npages, false), false}, va, npages, kAsid);
}

TlbiKind Arm64Pmap::va_form(vaddr_t va, std::size_t npages, bool consume) {
  const vaddr_t start = trunc_page(va), end = start + npages * PAGE_SIZE;
  auto changed = [&](const VaRange& r) { return r.start < end && start < r.end; };
  if (std::none_of(tables_changed_.begin(), tables_changed_.end(), changed)) return TlbiKind::VaAllAsidsLast;
  if (consume) std::erase_if(tables_changed_, changed);
  return TlbiKind::VaAllAsids;
}

void Arm64Pmap::broadcast(cpuid_t issuer, CpuSet reach, vaddr_t va, std::size_t npages) {
  ++stats().broadcasts;
  const TlbiKind form = va_form(va, npages, /*consume=*/reach == all_cpus());
  if (!reach.empty()) execute(issuer, reach, {form, true}, va, npages, kAsid);
}

void Arm64Pmap::do_invalidate_range_all(cpuid_t cpu, bool local, CpuSet targets, vaddr_t va,
                                        std::size_t npages) {
  if (local) targets.set(cpu);
  broadcast(cpu, targets, va, npages);
}

void Arm64Pmap::do_shootdown(cpuid_t initiator, CpuSet, vaddr_t va, std::size_t npages) {
  // A broadcast cannot be addressed to a subset: it reaches every CPU, the initiator too.
  CpuSet reach = all_cpus();
  CpuSet others = reach;
  others.clr(initiator);
  if (faults().enabled(Fault::DropShootdownIpi)) reach.clr(others.last());
  broadcast(initiator, reach, va, npages);
}

void Arm64Pmap::do_flush_local(cpuid_t cpu, bool include_global) {
  // Global entries survive TLBI ASIDE1 of the current ASID; VMALLE1 drops everything.
  execute(cpu, CpuSet::only(cpu), {include_global ? TlbiKind::All : TlbiKind::Asid, false}, 0, 0, kAsid);
}

void Arm64Pmap::tlbi(cpuid_t cpu, TlbiOp op, vaddr_t va, std::size_t npages, std::uint16_t asid) {
  if (cpu < 0 || cpu >= ncpus()) throw KvaError("arm64 tlbi: cpu " + std::to_string(cpu) + " does not exist");
  if (op.inner_shareable) ++stats().broadcasts;
  execute(cpu, op.inner_shareable ? all_cpus() : CpuSet::only(cpu), op, va, npages, asid);
}

}  // namespace kva::arm64
