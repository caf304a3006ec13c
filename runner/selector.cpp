#include "runner/selector.h"

#include <algorithm>
#include <map>

#include "archs/registry.h"

namespace kva::runner {

namespace {
// Mode keys that stand for a feature of the same name, most specific first.
const std::vector<std::string>& feature_mode_keys() {
  static const std::vector<std::string> keys = {"reference", "bbm", "bcast", "af_fault", "sbi", "leaf_fence"};
  return keys;
}
}  // namespace

bool is_selector_key(const std::string& key) {
  const auto& fk = feature_mode_keys();
  return key == "pool" || key == "dmap" || key == "default" || find_arch(key) != nullptr ||
         std::find(fk.begin(), fk.end(), key) != fk.end();
}

bool ArchContext::has_feature(const std::string& f) const {
  return std::find(features.begin(), features.end(), f) != features.end();
}

std::vector<std::string> ArchContext::mode_keys() const {
  std::vector<std::string> keys;
  for (const std::string& k : feature_mode_keys())
    if (has_feature(k)) keys.push_back(k);
  keys.push_back(mode());
  return keys;
}

bool is_feature_name(const std::string& name) {
  const auto& known = known_feature_names();
  return std::find(known.begin(), known.end(), name) != known.end();
}

bool is_selector_map(const YAML::Node& n) {
  if (!n.IsMap() || n.size() == 0) return false;
  for (const auto& kv : n)
    if (!kv.first.IsScalar() || !is_selector_key(kv.first.Scalar())) return false;
  return true;
}

bool only_applies(const std::vector<std::string>& only, const ArchContext& ctx) {
  if (only.empty()) return true;
  return std::any_of(only.begin(), only.end(),
                     [&](const std::string& k) { return k == ctx.arch || k == ctx.mode() || ctx.has_feature(k); });
}

ArchContext probe_arch_context(const std::string& arch) {
  static std::map<std::string, ArchContext> cache;
  auto it = cache.find(arch);
  if (it != cache.end()) return it->second;
  const ArchInfo* a = find_arch(arch);
  if (!a) throw std::invalid_argument("unknown arch '" + arch + "'");
  MachineConfig cfg;
  cfg.ncpus = 1;
  cfg.mem_bytes = 1u << 20;
  ArchContext ctx{arch, a->create(cfg)->has_direct_map()};
  cache.emplace(arch, ctx);
  return ctx;
}

}  // namespace kva::runner
