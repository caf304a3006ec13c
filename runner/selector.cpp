#include "runner/selector.h"

#include <algorithm>

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

}  // namespace kva::runner
