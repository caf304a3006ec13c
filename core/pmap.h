// The abstract MMU: the subset of FreeBSD's pmap(9) that buf(9) and sf_buf(9) need, plus accesses
// performed by a named CPU. Machine-independent code sees only this class.
//
// The base class owns what every architecture shares: fault injection, counters, the staleness
// oracles and the architectural TLB model. Every table-modifying operation is a non-virtual
// wrapper here: it asks the arch for the cacheable translations over the affected VA range
// before and after the arch's do_* write, and retires what disappeared (see core/tlb_model.h).
// An arch module supplies its table format (do_* writes, pte/walk, cacheable_translations,
// walk_via) and its invalidation mechanism and rules (do_invalidate_local, do_shootdown,
// do_flush_local, each updating tlb_model()).
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/cpuset.h"
#include "core/exec_mode.h"
#include "core/faults.h"
#include "core/pmap_stats.h"
#include "core/pmap_types.h"
#include "core/stale.h"
#include "core/tlb_model.h"
#include "core/types.h"
#include "core/vm_page.h"

namespace kva {

// How a machine is sized; one per front-end run.
struct MachineConfig {
  int ncpus = 2;                            // 1..MAXCPU
  std::size_t mem_bytes = 16u << 20;        // guest RAM
  std::ostream* trace = nullptr;            // per-vCPU disassembled guest trace when set
  ExecMode exec_mode = ExecMode::Fast;      // emulated archs only; same results either way
  // Accessed/dirty bit maintenance; nullopt: the arch's own (hardware). The registry refuses
  // Software where capabilities().software_ad is false.
  std::optional<AdBits> ad_bits = std::nullopt;
  // Where the ISA requires break-before-make (capabilities().requires_break_before_make), the
  // pmap breaks a valid entry before replacing it in kenter, kenter_large and qenter: entry
  // invalid -> invalidation everywhere (DSB, TLBI, DSB) -> new entry. FreeBSD does not (its
  // kernel pmaps store over valid entries and invalidate afterwards): the default.
  bool break_before_make = false;
};

class Pmap {
 public:
  // Creates guest RAM of cfg.mem_bytes at physical address ram_base.
  Pmap(const MachineConfig& cfg, paddr_t ram_base);
  virtual ~Pmap();
  Pmap(const Pmap&) = delete;
  Pmap& operator=(const Pmap&) = delete;

  // --- identity and machine
  virtual std::string_view arch_name() const = 0;
  int ncpus() const { return ncpus_; }
  CpuSet all_cpus() const { return CpuSet::first_n(ncpus_); }
  PhysicalMemory& phys() { return *phys_; }
  const PmapCapabilities& capabilities() const;  // computed once from make_capabilities()
  std::vector<std::string> features() const { return feature_names(capabilities()); }

  // --- kernel address space
  virtual bool has_direct_map() const = 0;          // PMAP_HAS_DMAP
  virtual vaddr_t phys_to_dmap(paddr_t pa) const;   // PHYS_TO_DMAP; throws when no direct map
  // KVA reserved for sf_bufs and buffer maps; its page-table pages already exist.
  virtual VaRange kva_space() const = 0;
  virtual VaFormat va_format() const { return {}; }
  // Kernel VA beyond kernel_vm_end: no page tables until growkernel() or kenter_large().
  virtual VaRange growable_kva() const { return {}; }

  // --- table writes, no TLB maintenance (pmap_kenter / pmap_kremove semantics), except the
  // break of MachineConfig::break_before_make, issued from CPU 0 (kenter names no CPU).
  void kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs = {});
  void kremove(vaddr_t va);  // clears the leaf that maps va, whatever its size
  // One large page of `size` bytes (capabilities().large_page_sizes); va and pa aligned to it.
  void kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs = {});
  // pmap_protect on kernel KVA, PTE part only: sets or clears write permission of npages
  // leaves (FreeBSD then invalidates; do it with invalidate_range).
  void protect(vaddr_t va, std::size_t npages, bool writable);
  // pmap_growkernel for va: allocates the missing page-table pages and installs their
  // upper-level entries. Returns the number of table pages allocated.
  std::size_t growkernel(vaddr_t va);
  // Points the upper-level entry `level` levels above the leaf that covers va (1: the entry
  // that points at va's page table) at a newly allocated table page, empty or a copy of the old
  // one. Returns the new page's physical address. Lets a testcase reach the paging-structure-
  // cache rule: a CPU may keep walking through the old page.
  paddr_t replace_table(vaddr_t va, int level, bool copy);
  void clear_accessed(vaddr_t va);
  void clear_modified(vaddr_t va);
  // What pmap_fault does for an access-flag fault on a valid kernel leaf (FreeBSD arm64: sets
  // ATTR_AF; no TLB maintenance, an AF=0 entry is never cached). Only where
  // capabilities().accessed_flag_faults; elsewhere the hardware walk sets the flag.
  void set_accessed(vaddr_t va);
  virtual PteState pte(vaddr_t va) const = 0;           // software walk of the real tables
  virtual std::vector<WalkLevel> walk(vaddr_t va) const = 0;  // every level read, root first
  // Every valid leaf mapping VA in [first, last] (inclusive, so a range may end at 2^64 - 1),
  // in VA order, whatever its A bit: what the tables map, for views such as Python's
  // mappings() (cacheable_translations is what a CPU may cache). The default walks from
  // `first` and skips each non-present entry's whole reach, which suits every arch whose
  // walk() reports its table levels; `page_tables` (when given) receives the table pages read.
  virtual void mapped_leaves(vaddr_t first, vaddr_t last, std::vector<MappedLeaf>& out,
                             std::vector<paddr_t>* page_tables = nullptr) const;
  std::optional<paddr_t> extract(vaddr_t va) const;     // pmap_extract (page offset kept)

  // pmap_qenter / pmap_qremove: map or unmap consecutive pages, then invalidate the range on
  // every CPU (local + shootdown), as FreeBSD's pmap does. `cpu` is the issuing CPU.
  // Which PTEs qenter writes and whether it invalidates is the arch's policy (do_qenter);
  // qremove always invalidates.
  void qenter(cpuid_t cpu, vaddr_t va, std::span<const paddr_t> pas);
  void qremove(cpuid_t cpu, vaddr_t va, std::size_t count);

  // --- TLB maintenance (honours fault injection, counts, updates the TLB model via do_*)
  void invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages = 1);
  // Invalidate on `targets` (the issuer is removed from the set; use invalidate_local for it).
  void shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages = 1);
  // pmap_invalidate_range: local on the issuer plus shootdown to every other CPU.
  void invalidate_range_all(cpuid_t cpu, vaddr_t va, std::size_t npages);
  // Full local flush (x86 CR3 reload, arm64 TLBI VMALLE1, riscv SFENCE.VMA): global entries
  // survive unless include_global (x86 CR4.PGE toggle).
  void flush_local(cpuid_t cpu, bool include_global = false);

  // --- accesses by a named CPU; every oracle runs on every access
  std::vector<std::uint8_t> load(cpuid_t cpu, vaddr_t va, std::size_t n);
  void store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> data);
  // Load then store, per page; `stored` (optional) sees each chunk after it is stored.
  void copy(cpuid_t cpu, vaddr_t dst, vaddr_t src, std::size_t n,
            const std::function<void(vaddr_t, std::span<const std::uint8_t>)>& stored = {});

  // --- observation
  PmapStats& stats() { return stats_; }
  const PmapStats& stats() const { return stats_; }
  StaleLog& stale_log() { return stale_; }
  const StaleLog& stale_log() const { return stale_; }
  FaultSet& faults() { return faults_; }
  const FaultSet& faults() const { return faults_; }
  TlbModel& tlb_model() { return tlb_model_; }
  const TlbModel& tlb_model() const { return tlb_model_; }
  void set_step(std::string label) { step_ = std::move(label); }
  const std::string& step() const { return step_; }
  // Human-readable walk of va (one line per level): for fault reports and notebooks.
  virtual std::string describe_walk(vaddr_t va) const = 0;
  // The rule behind a held entry, and the entry itself, in the arch's words (for reports).
  virtual std::string rule_text(const HeldEntry& e) const;
  virtual std::string entry_text(const Translation& t) const;

  // --- what the model asks the arch
  // Every translation in the tables now that a CPU may cache (leaves and upper-level entries;
  // on x86: present with A=1), whose reach intersects `range`, each once.
  virtual void cacheable_translations(VaRange range, std::vector<Translation>& out) const = 0;
  // The leaf a walk of va reaches through the (possibly stale) upper-level entry `via`,
  // reading the table pages below it as they are now; nullopt when that walk would fault.
  virtual std::optional<Translation> walk_via(const Translation& via, vaddr_t va) const;
  // The translations cpu's hardware walk of va uses now (demand tracking). Default: the
  // cacheable translations covering va's page, registers excluded.
  virtual void walk_path(cpuid_t cpu, vaddr_t va, std::vector<Translation>& out) const;

 protected:
  virtual PmapCapabilities make_capabilities() const = 0;

  // Table writes. Each changes the tables only; the base handles the model.
  virtual void do_kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs) = 0;
  virtual void do_kremove(vaddr_t va) = 0;
  virtual void do_kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs);
  virtual void do_protect(vaddr_t va, std::size_t npages, bool writable) = 0;
  virtual std::size_t do_growkernel(vaddr_t va);
  virtual paddr_t do_replace_table(vaddr_t va, int level, bool copy);
  virtual void do_clear_accessed(vaddr_t va) = 0;
  virtual void do_clear_modified(vaddr_t va) = 0;
  virtual void do_set_accessed(vaddr_t va);  // default: unsupported
  // pmap_qenter's PTE writes. Returns true when the range must be invalidated everywhere.
  // Default: kenter every page, invalidate when some replaced PTE was valid.
  virtual bool do_qenter(vaddr_t va, std::span<const paddr_t> pas);

  // Arch hooks. Each runs the architecture's real mechanism and must keep tlb_model() in step
  // with what its ISA permits (e.g. x86 invlpg drops the page, global entries included).
  virtual void do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) = 0;
  // `targets` is non-empty, excludes the initiator, and has fault injection already applied.
  // Count ipis / broadcasts here; the base counts shootdowns and shootdown_targets.
  virtual void do_shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages) = 0;
  // pmap_invalidate_range's mechanism: [va, +npages) on `cpu` unless `local` is false (fault
  // injection), and on `targets` (already counted, fault injection applied; may be empty).
  // Default: do_invalidate_local, then do_shootdown. An arch whose kernel does both as one
  // sequence overrides it (riscv: fence, SBI remote fence, then the local sfence.vma).
  virtual void do_invalidate_range_all(cpuid_t cpu, bool local, CpuSet targets, vaddr_t va,
                                       std::size_t npages);
  virtual void do_flush_local(cpuid_t cpu, bool include_global) = 0;
  // One access that stays within a page. Throw PageFault when the guest faults.
  virtual void do_load(cpuid_t cpu, vaddr_t va, std::span<std::uint8_t> out) = 0;
  virtual void do_store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> in) = 0;
  // An access by cpu to va faulted. Default: record a negative entry where the ISA caches
  // invalid entries (capabilities().caches_invalid_entries).
  virtual void on_page_fault(cpuid_t cpu, vaddr_t va, AccessType type);

  // Throws a KvaError naming the op when `supported` is false.
  void require(bool supported, const char* op) const;

  std::unique_ptr<PhysicalMemory> phys_;

 private:
  void check_cpu(cpuid_t cpu) const;
  // The targets a shootdown from `initiator` reaches: without the initiator, with fault
  // injection applied; counts the shootdown when any remain.
  CpuSet shootdown_targets(cpuid_t initiator, CpuSet targets);
  // Runs `write` between two snapshots of the cacheable translations over `range` and retires
  // (and, under break-before-make rules, marks) what the write changed.
  template <class Write>
  auto table_write(VaRange range, Write&& write);
  void retire_changes(VaRange range);
  // MachineConfig::break_before_make: clears every cacheable leaf in `range` and invalidates
  // the range everywhere from `cpu`, before a new entry is written there.
  void break_before_make(cpuid_t cpu, VaRange range);
  // Architectural oracle, before the access: a held retired translation that differs from
  // the tables (frame, or write permission for a store) is reported.
  void check_architectural(cpuid_t cpu, vaddr_t va, AccessKind kind);
  // Demand tracking after a successful access: a CPU that holds no usable leaf walked.
  void note_access(cpuid_t cpu, vaddr_t va, AccessKind kind);
  // Observed oracle, after the access.
  void check_observed(cpuid_t cpu, vaddr_t va, AccessKind kind, std::span<const std::uint8_t> accessed);
  template <class Access>
  void access(cpuid_t cpu, vaddr_t va, AccessKind kind, Access&& run);

  int ncpus_;
  bool break_before_make_;
  PmapStats stats_;
  StaleLog stale_;
  FaultSet faults_;
  TlbModel tlb_model_;
  std::string step_;
  mutable std::optional<PmapCapabilities> caps_;
  std::vector<Translation> before_, after_;  // table_write snapshots
  std::vector<HeldEntry> held_;              // check_architectural scratch
  std::vector<Translation> path_;            // note_access scratch
};

}  // namespace kva
