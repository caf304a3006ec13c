// amd64 4-level paging format (PML4 -> PDPT -> PD -> PT), 64-bit entries.
#pragma once
#include <array>

#include "archs/x86/x86_pte.h"

namespace kva::amd64 {

struct Paging {
  using Entry = x86::PagingEntry<std::uint64_t>;
  static constexpr int kLevels = 4;
  static constexpr std::array<unsigned, kLevels> kShift{39, 30, 21, 12};
  static constexpr std::array<std::size_t, kLevels> kEntries{512, 512, 512, 512};
  static constexpr std::array<const char*, kLevels> kNames{"PML4E", "PDPTE", "PDE", "PTE"};
  static constexpr std::array<bool, kLevels> kLargeAllowed{false, true, true, false};  // 1G, 2M
  static constexpr bool kTopLevelPresentOnly = false;
  static constexpr bool kTopLevelCachedAtCr3Load = false;
};

}  // namespace kva::amd64
