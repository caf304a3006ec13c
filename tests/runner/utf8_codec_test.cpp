// UTF-8 checks, and the -j pipe codec carrying any bytes unchanged.
#include <gtest/gtest.h>

#include "runner/result_codec.h"
#include "runner/utf8.h"

namespace kva::runner {
namespace {

TEST(Utf8, FindsTheFirstIllFormedByte) {
  EXPECT_EQ(first_invalid_utf8("plain ascii"), std::string::npos);
  EXPECT_EQ(first_invalid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), std::string::npos);
  EXPECT_EQ(first_invalid_utf8("ab\xe9z"), 2u);              // Latin-1 byte
  EXPECT_EQ(first_invalid_utf8("a\xc0\xafz"), 1u);           // overlong '/'
  EXPECT_EQ(first_invalid_utf8("a\xe0\x80\xafz"), 1u);       // overlong, 3 bytes
  EXPECT_EQ(first_invalid_utf8("ab\xed\xa0\x80"), 2u);       // UTF-16 surrogate
  EXPECT_EQ(first_invalid_utf8("\xf4\x90\x80\x80"), 0u);     // above U+10FFFF
  EXPECT_EQ(first_invalid_utf8("ok\xe2\x82"), 2u);           // truncated at the end
  EXPECT_EQ(first_invalid_utf8("x\x80"), 1u);                // lone continuation byte
}

TEST(Utf8, SanitisingReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(sanitize_utf8("a\xffz"), "a\xef\xbf\xbdz");
  EXPECT_EQ(sanitize_utf8("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");
  std::string good = "caf\xc3\xa9";
  EXPECT_EQ(sanitize_utf8(good), good);
  EXPECT_EQ(first_invalid_utf8(sanitize_utf8("\xc0\xaf\xed\xa0\x80\xf8")), std::string::npos);
}

TEST(ResultCodec, CarriesAnyBytesUnchanged) {
  JobResult r;
  r.testcase = "t";
  r.file = "dir/odd\xff\xfe%41name.yaml";
  r.arch = "ref";
  r.mode = "pool";
  r.seed = 7;
  Failure f;
  f.step = "#1 read";
  f.oracle = "wrong error";
  f.message = "tab\there, newline\nthere, \"quotes\", 100%, \x01 and \xe9";
  f.expected = "error containing \"caf\xc3\xa9\"";
  r.failures.push_back(f);
  r.counters["pmap.loads"] = 3;
  r.faults_not_applicable = {"keep-cpumask"};
  JobResult back = decode_result(encode_result(r));
  EXPECT_EQ(back.file, r.file);
  ASSERT_EQ(back.failures.size(), 1u);
  EXPECT_EQ(back.failures[0].message, f.message);
  EXPECT_EQ(back.failures[0].expected, f.expected);
  EXPECT_EQ(back.counters, r.counters);
  EXPECT_EQ(back.faults_not_applicable, r.faults_not_applicable);
}

}  // namespace
}  // namespace kva::runner
