// Bare Unicorn engines that replay an EmuRecording: the machine's memory map and boot, the same
// halting stop, and nothing else (no hooks, no stub checks, no counting, no oracles). This is
// the floor under kvabench: the same guest work in the same calls (bench/, and
// docs/performance.md).
#pragma once
#include <cstdint>
#include <vector>

#include "emu/machine.h"
#include "emu/recording.h"

namespace kva {

class BareEngines {
 public:
  // One engine per vCPU of `m`, booted like m's vCPUs, mapping either the machine's own host
  // memory (a replay then acts on the machine: run it while the machine is idle) or, with
  // private_copy, a copy of it taken now (replays and the machine then leave each other alone).
  explicit BareEngines(Machine& m, bool private_copy = false);
  ~BareEngines();
  BareEngines(const BareEngines&) = delete;
  BareEngines& operator=(const BareEngines&) = delete;

  // A recording resolved to host pointers and engines, ready to replay.
  struct Op {
    EmuEvent::Kind kind;
    std::uint8_t* host = nullptr;            // Write / Read
    const std::uint8_t* bytes = nullptr;     // Write
    std::size_t n = 0;                       // Write / Read
    uc_engine* uc = nullptr;                 // Run
    std::uint64_t entry = 0;
    const int* regs = nullptr;
    void* const* values = nullptr;
    int nregs = 0;
  };
  struct Program {
    std::vector<Op> ops;
    std::vector<void*> value_ptrs;
  };
  // `rec` must outlive the program.
  Program compile(const EmuRecording& rec) const;
  // Throws KvaError if a run ends with an emulator error.
  void replay(const Program& p);

 private:
  std::uint8_t* host(paddr_t pa, std::size_t n) const;
  std::vector<MemoryRegion> regions_;
  std::vector<std::pair<void*, std::size_t>> copies_;  // private_copy mappings
  std::vector<uc_engine*> engines_;
  std::vector<std::uint8_t> read_buf_;
};

}  // namespace kva
