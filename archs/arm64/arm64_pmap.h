// The arm64 pmap: VMSAv8-64 tables in guest RAM (4 levels, 4 KiB granule, kernel in the TTBR1
// half, a direct map in blocks), accesses run as guest code on the named vCPU's Unicorn engine
// (emu/EmulatedPmap), and FreeBSD arm64's kernel pmap protocol (sys/arm64/arm64/pmap.c):
//  - pmap_kenter / pmap_qenter store entries with AF set (no hardware AF update here, so an
//    AF=0 entry faults); qenter invalidates afterwards if some old entry was valid: dsb ishst,
//    tlbi vaale1is per page, dsb ish, isb. Neither breaks a valid entry before replacing it
//    (MachineConfig::break_before_make makes the base do it);
//  - kenter and kremove are the table writes alone here, as on every arch (the core contract);
//    FreeBSD's pmap_kremove also invalidates: qremove is that form;
//  - invalidations are last-level (final_only) unless a table descriptor in the range was
//    replaced since the last broadcast covering it (replace_table, a block over a table): then
//    all levels (vaae1is), as FreeBSD does after freeing or replacing a page-table page;
//  - every invalidation beyond one CPU is a broadcast TLBI from the issuer, no IPIs, and it
//    cannot be targeted: a shootdown reaches every CPU, the issuer included. Unicorn engines
//    share no TLB, so emu carries it to the other engines (carry_broadcast). Fault injection:
//    skip-local-inval leaves the issuer out, drop-ipi the highest-numbered other CPU.
//
// Architectural TLB model rules (Arm ARM D8), applied through core/tlb_model.h:
//  - any PE may cache a valid entry with AF=1, speculatively (D8.14); an AF=0 entry faults and
//    is not cached; table entries are cached in walk caches;
//  - entries are tagged by ASID when nG=1; global entries match every ASID;
//  - TLBI forms and what they leave: arm64_tlbi.h (last-level forms leave walk-cache entries,
//    ASID-scoped forms leave global entries, by-VA forms drop a block from any VA inside it);
//  - a block is one entry;
//  - a valid->valid change of output address needs break-before-make (D8.16.1): until every
//    PE that may hold the old entry has invalidated it, an access there is CONSTRAINED
//    UNPREDICTABLE, reported as oracle `bbm`.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "archs/arm64/arm64_page_tables.h"
#include "archs/arm64/arm64_tlbi.h"
#include "core/pmap.h"
#include "emu/emulated_pmap.h"

namespace kva::arm64 {

class Arm64Pmap final : public EmulatedPmap {
 public:
  explicit Arm64Pmap(const MachineConfig& cfg);
  static PmapCapabilities capabilities_for();

  std::string_view arch_name() const override { return "arm64"; }
  bool has_direct_map() const override { return true; }
  // The tables translate 48 bits (4 KiB granule, 4 levels); bits 63..48 must be all zeros
  // (TTBR0) or all ones (TTBR1, the kernel), i.e. a sign extension of bit 48.
  VaFormat va_format() const override { return {64, 49}; }
  vaddr_t phys_to_dmap(paddr_t pa) const override;
  VaRange kva_space() const override;
  VaRange growable_kva() const override;

  PteState pte(vaddr_t va) const override;
  std::vector<WalkLevel> walk(vaddr_t va) const override;
  std::string describe_walk(vaddr_t va) const override;
  std::string rule_text(const HeldEntry& e) const override;
  void cacheable_translations(VaRange range, std::vector<Translation>& out) const override;
  std::optional<Translation> walk_via(const Translation& via, vaddr_t va) const override;

  // Runs one TLBI form on `cpu` (its stub, then, for an inner-shareable form, the remote half
  // on every other CPU) and applies its architectural scope to the model: for tests of the
  // forms the kernel pmap does not use. Counts like the pmap's own invalidations.
  void tlbi(cpuid_t cpu, TlbiOp op, vaddr_t va = 0, std::size_t npages = 1, std::uint16_t asid = 0);

  PageTables& tables() { return tables_; }  // for tests

  // Every kernel mapping runs in ASID 0 (TTBR0's, with TCR_EL1.A1 = 0); nG entries carry it.
  static constexpr std::uint16_t kAsid = 0;

 protected:
  PmapCapabilities make_capabilities() const override { return capabilities_for(); }
  void do_kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs) override;
  void do_kremove(vaddr_t va) override;
  void do_kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs) override;
  void do_protect(vaddr_t va, std::size_t npages, bool writable) override;
  std::size_t do_growkernel(vaddr_t va) override;
  paddr_t do_replace_table(vaddr_t va, int level, bool copy) override;
  void do_clear_accessed(vaddr_t va) override;
  void do_clear_modified(vaddr_t va) override;
  void do_set_accessed(vaddr_t va) override;
  void do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) override;
  void do_shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages) override;
  void do_invalidate_range_all(cpuid_t cpu, bool local, CpuSet targets, vaddr_t va,
                               std::size_t npages) override;
  void do_flush_local(cpuid_t cpu, bool include_global) override;

 private:
  bool in_kernel_kva(vaddr_t va, std::uint64_t len = 1) const;  // kva_space or growable
  paddr_t kernel_pte_slot(vaddr_t va) const;  // throws where no level-3 table exists
  std::optional<paddr_t> mapped_leaf_slot(vaddr_t va) const;  // a valid leaf of any level
  // A kernel leaf the way FreeBSD writes it (kernel_leaf) with the caller's attributes.
  Descriptor leaf(int level, paddr_t pa, const KenterAttrs& attrs) const;
  void update_leaf(vaddr_t va, void (*edit)(Descriptor&));
  void enumerate(paddr_t table, int level, vaddr_t base, vaddr_t first, vaddr_t last, bool writable,
                 std::vector<Translation>& out) const;
  Translation translation(vaddr_t va, int level, const Descriptor& d, bool writable) const;
  // One broadcast TLBI by VA, all ASIDs, from `issuer` that takes effect on `reach` (fault
  // injection applied): pmap_s1_invalidate_range(kernel_pmap, ...).
  void broadcast(cpuid_t issuer, CpuSet reach, vaddr_t va, std::size_t npages);
  // The by-VA form for [va, +npages): all levels when a table descriptor there changed since
  // the last broadcast covering it (which `consume` forgets), last level otherwise.
  TlbiKind va_form(vaddr_t va, std::size_t npages, bool consume);
  // Runs op's stub on cpu; the remote half on the rest of `reach` when it is inner shareable;
  // applies its scope to the model on every CPU of reach and counts.
  void execute(cpuid_t cpu, CpuSet reach, TlbiOp op, vaddr_t va, std::size_t npages, std::uint16_t asid);

  PageTables tables_;
  TlbiRules rules_;
  std::vector<VaRange> tables_changed_;  // reach of table descriptors replaced, not yet broadcast
};

}  // namespace kva::arm64
