// Crash at every step of random write/fsync workloads: everything fsync'd survives on the
// correct kernel (no false alarm), and the check catches buffer-cache bugs that lose a write.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/crash/crash_workload.h"

namespace kva::crash {
namespace {

// Several seeds and block sizes, sub-page blocks included, and file sizes from a few blocks
// to many; both sf_buf modes of the reference MMU (the crash logic is arch independent).
std::vector<WorkloadSpec> workloads(int seeds_each = 1) {
  std::vector<WorkloadSpec> out;
  const std::size_t bsizes[] = {512, 2048, 4096, 16384};
  const std::uint64_t sizes[] = {6000, 40000};
  std::uint64_t seed = 1;
  for (const char* arch : {"ref", "ref-dmap"})
    for (std::size_t b : bsizes)
      for (std::uint64_t size : sizes)
        for (int i = 0; i < seeds_each; ++i) {
          WorkloadSpec s;
          s.arch = arch;
          s.bsize = b;
          s.file_size = size;
          s.seed = seed++;
          out.push_back(s);
        }
  return out;
}

std::string listing(const Sweep& sw) {
  std::string s;
  for (const auto& op : sw.ops) s += "  " + op + "\n";
  return s;
}

TEST(CrashConsistency, EveryFsyncedByteSurvivesACrashAtEveryStep) {
  std::size_t points = 0;
  for (const WorkloadSpec& spec : workloads()) {
    const Sweep sw = crash_everywhere(spec);
    points += sw.points;
    ASSERT_TRUE(sw.failures.empty()) << spec.arch << " seed " << spec.seed << " bsize " << spec.bsize << ": "
                                     << sw.failures.front().describe() << "\nworkload:\n" << listing(sw);
    EXPECT_GT(sw.points, static_cast<std::size_t>(spec.nops));  // bio completions are crash points too
  }
  // The figure docs/reliability.md quotes.
  std::printf("crash consistency: %zu crash points checked in %zu workloads\n", points, workloads().size());
}

// Detectors: a buffer-cache bug that loses a write must fail some crash point, found by the
// workload's own model (not only by the Vfs oracle).
class CrashConsistencyFault : public ::testing::TestWithParam<Fault> {};

TEST_P(CrashConsistencyFault, LostWriteIsCaught) {
  std::size_t failed = 0, by_model = 0, points = 0;
  std::string example;
  for (WorkloadSpec spec : workloads(2)) {
    spec.faults.enable(GetParam());
    const Sweep sw = crash_everywhere(spec);
    points += sw.points;
    failed += sw.failures.size();
    for (const auto& f : sw.failures) {
      if (f.durable_lost) ++by_model;
      if (example.empty()) example = f.describe();
    }
  }
  EXPECT_GT(by_model, 0u) << fault_info(GetParam()).name << " went unnoticed by the durability check";
  std::printf("%s: %zu of %zu crash points fail (%zu by the durability check), e.g. %s\n",
              std::string(fault_info(GetParam()).name).c_str(), failed, points, by_model, example.c_str());
}

INSTANTIATE_TEST_SUITE_P(Faults, CrashConsistencyFault,
                         ::testing::Values(Fault::DirtyRangeHole, Fault::CleanAtCompletion),
                         [](const auto& info) {
                           std::string n(fault_info(info.param).name);
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

}  // namespace
}  // namespace kva::crash
