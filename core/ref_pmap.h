// The reference pmap: a pure-software MMU usable without emulation. Page tables are a map of
// leaf entries (4 KiB or 2 MiB); each CPU's TLB is the TLB model's demand view, so a
// translation stays cached from the walk that filled it until an invalidation covers it.
// Missed invalidations are therefore observable (stale data is really read) in core tests.
//
// Its rules are x86-like so core tests stay meaningful: a walk sets A (and D for a write) and
// only A=1 entries are cacheable; a full flush keeps global entries unless asked not to. Two
// switches turn on the rules other ISAs need, so the core machinery for them is tested here:
// break-before-make (arm64) and negative caching of invalid entries (riscv without Svvptc).
#pragma once
#include <map>

#include "core/pmap.h"

namespace kva {

struct RefPmapConfig {
  bool direct_map = false;                       // true: behave like an arch with a DMAP
  VaRange kva = {0xffff'0000'0000'0000ull, 0xffff'0000'1000'0000ull};  // 256 MiB
  vaddr_t dmap_base = 0xffff'8000'0000'0000ull;
  // arm64-like: valid->valid leaf changes are reported (bbm), and kernel entries are made with
  // A (AF) preset, as FreeBSD's arm64 pmap_kenter does, so they are cacheable at once.
  bool requires_break_before_make = false;
  bool negative_caching = false;                 // a faulting walk's result stays cached
};

class RefPmap final : public Pmap {
 public:
  static constexpr std::uint64_t kLargePage = std::uint64_t{1} << 21;

  RefPmap(const MachineConfig& cfg, RefPmapConfig rcfg = {});
  static PmapCapabilities capabilities_for(const RefPmapConfig& rcfg);
  std::string_view arch_name() const override { return rcfg_.direct_map ? "ref-dmap" : "ref"; }
  bool has_direct_map() const override { return rcfg_.direct_map; }
  vaddr_t phys_to_dmap(paddr_t pa) const override;
  VaRange kva_space() const override { return rcfg_.kva; }
  PteState pte(vaddr_t va) const override;
  std::vector<WalkLevel> walk(vaddr_t va) const override;
  // No tables to walk: the leaves and the direct map, straight from their maps.
  void mapped_leaves(vaddr_t first, vaddr_t last, std::vector<MappedLeaf>& out,
                     std::vector<paddr_t>* page_tables = nullptr) const override;
  std::string describe_walk(vaddr_t va) const override;
  void cacheable_translations(VaRange range, std::vector<Translation>& out) const override;

 protected:
  PmapCapabilities make_capabilities() const override;
  void do_kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs) override;
  void do_kremove(vaddr_t va) override;
  void do_kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs) override;
  void do_protect(vaddr_t va, std::size_t npages, bool writable) override;
  void do_clear_accessed(vaddr_t va) override;
  void do_clear_modified(vaddr_t va) override;
  void do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) override;
  void do_shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages) override;
  void do_flush_local(cpuid_t cpu, bool include_global) override;
  void do_load(cpuid_t cpu, vaddr_t va, std::span<std::uint8_t> out) override;
  void do_store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> in) override;

 private:
  struct Leaf {
    PteState pte;            // pa = frame of the leaf's first page
    std::uint64_t size = PAGE_SIZE;
  };
  // A kernel leaf: valid, the given attributes, A preset only in arm64-like (bbm) mode.
  Leaf new_leaf(paddr_t pa, std::uint64_t size, const KenterAttrs& attrs) const;
  // The leaf mapping va (with its first VA), or nullptr.
  std::pair<vaddr_t, Leaf*> find(vaddr_t va);
  std::pair<vaddr_t, const Leaf*> find(vaddr_t va) const;
  bool in_dmap(vaddr_t va) const;
  void check_kva(const char* op, vaddr_t va, std::uint64_t size = PAGE_SIZE) const;
  // The frame cpu translates va to: its TLB (demand view) or a walk that sets A/D.
  paddr_t translate(cpuid_t cpu, vaddr_t va, AccessType type);
  void invalidate_pages(cpuid_t cpu, vaddr_t va, std::size_t npages);

  RefPmapConfig rcfg_;
  std::map<vaddr_t, Leaf> leaves_;  // first va -> leaf
  RuleId global_survives_ = kNoRule;
};

}  // namespace kva
