// Runs one fuzz input as an op sequence on every arch in the registry at once, differentially:
// each emulated arch against the reference MMU of its sf_buf mode (a non-emulated arch with
// the same has_direct_map()). After every op the outcomes must be equal (bytes read, sf_buf
// results, faults), no world may have a stale access, and no op may raise a kernel-interface
// error (the decoders only generate correct uses). At the end page contents and sf_buf
// statistics must be equal too. The fuzz target injects no fault.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/faults.h"

namespace kva::fuzz {

struct DiffResult {
  bool ok = true;
  std::string report;   // on failure: what differed, where, and the op sequence up to there
  std::size_t ops = 0;  // ops run (per mode group, summed)
};

struct DiffOptions {
  std::size_t max_ops = 256;  // per mode group
  bool list_ops = false;      // put the op sequence and outcomes in `report` even when ok
  std::vector<Fault> faults;  // injected into the emulated worlds (tests of the harness only)
};

// The first two bytes shape the machine (CPUs, sf_bufs); the rest decode into ops.
DiffResult run_differential(const std::uint8_t* data, std::size_t size, const DiffOptions& opts = {});

}  // namespace kva::fuzz
