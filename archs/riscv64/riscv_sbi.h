// The SBI calls the host answers as the riscv64 machine's firmware, as plain data: what a call
// asks for, decoded after the RISC-V SBI spec ("RFENCE Extension", hart_mask/hart_mask_base)
// and carried out the way OpenSBI does (lib/sbi/sbi_tlb.c): a range larger than the platform's
// flush limit, or start = size = 0, or size = -1, becomes sfence.vma x0, x0 on each target;
// otherwise each target runs sfence.vma start + i for i = 0, PAGE_SIZE, ... below size.
#pragma once
#include <array>
#include <cstdint>
#include <variant>

#include "archs/riscv64/riscv_stub_abi.h"
#include "core/cpuset.h"

namespace kva::riscv {

// OpenSBI's SBI_PLATFORM_TLB_RANGE_FLUSH_LIMIT_DEFAULT (the generic platform's).
inline constexpr std::uint64_t kTlbRangeFlushLimit = PAGE_SIZE;

struct SbiCall {
  std::uint64_t eid = 0;                // a7
  std::uint64_t fid = 0;                // a6
  std::array<std::uint64_t, 6> args{};  // a0..a5
};

// What each target hart of a remote sfence.vma executes.
struct RemoteSfence {
  CpuSet harts;
  bool all = false;         // sfence.vma x0, x0
  vaddr_t va = 0;           // otherwise sfence.vma on npages pages from va (0 pages: nothing)
  std::size_t npages = 0;
};

// sbi_remote_sfence_vma(hart_mask, hart_mask_base, start, size) on a machine of `nharts` harts
// (hart IDs 0..nharts-1): the fence, or an SBI error code (SBI_ERR_NOT_SUPPORTED for another
// call, SBI_ERR_INVALID_PARAM for a hart that does not exist).
std::variant<RemoteSfence, std::int64_t> decode_remote_sfence(const SbiCall& call, int nharts);

}  // namespace kva::riscv
