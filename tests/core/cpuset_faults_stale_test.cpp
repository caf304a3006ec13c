#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/cpuset.h"
#include "core/faults.h"
#include "core/pmap.h"
#include "core/stale.h"

namespace kva {
namespace {

TEST(CpuSet, BasicOperations) {
  CpuSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.last(), -1);
  s.set(0);
  s.set(3);
  EXPECT_TRUE(s.isset(3));
  EXPECT_FALSE(s.isset(2));
  EXPECT_EQ(s.count(), 2);
  EXPECT_EQ(s.last(), 3);
  EXPECT_EQ(s.to_string(), "{0,3}");
  s.clr(3);
  EXPECT_EQ(s, CpuSet::only(0));
  EXPECT_EQ(CpuSet::first_n(4).andnot(CpuSet::only(1)).to_string(), "{0,2,3}");
  EXPECT_EQ((CpuSet::only(1) | CpuSet::only(2)).count(), 2);
  EXPECT_TRUE((CpuSet::only(1) & CpuSet::only(2)).empty());
  EXPECT_EQ(CpuSet::first_n(MAXCPU).count(), MAXCPU);
  EXPECT_EQ(CpuSet::first_n(MAXCPU).last(), MAXCPU - 1);
  s.zero();
  EXPECT_TRUE(s.empty());
}

TEST(Faults, RegistryNamesAreTheCliNamesAndRoundTrip) {
  const std::set<std::string> expected = {
      "drop-ipi",        "skip-local-inval",   "keep-cpumask",           "cpuprivate-sticky",
      "skip-abit-check", "relbuf-delwri",      "skip-bogus-page",        "bogus-page-leak",
      "dirty-range-hole", "skip-buf-kva-shootdown", "clean-at-completion", "bdata-stale-offset"};
  std::set<std::string> names;
  for (const FaultInfo& f : fault_registry()) {
    names.insert(std::string(f.name));
    EXPECT_FALSE(f.description.empty()) << f.name;
    EXPECT_EQ(fault_by_name(f.name), f.fault);
    EXPECT_EQ(fault_info(f.fault).name, f.name);
  }
  EXPECT_EQ(names, expected);
  EXPECT_EQ(fault_registry().size(), static_cast<std::size_t>(Fault::kCount));
  EXPECT_FALSE(fault_by_name("no-such-fault").has_value());
  EXPECT_FALSE(fault_info(Fault::DropShootdownIpi).sf_buf_pool_only);
  EXPECT_TRUE(fault_info(Fault::KeepCpumaskOnRemap).sf_buf_pool_only);
  EXPECT_EQ(fault_info(Fault::DropShootdownIpi).subsystem, "pmap");
  EXPECT_EQ(fault_info(Fault::KeepCpumaskOnRemap).subsystem, "sf_buf");
  EXPECT_EQ(fault_info(Fault::SkipBogusPage).subsystem, "buf");
  EXPECT_FALSE(fault_info(Fault::SkipBogusPage).sf_buf_pool_only);
}

TEST(Faults, FaultSetEnableDisable) {
  FaultSet f;
  EXPECT_FALSE(f.any());
  f.enable(Fault::SkipAbitCheck);
  EXPECT_TRUE(f.enabled(Fault::SkipAbitCheck));
  EXPECT_FALSE(f.enabled(Fault::DropShootdownIpi));
  f.disable(Fault::SkipAbitCheck);
  EXPECT_FALSE(f.any());
}

TEST(StaleLog, CountsByOracleAndDescribes) {
  StaleLog log;
  log.add({Oracle::Observed, AccessKind::Load, 1, 0x1000, 0x2000, 0x3000, {0xBB}, {0xAA}, "s1"});
  log.add({Oracle::Architectural, AccessKind::Store, 0, 0x1000, std::nullopt, 0x3000, {}, {}, ""});
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(log.count(Oracle::Observed), 1u);
  EXPECT_EQ(log.count(Oracle::Architectural), 1u);
  const std::string d = log.entries()[0].describe();
  EXPECT_NE(d.find("load"), std::string::npos) << d;
  EXPECT_NE(d.find("observed"), std::string::npos) << d;
  EXPECT_NE(d.find("cpu 1"), std::string::npos) << d;
  EXPECT_NE(d.find("0x2000"), std::string::npos) << d;
  EXPECT_NE(d.find("s1"), std::string::npos) << d;
  EXPECT_NE(log.entries()[1].describe().find("unmapped"), std::string::npos);
  log.clear();
  EXPECT_EQ(log.size(), 0u);
}

}  // namespace
}  // namespace kva

namespace kva {
namespace {

TEST(VaFormat, WidthBoundsAndCanonicalForm) {
  const VaFormat narrow{32, 32};
  EXPECT_TRUE(narrow.fits(0xffff'f000));
  EXPECT_FALSE(narrow.fits(0x1'0000'0000));
  EXPECT_FALSE(narrow.fits(0xffff'ffff'8000'0000));  // a 32-bit VA is not sign-extended
  const VaFormat canonical{64, 48};
  EXPECT_TRUE(canonical.fits(0x0000'7fff'ffff'f000));
  EXPECT_TRUE(canonical.fits(0xffff'8000'0000'0000));
  EXPECT_FALSE(canonical.fits(0x0000'8000'0000'0000));
  EXPECT_FALSE(canonical.fits(0xfff7'8000'0000'0000));
  EXPECT_TRUE(VaFormat{}.fits(~vaddr_t{0}));
}

}  // namespace
}  // namespace kva
