// Typed YAML readers, patterns, comparisons and selectors.
#include <gtest/gtest.h>

#include "runner/byte_pattern.h"
#include "runner/counters.h"
#include "runner/selector.h"
#include "runner/yaml_fields.h"

namespace kva::runner {
namespace {

YamlReader reader() { return YamlReader("t.yaml"); }

TEST(YamlReader, SizesAcceptSuffixesAndEnforceLimits) {
  auto r = reader();
  EXPECT_EQ(r.size(YAML::Load("16M"), "m", 1u << 30), 16u << 20);
  EXPECT_EQ(r.size(YAML::Load("64K"), "m", 1u << 30), 64u << 10);
  EXPECT_EQ(r.size(YAML::Load("4096"), "m", 1u << 30), 4096u);
  EXPECT_THROW(r.size(YAML::Load("2G"), "m", 1u << 30), InputError);
  EXPECT_THROW(r.size(YAML::Load("lots"), "m", 1u << 30), InputError);
  EXPECT_THROW(r.size(YAML::Load("99999999999999999G"), "m", 1u << 30), InputError);
}

TEST(YamlReader, ErrorsCarryFileLineColumn) {
  auto r = reader();
  YAML::Node doc = YAML::Load("a: 1\nb: x\n");
  try {
    r.integer(doc["b"], "b", 0, 10);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "t.yaml:2:4: b: expected an integer, got 'x'");
  }
  EXPECT_THROW(r.integer(YAML::Load("11"), "n", 0, 10), InputError);
  EXPECT_EQ(r.integer(YAML::Load("0x10"), "n", 0, 100), 16);
}

TEST(Fields, RejectsUnknownKeysAndAcceptsPrimaryShorthand) {
  auto r = reader();
  YAML::Node n = YAML::Load("{page: p1, colour: red}");
  Fields f(r, n, "op");
  EXPECT_TRUE(f.has("page"));
  f.get("page");
  EXPECT_THROW(f.finish(), InputError);

  Fields s(r, YAML::Load("t1"), "signal", "thread");
  EXPECT_TRUE(s.has("thread"));
  EXPECT_EQ(s.get("thread").Scalar(), "t1");
  EXPECT_FALSE(s.has("label"));
  EXPECT_NO_THROW(s.finish());
  EXPECT_THROW(Fields(r, YAML::Load("t1"), "read"), InputError);  // no primary field
}

TEST(BytePattern, IsAFunctionOfThePageOffset) {
  auto r = reader();
  auto seq = BytePattern::parse(r, YAML::Load("{seq: 250}"), "p");
  EXPECT_EQ(seq.bytes(4, 3), (std::vector<std::uint8_t>{254, 255, 0}));
  auto rep = BytePattern::parse(r, YAML::Load("{bytes: \"de ad\"}"), "p");
  EXPECT_EQ(rep.bytes(1, 3), (std::vector<std::uint8_t>{0xad, 0xde, 0xad}));
  EXPECT_EQ(BytePattern::parse(r, YAML::Load("0xA1"), "p").at(77), 0xA1);
  EXPECT_NE(BytePattern::from_name("p1").bytes(0, 8), BytePattern::from_name("p2").bytes(0, 8));
  EXPECT_THROW(BytePattern::parse(r, YAML::Load("256"), "p"), InputError);
  EXPECT_THROW(BytePattern::parse(r, YAML::Load("{bytes: \"zz\"}"), "p"), InputError);
}

TEST(Comparison, ParsesOperators) {
  auto r = reader();
  auto c = Comparison::parse(r, YAML::Load("\">=2\""), "c");
  EXPECT_TRUE(c.holds(2));
  EXPECT_TRUE(c.holds(3));
  EXPECT_FALSE(c.holds(1));
  EXPECT_EQ(c.text(), ">=2");
  EXPECT_TRUE(Comparison::parse(r, YAML::Load("3"), "c").holds(3));
  EXPECT_TRUE(Comparison::parse(r, YAML::Load("\"!=0\""), "c").holds(5));
  EXPECT_THROW(Comparison::parse(r, YAML::Load("\"=>1\""), "c"), InputError);
}

TEST(Selectable, MostSpecificKeyWins) {
  auto r = reader();
  auto one = [&](const YAML::Node& v) { return static_cast<int>(r.integer(v, "v", 0, 100)); };
  auto s = Selectable<int>::parse(r, YAML::Load("{i386: 3, pool: 2, default: 1}"), "v", one);
  EXPECT_EQ(*s.resolve({"i386", false}), 3);
  EXPECT_EQ(*s.resolve({"i386-pae", false}), 2);
  EXPECT_EQ(*s.resolve({"amd64", true}), 1);
  auto partial = Selectable<int>::parse(r, YAML::Load("{dmap: 0}"), "v", one);
  EXPECT_EQ(partial.resolve({"i386", false}), nullptr);  // not checked there
  auto plain = Selectable<int>::parse(r, YAML::Load("7"), "v", one);
  EXPECT_EQ(*plain.resolve({"anything", true}), 7);
  // A map with a non-selector key is not a selector (it is a value, e.g. a check map).
  EXPECT_FALSE(is_selector_map(YAML::Load("{pool: 1, same_as: s1}")));
}

// Mode keys stand for features of the arch's protocol; they come after the arch name and
// before pool/dmap, in the order bbm, bcast, af_fault. The contexts here are made up, so the
// test does not depend on which arch has which feature.
TEST(Selectable, ModeKeysFollowTheArchsFeatures) {
  auto r = reader();
  auto one = [&](const YAML::Node& v) { return static_cast<int>(r.integer(v, "v", 0, 100)); };
  auto s = Selectable<int>::parse(r, YAML::Load("{default: 1, bcast: 0, bbm: 5, dmap: 7}"), "v", one);
  const ArchContext ipi_dmap{"x", true, {"walk_cache"}};
  const ArchContext bcast_dmap{"y", true, {"bcast", "af_fault"}};
  const ArchContext both{"z", true, {"bcast", "bbm"}};
  const ArchContext bcast_pool{"w", false, {"bcast"}};
  EXPECT_EQ(*s.resolve(ipi_dmap), 7);
  EXPECT_EQ(*s.resolve(bcast_dmap), 0) << "a mode key before pool/dmap";
  EXPECT_EQ(*s.resolve(both), 5) << "bbm before bcast";
  EXPECT_EQ(*s.resolve(bcast_pool), 0);
  EXPECT_EQ(both.mode_keys(), (std::vector<std::string>{"bbm", "bcast", "dmap"}));
  EXPECT_EQ(ipi_dmap.mode_keys(), (std::vector<std::string>{"dmap"}));
  auto af = Selectable<int>::parse(r, YAML::Load("{af_fault: 0}"), "v", one);
  EXPECT_EQ(*af.resolve(bcast_dmap), 0);
  EXPECT_EQ(af.resolve(both), nullptr);
  for (const char* k : {"bbm", "bcast", "af_fault"}) EXPECT_TRUE(is_selector_key(k)) << k;
  EXPECT_FALSE(is_selector_key("walk_cache")) << "other features are no selector keys";
}

TEST(Counters, GroupsAndNamesAreValidated) {
  auto r = reader();
  auto ok = parse_counter_expectations(r, YAML::Load("{sf_buf: {remaps: 1}, pmap: {ipis: {pool: 1}}}"), "e",
                                       {"sf_buf", "pmap", "stale"});
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_THROW(parse_counter_expectations(r, YAML::Load("{sf_buf: {remap: 1}}"), "e", {"sf_buf"}), InputError);
  EXPECT_THROW(parse_counter_expectations(r, YAML::Load("{tlb: {x: 1}}"), "e", {"sf_buf"}), InputError);
}

// riscv's protocol keys: `sbi` (SBI remote fences, qenter always invalidates) and `leaf_fence`
// (a page fence keeps non-leaf entries) come before pool/dmap, `sbi` first. Made-up contexts,
// so the test does not depend on which arch has which feature.
TEST(Selectable, SbiAndLeafFenceKeys) {
  auto r = reader();
  auto one = [&](const YAML::Node& v) { return static_cast<int>(r.integer(v, "v", 0, 100)); };
  auto s = Selectable<int>::parse(r, YAML::Load("{pool: 3, dmap: 1, sbi: 0, leaf_fence: 2}"), "v", one);
  const ArchContext x86_like{"x", true, {"walk_cache"}};
  const ArchContext sbi_dmap{"y", true, {"sbi", "leaf_fence"}};
  const ArchContext fence_pool{"z", false, {"leaf_fence"}};
  EXPECT_EQ(*s.resolve(x86_like), 1);
  EXPECT_EQ(*s.resolve(sbi_dmap), 0) << "sbi before leaf_fence and dmap";
  EXPECT_EQ(*s.resolve(fence_pool), 2) << "leaf_fence before pool";
  EXPECT_EQ(sbi_dmap.mode_keys(), (std::vector<std::string>{"sbi", "leaf_fence", "dmap"}));
  auto only_sbi = Selectable<int>::parse(r, YAML::Load("{sbi: 4}"), "v", one);
  EXPECT_EQ(only_sbi.resolve(x86_like), nullptr) << "not checked where the key does not apply";
  for (const char* k : {"sbi", "leaf_fence"}) {
    EXPECT_TRUE(is_selector_key(k)) << k;
    EXPECT_TRUE(is_feature_name(k)) << k;
  }
}

}  // namespace
}  // namespace kva::runner
