// The differential op-sequence harness is a detector: it must flag a broken protocol (an
// injected fault in the emulated archs) and stay silent on the correct one.
#include <gtest/gtest.h>

#include <random>

#include "tests/fuzz/opseq/differential.h"

namespace kva::fuzz {
namespace {

std::vector<std::vector<std::uint8_t>> random_inputs(int n) {
  std::mt19937 rng(12345);
  std::vector<std::vector<std::uint8_t>> out;
  for (int i = 0; i < n; ++i) {
    std::vector<std::uint8_t> bytes(64 + rng() % 512);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    bytes[0] |= 1;  // at least two CPUs, so shootdowns have someone to reach
    out.push_back(bytes);
  }
  return out;
}

TEST(OpSequence, CorrectSequencesAgreeWithTheReferenceEverywhere) {
  std::size_t ops = 0;
  for (const auto& in : random_inputs(60)) {
    DiffResult r = run_differential(in.data(), in.size());
    ASSERT_TRUE(r.ok) << r.report;
    ops += r.ops;
  }
  EXPECT_GT(ops, 3000u);  // the inputs really decode to long sequences
}

class OpSequenceFault : public ::testing::TestWithParam<Fault> {};

TEST_P(OpSequenceFault, InjectedFaultIsCaught) {
  DiffOptions opts;
  opts.faults = {GetParam()};
  int caught = 0;
  std::string example;
  for (const auto& in : random_inputs(60)) {
    DiffResult r = run_differential(in.data(), in.size(), opts);
    if (!r.ok && ++caught == 1) example = r.report;
  }
  EXPECT_GT(caught, 0) << fault_info(GetParam()).name << " went unnoticed";
  // What caught it: a stale access or a difference from the reference, named with the op.
  EXPECT_TRUE(example.find("stale access at #") != std::string::npos ||
              example.find(" differs from ") != std::string::npos)
      << example;
}

INSTANTIATE_TEST_SUITE_P(Faults, OpSequenceFault,
                         ::testing::Values(Fault::DropShootdownIpi, Fault::SkipLocalInvalidation,
                                           Fault::KeepCpumaskOnRemap, Fault::SkipAbitCheck,
                                           Fault::CpuPrivateSticky),
                         [](const auto& info) {
                           std::string n(fault_info(info.param).name);
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

}  // namespace
}  // namespace kva::fuzz
