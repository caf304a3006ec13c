// Buffer-cache and file steps: parsing (with positioned errors), running on the reference archs,
// the outcome rules for calls that sleep, and the lost-write / invariant failures.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runner/job.h"
#include "runner/testcase_parser.h"

namespace kva::runner {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto path = std::filesystem::temp_directory_path() /
              ("kvabench_buf_test_" + std::to_string(::getpid()) + "_" + info->name() + "_" + name + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

const char* kHead = "format: 1\nname: t\ndescription: d\nthreads: [{name: t0, cpu: 0}, {name: t1, cpu: 1}]\n";

JobResult run_on(const Testcase& tc, const char* arch, std::vector<Fault> faults = {}) {
  return run_job({&tc, find_arch(arch), 1}, JobOptions{std::move(faults), false, false});
}

std::string first_failure(const JobResult& r) {
  return r.failures.empty() ? "" : r.failures[0].oracle + ": " + r.failures[0].message;
}

// The error message a file's parse raises (empty: none).
std::string parse_error(const std::string& text) {
  try {
    parse_testcase_file(write_temp("err", text));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(BufSteps, DelayedWriteRelbufAndFsyncPassOnBothReferenceModes) {
  Testcase tc = parse_testcase_file(write_temp("delwri", std::string(kHead) + R"(machine: {buf: {nbuf: 8, maxbufspace: 128K}, device: {size: 1M, completion: issuer}}
steps:
  - file_create: {as: f, size: 16K, fill: 0}
  - file_write: {thread: t0, file: f, offset: 100, len: 50, data: 0xd1}
  - getblk: {thread: t0, file: f, lblkno: 0, as: b}
  - buf_check: {buf: b, expect: {flags: [DELWRI], dirty: [100, 150], page_dirty: 0}}
  - brelse: {buf: b, flags: [RELBUF]}
  - buf_check: {buf: b, expect: {flags: [DELWRI], queue: dirty}}
  - pageout: {release_buffers: true, reclaimed: 0}
  - fsync: {thread: t1, file: f}
  - device_check: {file: f, offset: 96, len: 64}
expect:
  buf: {nbuf: 8, numdirtybuffers: 0}
  vfs: {device_writes: 1, device_bytes_written: 50, remote_completions: 0, lost_writes: 0}
)"));
  EXPECT_EQ(tc.machine.buf.nbuf, 8);
  EXPECT_EQ(tc.machine.device.completion, "issuer");
  for (const char* arch : {"ref", "ref-dmap"}) {
    JobResult r = run_on(tc, arch);
    EXPECT_TRUE(r.passed) << arch << ": " << first_failure(r);
  }
  // The same testcase with brelse freeing the B_DELWRI|B_RELBUF pages unwritten.
  JobResult bad = run_on(tc, "ref", {Fault::RelbufDelwriUnwritten});
  ASSERT_FALSE(bad.passed);
  bool lost = false;
  for (const auto& f : bad.failures)
    if (f.oracle == "lost write") {
      lost = true;
      EXPECT_EQ(f.step, "#8 fsync");
    }
  EXPECT_TRUE(lost) << first_failure(bad);
}

TEST(BufSteps, ACallReturnsDuringItsStepEvenAfterSleepingForIo) {
  Testcase tc = parse_testcase_file(write_temp("sleep", std::string(kHead) + R"(steps:
  - file_create: {as: f, size: 16K}
  - bread: {thread: t0, file: f, lblkno: 0, as: a}
  - device: {hold: true}
  - bread: {thread: t1, file: f, lblkno: 1, as: b, expect: blocks, then: ok, expect_woken_by: go}
  - pending: {op: b, expect: blocks}
  - device: {release: all, label: go}
  - pending: {op: b, expect: done}
  - read: {cpu: 1, buf: b, len: 8, expect: {file: f}}
  - brelse: a
  - brelse: b
)"));
  JobResult r = run_on(tc, "ref");
  EXPECT_TRUE(r.passed) << first_failure(r);

  // Expecting `ok` from a call that is still asleep when its step ends is a failure.
  Testcase wrong = parse_testcase_file(write_temp("wrong", std::string(kHead) + R"(steps:
  - file_create: {as: f, size: 16K}
  - device: {hold: true}
  - bread: {thread: t1, file: f, lblkno: 1, as: b}
)"));
  JobResult w = run_on(wrong, "ref");
  ASSERT_FALSE(w.passed);
  EXPECT_EQ(w.failures[0].oracle, "unexpected block");
}

TEST(BufSteps, StaleBufferHandlesAreKernelInterfaceErrors) {
  Testcase tc = parse_testcase_file(write_temp("stale", std::string(kHead) + R"(steps:
  - file_create: {as: f, size: 16K}
  - bread: {thread: t0, file: f, lblkno: 0, as: a}
  - brelse: a
  - bread: {thread: t1, file: f, lblkno: 0, as: b}
  - brelse: {buf: a, expect_error: "stale handle"}
  - bdwrite: {buf: b, thread: t0, expect_error: "locked by thread t1"}
  - brelse: b
)"));
  JobResult r = run_on(tc, "ref");
  EXPECT_TRUE(r.passed) << first_failure(r);
}

TEST(BufSteps, AFaultOnAChosenBlockFailsThatReadOnly) {
  Testcase tc = parse_testcase_file(write_temp("faultblock", std::string(kHead) + R"(steps:
  - file_create: {as: f, size: 16K}
  - device: {fail_next: read, file: f, lblkno: 3}
  - bread: {thread: t0, file: f, lblkno: 2, as: b2}
  - bread: {thread: t0, file: f, lblkno: 3, as: b3, expect: error}
)"));
  for (const char* arch : {"ref", "ref-dmap"}) {
    JobResult r = run_on(tc, arch);
    EXPECT_TRUE(r.passed) << arch << ": " << first_failure(r);
  }
}

TEST(BufSteps, AFaultOnAHoleOrPastTheDeviceIsAStepError) {
  const std::string head = std::string(kHead) + "machine: {device: {size: 1M}}\nsteps:\n";
  Testcase hole = parse_testcase_file(write_temp("hole", head + R"(  - file_create: {as: f, size: 16K, fill: none}
  - device: {fail_next: write, file: f, lblkno: 1}
)"));
  EXPECT_NE(first_failure(run_on(hole, "ref")).find("block 1 of file f is a hole"), std::string::npos);
  Testcase past = parse_testcase_file(write_temp("past", head + "  - device: {fail_next: read, block: 2048}\n"));
  EXPECT_NE(first_failure(run_on(past, "ref")).find("device block 2048 is not on the 2048-block device"),
            std::string::npos);
}

TEST(BufSteps, InvariantViolationsAndLostWritesAreFailures) {
  Testcase tc = parse_testcase_file(write_temp("inv", std::string(kHead) + R"(machine: {buf: {nbuf: 1}}
steps:
  - file_create: {as: f, bsize: 512, size: 4K}
  - bread: {thread: t0, file: f, lblkno: 1, as: a}
  - brelse: a
  - bread: {thread: t0, file: f, lblkno: 2, as: b}
  - brelse: b
)"));
  EXPECT_TRUE(run_on(tc, "ref").passed);
  JobResult r = run_on(tc, "ref", {Fault::BdataOffsetOnReuse});
  ASSERT_FALSE(r.passed);
  EXPECT_EQ(r.failures[0].oracle, "buffer invariant");
  EXPECT_EQ(r.failures[0].step, "#4 bread");
  EXPECT_NE(r.failures[0].message.find("b_data"), std::string::npos);
}

TEST(BufSteps, ParseErrorsNameTheField) {
  const std::string steps = std::string(kHead) + "steps:\n  - file_create: {as: f}\n";
  EXPECT_NE(parse_error(steps + "  - getblk: {thread: t0, file: f, lblkno: 0, as: b, flags: [SOON]}\n")
                .find("getblk.flags: 'SOON' is not accepted here"), std::string::npos);
  EXPECT_NE(parse_error(steps + "  - bread: {thread: t0, file: f, lblkno: 0, flags: [NOCREAT], as: b}\n")
                .find("'NOCREAT' is not accepted here"), std::string::npos);
  EXPECT_NE(parse_error(steps + "  - brelse: b9\n").find(":7:13: undefined buffer 'b9'"), std::string::npos);
  EXPECT_NE(parse_error(steps + "  - file_create: {as: g, bsize: 1000}\n").find("bsize: a multiple of 512"),
            std::string::npos);
  EXPECT_NE(parse_error(steps + "  - breadn: {thread: t0, file: f, lblkno: 0, as: b}\n").find("rablkno"),
            std::string::npos);
  EXPECT_NE(parse_error(steps + "  - fsync: {thread: t0, file: f, expect: null}\n").find("never NULL"),
            std::string::npos);
  EXPECT_NE(parse_error(steps + "  - read: {cpu: 0, buf: f}\n").find("'f' is a file, not a buffer"),
            std::string::npos);
  EXPECT_NE(parse_error(steps + "  - device: {}\n").find("give hold, release or fail_next"), std::string::npos);
  EXPECT_NE(parse_error(steps + "  - device: {fail_next: write, lblkno: 2}\n").find("device.lblkno: give the file too"),
            std::string::npos);
  EXPECT_NE(parse_error(steps + "  - device: {fail_next: write, block: 3, file: f, lblkno: 0}\n").find("not both"),
            std::string::npos);
  EXPECT_NE(parse_error(steps + "  - device: {hold: true, block: 3}\n").find("give fail_next"), std::string::npos);
  EXPECT_NE(parse_error(steps + "  - device: {fail_next: read, file: g, lblkno: 0}\n").find("undefined file 'g'"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kHead) + "machine: {buf: {maxbufspace: 100000}}\nsteps: [{signal: t0}]\n")
                .find("machine.buf.maxbufspace: must be a multiple of 4K"), std::string::npos);
  EXPECT_NE(parse_error(std::string(kHead) + "machine: {device: {completion: 5}}\nsteps: [{signal: t0}]\n")
                .find("machine.device.completion"), std::string::npos);
  EXPECT_NE(parse_error(std::string(kHead) + "machine: {bbm: sometimes}\nsteps: [{signal: t0}]\n").find("machine.bbm"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string(kHead) + "machine: {buf: {nbufs: 4}}\nsteps: [{signal: t0}]\n")
                .find("nbufs"), std::string::npos);
  EXPECT_NE(parse_error(steps + "expect: {buf: {no_such_counter: 1}}\n").find("unknown counter 'buf.no_such_counter'"),
            std::string::npos);
}

TEST(BufSteps, BadMachineConfigurationIsASetupError) {
  Testcase tc = parse_testcase_file(write_temp("setup", std::string(kHead) + R"(machine: {buf: {maxbufspace: 64K}}
steps:
  - signal: t0
)"));
  JobResult r = run_on(tc, "ref");
  ASSERT_FALSE(r.passed);
  EXPECT_EQ(r.failures[0].oracle, "setup error");
  EXPECT_NE(r.failures[0].message.find("maxbufspace"), std::string::npos);
}

}  // namespace
}  // namespace kva::runner
