#include "core/cpuset.h"

namespace kva {

std::string CpuSet::to_string() const {
  std::string s = "{";
  for_each([&](cpuid_t c) {
    if (s.size() > 1) s += ',';
    s += std::to_string(c);
  });
  return s + "}";
}

}  // namespace kva
