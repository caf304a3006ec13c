#include "core/tlb_model.h"

#include <algorithm>

namespace kva {

const char* to_string(EntryKind k) {
  switch (k) {
    case EntryKind::Leaf: return "leaf";
    case EntryKind::Table: return "table";
    case EntryKind::RootRegister: return "root-register";
    case EntryKind::Invalid: return "invalid";
  }
  return "?";
}

const char* to_string(Holding h) { return h == Holding::Demand ? "demand" : "speculative"; }

namespace {
bool is_table(EntryKind k) { return k == EntryKind::Table || k == EntryKind::RootRegister; }
}  // namespace

TlbModel::TlbModel(int ncpus) : ncpus_(ncpus), all_(CpuSet::first_n(ncpus)) {}

void TlbModel::check_cpu(cpuid_t cpu) const {
  if (cpu < 0 || cpu >= ncpus_)
    throw KvaError("TlbModel: cpu " + std::to_string(cpu) + " out of range");
}

RuleId TlbModel::rule(std::string_view text) {
  for (std::size_t i = 1; i < rules_.size(); ++i)
    if (rules_[i] == text) return static_cast<RuleId>(i);
  rules_.emplace_back(text);
  return static_cast<RuleId>(rules_.size() - 1);
}

const std::string& TlbModel::rule_text(RuleId id) const {
  return id < rules_.size() ? rules_[id] : rules_[0];
}

TlbModel::SpanClass& TlbModel::span_class(std::uint64_t span) {
  for (SpanClass& c : classes_)
    if (c.span == span) return c;
  if (span == 0 || (span & (span - 1)) != 0)
    throw KvaError("TlbModel: translation span must be a power of two");
  classes_.push_back(SpanClass{span, {}});
  return classes_.back();
}

const std::vector<std::uint32_t>* TlbModel::bucket(const SpanClass& c, vaddr_t va) const {
  auto it = c.at.find(va & ~(c.span - 1));
  return it == c.at.end() ? nullptr : &it->second;
}

std::uint32_t TlbModel::insert(Record r) {
  r.live = true;
  std::uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    records_[id] = std::move(r);
  } else {
    id = static_cast<std::uint32_t>(records_.size());
    records_.push_back(std::move(r));
  }
  const Translation& t = records_[id].t;
  span_class(t.span).at[t.va & ~(t.span - 1)].push_back(id);
  if (is_table(t.kind)) tables_.push_back(id);
  if (records_[id].retired) ++retired_;
  ++live_;
  return id;
}

void TlbModel::erase(std::uint32_t id) {
  Record& r = records_[id];
  SpanClass& c = span_class(r.t.span);
  auto it = c.at.find(r.t.va & ~(c.span - 1));
  if (it != c.at.end()) {
    std::erase(it->second, id);
    if (it->second.empty()) c.at.erase(it);
  }
  if (is_table(r.t.kind)) std::erase(tables_, id);
  if (r.retired) --retired_;
  --live_;
  r = Record{};
  free_.push_back(id);
}

std::optional<std::uint32_t> TlbModel::find(const Translation& t, bool retired) const {
  for (const SpanClass& c : classes_) {
    if (c.span != t.span) continue;
    if (const auto* b = bucket(c, t.va))
      for (std::uint32_t id : *b)
        if (records_[id].retired == retired && records_[id].t.same(t)) return id;
  }
  return std::nullopt;
}

void TlbModel::note_walk(cpuid_t cpu, const Translation& t) {
  check_cpu(cpu);
  if (t.kind == EntryKind::Invalid) throw KvaError("TlbModel::note_walk: use note_invalid");
  if (auto id = find(t, false)) {
    records_[*id].demand.set(cpu);
    return;
  }
  Record r;
  r.t = t;
  r.demand = CpuSet::only(cpu);
  insert(std::move(r));
}

void TlbModel::note_invalid(cpuid_t cpu, vaddr_t va) {
  check_cpu(cpu);
  Translation t;
  t.va = trunc_page(va);
  t.kind = EntryKind::Invalid;
  t.name = "invalid";
  t.writable = false;
  if (auto id = find(t, true)) {
    records_[*id].may_hold.set(cpu);
    records_[*id].demand.set(cpu);
    return;
  }
  // Negative entries are demand-only: a CPU caches the fault it took, no other CPU has it.
  Record r;
  r.t = t;
  r.retired = true;
  r.may_hold = r.demand = CpuSet::only(cpu);
  insert(std::move(r));
}

const std::vector<std::uint32_t>& TlbModel::ids_covering(vaddr_t va) {
  scratch_.clear();
  for (const SpanClass& c : classes_)
    if (const auto* b = bucket(c, va))
      for (std::uint32_t id : *b)
        if (records_[id].t.covers(va)) scratch_.push_back(id);
  return scratch_;
}

void TlbModel::drop(std::uint32_t id, cpuid_t cpu) {
  Record& r = records_[id];
  r.demand.clr(cpu);
  if (r.retired) {
    r.may_hold.clr(cpu);
    if (r.may_hold.empty()) erase(id);
  } else if (r.demand.empty()) {
    erase(id);
  }
}

void TlbModel::forget_demand(cpuid_t cpu, vaddr_t va) {
  check_cpu(cpu);
  for (std::uint32_t id : ids_covering(va)) {
    Record& r = records_[id];
    if (!r.live || !r.demand.isset(cpu)) continue;
    if (r.t.kind == EntryKind::Invalid) {
      drop(id, cpu);  // a negative entry is only ever demand-held
    } else if (r.t.kind == EntryKind::Leaf) {
      r.demand.clr(cpu);  // a retired leaf stays permitted (may_hold)
      if (!r.retired && r.demand.empty()) erase(id);
    }
  }
}

void TlbModel::drop_readonly(cpuid_t cpu, vaddr_t va) {
  check_cpu(cpu);
  if (retired_ == 0) return;
  for (std::uint32_t id : ids_covering(va)) {
    const Record& r = records_[id];
    if (r.live && r.retired && r.t.kind == EntryKind::Leaf && !r.t.writable) drop(id, cpu);
  }
}

void TlbModel::retire(const Translation& t) {
  if (t.kind == EntryKind::Invalid) return;
  Record r;
  if (auto id = find(t, false)) {
    r = records_[*id];
    erase(*id);
  } else {
    r.t = t;
  }
  r.retired = true;
  r.walked_by = r.demand.empty() ? -1 : std::countr_zero(r.demand.bits());
  // A register is held only by the CPUs that loaded it; anything cacheable by any CPU.
  r.may_hold = t.kind == EntryKind::RootRegister ? r.demand : all_;
  r.demand = r.demand & r.may_hold;
  if (r.may_hold.empty()) return;
  if (auto same = find(t, true)) {
    // The same translation retired before and still held somewhere: one record. CPUs that
    // may hold it afresh lose any survival note they had on the old one.
    Record& old = records_[*same];
    for (auto& [rule, cpus] : old.notes) cpus = cpus.andnot(r.may_hold.andnot(old.may_hold));
    old.may_hold = old.may_hold | r.may_hold;
    old.demand = old.demand | r.demand;
    if (old.walked_by < 0) old.walked_by = r.walked_by;
    return;
  }
  insert(std::move(r));
}

std::size_t TlbModel::mark_bbm(const Translation& t) {
  if (t.kind != EntryKind::Leaf || retired_ == 0) return 0;
  std::vector<std::uint32_t> ids = take_candidate_ids();
  candidates(t.va, t.va + t.span, ids);
  std::size_t marked = 0;
  for (std::uint32_t id : ids) {
    Record& r = records_[id];
    if (!r.live || !r.retired || r.t.kind != EntryKind::Leaf || r.may_hold.empty()) continue;
    if (!r.t.overlaps(t.va, t.va + t.span)) continue;
    const vaddr_t at = std::max(r.t.va, t.va);
    if (r.t.frame_of(at) == t.frame_of(at) || r.bbm) continue;
    r.bbm = true;
    ++marked;
  }
  candidate_ids_ = std::move(ids);
  return marked;
}

std::vector<std::uint32_t> TlbModel::take_candidate_ids() {
  std::vector<std::uint32_t> v = std::move(candidate_ids_);  // a nested caller would get an empty one
  v.clear();
  return v;
}

void TlbModel::candidates(vaddr_t start, vaddr_t end, std::vector<std::uint32_t>& out) const {
  for (const SpanClass& c : classes_) {
    const vaddr_t first = start & ~(c.span - 1);
    const std::uint64_t keys = (end - first + c.span - 1) / c.span;
    if (keys > c.at.size()) {
      // Fewer records than keys in the range: scan the class instead of probing every key.
      for (const auto& [va, ids] : c.at)
        if (va < end && va + c.span > start) out.insert(out.end(), ids.begin(), ids.end());
      continue;
    }
    for (std::uint64_t k = 0; k < keys; ++k)
      if (const auto* b = bucket(c, first + k * c.span)) out.insert(out.end(), b->begin(), b->end());
  }
  out.insert(out.end(), tables_.begin(), tables_.end());
}

void TlbModel::note(Record& r, RuleId rule, cpuid_t cpu) {
  if (!r.retired || rule == kNoRule) return;
  for (auto& [id, cpus] : r.notes)
    if (id == rule) {
      cpus.set(cpu);
      return;
    }
  r.notes.emplace_back(rule, CpuSet::only(cpu));
}

void TlbModel::apply(std::uint32_t id, cpuid_t cpu, const InvalidationScope& s) {
  Record& r = records_[id];
  if (!r.live) return;
  if (!(r.retired ? r.may_hold.isset(cpu) : r.demand.isset(cpu))) return;
  const bool in_range = s.all_vas || r.t.overlaps(s.start, s.end);
  switch (r.t.kind) {
    case EntryKind::Leaf:
    case EntryKind::Invalid:
      if (!s.leaves || !in_range) return;
      break;
    case EntryKind::Table:
      if (s.tables == InvalidationScope::Tables::None) {
        if (in_range) note(r, s.table_rule, cpu);
        return;
      }
      if (s.tables == InvalidationScope::Tables::InRange && !in_range) return;
      break;
    case EntryKind::RootRegister:
      if (!s.root_registers) {
        if (in_range) note(r, s.register_rule, cpu);
        return;
      }
      break;
  }
  if (s.asid && !r.t.global && r.t.asid != *s.asid) return;
  if (s.keep_global && r.t.global) {
    note(r, s.global_rule, cpu);
    return;
  }
  drop(id, cpu);
}

void TlbModel::invalidate(cpuid_t cpu, const InvalidationScope& s) {
  check_cpu(cpu);
  std::vector<std::uint32_t> ids = take_candidate_ids();
  if (s.all_vas) {
    for (std::uint32_t id = 0; id < records_.size(); ++id)
      if (records_[id].live) ids.push_back(id);
  } else {
    if (s.end <= s.start) return;
    candidates(s.start, s.end, ids);
  }
  for (std::uint32_t id : ids) apply(id, cpu, s);
  candidate_ids_ = std::move(ids);
}

HeldEntry TlbModel::entry(const Record& r, cpuid_t cpu) const {
  HeldEntry e;
  e.t = r.t;
  e.retired = r.retired;
  e.holding = r.demand.isset(cpu) ? Holding::Demand : Holding::Speculative;
  e.bbm = r.bbm;
  e.walked_by = r.walked_by;
  for (const auto& [rule, cpus] : r.notes)
    if (cpus.isset(cpu)) e.note = rule;
  return e;
}

void TlbModel::held(cpuid_t cpu, vaddr_t va, std::vector<HeldEntry>& out) const {
  out.clear();
  if (retired_ == 0) return;
  check_cpu(cpu);
  for (const SpanClass& c : classes_)
    if (const auto* b = bucket(c, va))
      for (std::uint32_t id : *b) {
        const Record& r = records_[id];
        if (r.retired && r.may_hold.isset(cpu) && r.t.covers(va)) out.push_back(entry(r, cpu));
      }
}

std::optional<Translation> TlbModel::demand_leaf(cpuid_t cpu, vaddr_t va, bool for_write) const {
  check_cpu(cpu);
  for (const SpanClass& c : classes_)
    if (const auto* b = bucket(c, va))
      for (std::uint32_t id : *b) {
        const Record& r = records_[id];
        if (r.t.kind == EntryKind::Leaf && r.demand.isset(cpu) && r.t.covers(va) &&
            (!for_write || r.t.writable))
          return r.t;
      }
  return std::nullopt;
}

bool TlbModel::demand_invalid(cpuid_t cpu, vaddr_t va) const {
  check_cpu(cpu);
  for (const SpanClass& c : classes_)
    if (const auto* b = bucket(c, va))
      for (std::uint32_t id : *b) {
        const Record& r = records_[id];
        if (r.t.kind == EntryKind::Invalid && r.demand.isset(cpu) && r.t.covers(va)) return true;
      }
  return false;
}

std::vector<HeldEntry> TlbModel::view(cpuid_t cpu) const {
  check_cpu(cpu);
  std::vector<HeldEntry> out;
  for (const Record& r : records_)
    if (r.live && (r.retired ? r.may_hold.isset(cpu) : r.demand.isset(cpu)))
      out.push_back(entry(r, cpu));
  std::sort(out.begin(), out.end(), [](const HeldEntry& a, const HeldEntry& b) {
    if (a.t.va != b.t.va) return a.t.va < b.t.va;
    if (a.t.kind != b.t.kind) return a.t.kind < b.t.kind;
    return a.retired < b.retired;
  });
  return out;
}

}  // namespace kva
