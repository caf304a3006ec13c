// The abstract MMU: the subset of FreeBSD's pmap(9) that buf(9) and sf_buf(9) need, plus accesses
// performed by a named CPU. Machine-independent code sees only this class.
//
// The base class owns what every architecture shares: fault injection, counters, the two
// staleness oracles and the architectural TLB model bookkeeping. An arch module implements the
// protected do_* hooks with its real page-table format and invalidation protocol.
#pragma once
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
#include "core/stale.h"
#include "core/tlb_model.h"
#include "core/types.h"
#include "core/vm_page.h"

namespace kva {

struct VaRange {
  vaddr_t start = 0;
  vaddr_t end = 0;  // exclusive
  std::size_t size() const { return end - start; }
  bool contains(vaddr_t va) const { return va >= start && va < end; }
};

// The virtual-address format: a `width`-bit address (32 or 64) whose low `bits` are translated;
// the bits from `bits` up to `width` must all copy bit `bits - 1` (x86-64 canonical form).
// Front ends refuse a VA that does not fit instead of letting the arch truncate it.
struct VaFormat {
  int width = 64;
  int bits = 64;
  bool fits(vaddr_t va) const;
};

// The leaf PTE for a VA, decoded into machine-independent terms.
struct PteState {
  bool valid = false;
  bool writable = false;
  bool accessed = false;  // PG_A / AF / A
  bool modified = false;  // PG_M / DBM-dirty / D
  bool global = false;
  paddr_t pa = 0;         // page frame address
};

// How a machine is sized; one per front-end run.
struct MachineConfig {
  int ncpus = 2;                            // 1..MAXCPU
  std::size_t mem_bytes = 16u << 20;        // guest RAM
  std::ostream* trace = nullptr;            // per-vCPU disassembled guest trace when set
  ExecMode exec_mode = ExecMode::Fast;      // emulated archs only; same results either way
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

  // --- kernel address space
  virtual bool has_direct_map() const = 0;          // PMAP_HAS_DMAP
  virtual vaddr_t phys_to_dmap(paddr_t pa) const;   // PHYS_TO_DMAP; throws when no direct map
  // KVA reserved for sf_bufs and buffer maps; its page-table pages already exist.
  virtual VaRange kva_space() const = 0;
  virtual VaFormat va_format() const { return {}; }

  // --- PTE operations: no TLB maintenance (pmap_kenter / pmap_kremove semantics)
  virtual void kenter(vaddr_t va, paddr_t pa) = 0;  // valid, writable, A = D = 0, not global
  virtual void kremove(vaddr_t va) = 0;
  virtual PteState pte(vaddr_t va) const = 0;       // software walk of the real tables
  virtual void clear_accessed(vaddr_t va) = 0;
  virtual void clear_modified(vaddr_t va) = 0;
  std::optional<paddr_t> extract(vaddr_t va) const;  // pmap_extract (page offset kept)

  // pmap_qenter / pmap_qremove: map or unmap consecutive pages, then invalidate the range on
  // every CPU (local + shootdown), as FreeBSD's pmap does. `cpu` is the issuing CPU.
  // Like amd64 pmap_qenter, qenter invalidates only when it replaced at least one valid PTE;
  // qremove always invalidates.
  void qenter(cpuid_t cpu, vaddr_t va, std::span<const paddr_t> pas);
  void qremove(cpuid_t cpu, vaddr_t va, std::size_t count);

  // --- TLB maintenance (honours fault injection, counts, updates the TLB model via do_*)
  void invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages = 1);
  // Invalidate on `targets` (the issuer is removed from the set; use invalidate_local for it).
  void shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages = 1);
  // pmap_invalidate_range: local on the issuer plus shootdown to every other CPU.
  void invalidate_range_all(cpuid_t cpu, vaddr_t va, std::size_t npages);

  // --- accesses by a named CPU; both oracles run on every access
  std::vector<std::uint8_t> load(cpuid_t cpu, vaddr_t va, std::size_t n);
  void store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> data);
  void copy(cpuid_t cpu, vaddr_t dst, vaddr_t src, std::size_t n);  // load then store, per page

  // --- observation
  PmapStats& stats() { return stats_; }
  const PmapStats& stats() const { return stats_; }
  StaleLog& stale_log() { return stale_; }
  FaultSet& faults() { return faults_; }
  const FaultSet& faults() const { return faults_; }
  TlbModel& tlb_model() { return tlb_model_; }
  const TlbModel& tlb_model() const { return tlb_model_; }
  void set_step(std::string label) { step_ = std::move(label); }
  const std::string& step() const { return step_; }
  // Human-readable walk of va (one line per level): for fault reports and notebooks.
  virtual std::string describe_walk(vaddr_t va) const = 0;

 protected:
  // Arch hooks. Each runs the architecture's real mechanism and must keep tlb_model() in step
  // with what its ISA permits (e.g. x86 invlpg drops the page, global entries included).
  virtual void do_invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) = 0;
  // `targets` is non-empty, excludes the initiator, and has fault injection already applied.
  // Count ipis / broadcasts here; the base counts shootdowns and shootdown_targets.
  virtual void do_shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages) = 0;
  // One access that stays within a page. Throw PageFault when the guest faults.
  virtual void do_load(cpuid_t cpu, vaddr_t va, std::span<std::uint8_t> out) = 0;
  virtual void do_store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> in) = 0;
  // How an access updates the TLB model when it has no entry for va (a hardware walk that
  // may fill the TLB). Default: fill from pte() when valid.
  virtual void model_fill_on_access(cpuid_t cpu, vaddr_t va, AccessType type);

  std::unique_ptr<PhysicalMemory> phys_;

 private:
  void check_cpu(cpuid_t cpu) const;
  // Architectural oracle: report if the model holds a translation that differs from pte().
  void check_architectural(cpuid_t cpu, vaddr_t va, AccessKind kind);
  // Observed oracle, after the access.
  void check_observed(cpuid_t cpu, vaddr_t va, AccessKind kind, std::vector<std::uint8_t> accessed);

  int ncpus_;
  PmapStats stats_;
  StaleLog stale_;
  FaultSet faults_;
  TlbModel tlb_model_;
  std::string step_;
};

}  // namespace kva
