#include "core/stale.h"

#include <algorithm>
#include <cstdio>

namespace kva {

const char* to_string(Oracle o) {
  switch (o) {
    case Oracle::Observed: return "observed";
    case Oracle::Architectural: return "architectural";
    case Oracle::Bbm: return "bbm";
    case Oracle::Negative: return "negative";
  }
  return "?";
}
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
  if (rights) s += " (read-only now; the held entry is writable)";
  if (!expected.empty() || !observed.empty())
    s += ", expected " + bytes_text(expected) + " observed " + bytes_text(observed);
  if (holding) s += std::string(", ") + to_string(*holding) + " holder";
  if (!entry.empty()) s += " of " + entry;
  if (!rule.empty()) s += " [" + rule + "]";
  if (!step.empty()) s += " [step " + step + "]";
  return s;
}

void StaleLog::count_only(Oracle o, std::optional<Holding> holding, bool rights, bool via_table) {
  ++total_;
  ++by_oracle_[static_cast<std::size_t>(o)];
  if (holding) ++by_holding_[static_cast<std::size_t>(*holding)];
  rights_ += rights;
  via_table_ += via_table;
}

void StaleLog::add(StaleAccess a) {
  count_only(a.oracle, a.holding, a.rights, a.via_table);
  if (keeps_more()) entries_.push_back(std::move(a));
}

void StaleLog::set_capacity(std::size_t n) {
  capacity_ = n;
  if (entries_.size() > n) entries_.resize(n);
}

void StaleLog::clear() {
  entries_.clear();
  total_ = 0;
  by_oracle_ = {};
  by_holding_ = {};
  rights_ = via_table_ = 0;
}

}  // namespace kva
