// The differential op-sequence harness is a detector: it must flag a broken protocol (an
// injected fault in the emulated archs) and stay silent on the correct one.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
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

// KVA_OPSEQ_DUMP=file: a failing input is written there, to replay it with fuzz_op_sequence
// (KVA_FUZZ_LIST_OPS=1 lists every op's outcome) and to keep it in the corpus once fixed.
void dump(const std::vector<std::uint8_t>& in) {
  if (const char* path = std::getenv("KVA_OPSEQ_DUMP"))
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(in.data()), static_cast<std::streamsize>(in.size()));
}

TEST(OpSequence, CorrectSequencesAgreeWithTheReferenceEverywhere) {
  std::size_t ops = 0;
  for (const auto& in : random_inputs(60)) {
    DiffResult r = run_differential(in.data(), in.size());
    if (!r.ok) dump(in);
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
  // What caught it, named with the op: a stale access, a difference from the reference or from
  // the decoder's file model, a lost write or a broken buffer invariant.
  EXPECT_TRUE(example.find("stale access at #") != std::string::npos ||
              example.find(" differs from ") != std::string::npos ||
              example.find(": lost write at #") != std::string::npos ||
              example.find(": buffer invariant broken at #") != std::string::npos)
      << example;
  std::printf("%s: caught in %d of 60 inputs\n", std::string(fault_info(GetParam()).name).c_str(), caught);
}

INSTANTIATE_TEST_SUITE_P(Faults, OpSequenceFault,
                         ::testing::Values(Fault::DropShootdownIpi, Fault::SkipLocalInvalidation,
                                           Fault::KeepCpumaskOnRemap, Fault::SkipAbitCheck,
                                           Fault::CpuPrivateSticky, Fault::RelbufDelwriUnwritten,
                                           Fault::SkipBogusPage, Fault::BogusPageLeak, Fault::DirtyRangeHole,
                                           Fault::SkipBufKvaShootdown, Fault::CleanAtCompletion,
                                           Fault::BdataOffsetOnReuse),
                         [](const auto& info) {
                           std::string n(fault_info(info.param).name);
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

}  // namespace
}  // namespace kva::fuzz
