// The x86 pmap shared by amd64, i386 and i386-pae: real page tables in guest RAM (format given
// by `Paging`), accesses run as guest code on the named vCPU's Unicorn engine (the mechanics are
// emu/EmulatedPmap's), invlpg / CR3 reload for local invalidation and an IPI handler stub per
// target for shootdowns, after FreeBSD's pmap_invalidate_range and smp_targeted_tlb_shootdown.
//
// Architectural TLB model rules (Intel SDM vol. 3, 4.10):
//  - an entry is created only by a successful walk, and a successful walk always sets A;
//  - invlpg removes the page's entry, global entries included;
//  - a CR3 load removes every entry except global ones (CR4.PGE is on in every variant);
//  - PAE: the four PDPTEs are loaded into per-CPU registers at CR3 load and used by every walk
//    until the next one. QEMU re-reads them on each walk, so only the model can show a walk
//    through a PDPTE changed in memory since the CPU's last CR3 load.
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

// What distinguishes one x86 variant beyond its paging format.
struct Platform {
  std::string name;                   // registry name
  CpuMode mode;
  std::uint64_t cr4_bits;             // PGE, plus PAE for amd64 and i386-pae
  const StubImage* stubs;
  VaRange kva;                        // sf_buf / buffer-map KVA, page tables pre-populated
  std::optional<vaddr_t> dmap_base;   // direct map of all RAM in 2 MiB global pages
};

template <class Paging>
class X86Pmap final : public EmulatedPmap {
 public:
  X86Pmap(const MachineConfig& cfg, Platform platform);

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

  void kenter(vaddr_t va, paddr_t pa) override;
  void kremove(vaddr_t va) override;
  PteState pte(vaddr_t va) const override;
  void clear_accessed(vaddr_t va) override;
  void clear_modified(vaddr_t va) override;
  std::string describe_walk(vaddr_t va) const override;

  // For tests.
  PageTables<Paging>& tables() { return tables_; }

 protected:
  void do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) override;
  void do_shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages) override;
  void model_fill_on_access(cpuid_t cpu, vaddr_t va, AccessType type) override;

 private:
  using Entry = typename Paging::Entry;
  paddr_t kernel_pte_slot(vaddr_t va) const;  // throws outside the pre-populated tables
  void update_leaf(vaddr_t va, void (*edit)(Entry&));
  // The firmware region, identity mapped and global; its data pages no-execute where the
  // format has NX (emu/firmware.h says why).
  void map_firmware();
  // Executes one invalidation request on `cpu`, already running in guest code; updates the
  // model and counters.
  void account_invalidation(cpuid_t cpu, bool full_flush, vaddr_t va, std::size_t npages);
  // The root-level entries cpu's walks use: its PDPTE registers on PAE, memory otherwise.
  const Entry* walk_root(cpuid_t cpu) const;

  Platform platform_;
  PageTables<Paging> tables_;
  const StubRoutine* invlrng_ = nullptr;
  const StubRoutine* invltlb_ = nullptr;
  using RootEntries = std::array<Entry, Paging::kEntries[0]>;
  std::vector<RootEntries> pdpte_registers_;  // per CPU; PAE only (kTopLevelCachedAtCr3Load)
};

}  // namespace kva::x86
