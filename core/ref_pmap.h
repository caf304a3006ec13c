// The reference pmap: a pure-software MMU usable without emulation. Page tables are a map of
// leaf PTEs; each CPU's TLB is the TlbModel itself, so a translation stays cached from the
// access that filled it until an invalidation covers it. Missed invalidations are therefore
// observable (stale data is really read) in core tests.
#pragma once
#include <map>

#include "core/pmap.h"

namespace kva {

struct RefPmapConfig {
  bool direct_map = false;                       // true: behave like an arch with a DMAP
  VaRange kva = {0xffff'0000'0000'0000ull, 0xffff'0000'1000'0000ull};  // 256 MiB
  vaddr_t dmap_base = 0xffff'8000'0000'0000ull;
};

class RefPmap final : public Pmap {
 public:
  RefPmap(const MachineConfig& cfg, RefPmapConfig rcfg = {});
  std::string_view arch_name() const override { return rcfg_.direct_map ? "ref-dmap" : "ref"; }
  bool has_direct_map() const override { return rcfg_.direct_map; }
  vaddr_t phys_to_dmap(paddr_t pa) const override;
  VaRange kva_space() const override { return rcfg_.kva; }
  void kenter(vaddr_t va, paddr_t pa) override;
  void kremove(vaddr_t va) override;
  PteState pte(vaddr_t va) const override;
  void clear_accessed(vaddr_t va) override;
  void clear_modified(vaddr_t va) override;
  std::string describe_walk(vaddr_t va) const override;

 protected:
  void do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) override;
  void do_shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages) override;
  void do_load(cpuid_t cpu, vaddr_t va, std::span<std::uint8_t> out) override;
  void do_store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> in) override;
  // A miss walks the tables like x86 hardware: sets A (and D for a write), then caches.
  void model_fill_on_access(cpuid_t cpu, vaddr_t va, AccessType type) override;

 private:
  PteState* leaf(vaddr_t va);
  RefPmapConfig rcfg_;
  std::map<vaddr_t, PteState> ptes_;  // page-aligned va -> leaf PTE
};

}  // namespace kva
