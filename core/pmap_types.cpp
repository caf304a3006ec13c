#include "core/pmap_types.h"

#include <cctype>

namespace kva {

bool VaFormat::fits(vaddr_t va) const {
  if (width < 64 && (va >> width) != 0) return false;
  if (bits >= width) return true;
  const vaddr_t all = width == 64 ? ~vaddr_t{0} : (vaddr_t{1} << width) - 1;
  const vaddr_t upper = va >> (bits - 1);  // bit bits-1 and every bit above it
  return upper == 0 || upper == all >> (bits - 1);
}

const char* to_string(CacheMode m) {
  switch (m) {
    case CacheMode::WriteBack: return "wb";
    case CacheMode::WriteThrough: return "wt";
    case CacheMode::UncachedMinus: return "uc-";
    case CacheMode::Uncacheable: return "uc";
  }
  return "?";
}

std::optional<CacheMode> cache_mode_by_name(std::string_view name) {
  for (CacheMode m : {CacheMode::WriteBack, CacheMode::WriteThrough, CacheMode::UncachedMinus,
                      CacheMode::Uncacheable})
    if (name == to_string(m)) return m;
  return std::nullopt;
}

const char* to_string(AdBits a) { return a == AdBits::Hardware ? "hardware" : "software"; }

std::optional<AdBits> ad_bits_by_name(std::string_view name) {
  for (AdBits a : {AdBits::Hardware, AdBits::Software})
    if (name == to_string(a)) return a;
  return std::nullopt;
}

std::string size_name(std::uint64_t bytes) {
  static const char* const units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  while (u < 4 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++u;
  }
  return std::to_string(bytes) + units[u];
}

std::vector<std::string> feature_names(const PmapCapabilities& c) {
  std::vector<std::string> f;
  for (std::uint64_t s : c.large_page_sizes) {
    std::string n = size_name(s);
    for (char& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    f.push_back("large_" + n);
  }
  if (!c.large_page_sizes.empty()) f.push_back("large_pages");
  if (c.global_entries) f.push_back("global_pages");
  if (c.cache_modes) f.push_back("cache_modes");
  if (c.table_levels() > 0) f.push_back("table_levels");
  if (c.walk_cache) f.push_back("walk_cache");
  if (c.root_registers) f.push_back("root_registers");
  if (c.requires_break_before_make) f.push_back("bbm");
  if (c.broadcast_invalidation) f.push_back("bcast");
  if (c.accessed_flag_faults) f.push_back("af_fault");
  if (c.sbi_invalidation) f.push_back("sbi");
  if (c.page_fence_keeps_tables) f.push_back("leaf_fence");
  if (c.caches_invalid_entries) f.push_back("negative_cache");
  if (c.growable_kva) f.push_back("growkernel");
  if (c.software_ad) f.push_back("software_ad");
  if (c.reference) f.push_back("reference");
  return f;
}

const std::vector<std::string>& known_feature_names() {
  static const std::vector<std::string> names = [] {
    PmapCapabilities all;
    all.large_page_sizes = {std::uint64_t{1} << 21, std::uint64_t{1} << 22, std::uint64_t{1} << 30};
    all.global_entries = all.cache_modes = all.walk_cache = all.root_registers = true;
    all.requires_break_before_make = all.caches_invalid_entries = all.growable_kva = true;
    all.software_ad = all.sbi_invalidation = all.page_fence_keeps_tables = true;
    all.broadcast_invalidation = all.accessed_flag_faults = all.reference = true;
    all.table_reach = {std::uint64_t{1} << 21};
    return feature_names(all);
  }();
  return names;
}

}  // namespace kva
