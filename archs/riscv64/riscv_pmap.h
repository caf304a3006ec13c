// The riscv64 pmap, Sv39 or Sv48 (`Format`): FreeBSD riscv's kernel map in guest RAM
// (riscv_kernel_map.h), accesses run as guest code on the named hart's Unicorn engine (the
// mechanics are emu/EmulatedPmap's), and FreeBSD's invalidation protocol:
//  - pmap_qenter stores every PTE and always calls pmap_invalidate_range: `fence`, an SBI
//    remote sfence.vma to the other harts (unless none), then a local sfence.vma of the whole
//    TLB (kva_invalidate_range); pmap_qremove the same;
//  - a one-page invalidation is sfence_vma_page (sfence.vma va), a longer one sfence_vma();
//  - the remote part is an SBI call (RFENCE extension): the guest ecalls, the host plays the
//    firmware (OpenSBI's rules, riscv_sbi.h) and runs sfence.vma on each target hart's engine.
//
// Architectural TLB model rules (RISC-V privileged spec, "Supervisor Memory-Management Fence
// Instruction" and "Virtual Address Translation Process"), applied through core/tlb_model.h:
//  - a hart may cache any valid non-leaf entry, and any valid leaf whose A bit is set,
//    speculatively, at any time. A leaf with A=0 is held by no hart: under Svade its walk
//    faults; under Svadu the hart sets A (atomically with re-checking the PTE) before it can
//    use the translation, so A=0 means no hart used it since A was cleared and fenced;
//  - a walk that found an invalid entry may be cached too (no Svvptc): after invalid->valid
//    with no sfence.vma, that hart may still fault (oracle `negative`);
//  - sfence.vma x0, x0 drops everything; sfence.vma va, x0 drops the leaf entries for va in
//    every address space, global ones included, and leaves cached non-leaf entries (software
//    that changes a non-leaf PTE must fence with rs1 = x0); sfence.vma x0, asid drops the
//    ASID's entries except global ones; a large page is one entry;
//  - a page fault does not invalidate anything.
// QEMU flushes the whole TLB on every sfence.vma and never caches an invalid entry, so only
// the model can show a fence of the wrong address, a surviving global entry or a negative one.
#pragma once
#include <bit>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "archs/riscv64/riscv_kernel_map.h"
#include "archs/riscv64/riscv_page_tables.h"
#include "core/pmap.h"
#include "emu/emulated_pmap.h"

namespace kva::riscv {

// What distinguishes one riscv64 variant beyond its paging format.
struct Platform {
  std::string name;  // registry name
  AdUpdate ad = AdUpdate::Hardware;
};

template <class Format>
class RiscvPmap final : public EmulatedPmap {
 public:
  using Tables = PageTables<Format>;

  RiscvPmap(const MachineConfig& cfg, Platform platform);
  static PmapCapabilities capabilities_for(const Platform& platform);

  std::string_view arch_name() const override { return platform_.name; }
  bool has_direct_map() const override { return true; }
  // Sv39 / Sv48: the root table's reach (512 entries of level_bytes(0)) is the translated width.
  VaFormat va_format() const override {
    return {64, std::countr_zero(Tables::level_bytes(0)) + 9};
  }
  vaddr_t phys_to_dmap(paddr_t pa) const override;
  VaRange kva_space() const override { return km_.kva; }
  VaRange growable_kva() const override { return grow_; }

  PteState pte(vaddr_t va) const override;
  std::vector<WalkLevel> walk(vaddr_t va) const override;
  std::string describe_walk(vaddr_t va) const override;
  std::string rule_text(const HeldEntry& e) const override;
  void cacheable_translations(VaRange range, std::vector<Translation>& out) const override;
  std::optional<Translation> walk_via(const Translation& via, vaddr_t va) const override;

  // For tests.
  Tables& tables() { return tables_; }
  const KernelMap& kernel_map() const { return km_; }
  AdUpdate ad_update() const { return platform_.ad; }
  // sfence.vma va, asid on `cpu`; without va: sfence.vma x0, asid.
  void sfence_vma_asid(cpuid_t cpu, std::optional<vaddr_t> va, std::uint16_t asid);

 protected:
  PmapCapabilities make_capabilities() const override;
  void do_kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs) override;
  void do_kremove(vaddr_t va) override;
  void do_kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs) override;
  void do_protect(vaddr_t va, std::size_t npages, bool writable) override;
  std::size_t do_growkernel(vaddr_t va) override;
  paddr_t do_replace_table(vaddr_t va, int level, bool copy) override;
  void do_clear_accessed(vaddr_t va) override;
  void do_clear_modified(vaddr_t va) override;
  bool do_qenter(vaddr_t va, std::span<const paddr_t> pas) override;
  void do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) override;
  void do_shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages) override;
  void do_invalidate_range_all(cpuid_t cpu, bool local, CpuSet targets, vaddr_t va,
                               std::size_t npages) override;
  void do_flush_local(cpuid_t cpu, bool include_global) override;
  void do_load(cpuid_t cpu, vaddr_t va, std::span<std::uint8_t> out) override;
  void do_store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> in) override;
  void on_page_fault(cpuid_t cpu, vaddr_t va, AccessType type) override;

 private:
  static constexpr int kLeafLevel = Tables::kLeafLevel;
  bool in_kernel_kva(vaddr_t va, std::uint64_t len = 1) const;  // kva_space or growable
  paddr_t kernel_pte_slot(vaddr_t va) const;  // throws where no kernel page table exists
  std::optional<paddr_t> mapped_leaf_slot(vaddr_t va) const;
  // PTE_KERN with the attributes applied.
  Pte kernel_leaf(paddr_t pa, const KenterAttrs& attrs) const;
  void update_leaf(vaddr_t va, void (*edit)(Pte&));
  Translation translation(vaddr_t va, int level, const Pte& e, bool global) const;
  void enumerate(paddr_t table, int level, vaddr_t base, vaddr_t first, vaddr_t last, bool global,
                 std::vector<Translation>& out) const;
  // The SBI firmware: answers the ecall `cpu` made.
  void sbi_call(cpuid_t cpu);
  // The model and counters for fences executed on `cpu`.
  void account_fence_pages(cpuid_t cpu, vaddr_t va, std::size_t npages);
  void account_fence_all(cpuid_t cpu);
  // Svade, which QEMU cannot do: a walk that would find A=0 (or D=0 for a store) faults.
  // Returns the leaf's A/D bits before the access, to undo what QEMU's walk sets.
  std::optional<std::pair<paddr_t, Pte>> svade_before(cpuid_t cpu, vaddr_t va, AccessType type);
  void svade_after(const std::optional<std::pair<paddr_t, Pte>>& before);

  Platform platform_;
  Tables tables_;
  KernelMap km_;
  VaRange grow_;
  const StubRoutine* invlrng_ = nullptr;
  const StubRoutine* invltlb_ = nullptr;
  const StubRoutine* invalidate_range_ = nullptr;
  const StubRoutine* remote_sfence_ = nullptr;
  const StubRoutine* sfence_asid_ = nullptr;
  const StubRoutine* sfence_asid_all_ = nullptr;
  RuleId global_survives_asid_fence_ = kNoRule, table_survives_page_fence_ = kNoRule;
};

}  // namespace kva::riscv
