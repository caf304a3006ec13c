// sendfile(2)'s page loop, the flagship cross-arch workload: each page is made valid through
// the buffer cache, wired and mapped with sf_buf_alloc, read whole by the sending CPU through the
// sf_buf KVA (and by a checksum CPU, when asked), then sf_buf_free'd and unwired.
#include <algorithm>

#include "core/op_chain.h"
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
  struct St {
    std::uint64_t pos, end;
    SendfileResult result;
    sf_buf* sf = nullptr;
    int err = 0;
    enum class Phase { Valid, Alloc, Send } phase = Phase::Valid;
  };
  auto st = std::make_shared<St>();
  st->pos = std::min(off, vp.size());
  st->end = std::min<std::uint64_t>(off + len, vp.size());
  st->result.checksum = 1;
  ++stats_.sendfiles;
  auto next = [this, &vp, st, checksum_cpu, done = std::move(done)](Thread& td) -> std::unique_ptr<ThreadOp> {
    for (;;) {
      const std::uint64_t pindex = st->pos / PAGE_SIZE;
      switch (st->phase) {
        case St::Phase::Valid:
          if (st->err || st->pos >= st->end) {
            if (done) done(st->result, st->err);
            return nullptr;
          }
          st->phase = St::Phase::Alloc;
          return make_valid_op(vp, pindex, [st](int err) { st->err = err; });
        case St::Phase::Alloc: {
          if (st->err) {
            st->phase = St::Phase::Valid;
            break;
          }
          vm_page* m = vp.object().lookup(pindex);
          vm_.phys().vm_page_wire(m);
          st->phase = St::Phase::Send;
          return sfbufs_.sf_buf_alloc_op(td, m, SFB_DEFAULT, [st](sf_buf* sf) { st->sf = sf; });
        }
        case St::Phase::Send: {
          vm_page* m = st->sf->m;
          const std::vector<std::uint8_t> page = pmap_.load(td.cpu(), st->sf->kva, PAGE_SIZE);
          if (checksum_cpu >= 0) pmap_.load(checksum_cpu, st->sf->kva, PAGE_SIZE);
          const std::size_t poff = st->pos & PAGE_MASK;
          const std::size_t n = std::min<std::uint64_t>(PAGE_SIZE - poff, st->end - st->pos);
          adler32(st->result.checksum, page.data() + poff, n);
          if (vp.tracked_ && !st->result.first_mismatch) {
            const std::uint8_t* want = vp.logical_.data() + st->pos;
            const auto diff = std::mismatch(page.begin() + static_cast<std::ptrdiff_t>(poff),
                                            page.begin() + static_cast<std::ptrdiff_t>(poff + n), want);
            if (diff.first != page.begin() + static_cast<std::ptrdiff_t>(poff + n))
              st->result.first_mismatch = st->pos + static_cast<std::uint64_t>(diff.first - page.begin() - static_cast<std::ptrdiff_t>(poff));
          }
          sfbufs_.sf_buf_free(td, st->sf);
          vm_.phys().vm_page_unwire(m);
          st->result.bytes += n;
          ++st->result.pages;
          ++stats_.sendfile_pages;
          stats_.sendfile_bytes += n;
          st->pos += n;
          st->phase = St::Phase::Valid;
          break;
        }
      }
    }
  };
  return start(td, std::make_unique<OpChain>(std::move(next)));
}

}  // namespace kva
