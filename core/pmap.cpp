#include "core/pmap.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <tuple>

namespace kva {

namespace {
const MachineConfig& validated(const MachineConfig& cfg) {
  if (cfg.ncpus < 1 || cfg.ncpus > MAXCPU)
    throw KvaError("ncpus must be between 1 and " + std::to_string(MAXCPU) + ", got " +
                   std::to_string(cfg.ncpus));
  return cfg;
}

// Bytes of [va, va+n) that stay within va's page.
std::size_t chunk_in_page(vaddr_t va, std::size_t n) {
  return std::min<std::size_t>(n, PAGE_SIZE - (va & PAGE_MASK));
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

bool translation_less(const Translation& a, const Translation& b) {
  return std::tie(a.va, a.span, a.kind, a.level, a.pa, a.writable, a.global, a.asid) <
         std::tie(b.va, b.span, b.kind, b.level, b.pa, b.writable, b.global, b.asid);
}

VaRange page_range(vaddr_t va, std::size_t npages = 1) {
  return {trunc_page(va), trunc_page(va) + npages * PAGE_SIZE};
}

// Whether a held entry is stale for this access, and how.
struct Verdict {
  bool stale = false;
  bool rights = false;
  std::optional<paddr_t> frame;
};
}  // namespace

Pmap::Pmap(const MachineConfig& cfg, paddr_t ram_base)
    : phys_(std::make_unique<PhysicalMemory>(ram_base, validated(cfg).mem_bytes)),
      ncpus_(cfg.ncpus),
      break_before_make_(cfg.break_before_make),
      tlb_model_(cfg.ncpus) {}

Pmap::~Pmap() = default;

const PmapCapabilities& Pmap::capabilities() const {
  if (!caps_) caps_ = make_capabilities();
  return *caps_;
}

vaddr_t Pmap::phys_to_dmap(paddr_t) const {
  throw KvaError(std::string(arch_name()) + " has no direct map (PHYS_TO_DMAP)");
}

void Pmap::require(bool supported, const char* op) const {
  if (!supported)
    throw KvaError(std::string(op) + ": not supported on " + std::string(arch_name()) +
                   " (check capabilities() first)");
}

std::optional<paddr_t> Pmap::extract(vaddr_t va) const {
  const PteState p = pte(va);
  if (!p.valid) return std::nullopt;
  return p.pa + (va & PAGE_MASK);
}

// ---------------------------------------------------------------- table writes

template <class Write>
auto Pmap::table_write(VaRange range, Write&& write) {
  before_.clear();
  cacheable_translations(range, before_);
  if constexpr (std::is_void_v<decltype(write())>) {
    write();
    retire_changes(range);
  } else {
    auto result = write();
    retire_changes(range);
    return result;
  }
}

void Pmap::retire_changes(VaRange range) {
  after_.clear();
  cacheable_translations(range, after_);
  std::sort(before_.begin(), before_.end(), translation_less);
  std::sort(after_.begin(), after_.end(), translation_less);
  std::vector<Translation> gone, added;
  std::set_difference(before_.begin(), before_.end(), after_.begin(), after_.end(),
                      std::back_inserter(gone), translation_less);
  for (const Translation& t : gone) tlb_model_.retire(t);
  if (!capabilities().requires_break_before_make) return;
  std::set_difference(after_.begin(), after_.end(), before_.begin(), before_.end(),
                      std::back_inserter(added), translation_less);
  for (const Translation& t : added) tlb_model_.mark_bbm(t);
}

// pmap_kenter names no CPU: a break it makes is issued from CPU 0.
constexpr cpuid_t kKenterIssuer = 0;

void Pmap::break_before_make(cpuid_t cpu, VaRange range) {
  if (!break_before_make_ || !capabilities().requires_break_before_make) return;
  std::vector<Translation> old;
  cacheable_translations(range, old);
  std::erase_if(old, [](const Translation& t) { return t.kind != EntryKind::Leaf; });
  if (old.empty()) return;
  table_write(range, [&] {
    for (const Translation& t : old) do_kremove(std::max(t.va, range.start));
  });
  invalidate_range_all(cpu, range.start, range.size() / PAGE_SIZE);
}

void Pmap::kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs) {
  if (attrs.global.value_or(false)) require(capabilities().global_entries, "kenter global");
  if (attrs.cache.value_or(CacheMode::WriteBack) != CacheMode::WriteBack)
    require(capabilities().cache_modes, "kenter cache mode");
  break_before_make(kKenterIssuer, page_range(va));
  table_write(page_range(va), [&] { do_kenter(va, pa, attrs); });
}

void Pmap::kremove(vaddr_t va) {
  table_write(page_range(va), [&] { do_kremove(va); });
}

void Pmap::kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs) {
  const auto& sizes = capabilities().large_page_sizes;
  if (std::find(sizes.begin(), sizes.end(), size) == sizes.end())
    throw KvaError("kenter_large: " + size_name(size) + " pages are not supported on " +
                   std::string(arch_name()));
  if (va % size || pa % size)
    throw KvaError("kenter_large: va " + hex(va) + " and pa " + hex(pa) + " must be " +
                   size_name(size) + "-aligned");
  if (attrs.global.value_or(false)) require(capabilities().global_entries, "kenter_large global");
  break_before_make(kKenterIssuer, {va, va + size});
  table_write({va, va + size}, [&] { do_kenter_large(va, pa, size, attrs); });
}

void Pmap::protect(vaddr_t va, std::size_t npages, bool writable) {
  if (npages == 0) return;
  table_write(page_range(va, npages), [&] { do_protect(va, npages, writable); });
}

std::size_t Pmap::growkernel(vaddr_t va) {
  require(capabilities().growable_kva, "growkernel");
  return table_write(page_range(va), [&] { return do_growkernel(va); });
}

paddr_t Pmap::replace_table(vaddr_t va, int level, bool copy) {
  const auto& caps = capabilities();
  require(caps.table_levels() > 0, "replace_table");
  if (level < 1 || level > caps.table_levels())
    throw KvaError("replace_table: level must be 1.." + std::to_string(caps.table_levels()) +
                   " on " + std::string(arch_name()) + ", got " + std::to_string(level));
  const std::uint64_t reach = caps.table_reach.at(static_cast<std::size_t>(level - 1));
  const vaddr_t base = va & ~(reach - 1);
  return table_write({base, base + reach}, [&] { return do_replace_table(va, level, copy); });
}

void Pmap::clear_accessed(vaddr_t va) {
  table_write(page_range(va), [&] { do_clear_accessed(va); });
}

void Pmap::clear_modified(vaddr_t va) {
  table_write(page_range(va), [&] { do_clear_modified(va); });
}

void Pmap::set_accessed(vaddr_t va) {
  require(capabilities().accessed_flag_faults, "set_accessed");
  table_write(page_range(va), [&] { do_set_accessed(va); });
}

void Pmap::do_set_accessed(vaddr_t) { require(false, "set_accessed"); }

void Pmap::do_kenter_large(vaddr_t, paddr_t, std::uint64_t, const KenterAttrs&) {
  require(false, "kenter_large");
}
std::size_t Pmap::do_growkernel(vaddr_t) {
  require(false, "growkernel");
  return 0;
}
paddr_t Pmap::do_replace_table(vaddr_t, int, bool) {
  require(false, "replace_table");
  return 0;
}

bool Pmap::do_qenter(vaddr_t va, std::span<const paddr_t> pas) {
  bool replaced_valid = false;
  for (std::size_t i = 0; i < pas.size(); ++i) {
    const vaddr_t page_va = va + i * PAGE_SIZE;
    replaced_valid |= pte(page_va).valid;
    do_kenter(page_va, pas[i], {});
  }
  return replaced_valid;
}

void Pmap::qenter(cpuid_t cpu, vaddr_t va, std::span<const paddr_t> pas) {
  check_cpu(cpu);
  if (pas.empty()) return;
  break_before_make(cpu, page_range(va, pas.size()));  // then nothing valid is replaced
  const bool invalidate = table_write(page_range(va, pas.size()), [&] { return do_qenter(va, pas); });
  if (invalidate) invalidate_range_all(cpu, va, pas.size());
}

void Pmap::qremove(cpuid_t cpu, vaddr_t va, std::size_t count) {
  check_cpu(cpu);
  table_write(page_range(va, count), [&] {
    for (std::size_t i = 0; i < count; ++i) do_kremove(va + i * PAGE_SIZE);
  });
  invalidate_range_all(cpu, va, count);
}

// ---------------------------------------------------------------- TLB maintenance

void Pmap::invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  check_cpu(cpu);
  if (faults_.enabled(Fault::SkipLocalInvalidation)) return;
  do_invalidate_local(cpu, va, npages);
}

CpuSet Pmap::shootdown_targets(cpuid_t initiator, CpuSet targets) {
  targets = targets & all_cpus();
  targets.clr(initiator);
  if (faults_.enabled(Fault::DropShootdownIpi) && !targets.empty()) {
    targets.clr(targets.last());
    ++stats_.dropped_ipis;
  }
  if (!targets.empty()) {
    ++stats_.shootdowns;
    stats_.shootdown_targets += static_cast<std::uint64_t>(targets.count());
  }
  return targets;
}

void Pmap::shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages) {
  check_cpu(initiator);
  targets = shootdown_targets(initiator, targets);
  if (!targets.empty()) do_shootdown(initiator, targets, va, npages);
}

void Pmap::invalidate_range_all(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  check_cpu(cpu);
  const bool local = !faults_.enabled(Fault::SkipLocalInvalidation);
  const CpuSet targets = shootdown_targets(cpu, all_cpus());
  do_invalidate_range_all(cpu, local, targets, va, npages);
}

void Pmap::do_invalidate_range_all(cpuid_t cpu, bool local, CpuSet targets, vaddr_t va,
                                   std::size_t npages) {
  if (local) do_invalidate_local(cpu, va, npages);
  if (!targets.empty()) do_shootdown(cpu, targets, va, npages);
}

void Pmap::flush_local(cpuid_t cpu, bool include_global) {
  check_cpu(cpu);
  if (faults_.enabled(Fault::SkipLocalInvalidation)) return;
  do_flush_local(cpu, include_global);
}

void Pmap::check_cpu(cpuid_t cpu) const {
  if (cpu < 0 || cpu >= ncpus_)
    throw KvaError("cpu " + std::to_string(cpu) + " does not exist (ncpus=" +
                   std::to_string(ncpus_) + ")");
}

// ---------------------------------------------------------------- the model's questions

std::optional<Translation> Pmap::walk_via(const Translation&, vaddr_t) const {
  return std::nullopt;  // an arch without upper-level caching never holds table entries
}

void Pmap::walk_path(cpuid_t, vaddr_t va, std::vector<Translation>& out) const {
  cacheable_translations(page_range(va), out);
  std::erase_if(out, [](const Translation& t) { return t.kind == EntryKind::RootRegister; });
}

void Pmap::on_page_fault(cpuid_t cpu, vaddr_t va, AccessType) {
  if (capabilities().caches_invalid_entries) tlb_model_.note_invalid(cpu, va);
}

std::string Pmap::rule_text(const HeldEntry& e) const {
  if (e.note != kNoRule) return tlb_model_.rule_text(e.note);
  if (e.bbm)
    return "valid->valid change without break-before-make: CONSTRAINED UNPREDICTABLE (old or "
           "new translation, or a TLB conflict abort)";
  switch (e.t.kind) {
    case EntryKind::Invalid:
      return "invalid entry cached by this CPU's faulting walk; no invalidation since it became valid";
    case EntryKind::Table: return std::string(e.t.name) + " cached in a walk cache";
    case EntryKind::RootRegister:
      return std::string(e.t.name) + " register loaded at the last root reload";
    case EntryKind::Leaf: break;
  }
  if (e.holding == Holding::Demand) return "walked by this CPU; no invalidation since it changed";
  return "speculative fill while the entry was cacheable" +
         (e.walked_by >= 0 ? " (walked by cpu" + std::to_string(e.walked_by) + ")" : std::string());
}

std::string Pmap::entry_text(const Translation& t) const {
  switch (t.kind) {
    case EntryKind::Leaf: return size_name(t.span) + " " + t.name + " -> " + hex(t.pa);
    case EntryKind::Table: return std::string(t.name) + " -> table " + hex(t.pa);
    case EntryKind::RootRegister: return std::string(t.name) + " register -> table " + hex(t.pa);
    case EntryKind::Invalid: return "invalid entry";
  }
  return "?";
}

// ---------------------------------------------------------------- oracles

// Runs before the access: a held retired translation that differs from the tables is reported
// once, the most specific first (negative, bbm, then demand over speculative holders).
void Pmap::check_architectural(cpuid_t cpu, vaddr_t va, AccessKind kind) {
  if (!tlb_model_.any_retired()) return;
  tlb_model_.held(cpu, va, held_);
  if (held_.empty()) return;
  const PteState cur = pte(va);
  const bool store = kind == AccessKind::Store;
  auto judge = [&](const HeldEntry& e) {
    Verdict v;
    if (e.t.kind == EntryKind::Invalid) {
      v.stale = cur.valid;
      return v;
    }
    std::optional<Translation> leaf = e.t;
    if (e.t.kind != EntryKind::Leaf) {
      leaf = walk_via(e.t, va);
      if (!leaf) return v;  // that walk would fault: nothing usable
      leaf->writable = leaf->writable && e.t.writable;
    }
    if (store && !leaf->writable) return v;  // hardware cannot use it for a write
    v.frame = leaf->frame_of(va);
    const bool same_frame = cur.valid && cur.pa == *v.frame;
    v.rights = same_frame && store && !cur.writable;
    v.stale = !same_frame || v.rights;
    return v;
  };
  // Most specific first; on a tie a leaf before an upper-level entry.
  auto rank = [](const HeldEntry& e) {
    const int leaf = e.t.kind == EntryKind::Leaf ? 1 : 0;
    if (e.t.kind == EntryKind::Invalid) return 8;
    if (e.bbm) return 6 + leaf;
    return (e.holding == Holding::Demand ? 4 : 2) + leaf;
  };
  const HeldEntry* best = nullptr;
  Verdict best_v;
  for (const HeldEntry& e : held_) {
    Verdict v = judge(e);
    if (v.stale && (!best || rank(e) > rank(*best))) best = &e, best_v = v;
  }
  if (!best) return;
  const Oracle o = best->t.kind == EntryKind::Invalid ? Oracle::Negative
                   : best->bbm                         ? Oracle::Bbm
                                                       : Oracle::Architectural;
  const bool via_table = best->t.kind == EntryKind::Table || best->t.kind == EntryKind::RootRegister;
  if (!stale_.keeps_more()) {
    stale_.count_only(o, best->holding, best_v.rights, via_table);
    return;
  }
  StaleAccess a;
  a.oracle = o;
  a.kind = kind;
  a.cpu = cpu;
  a.va = va;
  a.step = step_;
  a.cached_pa = best_v.frame;
  if (cur.valid) a.expected_pa = cur.pa;
  a.holding = best->holding;
  a.entry = entry_text(best->t);
  a.rule = rule_text(*best);
  a.rights = best_v.rights;
  a.via_table = via_table;
  stale_.add(std::move(a));
}

void Pmap::note_access(cpuid_t cpu, vaddr_t va, AccessKind kind) {
  const bool store = kind == AccessKind::Store;
  if (store && capabilities().write_drops_readonly_entry) tlb_model_.drop_readonly(cpu, va);
  if (tlb_model_.demand_leaf(cpu, va, store)) return;  // a TLB hit
  tlb_model_.forget_demand(cpu, va);  // the walk replaces whatever the CPU had for va
  path_.clear();
  walk_path(cpu, va, path_);
  for (const Translation& t : path_) tlb_model_.note_walk(cpu, t);
}

// Compares what the access saw (a load's bytes) or left (a store's bytes) with the page the
// tables map now; a mismatch, success through an unmapped VA, or a store that landed through a
// PTE that is read-only now, is stale.
void Pmap::check_observed(cpuid_t cpu, vaddr_t va, AccessKind kind, std::span<const std::uint8_t> accessed) {
  const PteState p = pte(va);
  const bool is_load = kind == AccessKind::Load;
  // Compared in place: this runs on every access, and copies would be most of its cost.
  const std::uint8_t* in_page = p.valid ? phys_->host_ptr(p.pa + (va & PAGE_MASK)) : nullptr;
  const bool same = in_page && std::memcmp(in_page, accessed.data(), accessed.size()) == 0;
  if (same && (is_load || p.writable)) return;
  const bool rights = p.valid && !is_load && !p.writable && same;
  if (!stale_.keeps_more()) {
    stale_.count_only(Oracle::Observed, std::nullopt, rights, false);
    return;
  }
  // For a load the page holds what was expected; for a store, what was written was expected.
  std::vector<std::uint8_t> page_bytes, access_bytes(accessed.begin(), accessed.end());
  if (in_page) page_bytes.assign(in_page, in_page + accessed.size());
  StaleAccess a;
  a.oracle = Oracle::Observed;
  a.kind = kind;
  a.cpu = cpu;
  a.va = va;
  a.step = step_;
  a.expected = is_load ? page_bytes : access_bytes;
  a.observed = is_load ? access_bytes : page_bytes;
  if (p.valid) a.expected_pa = p.pa;
  if (auto cached = tlb_model_.demand_leaf(cpu, va)) a.cached_pa = cached->frame_of(va);
  a.rights = rights;
  stale_.add(std::move(a));
}

template <class Access>
void Pmap::access(cpuid_t cpu, vaddr_t va, AccessKind kind, Access&& run) {
  check_architectural(cpu, va, kind);
  try {
    run();
  } catch (const PageFault&) {
    on_page_fault(cpu, va, kind == AccessKind::Load ? AccessType::Read : AccessType::Write);
    throw;
  }
  note_access(cpu, va, kind);
}

std::vector<std::uint8_t> Pmap::load(cpuid_t cpu, vaddr_t va, std::size_t n) {
  check_cpu(cpu);
  std::vector<std::uint8_t> out(n);
  for (std::size_t done = 0; done < n;) {
    const vaddr_t cva = va + done;
    const std::size_t len = chunk_in_page(cva, n - done);
    std::span<std::uint8_t> chunk(out.data() + done, len);
    ++stats_.loads;
    access(cpu, cva, AccessKind::Load, [&] { do_load(cpu, cva, chunk); });
    check_observed(cpu, cva, AccessKind::Load, chunk);
    done += len;
  }
  return out;
}

void Pmap::store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> data) {
  check_cpu(cpu);
  for (std::size_t done = 0; done < data.size();) {
    const vaddr_t cva = va + done;
    const std::size_t len = chunk_in_page(cva, data.size() - done);
    std::span<const std::uint8_t> chunk = data.subspan(done, len);
    ++stats_.stores;
    access(cpu, cva, AccessKind::Store, [&] { do_store(cpu, cva, chunk); });
    check_observed(cpu, cva, AccessKind::Store, chunk);
    done += len;
  }
}

void Pmap::copy(cpuid_t cpu, vaddr_t dst, vaddr_t src, std::size_t n,
                const std::function<void(vaddr_t, std::span<const std::uint8_t>)>& stored) {
  for (std::size_t done = 0; done < n;) {
    // A chunk stays within one page on both sides.
    const std::size_t len = chunk_in_page(dst + done, chunk_in_page(src + done, n - done));
    const std::vector<std::uint8_t> bytes = load(cpu, src + done, len);
    store(cpu, dst + done, bytes);
    if (stored) stored(dst + done, bytes);
    done += len;
  }
}

}  // namespace kva
