#include "runner/selector.h"

#include <algorithm>
#include <map>

#include "archs/registry.h"

namespace kva::runner {

bool is_selector_key(const std::string& key) {
  return key == "pool" || key == "dmap" || key == "default" || find_arch(key) != nullptr;
}

bool ArchContext::has_feature(const std::string& f) const {
  return std::find(features.begin(), features.end(), f) != features.end();
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
