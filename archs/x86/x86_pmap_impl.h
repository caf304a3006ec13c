// Definitions of X86Pmap<Paging>; included only by the .cpp that instantiates a variant.
#pragma once
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
  // Direct map: all of physical memory up to the end of RAM, in global 2 MiB pages
  // (FreeBSD's create_pagetables builds the DMAP from PA 0 the same way).
  if (platform_.dmap_base) {
    constexpr std::uint64_t kLarge = std::uint64_t{1} << Paging::kShift[Paging::kLevels - 2];
    paddr_t end = (ram.base() + ram.size() + kLarge - 1) & ~(kLarge - 1);
    for (paddr_t pa = 0; pa < end; pa += kLarge) tables_.map_large(*platform_.dmap_base + pa, pa, true);
  }
  tables_.populate(platform_.kva.start, platform_.kva.end);

  start_machine(guest_isa(platform_.mode, tables_.root(), platform_.cr4_bits), *platform_.stubs,
                kFirmwareBase);
  invlrng_ = &machine().routine(stub_abi::kInvalidateRange);
  invltlb_ = &machine().routine(stub_abi::kInvalidateAll);
  if constexpr (Paging::kTopLevelCachedAtCr3Load)
    pdpte_registers_.assign(static_cast<std::size_t>(cfg.ncpus), tables_.root_entries());
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
auto X86Pmap<Paging>::walk_root(cpuid_t cpu) const -> const Entry* {
  if constexpr (Paging::kTopLevelCachedAtCr3Load)
    return pdpte_registers_[static_cast<std::size_t>(cpu)].data();
  return nullptr;
}

template <class Paging>
vaddr_t X86Pmap<Paging>::phys_to_dmap(paddr_t pa) const {
  if (!platform_.dmap_base) return Pmap::phys_to_dmap(pa);  // throws: no direct map
  if (!phys_->contains(pa)) throw KvaError("phys_to_dmap: pa outside guest RAM");
  return *platform_.dmap_base + pa;
}

template <class Paging>
paddr_t X86Pmap<Paging>::kernel_pte_slot(vaddr_t va) const {
  auto slot = tables_.leaf_slot(va);
  if (!slot || !platform_.kva.contains(va))
    throw KvaError(platform_.name + ": no kernel page table for va " + hex_string(va) +
                   " (outside kva_space)");
  return *slot;
}

template <class Paging>
void X86Pmap<Paging>::kenter(vaddr_t va, paddr_t pa) {
  // pmap_kenter: P | RW, A = D = 0, not global; no TLB maintenance.
  Entry e;
  e.set_present(true);
  e.set_writable(true);
  e.set_physical_address(trunc_page(pa));
  tables_.write(kernel_pte_slot(va), e);
}

template <class Paging>
void X86Pmap<Paging>::kremove(vaddr_t va) {
  tables_.write(kernel_pte_slot(va), Entry{});
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
  return s;
}

template <class Paging>
void X86Pmap<Paging>::update_leaf(vaddr_t va, void (*edit)(Entry&)) {
  paddr_t slot = kernel_pte_slot(va);
  Entry e = tables_.read(slot);
  edit(e);
  tables_.write(slot, e);
}

template <class Paging>
void X86Pmap<Paging>::clear_accessed(vaddr_t va) {
  update_leaf(va, [](Entry& e) { e.set_accessed(false); });
}

template <class Paging>
void X86Pmap<Paging>::clear_modified(vaddr_t va) {
  update_leaf(va, [](Entry& e) { e.set_dirty(false); });
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
    tlb_model().invalidate_all(cpu, /*keep_global=*/true);
    if constexpr (Paging::kTopLevelCachedAtCr3Load)
      pdpte_registers_[static_cast<std::size_t>(cpu)] = tables_.root_entries();  // CR3 load
    return;
  }
  stats().local_invalidations += npages;
  for (std::size_t i = 0; i < npages; ++i) tlb_model().invalidate_page(cpu, va + i * PAGE_SIZE);
}

template <class Paging>
void X86Pmap<Paging>::do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  bool full = npages >= kInvlpgThresholdPages;
  if (full)
    run(cpu, *invltlb_, {});
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

template <class Paging>
void X86Pmap<Paging>::model_fill_on_access(cpuid_t cpu, vaddr_t va, AccessType type) {
  // The hardware walk caches a translation only when it succeeds (and then it has set A).
  auto w = tables_.walk(va, walk_root(cpu));
  if (!w.mapped) return;
  if (type == AccessType::Write && !w.writable) return;
  TlbEntry e;
  e.pa = w.pa;
  e.writable = w.writable;
  e.global = w.leaf().entry.global();
  tlb_model().fill(cpu, trunc_page(va), e);
}

}  // namespace kva::x86
