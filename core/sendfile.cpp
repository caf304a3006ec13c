// sendfile(2)'s page loop, the flagship cross-arch workload: each page is made valid through
// the buffer cache, wired and mapped with sf_buf_alloc, read whole by the sending CPU through the
// sf_buf KVA (and by a checksum CPU, when asked), then sf_buf_free'd and unwired.
#include <algorithm>

#include "core/vfs.h"

namespace kva {

namespace {
// Adler-32 over the bytes the guest read.
void adler32(std::uint32_t& sum, const std::uint8_t* p, std::size_t n) {
  std::uint32_t a = sum & 0xffff, b = sum >> 16;
  for (std::size_t i = 0; i < n; ++i) {
    a = (a + p[i]) % 65521;
    b = (b + a) % 65521;
  }
  sum = (b << 16) | a;
}
}  // namespace

bool Vfs::sendfile(Thread& td, vnode& vp, std::uint64_t off, std::uint64_t len, cpuid_t checksum_cpu,
                   std::function<void(SendfileResult, int error)> done) {
  if (checksum_cpu >= pmap_.ncpus())
    throw KvaError("sendfile: checksum cpu " + std::to_string(checksum_cpu) + " does not exist");
  auto result = std::make_shared<SendfileResult>();
  result->checksum = 1;
  ++stats_.sendfiles;
  const std::uint64_t start_off = std::min(off, vp.size());
  const std::uint64_t end = std::min<std::uint64_t>(off + len, vp.size());
  auto send = [this, &vp, result, checksum_cpu](Thread& t, sf_buf* sf, std::uint64_t pos, std::size_t poff,
                                                std::size_t n) {
    const std::vector<std::uint8_t> page = pmap_.load(t.cpu(), sf->kva, PAGE_SIZE);
    if (checksum_cpu >= 0) pmap_.load(checksum_cpu, sf->kva, PAGE_SIZE);
    adler32(result->checksum, page.data() + poff, n);
    if (vp.tracked_ && !result->first_mismatch) {
      const auto first = page.begin() + static_cast<std::ptrdiff_t>(poff);
      const auto diff = std::mismatch(first, first + static_cast<std::ptrdiff_t>(n), vp.logical_.begin() + static_cast<std::ptrdiff_t>(pos));
      if (diff.first != first + static_cast<std::ptrdiff_t>(n))
        result->first_mismatch = pos + static_cast<std::uint64_t>(diff.first - first);
    }
    result->bytes += n;
    ++result->pages;
    ++stats_.sendfile_pages;
    stats_.sendfile_bytes += n;
  };
  return start(td, each_page_op(vp, start_off, end, std::move(send), [result, done = std::move(done)](int err) {
    if (done) done(*result, err);
  }));
}

}  // namespace kva
