// The two RISC-V paging formats FreeBSD supports, as traits for PageTables<Format>:
//   kName; kLevels; kVaBits; kSatpMode; kLevelNames[l]   (level 0 is the root satp points to)
// Both use the same PTE (riscv_pte.h) and 9 VPN bits per level over 4 KiB pages; they differ in
// depth and in how many VA bits are significant. Level names follow FreeBSD's pmap (L0 exists
// only in Sv48), so walks read like sys/riscv/riscv/pmap.c.
#pragma once
#include <array>
#include <cstdint>

#include "core/types.h"

namespace kva::riscv {

struct Sv39 {
  static constexpr const char* kName = "Sv39";
  static constexpr int kLevels = 3;
  static constexpr unsigned kVaBits = 39;
  static constexpr std::uint64_t kSatpMode = 8;
  static constexpr std::array<const char*, kLevels> kLevelNames{"L1", "L2", "L3"};
};

struct Sv48 {
  static constexpr const char* kName = "Sv48";
  static constexpr int kLevels = 4;
  static constexpr unsigned kVaBits = 48;
  static constexpr std::uint64_t kSatpMode = 9;
  static constexpr std::array<const char*, kLevels> kLevelNames{"L0", "L1", "L2", "L3"};
};

// satp = MODE (63:60) | ASID (59:44) | root PPN (43:0).
inline std::uint64_t satp_value(std::uint64_t mode, std::uint16_t asid, paddr_t root) {
  return (mode << 60) | (std::uint64_t{asid} << 44) | (root >> PAGE_SHIFT);
}

// How the A and D bits of a leaf are maintained (a machine option).
enum class AdUpdate {
  Hardware,  // Svadu: the walk sets A (and D on a store), as QEMU does
  Software,  // Svade: a walk that finds A=0, or D=0 on a store, raises a page fault
};

}  // namespace kva::riscv
