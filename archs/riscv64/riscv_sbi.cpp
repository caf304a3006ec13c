#include "archs/riscv64/riscv_sbi.h"

namespace kva::riscv {

std::variant<RemoteSfence, std::int64_t> decode_remote_sfence(const SbiCall& call, int nharts) {
  if (call.eid != kSbiExtRfence || call.fid != kSbiRfenceRemoteSfenceVma) return kSbiErrNotSupported;
  const auto [mask, base, start, size, unused4, unused5] = call.args;
  RemoteSfence f;
  if (base == ~std::uint64_t{0}) {  // hart_mask_base = -1: every hart, hart_mask ignored
    f.harts = CpuSet::first_n(nharts);
  } else {
    for (unsigned bit = 0; bit < 64; ++bit) {
      if (!((mask >> bit) & 1)) continue;
      const std::uint64_t hart = base + bit;
      if (hart < base || hart >= static_cast<std::uint64_t>(nharts)) return kSbiErrInvalidParam;
      f.harts.set(static_cast<cpuid_t>(hart));
    }
  }
  if ((start == 0 && size == 0) || size == ~std::uint64_t{0} || size > kTlbRangeFlushLimit) {
    f.all = true;
    return f;
  }
  f.va = trunc_page(start);
  f.npages = static_cast<std::size_t>((size + PAGE_SIZE - 1) / PAGE_SIZE);
  return f;
}

}  // namespace kva::riscv
