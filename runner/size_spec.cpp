#include "runner/size_spec.h"

#include "runner/run_context.h"
#include "runner/testcase.h"

namespace kva::runner {

SizeSpec SizeSpec::parse(const YamlReader& r, const YAML::Node& n, const std::string& what,
                         std::uint64_t min) {
  if (n.IsScalar() && n.Scalar() == "large") return {};
  const std::uint64_t v = r.size(n, what, Limits::max_memory);
  if (v < min || (v & (v - 1)))
    throw r.error(n, what + ": a power of two of at least " + size_name(min) + ", or `large`");
  return {v};
}

std::uint64_t SizeSpec::resolve(const Pmap& pmap, const std::string& what) const {
  if (bytes) return bytes;
  const auto& sizes = pmap.capabilities().large_page_sizes;
  if (sizes.empty()) throw StepError(what + ": large: this arch has no large pages (requires: [large_pages])");
  return sizes.front();
}

}  // namespace kva::runner
