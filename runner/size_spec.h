// A size or alignment in a testcase: bytes ("2M", "4096") or `large`, the arch's smallest
// large-page size, so one testcase states a large-page rule on every arch that has one.
#pragma once
#include <cstdint>
#include <string>

#include "core/pmap.h"
#include "runner/yaml_fields.h"

namespace kva::runner {

struct SizeSpec {
  std::uint64_t bytes = 0;  // 0: `large`
  // A power of two of at least `min` bytes, or `large`.
  static SizeSpec parse(const YamlReader& r, const YAML::Node& n, const std::string& what,
                        std::uint64_t min);
  // The bytes on this machine; StepError when `large` and the arch has no large pages.
  std::uint64_t resolve(const Pmap& pmap, const std::string& what) const;
};

}  // namespace kva::runner
