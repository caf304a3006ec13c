// The host firmware's SBI: sbi_remote_sfence_vma decoded as the SBI spec and OpenSBI have it
// (hart mask and base, the one-page range limit), and its errors returned to the guest in a0.
#include <unicorn/riscv.h>

#include "archs/riscv64/riscv_sbi.h"
#include "tests/riscv64/riscv_test_util.h"

namespace kva::test {
namespace {

using riscv::decode_remote_sfence;
using riscv::RemoteSfence;
using riscv::SbiCall;

SbiCall remote_sfence(std::uint64_t mask, std::uint64_t base, std::uint64_t start, std::uint64_t size) {
  return {riscv::kSbiExtRfence, riscv::kSbiRfenceRemoteSfenceVma, {mask, base, start, size, 0, 0}};
}

RemoteSfence fence_of(const SbiCall& c, int nharts) {
  auto r = decode_remote_sfence(c, nharts);
  if (!std::holds_alternative<RemoteSfence>(r)) throw KvaError("not a fence");
  return std::get<RemoteSfence>(r);
}

TEST(SbiRemoteSfence, HartMaskAndBase) {
  EXPECT_EQ(fence_of(remote_sfence(0b1010, 0, 0x1000, 1), 4).harts, CpuSet::only(1) | CpuSet::only(3));
  EXPECT_EQ(fence_of(remote_sfence(0b11, 2, 0x1000, 1), 4).harts, CpuSet::only(2) | CpuSet::only(3));
  EXPECT_EQ(fence_of(remote_sfence(0, ~std::uint64_t{0}, 0x1000, 1), 3).harts, CpuSet::first_n(3))
      << "hart_mask_base = -1: every hart";
  EXPECT_EQ(std::get<std::int64_t>(decode_remote_sfence(remote_sfence(0b10000, 0, 0, 0), 4)),
            riscv::kSbiErrInvalidParam) << "hart 4 does not exist";
  EXPECT_EQ(std::get<std::int64_t>(decode_remote_sfence(remote_sfence(1, 3, 0, 0), 3)), riscv::kSbiErrInvalidParam);
  SbiCall other = remote_sfence(1, 0, 0, 0);
  other.fid = 2;  // remote_sfence_vma_asid: not offered
  EXPECT_EQ(std::get<std::int64_t>(decode_remote_sfence(other, 4)), riscv::kSbiErrNotSupported);
}

TEST(SbiRemoteSfence, OpenSbiRangeRules) {
  RemoteSfence one = fence_of(remote_sfence(1, 0, 0xffffffc000003000ull, 1), 2);  // pmap_invalidate_page
  EXPECT_FALSE(one.all);
  EXPECT_EQ(one.va, 0xffffffc000003000ull);
  EXPECT_EQ(one.npages, 1u);
  EXPECT_FALSE(fence_of(remote_sfence(1, 0, 0xffffffc000003000ull, PAGE_SIZE), 2).all);
  EXPECT_TRUE(fence_of(remote_sfence(1, 0, 0xffffffc000003000ull, PAGE_SIZE + 1), 2).all)
      << "pmap_invalidate_range's eva - sva + 1 is above the one-page limit";
  EXPECT_TRUE(fence_of(remote_sfence(1, 0, 0, 0), 2).all) << "start = size = 0";
  EXPECT_TRUE(fence_of(remote_sfence(1, 0, 0x5000, ~std::uint64_t{0}), 2).all) << "size = -1";
  EXPECT_EQ(fence_of(remote_sfence(1, 0, 0x5000, 0), 2).npages, 0u) << "an empty range fences nothing";
}

// The guest sees the SBI's answer: a0 = error (0 on success).
TEST(SbiRemoteSfence, ErrorsReachTheCallingHart) {
  auto pmap = make_pmap("riscv64", 2);
  auto* rv = dynamic_cast<riscv::RiscvPmap<riscv::Sv39>*>(pmap.get());
  ASSERT_NE(rv, nullptr);
  Machine& m = rv->machine();
  const StubRoutine& ecall = m.routine(riscv::kStubEcall);
  auto call = [&](std::uint64_t mask, std::uint64_t fid) {
    const std::uint64_t args[] = {mask, 0, pmap->kva_space().start, 1, fid, riscv::kSbiExtRfence};
    EXPECT_FALSE(m.run(0, ecall, args).trap);
    std::uint64_t a0 = 0;
    uc_reg_read(m.engine(0), UC_RISCV_REG_A0, &a0);
    return static_cast<std::int64_t>(a0);
  };
  EXPECT_EQ(call(0b10, riscv::kSbiRfenceRemoteSfenceVma), riscv::kSbiSuccess);
  EXPECT_EQ(pmap->stats().broadcasts, 1u);
  EXPECT_EQ(pmap->stats().local_invalidations, 1u) << "hart 1's sfence.vma va";
  EXPECT_EQ(call(0b100, riscv::kSbiRfenceRemoteSfenceVma), riscv::kSbiErrInvalidParam);
  EXPECT_EQ(call(0b10, 7), riscv::kSbiErrNotSupported);
  EXPECT_EQ(pmap->stats().broadcasts, 1u) << "failed calls fence nothing";
}

}  // namespace
}  // namespace kva::test
