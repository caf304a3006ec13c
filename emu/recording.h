// What a machine did, as a bare Unicorn program would do it: host writes and reads of guest
// memory and stub runs (registers written, then uc_emu_start). bench/ replays a recording on
// bare engines with no hooks to measure the floor under kvabench (docs/performance.md).
#pragma once
#include <cstdint>
#include <vector>

#include "core/types.h"

namespace kva {

struct EmuEvent {
  enum class Kind { Write, Read, Run };
  Kind kind = Kind::Run;
  paddr_t pa = 0;                    // Write / Read: guest physical address
  std::vector<std::uint8_t> bytes;   // Write: the bytes written
  std::size_t nbytes = 0;            // Read
  cpuid_t cpu = 0;                   // Run
  std::uint64_t entry = 0;           // Run: uc_emu_start begin (a resume after a firmware call
                                     // starts at the call's return address and writes no registers)
  std::vector<int> regs;             // Run: registers written before it, with these values
  std::vector<std::uint64_t> values;
};

struct EmuRecording {
  std::vector<EmuEvent> events;
  std::size_t runs() const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.kind == EmuEvent::Kind::Run;
    return n;
  }
};

}  // namespace kva
