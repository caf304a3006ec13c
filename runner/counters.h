// The counters a testcase can state expectations on, by group:
//   sf_buf.*  SfBufStats      pmap.*  PmapStats
//   stale.*   StaleLog counts: per oracle (observed, architectural, bbm, negative), per holding
//             (demand, speculative), through upper-level entries (table), rights-only (rights)
//   buf.*     BufStats        vfs.*   VfsStats, the block device's DeviceStats and vm_pageout
// and comparisons of a counter against an expected value ("3", ">=1", "<=2", "!=0", ...).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/block_device.h"
#include "core/buf_cache.h"
#include "core/pmap.h"
#include "core/sf_buf.h"
#include "core/vfs.h"
#include "runner/selector.h"

namespace kva::runner {

struct CounterSources {
  const SfBufStats& sf;
  const PmapStats& pmap;
  const StaleLog& stale;
  const BufStats& buf;
  const VfsStats& vfs;
  const DeviceStats& dev;
  std::uint64_t pages_reclaimed;
};

struct CounterDef {
  std::string group;
  std::string name;
  std::function<std::uint64_t(const CounterSources&)> get;
  std::string key() const { return group + "." + name; }
};

const std::vector<CounterDef>& counter_defs();
const std::vector<std::string>& counter_groups();  // every group, in table order
const CounterDef* find_counter(const std::string& group, const std::string& name);

// Every counter, keyed "group.name": for snapshots, JSON and `check: {since: ...}` deltas.
using CounterValues = std::map<std::string, std::int64_t>;
CounterValues snapshot_counters(const CounterSources& src);

struct Comparison {
  enum class Op { Eq, Ne, Ge, Le, Gt, Lt };
  Op op = Op::Eq;
  std::int64_t value = 0;
  bool holds(std::int64_t observed) const;
  std::string text() const;  // "3", ">=1"
  static Comparison parse(const YamlReader& r, const YAML::Node& n, const std::string& what);
};

struct CounterExpectation {
  const CounterDef* def;
  Selectable<Comparison> expected;
};

struct CounterMismatch {
  std::string counter;  // "group.name"
  std::string expected;
  std::int64_t observed;
};
// Checks expectations against `now` (minus `base` when given: a difference since a step).
std::vector<CounterMismatch> compare_counters(const std::vector<CounterExpectation>& expect,
                                              const ArchContext& arch, const CounterValues& now,
                                              const CounterValues* base = nullptr);

// Parses {group: {counter: value-or-selector, ...}, ...}; `groups` limits the allowed groups.
std::vector<CounterExpectation> parse_counter_expectations(const YamlReader& r,
                                                           const YAML::Node& n,
                                                           const std::string& what,
                                                           const std::vector<std::string>& groups);

}  // namespace kva::runner
