#include "core/stale.h"

#include <algorithm>
#include <cstdio>

namespace kva {

const char* to_string(Oracle o) { return o == Oracle::Observed ? "observed" : "architectural"; }
const char* to_string(AccessKind k) { return k == AccessKind::Load ? "load" : "store"; }

namespace {
std::string pa_text(const std::optional<paddr_t>& pa) {
  if (!pa) return "unmapped";
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(*pa));
  return buf;
}

std::string bytes_text(const std::vector<std::uint8_t>& b) {
  std::string s;
  const std::size_t shown = std::min<std::size_t>(b.size(), 8);
  for (std::size_t i = 0; i < shown; ++i) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02x", b[i]);
    s += buf;
  }
  if (b.size() > shown) s += "..";
  return s;
}
}  // namespace

std::string StaleAccess::describe() const {
  char head[96];
  std::snprintf(head, sizeof head, "stale %s (%s) cpu %d va 0x%llx", to_string(kind),
                to_string(oracle), cpu, static_cast<unsigned long long>(va));
  std::string s = head;
  s += ": page tables map " + pa_text(expected_pa);
  if (cached_pa) s += ", used " + pa_text(cached_pa);
  if (!expected.empty() || !observed.empty())
    s += ", expected " + bytes_text(expected) + " observed " + bytes_text(observed);
  if (!step.empty()) s += " [step " + step + "]";
  return s;
}

std::size_t StaleLog::count(Oracle o) const {
  return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(),
                                                [o](const StaleAccess& a) { return a.oracle == o; }));
}

}  // namespace kva
