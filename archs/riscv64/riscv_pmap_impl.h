// Definitions of RiscvPmap<Format>; included only by the .cpp that instantiates the variants.
#pragma once
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unicorn/riscv.h>

#include "archs/riscv64/riscv_cpu.h"
#include "archs/riscv64/riscv_pmap.h"
#include "archs/riscv64/riscv_sbi.h"
#include "archs/riscv64/riscv_stub_abi.h"
#include "stubs/riscv64_stubs.h"

namespace kva::riscv {

inline std::string hex_string(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// Beyond the pre-populated KVA, up to 2 GiB into the kernel map: room for growkernel and for
// 2 MiB and 1 GiB kernel mappings (the second L1 slot starts empty).
inline constexpr std::uint64_t kGrowBytes = std::uint64_t{2} << 30;

template <class Format>
RiscvPmap<Format>::RiscvPmap(const MachineConfig& cfg, Platform platform)
    : EmulatedPmap(cfg, kRamBase), platform_(std::move(platform)), tables_(phys()),
      km_(build_kernel_map(tables_, phys(), FirmwareLayout{kFirmwareBase})),
      grow_{km_.kva.end, kVmMinKernelAddress + kGrowBytes} {
  start_machine(stub_guest_isa(tables_.satp(), kFirmwareBase), stubs::riscv64_stubs, kFirmwareBase);
  invlrng_ = &machine().routine(stub_abi::kInvalidateRange);
  invltlb_ = &machine().routine(stub_abi::kInvalidateAll);
  invalidate_range_ = &machine().routine(kStubInvalidateRange);
  remote_sfence_ = &machine().routine(kStubRemoteSfenceVma);
  sfence_asid_ = &machine().routine(kStubSfenceVmaAsid);
  sfence_asid_all_ = &machine().routine(kStubSfenceVmaAsidAll);
  machine().set_firmware_handler([this](cpuid_t cpu, const Trap&) { sbi_call(cpu); });
  global_survives_asid_fence_ = tlb_model().rule("riscv: global entry survives an ASID-scoped sfence.vma");
  table_survives_page_fence_ = tlb_model().rule(
      "riscv: sfence.vma with rs1 != x0 orders only leaf PTEs; a cached non-leaf entry survives");
}

template <class Format>
PmapCapabilities RiscvPmap<Format>::make_capabilities() const {
  return capabilities_for(platform_);
}

template <class Format>
PmapCapabilities RiscvPmap<Format>::capabilities_for(const Platform&) {
  PmapCapabilities c;
  // Kernel megapages and gigapages; a 512 GiB Sv48 leaf does not fit the kernel map.
  c.large_page_sizes = {Tables::level_bytes(kLeafLevel - 1), Tables::level_bytes(kLeafLevel - 2)};
  for (int l = kLeafLevel - 1; l >= 0; --l) c.table_reach.push_back(Tables::level_bytes(l));
  c.global_entries = true;
  c.walk_cache = true;
  c.caches_invalid_entries = true;
  c.sbi_invalidation = true;
  c.page_fence_keeps_tables = true;  // sfence.vma va orders leaf entries only
  c.growable_kva = true;
  c.software_ad = true;  // Svade, emulated on the host (QEMU only does Svadu)
  // A store that finds only a read-only entry re-walks, and the refill replaces it (what QEMU
  // does; hardware may instead take a spurious fault, which FreeBSD's handler resolves).
  c.write_drops_readonly_entry = true;
  return c;
}

template <class Format>
vaddr_t RiscvPmap<Format>::phys_to_dmap(paddr_t pa) const {
  if (!phys_->contains(pa) || !km_.in_dmap(pa)) throw KvaError("phys_to_dmap: pa outside guest RAM");
  return km_.phys_to_dmap(pa);
}

template <class Format>
bool RiscvPmap<Format>::in_kernel_kva(vaddr_t va, std::uint64_t len) const {
  for (const VaRange& r : {km_.kva, grow_})
    if (r.contains(va) && len <= r.end - va) return true;
  return false;
}

template <class Format>
paddr_t RiscvPmap<Format>::kernel_pte_slot(vaddr_t va) const {
  if (!in_kernel_kva(va))
    throw KvaError(platform_.name + ": no kernel page table for va " + hex_string(va) +
                   " (outside kva_space and growable_kva)");
  auto slot = tables_.leaf_slot(va);
  if (!slot) {
    if (tables_.walk(va).mapped())
      throw KvaError(platform_.name + ": a large page maps va " + hex_string(va) + "; kremove it first");
    throw KvaError(platform_.name + ": no kernel page table for va " + hex_string(va) + " (growkernel first)");
  }
  return *slot;
}

template <class Format>
std::optional<paddr_t> RiscvPmap<Format>::mapped_leaf_slot(vaddr_t va) const {
  auto w = tables_.walk(va);
  if (!w.mapped()) return std::nullopt;
  return w.last().slot;
}

template <class Format>
Pte RiscvPmap<Format>::kernel_leaf(paddr_t pa, const KenterAttrs& attrs) const {
  Pte e = kernel_pte(pa);
  e.set_rights({true, attrs.writable.value_or(true), false});
  e.set_global(attrs.global.value_or(false));
  return e;
}

template <class Format>
void RiscvPmap<Format>::do_kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs) {
  // pmap_kenter: PTE_KERN (V R W A D) and the frame; no invalidation here.
  tables_.write(kernel_pte_slot(va), kernel_leaf(trunc_page(pa), attrs));
}

template <class Format>
void RiscvPmap<Format>::do_kremove(vaddr_t va) {
  // pmap_kremove's pmap_clear; its local sfence.vma is the caller's invalidate_local.
  if (!in_kernel_kva(va))
    throw KvaError(platform_.name + ": kremove of va " + hex_string(va) + " outside kernel KVA");
  if (auto slot = mapped_leaf_slot(va)) tables_.write(*slot, Pte{});
}

template <class Format>
void RiscvPmap<Format>::do_kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs) {
  if (!in_kernel_kva(va, size))
    throw KvaError(platform_.name + ": kenter_large: [" + hex_string(va) + ", +" + Tables::size_name(size) +
                   ") is not inside kva_space or growable_kva");
  int level = 0;
  while (Tables::level_bytes(level) != size) ++level;
  // Like a promotion: the leaf replaces whatever the slot held (a table pointer too).
  tables_.map(va, level, kernel_leaf(pa, attrs));
}

template <class Format>
void RiscvPmap<Format>::do_protect(vaddr_t va, std::size_t npages, bool writable) {
  if (!in_kernel_kva(va, npages * PAGE_SIZE))
    throw KvaError(platform_.name + ": protect outside kernel KVA at " + hex_string(va));
  for (std::size_t i = 0; i < npages; ++i)
    if (auto slot = mapped_leaf_slot(va + i * PAGE_SIZE)) {
      Pte e = tables_.read(*slot);
      e.set_rights({e.readable(), writable, e.executable()});
      tables_.write(*slot, e);
    }
}

template <class Format>
std::size_t RiscvPmap<Format>::do_growkernel(vaddr_t va) {
  if (!in_kernel_kva(va))
    throw KvaError(platform_.name + ": growkernel: va " + hex_string(va) + " is not kernel KVA");
  std::size_t allocated = 0;
  tables_.ensure_slot(va, kLeafLevel, &allocated);
  return allocated;
}

template <class Format>
paddr_t RiscvPmap<Format>::do_replace_table(vaddr_t va, int level, bool copy) {
  if (!in_kernel_kva(va))
    throw KvaError(platform_.name + ": replace_table: va " + hex_string(va) + " is not kernel KVA");
  const int at = kLeafLevel - level;  // walk level of the entry to re-point
  auto slot = tables_.slot_at(va, at);
  const Pte old = slot ? tables_.read(*slot) : Pte{};
  if (!slot || !old.is_pointer())
    throw KvaError(platform_.name + ": replace_table: no " + Tables::level_name(at) +
                   " entry pointing at a table for va " + hex_string(va) + " (growkernel first)");
  const paddr_t page = tables_.alloc_table();
  if (copy) std::memcpy(phys_->host_ptr(page), phys_->host_ptr(old.physical_address()), PAGE_SIZE);
  Pte e = old;
  e.set_physical_address(page);
  tables_.write(*slot, e);
  return page;
}

template <class Format>
void RiscvPmap<Format>::update_leaf(vaddr_t va, void (*edit)(Pte&)) {
  if (!in_kernel_kva(va) && !pte(va).valid)
    throw KvaError(platform_.name + ": no kernel page table for va " + hex_string(va));
  auto slot = mapped_leaf_slot(va);
  if (!slot) return;
  Pte e = tables_.read(*slot);
  edit(e);
  tables_.write(*slot, e);
}

template <class Format>
void RiscvPmap<Format>::do_clear_accessed(vaddr_t va) {
  update_leaf(va, [](Pte& e) { e.set_accessed(false); });
}

template <class Format>
void RiscvPmap<Format>::do_clear_modified(vaddr_t va) {
  update_leaf(va, [](Pte& e) { e.set_dirty(false); });
}

// pmap_qenter: every PTE is stored (PTE_KERN), and the range is always invalidated.
template <class Format>
bool RiscvPmap<Format>::do_qenter(vaddr_t va, std::span<const paddr_t> pas) {
  for (std::size_t i = 0; i < pas.size(); ++i)
    tables_.write(kernel_pte_slot(va + i * PAGE_SIZE), kernel_pte(trunc_page(pas[i])));
  return true;
}

template <class Format>
PteState RiscvPmap<Format>::pte(vaddr_t va) const {
  auto w = tables_.walk(va);
  PteState s;
  if (!w.mapped()) return s;
  const Pte& leaf = w.last().entry;
  s.valid = true;
  s.writable = leaf.writable();
  s.accessed = leaf.accessed();
  s.modified = leaf.dirty();
  s.global = w.global;
  s.pa = w.pa;
  s.page_size = w.page_bytes;
  s.executable = leaf.executable();
  s.level = w.last_level();
  return s;
}

template <class Format>
std::vector<WalkLevel> RiscvPmap<Format>::walk(vaddr_t va) const {
  auto w = tables_.walk(va);
  std::vector<WalkLevel> out;
  for (int l = 0; l < w.depth; ++l) {
    const Pte& e = w.steps[l].entry;
    WalkLevel v;
    v.level = l;
    v.name = Tables::level_name(l);
    v.slot = w.steps[l].slot;
    v.raw = e.raw();
    v.present = e.valid();
    v.leaf = e.is_leaf();
    // A non-leaf PTE has R=W=X=0 and restricts nothing (riscv has no table-level rights).
    v.writable = v.leaf ? e.writable() : v.present;
    v.user = e.user();
    v.accessed = e.accessed();
    v.dirty = e.dirty();
    v.global = e.global();
    v.executable = e.executable();
    v.reach = Tables::level_bytes(l);
    v.next = e.physical_address();
    v.index = static_cast<int>(w.steps[l].index);
    v.table = w.steps[l].slot - w.steps[l].index * sizeof(typename Pte::raw_type);
    out.push_back(v);
  }
  return out;
}

template <class Format>
std::string RiscvPmap<Format>::describe_walk(vaddr_t va) const {
  return tables_.describe(va);
}

template <class Format>
Translation RiscvPmap<Format>::translation(vaddr_t va, int level, const Pte& e, bool global) const {
  const std::uint64_t reach = Tables::level_bytes(level);
  Translation t;
  t.va = va & ~(reach - 1);
  t.span = reach;
  t.level = static_cast<std::uint8_t>(level);
  t.name = Tables::level_name(level);
  t.global = global;
  t.pa = e.physical_address();
  t.kind = e.is_leaf() ? EntryKind::Leaf : EntryKind::Table;
  // Non-leaf entries carry no rights; under Svade a store through a D=0 leaf faults.
  t.writable = !e.is_leaf() || (e.writable() && (platform_.ad == AdUpdate::Hardware || e.dirty()));
  return t;
}

// Depth-first over the entries whose reach meets [first, last]: valid non-leaf entries (walk
// caches) and legal leaves, under Svade only those with A=1. `global`: G above.
template <class Format>
void RiscvPmap<Format>::enumerate(paddr_t table, int level, vaddr_t base, vaddr_t first, vaddr_t last,
                                  bool global, std::vector<Translation>& out) const {
  const std::uint64_t reach = Tables::level_bytes(level);
  const vaddr_t lo = std::max(first, base);
  const vaddr_t hi = std::min(last, base + (reach * 512 - 1));
  if (lo > hi) return;
  constexpr unsigned kUnused = 64 - Format::kVaBits;
  for (std::size_t i = Tables::index_of(lo, level); i <= Tables::index_of(hi, level); ++i) {
    const Pte e = tables_.read(table + i * sizeof(Pte::raw_type));
    if (!e.valid() || e.write_without_read() || e.reserved_bits_set()) continue;
    const vaddr_t eva = base + i * reach;
    const vaddr_t va = static_cast<vaddr_t>(static_cast<std::int64_t>(eva << kUnused) >> kUnused);
    const bool g = global || e.global();
    if (e.is_leaf()) {
      if ((e.physical_address() & (reach - 1)) != 0) continue;  // misaligned: the walk faults
      if (!e.accessed()) continue;  // see the header: A=1 whenever a hart may hold it
      out.push_back(translation(va, level, e, g));
      continue;
    }
    if (level == kLeafLevel) continue;  // a pointer at the last level: the walk faults
    out.push_back(translation(va, level, e, g));
    enumerate(e.physical_address(), level + 1, eva, first, last, g, out);
  }
}

template <class Format>
void RiscvPmap<Format>::cacheable_translations(VaRange range, std::vector<Translation>& out) const {
  if (range.empty()) return;
  // Walks index the low kVaBits of the (canonical) VA.
  constexpr vaddr_t kMask = (vaddr_t{1} << Format::kVaBits) - 1;
  const vaddr_t first = range.start & kMask, last = (range.end - 1) & kMask;
  if (first > last) return;  // across the non-canonical hole: not a kernel range
  enumerate(tables_.root(), 0, 0, first, last, false, out);
}

template <class Format>
std::optional<Translation> RiscvPmap<Format>::walk_via(const Translation& via, vaddr_t va) const {
  if (via.kind != EntryKind::Table) return std::nullopt;
  auto w = tables_.walk_from(va, via.pa, via.level + 1);
  if (!w.mapped()) return std::nullopt;
  const Pte& leaf = w.last().entry;
  // Svade: an A=0 leaf faults; Svadu: the walk through the stale entry sets A and uses it.
  if (platform_.ad == AdUpdate::Software && !leaf.accessed()) return std::nullopt;
  return translation(va, w.last_level(), leaf, via.global || w.global);
}

template <class Format>
std::string RiscvPmap<Format>::rule_text(const HeldEntry& e) const {
  if (e.note != kNoRule || e.bbm) return Pmap::rule_text(e);
  switch (e.t.kind) {
    case EntryKind::Invalid:
      return "riscv: invalid entry cached by this hart's faulting walk (no Svvptc); no sfence.vma since "
             "it became valid";
    case EntryKind::Table: return std::string("riscv: non-leaf ") + e.t.name + " entry cached by the walk";
    case EntryKind::Leaf:
      if (e.holding == Holding::Demand) return "riscv: cached by this hart's walk; no sfence.vma since the entry changed";
      return "riscv: speculative fill while the entry was valid" +
             (e.walked_by >= 0 ? " (walked by hart " + std::to_string(e.walked_by) + ")" : std::string());
    case EntryKind::RootRegister: break;
  }
  return Pmap::rule_text(e);
}

// ---------------------------------------------------------------- fences

template <class Format>
void RiscvPmap<Format>::account_fence_pages(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  stats().local_invalidations += npages;
  // sfence.vma va, x0: leaf entries for va in every address space, global ones too.
  InvalidationScope s = InvalidationScope::range(va, va + npages * PAGE_SIZE);
  s.tables = InvalidationScope::Tables::None;
  s.table_rule = table_survives_page_fence_;
  tlb_model().invalidate(cpu, s);
}

template <class Format>
void RiscvPmap<Format>::account_fence_all(cpuid_t cpu) {
  stats().full_flushes += 1;
  tlb_model().invalidate(cpu, InvalidationScope::everything());  // sfence.vma x0, x0
}

template <class Format>
void RiscvPmap<Format>::do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  // pmap_invalidate_page is sfence_vma_page(va); pmap_invalidate_range a full sfence_vma().
  if (npages == 1) {
    run(cpu, *invlrng_, {trunc_page(va), 1});
    account_fence_pages(cpu, trunc_page(va), 1);
  } else {
    run(cpu, *invltlb_, {});
    account_fence_all(cpu);
  }
}

namespace detail {
inline std::uint64_t hart_mask(CpuSet harts) { return harts.bits(); }  // hart ID = CPU number
// pmap_invalidate_page asks the SBI for size 1, pmap_invalidate_range for eva - sva + 1.
inline std::uint64_t sbi_size(std::size_t npages) { return npages == 1 ? 1 : npages * PAGE_SIZE + 1; }
}  // namespace detail

template <class Format>
void RiscvPmap<Format>::do_shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages) {
  // The remote half of pmap_invalidate_page/range: fence, then the SBI call (sbi_call counts).
  run(initiator, *remote_sfence_, {detail::hart_mask(targets), 0, trunc_page(va), detail::sbi_size(npages)});
}

template <class Format>
void RiscvPmap<Format>::do_invalidate_range_all(cpuid_t cpu, bool local, CpuSet targets, vaddr_t va,
                                                std::size_t npages) {
  // pmap_invalidate_range(kernel_pmap, sva, eva): fence; SBI remote sfence.vma(mask, sva,
  // eva - sva + 1) unless the mask is empty; sfence_vma() (the whole local TLB).
  const std::uint64_t args_mask = detail::hart_mask(targets);
  const std::uint64_t size = npages * PAGE_SIZE + 1;
  if (local) {
    run(cpu, *invalidate_range_, {args_mask, 0, trunc_page(va), size});
    account_fence_all(cpu);
  } else if (!targets.empty()) {
    run(cpu, *remote_sfence_, {args_mask, 0, trunc_page(va), size});  // skip-local-inval
  }
}

template <class Format>
void RiscvPmap<Format>::do_flush_local(cpuid_t cpu, bool include_global) {
  if (include_global) {
    run(cpu, *invltlb_, {});
    account_fence_all(cpu);
  } else {
    sfence_vma_asid(cpu, std::nullopt, 0);  // sfence.vma x0, asid: non-global entries of ASID 0
  }
}

template <class Format>
void RiscvPmap<Format>::sfence_vma_asid(cpuid_t cpu, std::optional<vaddr_t> va, std::uint16_t asid) {
  // rs2 names a register holding the ASID (0 included: the spec's way to keep global entries).
  InvalidationScope s = InvalidationScope::everything();
  if (va) {
    run(cpu, *sfence_asid_, {*va, asid});
    s = InvalidationScope::range(trunc_page(*va), trunc_page(*va) + PAGE_SIZE);
    s.tables = InvalidationScope::Tables::None;
    s.table_rule = table_survives_page_fence_;
    stats().local_invalidations += 1;
  } else {
    run(cpu, *sfence_asid_all_, {asid});
    stats().full_flushes += 1;
  }
  s.asid = asid;
  s.keep_global = true;
  s.global_rule = global_survives_asid_fence_;
  tlb_model().invalidate(cpu, s);
}

// ---------------------------------------------------------------- SBI firmware

template <class Format>
void RiscvPmap<Format>::sbi_call(cpuid_t cpu) {
  uc_engine* uc = machine().engine(cpu);
  constexpr int kRegs[] = {UC_RISCV_REG_A0, UC_RISCV_REG_A1, UC_RISCV_REG_A2, UC_RISCV_REG_A3,
                           UC_RISCV_REG_A4, UC_RISCV_REG_A5, UC_RISCV_REG_A6, UC_RISCV_REG_A7};
  std::uint64_t v[8] = {};
  for (int i = 0; i < 8; ++i) uc_reg_read(uc, kRegs[i], &v[i]);
  const SbiCall call{v[7], v[6], {v[0], v[1], v[2], v[3], v[4], v[5]}};
  std::int64_t error = kSbiSuccess;
  auto decoded = decode_remote_sfence(call, ncpus());
  if (auto* f = std::get_if<RemoteSfence>(&decoded)) {
    stats().broadcasts += 1;
    // OpenSBI: each target hart runs the fence from its IPI handler and acknowledges.
    f->harts.for_each([&](cpuid_t t) {
      if (t == cpu) {  // OpenSBI flushes locally when the caller is in the mask
        if (f->all)
          run(t, *invltlb_, {}), account_fence_all(t);
        else if (f->npages)
          run(t, *invlrng_, {f->va, f->npages}), account_fence_pages(t, f->va, f->npages);
        return;
      }
      run_shootdown_handler(t, f->all ? stub_abi::InvalOp::All : stub_abi::InvalOp::Range, f->va, f->npages);
      if (f->all)
        account_fence_all(t);
      else if (f->npages)
        account_fence_pages(t, f->va, f->npages);
    });
  } else {
    error = std::get<std::int64_t>(decoded);
  }
  const std::uint64_t a0 = static_cast<std::uint64_t>(error), a1 = 0;
  uc_reg_write(uc, UC_RISCV_REG_A0, &a0);
  uc_reg_write(uc, UC_RISCV_REG_A1, &a1);
}

// ---------------------------------------------------------------- accesses

template <class Format>
auto RiscvPmap<Format>::svade_before(cpuid_t cpu, vaddr_t va, AccessType type)
    -> std::optional<std::pair<paddr_t, Pte>> {
  if (platform_.ad != AdUpdate::Software) return std::nullopt;
  auto w = tables_.walk(va);
  if (!w.mapped()) return std::nullopt;  // the hart faults by itself
  // A TLB hit (by the model) does not walk, so it cannot fault on A or D.
  if (!tlb_model().demand_leaf(cpu, va, type == AccessType::Write)) {
    auto why = Tables::access_fault(w, type, AdUpdate::Software);
    if (why == AccessFault::NotAccessed || why == AccessFault::NotDirty)
      throw PageFault(cpu, va, type, describe_walk(va) + "\n-> page fault: " + to_string(*why));
  }
  return std::pair(w.last().slot, w.last().entry);
}

// Under Svade the hardware never writes A or D, but QEMU's walk does when it re-walks what the
// model counts as a TLB hit (QEMU flushes more than the architecture requires): undo that.
template <class Format>
void RiscvPmap<Format>::svade_after(const std::optional<std::pair<paddr_t, Pte>>& before) {
  if (!before) return;
  const Pte was = before->second;
  Pte now = tables_.read(before->first);
  if (now.raw() == was.raw()) return;
  now.set_accessed(was.accessed());
  now.set_dirty(was.dirty());
  if (now.raw() == was.raw()) tables_.write(before->first, was);
}

template <class Format>
void RiscvPmap<Format>::do_load(cpuid_t cpu, vaddr_t va, std::span<std::uint8_t> out) {
  auto before = svade_before(cpu, va, AccessType::Read);
  EmulatedPmap::do_load(cpu, va, out);
  svade_after(before);
}

template <class Format>
void RiscvPmap<Format>::do_store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> in) {
  auto before = svade_before(cpu, va, AccessType::Write);
  EmulatedPmap::do_store(cpu, va, in);
  svade_after(before);
}

// Only a walk that found no valid leaf can be cached as invalid; a permission (or Svade) fault
// found a valid leaf.
template <class Format>
void RiscvPmap<Format>::on_page_fault(cpuid_t cpu, vaddr_t va, AccessType type) {
  if (!tables_.walk(va).mapped()) Pmap::on_page_fault(cpu, va, type);
}

}  // namespace kva::riscv
