// Architectural TLB model: per CPU, every translation the ISA *permits* it to use now.
//
// While a translation is current and cacheable in the tables, every CPU may hold it and holding
// it is harmless. Only translations that stopped being current can be stale, so the model keeps
// *retired* records with a holder mask (may_hold: CPUs the ISA permits to still hold it;
// demand: those that walked it since their last invalidation covering it), plus, for current
// translations, only which CPUs walked them (the demand view that the reference MMU uses as its
// real TLB). A large page is one record, never per-4 KiB pieces; lookups are one hash probe per
// span class in use (4K, 2M, 4M, 1G, table reaches), never O(CPUs).
//
// Arch rules enter through InvalidationScope (what an instruction drops, and which survivors
// get a rule note), through the kinds of the translations the arch produces, and through the
// table-write hooks of the Pmap base (retire, mark_bbm).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/cpuset.h"
#include "core/translation.h"
#include "core/types.h"

namespace kva {

// An interned rule text ("x86: global entry survives CR3 load"); 0 means none.
using RuleId = std::uint16_t;
inline constexpr RuleId kNoRule = 0;

// What one invalidation drops on one CPU.
struct InvalidationScope {
  enum class Tables : std::uint8_t {
    None,     // last-level only: table entries survive (arm64 TLBI VALE1)
    InRange,  // table entries covering the range (riscv sfence.vma with rs1)
    All,      // every table entry whatever its VA (x86 INVLPG, CR3 load)
  };
  bool all_vas = false;               // every VA; otherwise [start, end)
  vaddr_t start = 0, end = 0;
  std::optional<std::uint16_t> asid;  // only non-global entries of this ASID (and globals)
  bool keep_global = false;           // global entries survive (CR3 load, ASID-scoped ops)
  bool leaves = true;                 // Leaf and Invalid entries in scope
  Tables tables = Tables::InRange;
  bool root_registers = false;        // RootRegister entries, all of them (a root reload)
  RuleId global_rule = kNoRule;       // noted on entries kept only because they are global
  RuleId table_rule = kNoRule;        // noted on table entries kept by a last-level-only scope
  RuleId register_rule = kNoRule;     // noted on register entries in range that survive

  static InvalidationScope range(vaddr_t start, vaddr_t end) {
    InvalidationScope s;
    s.start = start;
    s.end = end;
    return s;
  }
  static InvalidationScope everything() {
    InvalidationScope s;
    s.all_vas = true;
    s.tables = Tables::All;
    s.root_registers = true;
    return s;
  }
};

// A record as seen by one CPU.
struct HeldEntry {
  Translation t;
  bool retired = true;      // false: a current translation this CPU walked (views only)
  Holding holding = Holding::Demand;
  bool bbm = false;         // replaced valid->valid without break-before-make
  RuleId note = kNoRule;    // why an invalidation on this CPU left it (scope survival)
  cpuid_t walked_by = -1;   // lowest CPU that had walked it when it retired; -1: none
};

class TlbModel {
 public:
  explicit TlbModel(int ncpus);
  int ncpus() const { return ncpus_; }

  RuleId rule(std::string_view text);  // interns a rule text
  const std::string& rule_text(RuleId id) const;

  // --- demand: which CPUs walked which translations
  // cpu's walk used t (a current translation; for RootRegister: cpu loaded it at a root reload).
  void note_walk(cpuid_t cpu, const Translation& t);
  // cpu's walk of va found no valid translation and the ISA lets it cache that (negative entry).
  void note_invalid(cpuid_t cpu, vaddr_t va);
  // cpu's TLB replaced whatever leaf or negative entry it had for va (a re-walk).
  void forget_demand(cpuid_t cpu, vaddr_t va);
  // A write by cpu found only read-only entries for va and re-walked (or faulted, which
  // invalidates): cpu no longer holds any read-only leaf covering va.
  void drop_readonly(cpuid_t cpu, vaddr_t va);

  // --- table writes
  // t stopped being current (or cacheable). Leaf/Table: every CPU may hold it, since any CPU
  // may cache a cacheable translation speculatively; RootRegister: the CPUs that loaded it.
  void retire(const Translation& t);
  // The valid leaf t was just written: retired leaves overlapping it with a different output
  // that some CPU may still hold become break-before-make violations. Returns how many.
  std::size_t mark_bbm(const Translation& t);

  // --- invalidation executed on one CPU
  void invalidate(cpuid_t cpu, const InvalidationScope& s);

  // --- queries
  bool any_retired() const { return retired_ != 0; }
  // Retired records covering va that cpu may hold, and cpu's negative entries for va.
  void held(cpuid_t cpu, vaddr_t va, std::vector<HeldEntry>& out) const;
  // The leaf cpu's TLB holds for va by demand (retired or current), usable for a write when
  // for_write: what the reference MMU translates through.
  std::optional<Translation> demand_leaf(cpuid_t cpu, vaddr_t va, bool for_write = false) const;
  bool demand_invalid(cpuid_t cpu, vaddr_t va) const;
  std::optional<Translation> lookup(cpuid_t cpu, vaddr_t va) const { return demand_leaf(cpu, va); }
  // Everything cpu may hold (retired) or walked (current), ordered by VA then kind.
  std::vector<HeldEntry> view(cpuid_t cpu) const;
  std::size_t retired_count() const { return retired_; }
  std::size_t size() const { return live_; }  // records, current and retired

 private:
  struct Record {
    Translation t;
    CpuSet may_hold;  // retired only
    CpuSet demand;
    bool live = false;
    bool retired = false;
    bool bbm = false;
    cpuid_t walked_by = -1;
    std::vector<std::pair<RuleId, CpuSet>> notes;
  };
  struct SpanClass {
    std::uint64_t span;
    std::unordered_map<vaddr_t, std::vector<std::uint32_t>> at;  // aligned va -> record ids
  };

  void check_cpu(cpuid_t cpu) const;
  SpanClass& span_class(std::uint64_t span);
  const std::vector<std::uint32_t>* bucket(const SpanClass& c, vaddr_t va) const;
  std::vector<std::uint32_t> take_candidate_ids();
  std::uint32_t insert(Record r);
  void erase(std::uint32_t id);
  std::optional<std::uint32_t> find(const Translation& t, bool retired) const;
  // Ids of the records covering va (into scratch_, valid until the next call).
  const std::vector<std::uint32_t>& ids_covering(vaddr_t va);
  // cpu no longer holds record `id`; a record nobody holds is erased.
  void drop(std::uint32_t id, cpuid_t cpu);
  // Ids of records that may overlap [start, end) (a superset), plus every table record.
  void candidates(vaddr_t start, vaddr_t end, std::vector<std::uint32_t>& out) const;
  void apply(std::uint32_t id, cpuid_t cpu, const InvalidationScope& s);
  void note(Record& r, RuleId rule, cpuid_t cpu);
  HeldEntry entry(const Record& r, cpuid_t cpu) const;

  int ncpus_;
  CpuSet all_;
  std::vector<Record> records_;
  std::vector<std::uint32_t> free_;
  std::vector<SpanClass> classes_;       // few; looked up linearly
  std::vector<std::uint32_t> tables_;    // Table and RootRegister record ids
  std::vector<std::uint32_t> candidate_ids_;  // reused by invalidate and mark_bbm, so they do not allocate
  std::size_t retired_ = 0;
  std::size_t live_ = 0;
  std::vector<std::string> rules_{""};
  mutable std::vector<std::uint32_t> scratch_;
};

}  // namespace kva
