// Values that may differ per arch or per protocol. A YAML value is either plain (applies
// everywhere) or a selector map whose keys are arch names, mode keys and `default`. Mode keys
// name a property of the arch's mapping protocol:
//   `bbm`   the ISA requires break-before-make (feature bbm): a valid->valid change reports as
//           the bbm oracle where other archs report architectural staleness;
//   `bcast` remote invalidation is one broadcast reaching every CPU (feature bcast): no IPIs,
//           no targeted shootdowns;
//   `af_fault` a leaf whose accessed flag is clear faults instead of being set by the walk
//           (feature af_fault), so it is never cached nor walkable;
//   `sbi`   FreeBSD riscv's invalidation (feature sbi): remote fences are SBI calls counted as
//           broadcasts (no kernel IPIs), qenter always invalidates, a range invalidation
//           fences each hart's whole TLB;
//   `leaf_fence` a single-address invalidation keeps cached non-leaf entries (feature
//           leaf_fence: riscv sfence.vma with an address);
//   `pool` / `dmap`  sf_buf without / with a direct map (Pmap::has_direct_map()).
//   `reference` (listed first) a software reference MMU (feature reference): what it observes
//           is the model itself, and it invalidates page by page with no threshold.
// The most specific key wins: arch name, then the mode keys in that order, then default. When
// nothing matches, the expectation is not checked on that arch.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner/yaml_fields.h"

namespace kva::runner {

struct ArchContext {
  ArchContext() = default;
  ArchContext(std::string a, bool dmap, std::vector<std::string> feats = {})
      : arch(std::move(a)), direct_map(dmap), features(std::move(feats)) {}
  std::string arch;
  bool direct_map = false;
  std::vector<std::string> features;  // Pmap::features(): "large_2m", "walk_cache", ...
  const char* mode() const { return direct_map ? "dmap" : "pool"; }
  bool has_feature(const std::string& f) const;
  // The mode keys that apply, most specific first (ending with mode()).
  std::vector<std::string> mode_keys() const;
};

// A feature name Pmap::features() may return (valid in `only:` and `requires:`).
bool is_feature_name(const std::string& name);

// True if n is a map whose keys are all selector keys (and there is at least one).
bool is_selector_map(const YAML::Node& n);
bool is_selector_key(const std::string& key);

// A step's `only:` list (arch names and modes): empty means everywhere.
bool only_applies(const std::vector<std::string>& only, const ArchContext& ctx);
// The context of a registered arch without building a testcase machine: its mode comes from
// one small probe machine per arch, built once per process and only when asked.
ArchContext probe_arch_context(const std::string& arch);

template <class T>
class Selectable {
 public:
  Selectable() = default;
  explicit Selectable(T all) : all_(std::move(all)) {}

  const T* resolve(const ArchContext& ctx) const {
    if (all_) return &*all_;
    std::vector<std::string> keys = ctx.mode_keys();
    keys.insert(keys.begin(), ctx.arch);
    keys.push_back("default");
    for (const std::string& key : keys) {
      auto it = by_key_.find(key);
      if (it != by_key_.end()) return &it->second;
    }
    return nullptr;
  }
  bool empty() const { return !all_ && by_key_.empty(); }

  // parse_one converts one plain value.
  static Selectable parse(const YamlReader& r, const YAML::Node& n, const std::string& what,
                          const std::function<T(const YAML::Node&)>& parse_one) {
    Selectable s;
    if (!is_selector_map(n)) {
      s.all_ = parse_one(n);
      return s;
    }
    r.require_unique_keys(n, what, "selector key");
    for (const auto& kv : n) {
      std::string key = kv.first.Scalar();
      s.by_key_.emplace(key, parse_one(kv.second));
    }
    return s;
  }

 private:
  std::optional<T> all_;
  std::map<std::string, T> by_key_;
};

}  // namespace kva::runner
