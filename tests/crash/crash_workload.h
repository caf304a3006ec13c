// Crash consistency in the spirit of CrashMonkey and ALICE: a random write/fsync workload runs
// on a Kernel whose block device is held, so every write reaches the device only when the test
// releases it (one bio at a time, in issue order, possibly ops later). A crash point is every
// moment between two such steps: before each op, and before each bio completion, also inside
// fsync, write(2) in bwrite mode and reads. The machine is crashed at ONE chosen point with
// Vfs::crash (all in-memory state goes: buffers, cached pages, queued and in-flight bios; only
// the device stays), then checked:
//  - every byte an fsync (or sync) covered and that was not written since is on the device, by
//    the workload's own FileModel (independent of the Vfs's oracle);
//  - the Vfs's lost-write oracle (after fsync and after crash) reported nothing;
//  - at op boundaries, reading each file through the rebooted cache returns the device contents.
// Replaying the same workload (same seed) to each point in turn crashes it at every step.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/faults.h"

namespace kva::crash {

struct WorkloadSpec {
  std::uint64_t seed = 1;
  std::size_t bsize = 4096;
  std::uint64_t file_size = 32 << 10;  // the first file; the second is half as large
  int nops = 40;
  std::string arch = "ref";            // a registry name
  FaultSet faults;
};

struct CrashCheck {
  std::size_t point = 0;
  std::string op;                          // the op the crash interrupted or preceded
  std::optional<std::string> durable_lost; // FileModel: a durable byte not on the device
  std::size_t vfs_lost_writes = 0;         // the Vfs oracle's reports
  std::optional<std::string> reread;       // a reread after the crash that differs from the device
  bool ok() const { return !durable_lost && vfs_lost_writes == 0 && !reread; }
  std::string describe() const;
};

// Runs the workload to crash point `point` (none: to the end, without crashing) and checks
// there. Returns the number of crash points the whole workload has, and the check when one ran.
struct RunResult {
  std::size_t points = 0;
  std::optional<CrashCheck> check;
  std::vector<std::string> ops;  // the workload, for reports
};
RunResult run_to(const WorkloadSpec& spec, std::optional<std::size_t> point);

// Crashes at every point of the workload; returns the checks that failed (all of them).
struct Sweep {
  std::size_t points = 0;
  std::vector<CrashCheck> failures;
  std::vector<std::string> ops;
};
Sweep crash_everywhere(const WorkloadSpec& spec);

}  // namespace kva::crash
