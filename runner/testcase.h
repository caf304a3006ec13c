// The in-memory form of one testcase file (format 1), fully validated by the parser before
// anything runs. See docs/testcases.md for the YAML syntax.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/pmap_types.h"
#include "runner/counters.h"

namespace kva::runner {

class RunContext;

// One parsed step's behaviour (parsers live in the steps_*.cpp files, see step_op.h).
class StepOp {
 public:
  virtual ~StepOp() = default;
  // Runs the step. Misuse reported by the core surfaces as KvaError (see Step::expect_error);
  // expectation mismatches are recorded with RunContext::fail.
  virtual void run(RunContext& ctx) = 0;
};

inline constexpr int kFormatVersion = 1;

// Input limits; larger values are input errors (exit 2), not crashes or hangs.
struct Limits {
  static constexpr int max_cpus = 64;
  static constexpr std::uint64_t min_memory = 1u << 20;  // page tables of a 64-CPU amd64
  static constexpr std::uint64_t max_memory = 1u << 30;
  static constexpr int max_nsfbufs = 4096;
  static constexpr int max_threads = 256;
  static constexpr int max_seeds = 100;
  static constexpr std::uint64_t max_access = 64u << 10;   // bytes per read/write/copy
  static constexpr int max_reserve_pages = 1024;            // kva_reserve, all steps together
  // Parsed steps cost a few KB each: these bound the memory a run's input can claim.
  static constexpr int max_steps = 10000;          // per testcase, race ops included
  static constexpr int max_total_steps = 200000;   // over all testcases of a run
  static constexpr std::uint64_t max_file_bytes = 1u << 20;  // per testcase file
};

// machine.buf: the buffer cache (BufConfig); invariant checks are on unless turned off.
struct BufSpec {
  int nbuf = 64;
  std::uint64_t maxbufspace = 1u << 20;
  std::uint64_t hibufspace = 0, lobufspace = 0;  // 0: derived from maxbufspace
  int hidirtybuffers = 0, lodirtybuffers = 0;    // 0: derived from nbuf
  bool unmapped = false;
  bool check_invariants = true;
  int daemon_cpu = 0;
};

// machine.device: the block device under the files (DeviceConfig).
struct DeviceSpec {
  std::uint64_t size = 16u << 20;
  std::string completion = "next";  // next | issuer | seeded | a CPU number
  int completion_cpu = 0;
  bool pio = true;
};

struct MachineSpec {
  int cpus = 2;
  std::uint64_t mem_bytes = 16u << 20;
  int nsfbufs = 64;
  BufSpec buf;
  DeviceSpec device;
  std::optional<AdBits> ad = std::nullopt;  // machine.ad; nullopt: --ad, else the arch's own
  bool bbm = false;  // machine.bbm: MachineConfig::break_before_make
};

struct ThreadSpec {
  std::string name;
  int cpu = 0;
  bool pinned = true;
};

struct Step {
  std::string op;           // op name, e.g. "sf_buf_alloc"
  std::string label;        // `label:` or "#<n> <op>"; also the Pmap step label in stale reports
  int line = 0;             // 1-based line of the step in the file
  std::optional<std::string> expect_error;  // the step must raise a KvaError containing this
  std::vector<std::string> only;            // run only on these archs / modes (pool, dmap)
  std::unique_ptr<StepOp> impl;
};

struct Testcase {
  std::string file;
  std::string name;
  std::string description;
  std::vector<std::string> archs;  // empty: every arch with in_default_set
  std::vector<std::string> requires_features;  // `requires:`: runs only where the arch has them
  MachineSpec machine;
  std::vector<ThreadSpec> threads;
  std::vector<Step> steps;
  int seeds = 1;  // run with seeds base .. base+seeds-1
  int nsteps = 0; // steps, race ops included
  std::vector<CounterExpectation> expect;        // end-of-test counters
  // Declared: staleness is allowed and these counts are checked. Absent: any stale access fails.
  std::optional<std::vector<CounterExpectation>> expect_stale;
};

}  // namespace kva::runner
