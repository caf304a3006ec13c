// The x86 pmap shared by amd64, i386 and i386-pae: real page tables in guest RAM (format given
// by `Paging`), accesses run as guest code on the named vCPU's Unicorn engine (the mechanics are
// emu/EmulatedPmap's), invlpg / CR3 reload for local invalidation and an IPI handler stub per
// target for shootdowns, after FreeBSD's pmap_invalidate_range and smp_targeted_tlb_shootdown.
//
// Architectural TLB model rules (Intel SDM vol. 3, 4.10), applied through core/tlb_model.h:
//  - any CPU may cache a present entry whose A bit is set, speculatively or by prefetch
//    (4.10.2.3); an entry with A=0 was never walked, so no CPU holds it (4.10.4.3);
//  - upper-level entries (PML4E, PDPTE, PDE) are cached in paging-structure caches (4.10.3);
//  - invlpg removes every entry for the page, global and large ones included, and every
//    paging-structure-cache entry whatever its address (4.10.4.1);
//  - a CR3 load removes every non-global entry and every paging-structure-cache entry; a
//    CR4.PGE toggle removes everything;
//  - a large page (2 MiB, 1 GiB, 4 MiB with PSE) is one entry;
//  - a cached entry keeps the rights it was walked with until invalidated (4.10.4.3);
//  - a page fault invalidates the faulting page's entries (4.10.4.1);
//  - PAE: the four PDPTEs are loaded into per-CPU registers at CR3 load (and at a CR4.PGE
//    toggle) and used by every walk until the next one (4.4.1). QEMU re-reads them on each
//    walk, so only the model can show a walk through a PDPTE changed since.
#pragma once
#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "archs/x86/x86_cpu.h"
#include "archs/x86/x86_page_tables.h"
#include "core/pmap.h"
#include "emu/emulated_pmap.h"

namespace kva::x86 {

// Physical layout shared by the variants: the firmware region (stubs, mailboxes, scratch) in
// the first MiB, identity mapped, then guest RAM.
inline constexpr paddr_t kFirmwareBase = 0;
inline constexpr paddr_t kRamBase = FirmwareLayout::kSize;

// The bits FreeBSD's pmap puts in a new kernel PTE besides P, RW, the frame and cache bits.
struct KernelPteBits {
  bool global = false;             // pg_g
  bool accessed_modified = false;  // X86_PG_A | X86_PG_M
  bool no_execute = false;         // pg_nx
};

// What distinguishes one x86 variant beyond its paging format.
struct Platform {
  std::string name;                   // registry name
  CpuMode mode;
  std::uint64_t cr4_bits;             // PGE, plus PAE for amd64 and i386-pae, PSE for i386
  const StubImage* stubs;
  VaRange kva;                        // sf_buf / buffer-map KVA, page tables pre-populated
  std::optional<vaddr_t> dmap_base;   // direct map of all RAM in 2 MiB global pages
  VaRange grow;                       // kernel VA beyond kernel_vm_end: no tables yet
  KernelPteBits kenter_bits;          // pmap_kenter
  KernelPteBits qenter_bits;          // pmap_qenter
  std::uint64_t efer_bits = 0;        // EFER.NXE where PTEs carry NX
};

template <class Paging>
class X86Pmap final : public EmulatedPmap {
 public:
  X86Pmap(const MachineConfig& cfg, Platform platform);
  static PmapCapabilities capabilities_for(const Platform& platform);

  std::string_view arch_name() const override { return platform_.name; }
  bool has_direct_map() const override { return platform_.dmap_base.has_value(); }
  vaddr_t phys_to_dmap(paddr_t pa) const override;
  VaRange kva_space() const override { return platform_.kva; }
  // 32-bit modes translate every bit of a 32-bit VA; long mode the bits the root table reaches.
  VaFormat va_format() const override {
    const int width = platform_.mode == CpuMode::Long64 ? 64 : 32;
    int reach = static_cast<int>(Paging::kShift[0]);
    for (std::size_t n = Paging::kEntries[0]; n > 1; n >>= 1) ++reach;
    return {width, std::min(width, reach)};
  }
  VaRange growable_kva() const override { return platform_.grow; }

  PteState pte(vaddr_t va) const override;
  std::vector<WalkLevel> walk(vaddr_t va) const override;
  std::string describe_walk(vaddr_t va) const override;
  std::string rule_text(const HeldEntry& e) const override;
  void cacheable_translations(VaRange range, std::vector<Translation>& out) const override;
  std::optional<Translation> walk_via(const Translation& via, vaddr_t va) const override;

  // For tests.
  PageTables<Paging>& tables() { return tables_; }

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
  void do_flush_local(cpuid_t cpu, bool include_global) override;
  void on_page_fault(cpuid_t cpu, vaddr_t va, AccessType type) override;

 private:
  using Entry = typename Paging::Entry;
  static constexpr int kLeafLevel = Paging::kLevels - 1;
  bool in_kernel_kva(vaddr_t va, std::uint64_t len = 1) const;  // kva_space or growable
  paddr_t kernel_pte_slot(vaddr_t va) const;  // throws where no kernel page table exists
  // The slot of the leaf entry that maps va (any level), or nullopt when va is unmapped.
  std::optional<paddr_t> mapped_leaf_slot(vaddr_t va) const;
  // A kernel leaf entry the way FreeBSD writes it.
  Entry leaf_entry(paddr_t pa, const KernelPteBits& bits, const KenterAttrs& attrs, bool large) const;
  void update_leaf(vaddr_t va, void (*edit)(Entry&));
  // The firmware region, identity mapped and global; its data pages no-execute where the
  // format has NX (emu/firmware.h says why).
  void map_firmware();
  // Translations in [first, last] (VAs without amd64's sign extension) under `table`.
  void enumerate(paddr_t table, int level, vaddr_t base, vaddr_t first, vaddr_t last,
                 bool writable, std::vector<Translation>& out) const;
  Translation translation(vaddr_t va, int level, const Entry& e, bool writable) const;
  // Executes one invalidation request on `cpu`, already running in guest code; updates the
  // model and counters. full_flush: invltlb_glob (what pmap_invalidate_all does for the
  // kernel pmap).
  void account_invalidation(cpuid_t cpu, bool full_flush, vaddr_t va, std::size_t npages);
  // The model side of a CR3 load (include_global: a CR4.PGE toggle).
  void flush_model(cpuid_t cpu, bool include_global);
  // PAE: cpu loads the PDPTEs into its registers (CR3 load, CR4.PGE change).
  void load_root_registers(cpuid_t cpu);

  Platform platform_;
  PageTables<Paging> tables_;
  const StubRoutine* invlrng_ = nullptr;
  const StubRoutine* invltlb_ = nullptr;
  const StubRoutine* invltlb_glob_ = nullptr;
  RuleId global_survives_cr3_ = kNoRule, register_survives_invlpg_ = kNoRule;
};

}  // namespace kva::x86
