// Bounded resources in the runner: -j against memory, capped output, the per-job deadline.
#include <gtest/gtest.h>

#include <sstream>

#include "runner/bounded_output.h"
#include "runner/job_memory.h"
#include "runner/step_executor.h"
#include "runner/testcase_parser.h"

namespace kva::runner {
namespace {

TEST(JobMemory, EstimateGrowsWithRamAndEmulatedCpus) {
  MachineSpec small{2, 16u << 20, 64, {}, {}}, big{8, 256u << 20, 64, {}, {}};
  EXPECT_EQ(JobMemory::estimate(small, false), JobMemory::per_process + (16u << 20));
  EXPECT_EQ(JobMemory::estimate(small, true),
            JobMemory::per_process + (16u << 20) + 2 * JobMemory::per_emulated_vcpu);
  EXPECT_GT(JobMemory::estimate(big, true), JobMemory::estimate(small, true));
}

TEST(JobMemory, JobsAreLoweredToWhatTheLimitHolds) {
  Testcase tc;
  tc.name = "big";
  tc.machine = {4, 64u << 20, 64, {}, {}};
  const ArchInfo* emulated = nullptr;
  for (const auto& a : arch_registry())
    if (a.emulated) emulated = &a;
  ASSERT_NE(emulated, nullptr);
  std::vector<Job> jobs(8, Job{&tc, emulated, 1});
  std::uint64_t one = JobMemory::estimate(tc.machine, true);
  std::string note;
  EXPECT_EQ(clamp_jobs(jobs, 4, 4 * one, &note), 4);
  EXPECT_TRUE(note.empty());
  EXPECT_EQ(clamp_jobs(jobs, 4, 2 * one + 1, &note), 2);
  EXPECT_NE(note.find("-j 4 lowered to 2"), std::string::npos) << note;
  EXPECT_NE(note.find("testcase big on " + emulated->name), std::string::npos) << note;
  EXPECT_EQ(clamp_jobs(jobs, 4, one / 2, &note), 1);  // never below one
  EXPECT_EQ(clamp_jobs(jobs, 1, one / 2, nullptr), 1);
  // Only as many workers as jobs are started: two jobs need room for two.
  std::vector<Job> two(2, Job{&tc, emulated, 1});
  note.clear();
  EXPECT_EQ(clamp_jobs(two, 8, 2 * one, &note), 8);
  EXPECT_TRUE(note.empty());
}

TEST(BoundedOutput, KeepsTheFirstBytesThenOneNote) {
  BoundedOutput buf(10, nullptr);
  std::ostream out(&buf);
  out << "0123456" << "789abc" << 'd' << "ef";
  out.flush();
  std::string text = buf.take();
  EXPECT_EQ(text.substr(0, 10), "0123456789");
  EXPECT_EQ(text.substr(10), "\n[kvabench: output of this job truncated at 10 bytes (--trace-limit)]\n");
  EXPECT_EQ(buf.dropped(), 6u);  // 16 written

  std::ostringstream sink;
  BoundedOutput direct(100, &sink);
  std::ostream o2(&direct);
  o2 << "to the sink";
  o2.flush();
  EXPECT_EQ(sink.str(), "to the sink");
  EXPECT_EQ(direct.take(), "");
}

TEST(JobDeadline, StopsARaceBetweenItsOpsWithoutAnInternalError) {
  Testcase tc = parse_testcase_text("race.yaml", R"(format: 1
name: r
description: d
threads: [{name: a, cpu: 0}, {name: b, cpu: 1}]
steps:
  - page_alloc: [p, q]
  - race:
      threads:
        a: [{sf_buf_alloc: {page: p, as: x}}]
        b: [{sf_buf_alloc: {page: q, as: y}}]
)");
  RunContext ctx(tc, *find_arch("ref"), 1, FaultSet{}, nullptr, nullptr);
  ASSERT_TRUE(execute_step(ctx, tc.steps[0]));
  {
    DeadlineScope past(std::chrono::steady_clock::now() - std::chrono::seconds(1));
    try {
      execute_step(ctx, tc.steps[1]);
      FAIL() << "no timeout";
    } catch (const JobTimedOut& e) {
      EXPECT_EQ(e.step, "#2 race");
    }
  }
  // Outside the scope there is no deadline: the race runs.
  EXPECT_TRUE(execute_step(ctx, tc.steps[1]));
  EXPECT_TRUE(ctx.failures().empty());
}

}  // namespace
}  // namespace kva::runner
