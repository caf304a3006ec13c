#include "runner/counters.h"

#include <algorithm>
#include <limits>

namespace kva::runner {

const std::vector<CounterDef>& counter_defs() {
  using S = CounterSources;
#define SF(field) CounterDef{"sf_buf", #field, [](const S& s) { return std::uint64_t(s.sf.field); }}
#define PM(field) CounterDef{"pmap", #field, [](const S& s) { return std::uint64_t(s.pmap.field); }}
#define BF(field) CounterDef{"buf", #field, [](const S& s) { return std::uint64_t(s.buf.field); }}
#define VF(field) CounterDef{"vfs", #field, [](const S& s) { return std::uint64_t(s.vfs.field); }}
#define DV(name, field) CounterDef{"vfs", name, [](const S& s) { return std::uint64_t(s.dev.field); }}
  static const std::vector<CounterDef> defs = {
      SF(nsfbufs), SF(nsfbufsused), SF(nsfbufspeak), SF(sf_allocwait), SF(sf_allocfail),
      SF(remaps), SF(hash_hits), SF(local_invalidations), SF(shootdowns), SF(shootdown_targets),
      SF(invalidations_skipped_unaccessed),
      PM(local_invalidations), PM(full_flushes), PM(shootdowns), PM(shootdown_targets), PM(ipis),
      PM(broadcasts), PM(dropped_ipis), PM(loads), PM(stores), PM(guest_instructions),
      PM(emu_calls),
      // O(1) each: the stale log keeps counters, not just reports.
      CounterDef{"stale", "observed", [](const S& s) { return std::uint64_t(s.stale.count(Oracle::Observed)); }},
      CounterDef{"stale", "architectural", [](const S& s) { return std::uint64_t(s.stale.count(Oracle::Architectural)); }},
      CounterDef{"stale", "bbm", [](const S& s) { return std::uint64_t(s.stale.count(Oracle::Bbm)); }},
      CounterDef{"stale", "negative", [](const S& s) { return std::uint64_t(s.stale.count(Oracle::Negative)); }},
      CounterDef{"stale", "demand", [](const S& s) { return std::uint64_t(s.stale.count(Holding::Demand)); }},
      CounterDef{"stale", "speculative", [](const S& s) { return std::uint64_t(s.stale.count(Holding::Speculative)); }},
      CounterDef{"stale", "table", [](const S& s) { return std::uint64_t(s.stale.via_table_count()); }},
      CounterDef{"stale", "rights", [](const S& s) { return std::uint64_t(s.stale.rights_count()); }},
      BF(nbuf), BF(bufspace), BF(maxbufspace), BF(hibufspace), BF(lobufspace), BF(bufkvaspace),
      BF(numdirtybuffers), BF(hidirtybuffers), BF(lodirtybuffers), BF(getblk_hits),
      BF(getblk_misses), BF(reads), BF(writes), BF(bdwrites), BF(bawrites), BF(brelses),
      BF(bqrelses), BF(recycles), BF(allocbuf_grows), BF(allocbuf_shrinks), BF(kva_maps),
      BF(kva_unmaps), BF(kva_lazy_unmaps), BF(kva_remaps), BF(bogus_pages), BF(bogus_restores),
      BF(unmapped_ios), BF(mapped_ios), BF(io_errors), BF(sleeps), BF(daemon_runs),
      BF(daemon_flushes), BF(invariant_violations),
      VF(files), VF(reads), VF(writes), VF(mapped_writes), VF(bytes_read), VF(bytes_written),
      VF(fsyncs), VF(syncs), VF(truncates), VF(crashes), VF(sendfiles), VF(sendfile_pages),
      VF(sendfile_bytes), VF(blocks_allocated), VF(lost_writes),
      DV("device_reads", reads), DV("device_writes", writes), DV("device_bytes_read", bytes_read),
      DV("device_bytes_written", bytes_written), DV("device_errors", errors),
      DV("remote_completions", remote_completions), DV("discarded_ios", discarded),
      CounterDef{"vfs", "pages_reclaimed", [](const S& s) { return s.pages_reclaimed; }},
  };
#undef SF
#undef PM
#undef BF
#undef VF
#undef DV
  return defs;
}

const std::vector<std::string>& counter_groups() {
  static const std::vector<std::string> groups = [] {
    std::vector<std::string> g;
    for (const auto& d : counter_defs())
      if (std::find(g.begin(), g.end(), d.group) == g.end()) g.push_back(d.group);
    return g;
  }();
  return groups;
}

const CounterDef* find_counter(const std::string& group, const std::string& name) {
  for (const auto& d : counter_defs())
    if (d.group == group && d.name == name) return &d;
  return nullptr;
}

CounterValues snapshot_counters(const CounterSources& src) {
  CounterValues v;
  for (const auto& d : counter_defs()) v[d.key()] = static_cast<std::int64_t>(d.get(src));
  return v;
}

bool Comparison::holds(std::int64_t o) const {
  switch (op) {
    case Op::Eq: return o == value;
    case Op::Ne: return o != value;
    case Op::Ge: return o >= value;
    case Op::Le: return o <= value;
    case Op::Gt: return o > value;
    case Op::Lt: return o < value;
  }
  return false;
}

std::string Comparison::text() const {
  static const char* ops[] = {"", "!=", ">=", "<=", ">", "<"};
  return ops[static_cast<int>(op)] + std::to_string(value);
}

Comparison Comparison::parse(const YamlReader& r, const YAML::Node& n, const std::string& what) {
  std::string s = r.str(n, what);
  Comparison c;
  static const std::pair<const char*, Op> prefixes[] = {
      {">=", Op::Ge}, {"<=", Op::Le}, {"!=", Op::Ne}, {"==", Op::Eq}, {">", Op::Gt}, {"<", Op::Lt}};
  std::string digits = s;
  for (const auto& [p, op] : prefixes) {
    std::string ps(p);
    if (s.compare(0, ps.size(), ps) == 0) {
      c.op = op;
      digits = s.substr(ps.size());
      break;
    }
  }
  while (!digits.empty() && digits.front() == ' ') digits.erase(digits.begin());
  if (digits.empty() || digits.size() > 15 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    throw r.error(n, what + ": expected a count or a comparison like \">=1\", got '" + s + "'");
  c.value = std::stoll(digits);
  return c;
}

std::vector<CounterMismatch> compare_counters(const std::vector<CounterExpectation>& expect,
                                              const ArchContext& arch, const CounterValues& now,
                                              const CounterValues* base) {
  std::vector<CounterMismatch> out;
  for (const auto& c : expect) {
    const Comparison* want = c.expected.resolve(arch);
    if (!want) continue;  // no value for this arch or mode
    std::int64_t v = now.at(c.def->key()) - (base ? base->at(c.def->key()) : 0);
    if (!want->holds(v)) out.push_back({c.def->key(), want->text(), v});
  }
  return out;
}

std::vector<CounterExpectation> parse_counter_expectations(const YamlReader& r,
                                                           const YAML::Node& n,
                                                           const std::string& what,
                                                           const std::vector<std::string>& groups) {
  std::vector<CounterExpectation> out;
  r.require_map(n, what);
  r.require_unique_keys(n, what, "counter group");
  for (const auto& g : n) {
    std::string group = r.str(g.first, what + " group");
    bool allowed = false;
    for (const auto& a : groups) allowed = allowed || a == group;
    if (!allowed) {
      std::string list;
      for (const auto& a : groups) list += (list.empty() ? "" : ", ") + a;
      throw r.error(g.first, what + ": unknown counter group '" + group + "' (expected " + list + ")");
    }
    r.require_map(g.second, what + "." + group);
    r.require_unique_keys(g.second, what + "." + group, "counter");
    for (const auto& c : g.second) {
      std::string name = r.str(c.first, what + "." + group + " counter");
      const CounterDef* def = find_counter(group, name);
      if (!def) throw r.error(c.first, what + ": unknown counter '" + group + "." + name + "'");
      std::string cw = what + "." + group + "." + name;
      out.push_back({def, Selectable<Comparison>::parse(r, c.second, cw, [&](const YAML::Node& v) {
                       return Comparison::parse(r, v, cw);
                     })});
    }
  }
  return out;
}

}  // namespace kva::runner
