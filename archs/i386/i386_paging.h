// i386 paging formats: classic 2-level with 32-bit entries, and PAE 3-level (PDPT -> PD -> PT)
// with 64-bit entries. Non-PAE has 4 MiB PDE pages with CR4.PSE (FreeBSD's pseflag).
#pragma once
#include <array>

#include "archs/x86/x86_pte.h"

namespace kva::i386 {

struct Paging {
  using Entry = x86::PagingEntry<std::uint32_t>;
  static constexpr int kLevels = 2;
  static constexpr std::array<unsigned, kLevels> kShift{22, 12};
  static constexpr std::array<std::size_t, kLevels> kEntries{1024, 1024};
  static constexpr std::array<const char*, kLevels> kNames{"PDE", "PTE"};
  static constexpr std::array<bool, kLevels> kLargeAllowed{true, false};  // 4 MiB PDEs (PSE)
  static constexpr bool kTopLevelPresentOnly = false;
  static constexpr bool kTopLevelCachedAtCr3Load = false;
};

struct PaePaging {
  using Entry = x86::PagingEntry<std::uint64_t>;
  static constexpr int kLevels = 3;
  static constexpr std::array<unsigned, kLevels> kShift{30, 21, 12};
  static constexpr std::array<std::size_t, kLevels> kEntries{4, 512, 512};
  static constexpr std::array<const char*, kLevels> kNames{"PDPTE", "PDE", "PTE"};
  static constexpr std::array<bool, kLevels> kLargeAllowed{false, true, false};  // 2 MiB PDEs
  static constexpr bool kTopLevelPresentOnly = true;  // PDPTE: R/W and U/S are reserved
  // The four PDPTEs are loaded into registers at CR3 load (SDM vol. 3, 4.4.1), not re-read per walk.
  static constexpr bool kTopLevelCachedAtCr3Load = true;
};

}  // namespace kva::i386
