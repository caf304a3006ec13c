// The op table and the parsing of one step entry.
#include <algorithm>

#include "archs/registry.h"
#include "runner/selector.h"
#include "runner/step_op.h"

namespace kva::runner {
namespace {

const char* kind_name(ParseContext::Kind k) {
  switch (k) {
    case ParseContext::Kind::Page: return "page";
    case ParseContext::Kind::SfBuf: return "sf_buf";
    case ParseContext::Kind::Kva: return "kva reservation";
    case ParseContext::Kind::Label: return "step label";
    case ParseContext::Kind::Thread: return "thread";
    case ParseContext::Kind::Buffer: return "buffer";
    case ParseContext::Kind::File: return "file";
    case ParseContext::Kind::Op: return "operation";
  }
  return "?";
}

const std::map<std::string, OpDef>& op_table() {
  static const std::map<std::string, OpDef> table = [] {
    std::map<std::string, OpDef> t;
    for (auto family : {page_ops, sf_buf_ops, access_ops, pmap_ops, control_ops, race_ops, buf_ops, file_ops})
      for (auto& def : family()) t.emplace(def.name, def);
    return t;
  }();
  return table;
}

}  // namespace

ParseContext::ParseContext(const YamlReader& r, const Testcase& tc) : r_(r), tc_(tc) {
  for (const auto& t : tc.threads) names_[t.name].kind = Kind::Thread;
}

void ParseContext::enter_step(int line, std::vector<std::string> only, bool expects_error) {
  scopes_.push_back({line, std::move(only), expects_error});
}

void ParseContext::leave_step() { scopes_.pop_back(); }

ParseContext::Where ParseContext::current_where() const {
  Where w;
  for (const auto& s : scopes_)
    if (!s.only.empty()) w.push_back(s.only);
  return w;
}

void ParseContext::define(const YAML::Node& at, const std::string& name, Kind kind) {
  auto it = names_.find(name);
  if (it != names_.end())
    throw r_.error(at, "'" + name + "' is already defined (as a " + kind_name(it->second.kind) + ")");
  NameInfo info;
  info.kind = kind;
  info.line = scopes_.empty() ? 0 : scopes_.back().line;
  info.where = current_where();
  // A label names the step itself (its counters are snapshotted even when it raises its
  // expected error); other names are results the error would prevent.
  for (const auto& s : scopes_) info.after_error |= s.expects_error && kind != Kind::Label;
  names_[name] = std::move(info);
  if (race_thread) race_owner_[name] = *race_thread;
}

bool ParseContext::defined(const std::string& name, Kind kind) const {
  auto it = names_.find(name);
  return it != names_.end() && it->second.kind == kind;
}

std::optional<std::string> ParseContext::uncovered_arch(const Where& use, const Where& def) const {
  if (def.empty()) return std::nullopt;
  // Fast path without probing any arch: the definition's conditions are among the use's own.
  if (std::all_of(def.begin(), def.end(), [&](const auto& d) {
        return std::find(use.begin(), use.end(), d) != use.end();
      }))
    return std::nullopt;
  auto runs = [](const Where& w, const ArchContext& a) {
    return std::all_of(w.begin(), w.end(), [&](const auto& only) { return only_applies(only, a); });
  };
  std::vector<std::string> scope = tc_.archs;
  if (scope.empty())  // --arch may select any registered arch
    for (const auto& a : arch_registry()) scope.push_back(a.name);
  for (const auto& name : scope) {
    ArchContext a = probe_arch_context(name);
    if (runs(use, a) && !runs(def, a)) return name;
  }
  return std::nullopt;
}

void ParseContext::check_defined_where(const YAML::Node& at, const std::string& name,
                                       const NameInfo& def, const Where& use) const {
  std::string where = "line " + std::to_string(def.line);
  if (def.after_error)
    throw r_.error(at, "'" + name + "' is defined by a step that expects an error (" + where +
                           "): when the error happens that step defines nothing, so no other step may use it");
  if (auto arch = uncovered_arch(use, def.where)) {
    std::string only;
    for (const auto& list : def.where) {
      std::string keys;
      for (const auto& k : list) keys += (keys.empty() ? "" : ", ") + k;
      only += (only.empty() ? "" : " and ") + std::string("only: [") + keys + "]";
    }
    throw r_.error(at, "'" + name + "' is defined at " + where + " by a step that runs " + only +
                           "; this step also runs on " + *arch +
                           ", where that step is skipped (restrict it with only:)");
  }
}

void ParseContext::require(const YAML::Node& at, const std::string& name, Kind kind) const {
  auto it = names_.find(name);
  if (it == names_.end())
    throw r_.error(at, std::string("undefined ") + kind_name(kind) + " '" + name + "'" +
                           (kind == Kind::Thread ? "" : " (not defined by an earlier step)"));
  if (it->second.kind != kind)
    throw r_.error(at, "'" + name + "' is a " + kind_name(it->second.kind) + ", not a " +
                           kind_name(kind));
  auto owner = race_owner_.find(name);
  if (race_thread && owner != race_owner_.end() && owner->second != *race_thread)
    throw r_.error(at, "'" + name + "' is defined by racing thread '" + owner->second +
                           "'; its order relative to this op is not fixed");
  check_defined_where(at, name, it->second, current_where());
}

std::string ParseContext::page(Fields& f, const std::string& key) {
  YAML::Node n = f.require(key);
  std::string name = r_.name(n, f.what() + "." + key);
  require(n, name, Kind::Page);
  return name;
}

std::string ParseContext::sf(Fields& f, const std::string& key) {
  YAML::Node n = f.require(key);
  std::string name = r_.name(n, f.what() + "." + key);
  require(n, name, Kind::SfBuf);
  return name;
}

std::string ParseContext::buffer(Fields& f, const std::string& key) {
  YAML::Node n = f.require(key);
  std::string name = r_.name(n, f.what() + "." + key);
  require(n, name, Kind::Buffer);
  return name;
}

std::string ParseContext::file(Fields& f, const std::string& key) {
  YAML::Node n = f.require(key);
  std::string name = r_.name(n, f.what() + "." + key);
  require(n, name, Kind::File);
  return name;
}

std::string ParseContext::label(Fields& f, const std::string& key) {
  YAML::Node n = f.require(key);
  std::string name = r_.name(n, f.what() + "." + key);
  require(n, name, Kind::Label);
  return name;
}

std::string ParseContext::forward_label(Fields& f, const std::string& key) {
  YAML::Node n = f.require(key);
  std::string name = r_.name(n, f.what() + "." + key);
  forward_labels_.push_back({n, name, current_where()});
  return name;
}

void ParseContext::finish() const {
  for (const auto& use : forward_labels_) {
    auto it = names_.find(use.name);
    if (it == names_.end() || it->second.kind != Kind::Label)
      require(use.at, use.name, Kind::Label);  // throws the usual message
    check_defined_where(use.at, use.name, it->second, use.where);
  }
}

std::optional<std::string> ParseContext::optional_thread(Fields& f) {
  if (!f.has("thread")) return race_thread;
  YAML::Node n = f.get("thread");
  std::string name = r_.name(n, f.what() + ".thread");
  require(n, name, Kind::Thread);
  if (race_thread && name != *race_thread)
    throw r_.error(n, f.what() + ": inside a race, ops run on their racing thread '" +
                          *race_thread + "'");
  return name;
}

std::string ParseContext::thread(Fields& f) {
  auto t = optional_thread(f);
  if (!t) throw r_.error(f.node(), f.what() + ": missing required field 'thread'");
  return *t;
}

int ParseContext::thread_cpu(const std::string& thread) const {
  for (const auto& t : tc_.threads)
    if (t.name == thread) return t.cpu;
  return 0;
}

int ParseContext::cpu_value(const YAML::Node& n, const std::string& what) const {
  return static_cast<int>(r_.integer(n, what, 0, tc_.machine.cpus - 1));
}

int ParseContext::cpu(Fields& f) {
  if (f.has("cpu")) {
    if (f.has("thread") || race_thread)
      throw r_.error(f.get("cpu"), f.what() + ": give either cpu or thread, not both" +
                                       std::string(race_thread ? " (inside a race the racing thread's CPU is used)" : ""));
    return cpu_value(f.get("cpu"), f.what() + ".cpu");
  }
  auto t = optional_thread(f);
  if (!t) throw r_.error(f.node(), f.what() + ": missing field 'cpu' (or 'thread')");
  return thread_cpu(*t);
}

const OpDef* find_op(const std::string& name) {
  auto it = op_table().find(name);
  return it == op_table().end() ? nullptr : &it->second;
}

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  for (const auto& [n, d] : op_table()) names.push_back(n);
  return names;
}

Step parse_step(const YAML::Node& entry, ParseContext& pc) {
  const YamlReader& r = pc.reader();
  if (!entry.IsMap() || entry.size() != 1)
    throw r.error(entry, "a step is a mapping with exactly one key, the op name (e.g. `- read: {...}`)");
  auto kv = *entry.begin();
  std::string op = r.str(kv.first, "step op");
  const OpDef* def = find_op(op);
  if (!def) {
    std::string all;
    for (const auto& n : op_names()) all += (all.empty() ? "" : ", ") + n;
    throw r.error(kv.first, "unknown op '" + op + "' (known ops: " + all + ")");
  }
  if (kv.second.IsNull())
    throw r.error(kv.first, op + ": missing its fields (write `- " + op + ": {...}`)");
  Step step;
  step.op = op;
  step.line = kv.first.Mark().line + 1;
  int number = pc.next_step_number++;
  if (number > Limits::max_steps)
    throw r.error(entry, "too many steps: at most " + std::to_string(Limits::max_steps) +
                             " per testcase, race ops included");
  Fields f(r, kv.second, op, def->primary);
  if (f.has("only")) {
    YAML::Node only = f.get("only");
    step.only = r.str_list(only, op + ".only");
    for (const auto& k : step.only)
      if ((!is_selector_key(k) || k == "default") && !is_feature_name(k))
        throw r.error(only, op + ".only: '" + k +
                                "' is neither an arch, a mode (pool, dmap) nor a feature (docs/testcases.md)");
  }
  if (f.has("expect_error")) step.expect_error = r.str(f.get("expect_error"), op + ".expect_error");
  pc.enter_step(step.line, step.only, step.expect_error.has_value());
  if (f.has("label")) {
    YAML::Node ln = f.get("label");
    step.label = r.name(ln, op + ".label");
    pc.define(ln, step.label, ParseContext::Kind::Label);
  } else {
    step.label = "#" + std::to_string(number) + " " + op;
    if (pc.race_thread) step.label = *pc.race_thread + ":" + step.label;
  }
  step.impl = def->parse(f, pc);
  pc.leave_step();
  f.finish();
  return step;
}

}  // namespace kva::runner
