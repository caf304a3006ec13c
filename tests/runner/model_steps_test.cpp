// The TLB-model steps and fields of the testcase format on the reference archs: kenter
// attributes, kenter_large with `large` sizes, protect, flush_local, stale.* counters,
// features in `only:` and `requires:`, and the parser's errors for them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runner/job.h"
#include "runner/testcase_parser.h"

namespace kva::runner {
namespace {

std::string write_temp(const std::string& text) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto path = std::filesystem::temp_directory_path() /
              ("kvabench_model_steps_" + std::to_string(::getpid()) + "_" + info->name() + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

Testcase parse(const std::string& steps, const std::string& extra = "") {
  return parse_testcase_file(write_temp("format: 1\nname: t\ndescription: d\n" + extra +
                                        "machine: {cpus: 3}\nsteps:\n" + steps));
}

JobResult run_on(const Testcase& tc, const char* arch) {
  return run_job({&tc, find_arch(arch), 1}, JobOptions{{}, false, false});
}

std::string first_failure(const JobResult& r) {
  return r.failures.empty() ? "" : r.failures[0].oracle + ": " + r.failures[0].message;
}

TEST(ModelSteps, LargePageGlobalFlushAndRightsOnTheReferenceMmu) {
  Testcase tc = parse(R"(  - page_alloc: {as: f1, align: large, fill: 0x11}
  - page_alloc: {as: f2, align: large, fill: 0x22}
  - kva_reserve: {as: v, pages: 2}
  - kenter: {va: v, page: f1, global: true, writable: true}
  - pte: {va: v, expect: {global: true, size: 4K, cache: wb, page: f1}}
  - read: {cpu: 1, va: v, expect: {page: f1}}
  - kenter: {va: v, page: f2, global: true}
  - flush_local: 1
  - read: {cpu: 1, va: v, expect: {page: f1}, label: global_kept}
  - flush_local: {cpu: 1, global: true}
  - read: {cpu: 1, va: v, expect: {page: f2}}
  - write: {cpu: 2, va: v, offset: 4096, data: 0x01, len: 1, expect_error: "page fault"}
  - kenter: {va: v, offset: 4096, page: f1}
  - write: {cpu: 2, va: v, offset: 4096, data: 0x33, len: 1}
  - protect: {va: v, offset: 4096, writable: false}
  - write: {cpu: 2, va: v, offset: 4096, data: 0x34, len: 1}
expect_stale:
  observed: 2
  architectural: 2
  demand: 2
  rights: 2
)");
  JobResult r = run_on(tc, "ref");
  EXPECT_TRUE(r.passed) << first_failure(r);
  EXPECT_EQ(r.counters.at("stale.speculative"), 0);
  EXPECT_EQ(r.counters.at("stale.table"), 0);
  EXPECT_EQ(r.counters.at("stale.bbm"), 0);
  EXPECT_EQ(r.counters.at("stale.negative"), 0);
}

TEST(ModelSteps, KenterLargeWithTheArchsLargeSize) {
  Testcase tc = parse(R"(  - page_alloc: {as: f1, align: large, fill: 0x11}
  - page_alloc: {as: f2, align: large, fill: 0x22}
  - kva_reserve: {as: v, pages: 1024, align: large}
  - kenter_large: {va: v, offset: 2097152, page: f1}
  - read: {cpu: 1, va: v, offset: 2097152, expect: {page: f1}}
  - pte: {va: v, offset: 2101248, expect: {size: 2M}}
  - kenter_large: {va: v, offset: 2097152, page: f2, size: 2M}
  - read: {cpu: 1, va: v, offset: 2105344}
  - invalidate: {cpu: 1, va: v, offset: 4190208, label: end_of_page}
  - read: {cpu: 1, va: v, offset: 2097152, expect: {page: f2}}
  - check: {since: end_of_page, counters: {stale: {architectural: 0, observed: 0}}}
expect_stale:
  architectural: 1
)");
  JobResult r = run_on(tc, "ref");
  EXPECT_TRUE(r.passed) << first_failure(r);
}

TEST(ModelSteps, FeaturesSelectStepsAndTestcases) {
  Testcase tc = parse(R"(  - page_alloc: p1
  - kva_reserve: v
  - kenter: {va: v, page: p1, only: walk_cache}
  - kenter: {va: v, page: p1, only: [large_2m]}
  - pte: {va: v, expect: {valid: true}}
)");
  EXPECT_TRUE(run_on(tc, "ref").passed);
  const std::vector<const ArchInfo*> refs = {find_arch("ref"), find_arch("ref-dmap")};
  std::vector<Testcase> needs;
  needs.push_back(parse("  - page_alloc: p1\n", "requires: [walk_cache]\n"));
  EXPECT_TRUE(plan_jobs(needs, refs, 1).empty()) << "the reference MMU has no walk cache";
  std::vector<Testcase> large;
  large.push_back(parse("  - page_alloc: p1\n", "requires: [large_2m, global_pages]\n"));
  EXPECT_EQ(plan_jobs(large, refs, 1).size(), 2u);
}

TEST(ModelSteps, UnsupportedOperationIsAStepError) {
  Testcase tc = parse(R"(  - kva_reserve: {as: g, size: 2M}
)");
  JobResult r = run_on(tc, "ref");
  ASSERT_FALSE(r.passed);
  EXPECT_NE(first_failure(r).find("growkernel"), std::string::npos) << first_failure(r);
}

TEST(ModelSteps, ParserRejectsBadModelFields) {
  auto rejects = [](const std::string& steps, const std::string& extra, const std::string& what) {
    try {
      parse(steps, extra);
      ADD_FAILURE() << "accepted: " << steps << extra;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  rejects("  - page_alloc: p1\n", "requires: [teleportation]\n", "unknown feature");
  rejects("  - kva_reserve: {as: v, pages: 1, size: 2M}\n", "", "not both");
  rejects("  - kva_reserve: {as: v, size: 3M}\n", "", "power of two");
  rejects("  - page_alloc: p1\n  - kva_reserve: v\n  - kenter: {va: v, page: p1, cache: wc}\n", "",
          "wb, wt, uc- or uc");
  rejects("  - page_alloc: p1\n  - kva_reserve: v\n  - protect: {va: v}\n", "", "writable");
  rejects("  - page_alloc: {as: p1, only: walkcache}\n", "", "feature");
  rejects("  - page_alloc: p1\n  - kva_reserve: v\n  - pte: {va: v, expect: {cache: fast}}\n", "",
          "wb, wt, uc- or uc");
}

}  // namespace
}  // namespace kva::runner
