// Counters every pmap keeps. Arch modules count what their protocol really does
// (IPIs on x86, broadcast TLBIs on arm64, SBI calls on riscv).
#pragma once
#include <cstdint>

namespace kva {

struct PmapStats {
  std::uint64_t local_invalidations = 0;  // single-page invalidations executed on some CPU
  std::uint64_t full_flushes = 0;         // whole-TLB flushes executed on some CPU
  std::uint64_t shootdowns = 0;           // shootdown events with at least one remote target
  std::uint64_t shootdown_targets = 0;    // remote CPUs targeted, summed over events
  std::uint64_t ipis = 0;                 // inter-processor interrupts delivered
  std::uint64_t broadcasts = 0;           // broadcast invalidations / SBI remote-fence calls
  std::uint64_t dropped_ipis = 0;         // dropped by fault injection
  std::uint64_t loads = 0;
  std::uint64_t stores = 0;
  std::uint64_t guest_instructions = 0;   // 0 on non-emulated pmaps
  std::uint64_t emu_calls = 0;            // uc_emu_start calls
};

}  // namespace kva
