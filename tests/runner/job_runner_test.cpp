// Parsing whole testcase files and running them on the reference archs (no emulation).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runner/job.h"
#include "runner/result_codec.h"
#include "runner/testcase_parser.h"

namespace kva::runner {
namespace {

// Unique per process and test: ctest runs the discovered tests in parallel.
std::string write_temp(const std::string& name, const std::string& text) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto path = std::filesystem::temp_directory_path() /
              ("kvabench_runner_test_" + std::to_string(::getpid()) + "_" + info->name() + "_" + name + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

const char* kRecycle = R"(format: 1
name: recycle
description: accessed recycle invalidates everywhere
machine: {cpus: 2, nsfbufs: 1}
threads:
  - {name: t0, cpu: 0}
steps:
  - page_alloc: {as: [p1, p2]}
  - sf_buf_alloc: {thread: t0, page: p1, as: s1}
  - read: {cpu: 1, sf: s1, expect: {page: p1}}
  - sf_buf_free: s1
  - sf_buf_alloc: {thread: t0, page: p2, as: s2, expect: {pool: {same_as: s1}, dmap: {direct_map: true}}}
  - read: {cpu: 1, sf: s2, expect: {page: p2}}
expect:
  sf_buf: {remaps: {pool: 1, dmap: 0}, shootdowns: {pool: 2, dmap: 0}}
)";

JobResult run_on(const Testcase& tc, const char* arch, std::vector<Fault> faults = {}) {
  return run_job({&tc, find_arch(arch), 1}, JobOptions{std::move(faults), false, false});
}

TEST(JobRunner, PassesOnBothReferenceModes) {
  Testcase tc = parse_testcase_file(write_temp("recycle", kRecycle));
  for (const char* arch : {"ref", "ref-dmap"}) {
    JobResult r = run_on(tc, arch);
    EXPECT_TRUE(r.passed) << arch << ": " << (r.failures.empty() ? "" : r.failures[0].message);
    EXPECT_EQ(r.mode, std::string(arch) == "ref-dmap" ? "dmap" : "pool");
  }
}

TEST(JobRunner, InjectedFaultShowsAsStaleRead) {
  Testcase tc = parse_testcase_file(write_temp("recycle", kRecycle));
  JobResult r = run_on(tc, "ref", {Fault::DropShootdownIpi});
  ASSERT_FALSE(r.passed);
  bool observed = false;
  for (const auto& f : r.failures)
    if (f.oracle == "observed staleness") {
      observed = true;
      EXPECT_EQ(f.cpu, 1);
      EXPECT_EQ(f.step, "#6 read");
    }
  EXPECT_TRUE(observed);
  // Not applicable in direct-map mode: recorded, and nothing changes.
  JobResult d = run_on(tc, "ref-dmap", {Fault::KeepCpumaskOnRemap});
  EXPECT_TRUE(d.passed);
  EXPECT_EQ(d.faults_not_applicable, std::vector<std::string>{"keep-cpumask"});
}

TEST(JobRunner, ResultsSurviveThePipeEncoding) {
  Testcase tc = parse_testcase_file(write_temp("recycle", kRecycle));
  JobResult r = run_on(tc, "ref", {Fault::DropShootdownIpi});
  JobResult back = decode_result(encode_result(r));
  EXPECT_EQ(back.testcase, r.testcase);
  EXPECT_EQ(back.passed, r.passed);
  EXPECT_EQ(back.counters, r.counters);
  ASSERT_EQ(back.failures.size(), r.failures.size());
  EXPECT_EQ(back.failures[0].message, r.failures[0].message);
  EXPECT_EQ(back.failures[0].cpu, r.failures[0].cpu);
}

TEST(JobRunner, ATruncatedOrPaddedPipeResultIsRejected) {
  Testcase tc = parse_testcase_file(write_temp("recycle", kRecycle));
  std::string text = encode_result(run_on(tc, "ref", {Fault::DropShootdownIpi}));
  for (std::size_t cut : {std::size_t{0}, std::size_t{7}, text.size() / 2, text.size() - 1})
    EXPECT_THROW(decode_result(text.substr(0, cut)), std::runtime_error) << "cut at " << cut;
  EXPECT_THROW(decode_result(text + "x"), std::runtime_error);
}

TEST(TestcaseParser, ReportsUndefinedReferenceWithPosition) {
  std::string path = write_temp("undef", "format: 1\nname: u\ndescription: d\nsteps:\n  - sf_buf_free: s1\n");
  try {
    parse_testcase_file(path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":5:18: undefined sf_buf 's1' (not defined by an earlier step)");
  }
}

TEST(TestcaseParser, TextParsesLikeItsFileAndNamesTheGivenPathInErrors) {
  Testcase from_text = parse_testcase_text("shipped/recycle.yaml", kRecycle);
  EXPECT_EQ(from_text.file, "shipped/recycle.yaml");
  Testcase from_file = parse_testcase_file(write_temp("recycle", kRecycle));
  const JobResult text_result = run_on(from_text, "ref"), file_result = run_on(from_file, "ref");
  EXPECT_TRUE(text_result.passed);
  EXPECT_EQ(text_result.file, "shipped/recycle.yaml");
  EXPECT_EQ(text_result.counters, file_result.counters);
  try {
    parse_testcase_text("x.yaml", "format: 1\nname: u\ndescription: d\nsteps:\n  - sf_buf_free: s1\n");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "x.yaml:5:18: undefined sf_buf 's1' (not defined by an earlier step)");
  }
}

TEST(TestcaseParser, RaceListsUseTheirThread) {
  std::string path = write_temp("race", R"(format: 1
name: r
description: d
threads: [{name: a, cpu: 0}, {name: b, cpu: 1}]
steps:
  - page_alloc: p
  - race:
      threads:
        a: [{sf_buf_alloc: {page: p, as: x}}, {read: {sf: x, thread: b}}]
        b: [{sf_buf_alloc: {page: p, as: y}}]
)");
  EXPECT_THROW(parse_testcase_file(path), InputError);  // a's list cannot run on b

  std::string cross = write_temp("race_cross", R"(format: 1
name: r
description: d
threads: [{name: a, cpu: 0}, {name: b, cpu: 1}]
steps:
  - page_alloc: p
  - race:
      threads:
        a: [{sf_buf_alloc: {page: p, as: x}}]
        b: [{sf_buf_free: x}]
  - sf_buf_free: x
)");
  try {
    parse_testcase_file(cross);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(cross + ":10:27: 'x' is defined by racing thread 'a'"), std::string::npos) << e.what();
  }
}

// machine.ad: software runs where the arch offers it (FreeBSD presets A/D, so the protocol is
// unchanged) and is a setup error naming the arch everywhere else; bad values are input errors.
TEST(TestcaseParser, MachineAdSelectsSoftwareAccessedDirty) {
  std::string text = kRecycle;
  text.replace(text.find("nsfbufs: 1}"), 11, "nsfbufs: 1, ad: software}");
  Testcase tc = parse_testcase_file(write_temp("ad", text));
  ASSERT_EQ(tc.machine.ad, AdBits::Software);
  int offered = 0;
  for (const ArchInfo& a : arch_registry()) {
    JobResult r = run_on(tc, a.name.c_str());
    if (a.capabilities().software_ad) {
      ++offered;
      EXPECT_TRUE(r.passed) << a.name << ": " << (r.failures.empty() ? "" : r.failures[0].message);
    } else {
      ASSERT_FALSE(r.passed) << a.name;
      EXPECT_EQ(r.failures[0].oracle, "setup error");
      EXPECT_NE(r.failures[0].message.find(a.name + ": accessed/dirty bits"), std::string::npos)
          << r.failures[0].message;
    }
  }
  EXPECT_GT(offered, 0);

  std::string bad = kRecycle;
  bad.replace(bad.find("nsfbufs: 1}"), 11, "nsfbufs: 1, ad: firmware}");
  std::string path = write_temp("ad_bad", bad);
  try {
    parse_testcase_file(path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("machine.ad: expected hardware or software"), std::string::npos) << e.what();
  }
}

TEST(PlanJobs, SeedsAndArchSelection) {
  Testcase tc = parse_testcase_file(write_temp("recycle", kRecycle));
  tc.seeds = 3;
  std::vector<Testcase> all;
  all.push_back(std::move(tc));
  auto jobs = plan_jobs(all, {find_arch("ref")}, 10);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[2].seed, 12u);
  for (const auto& j : plan_jobs(all, {}, 1)) EXPECT_TRUE(j.arch->in_default_set);
}

}  // namespace
}  // namespace kva::runner
