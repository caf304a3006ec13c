// Fixture for buffer-cache tests: a Kernel on the reference MMU (whose TLB really keeps stale
// translations) with invariant checks on, one pinned thread per CPU, and synchronous wrappers
// that run a thread op and the scheduler until it returns.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/kernel.h"
#include "core/ref_pmap.h"

namespace kva::test {

inline BufConfig small_buf_config() {
  BufConfig c;
  c.nbuf = 16;
  c.maxbufspace = 256u << 10;
  c.check_invariants = true;
  return c;
}

// Byte i of a "seq" file: what file offset i holds.
inline std::uint8_t seq_byte(std::uint64_t off) { return static_cast<std::uint8_t>(off * 7 + off / 251); }

struct BufMachine {
  explicit BufMachine(BufConfig buf = small_buf_config(), int ncpus = 2, FaultSet faults = {},
                      DeviceConfig dev = {}, bool direct_map = false) {
    KernelConfig cfg;
    cfg.nsfbufs = 16;
    cfg.buf = buf;
    cfg.faults = faults;
    cfg.device = dev;
    k = std::make_unique<Kernel>(
        std::make_unique<RefPmap>(MachineConfig{ncpus, 8u << 20, nullptr}, RefPmapConfig{direct_map}), cfg);
    for (int c = 0; c < ncpus; ++c) tds.push_back(&k->sched().thread_create("td" + std::to_string(c), c));
  }
  ~BufMachine() {
    // Every test runs on a correct kernel unless it injects a fault: no invariant may break.
    if (!k->faults().any())
      EXPECT_TRUE(k->bufs().violations().empty())
          << "invariant: " << k->bufs().violations().front().message;
  }

  Kernel& kernel() { return *k; }
  BufCache& bc() { return k->bufs(); }
  Vfs& vfs() { return k->vfs(); }
  Pmap& pmap() { return k->pmap(); }
  Thread& td(int i) { return *tds.at(static_cast<std::size_t>(i)); }

  vnode& file(const std::string& name, std::size_t bsize, std::uint64_t size, bool fill = true) {
    return vfs().create(name, bsize, size, fill ? std::function<std::uint8_t(std::uint64_t)>(seq_byte) : nullptr);
  }

  // Runs the scheduler; the call must have returned by then.
  void settle(const bool& done, const char* what) {
    k->sched().run();
    if (!done) { std::string w; for (auto& t : k->sched().threads()) w += " " + t->name() + ":" + t->wmesg(); throw std::runtime_error(std::string(what) + " did not return (its thread sleeps)" + w); }
  }

  buf* getblk(int t, vnode& vp, daddr_t lbn, int size = 0, int flags = 0) {
    bool done = false;
    buf* out = nullptr;
    bc().getblk(td(t), vp.bo(), lbn, size ? size : static_cast<int>(vp.bsize()), flags,
                [&](buf* bp, int) { out = bp, done = true; });
    settle(done, "getblk");
    return out;
  }
  buf* bread(int t, vnode& vp, daddr_t lbn, int flags = 0, int* error = nullptr) {
    bool done = false;
    buf* out = nullptr;
    int err = 0;
    bc().bread(td(t), vp.bo(), lbn, static_cast<int>(vp.bsize()), flags, [&](buf* bp, int e) {
      out = bp, err = e, done = true;
    });
    settle(done, "bread");
    if (error) *error = err;
    else EXPECT_EQ(err, 0);
    return out;
  }
  int bwrite(int t, buf* bp) {
    bool done = false;
    int err = 0;
    bc().bwrite(td(t), bp, [&](int e) { err = e, done = true; });
    settle(done, "bwrite");
    return err;
  }
  std::vector<std::uint8_t> read(int t, vnode& vp, std::uint64_t off, std::size_t n) {
    bool done = false;
    std::vector<std::uint8_t> out;
    vfs().read(td(t), vp, off, n, [&](std::vector<std::uint8_t> d, int e) {
      EXPECT_EQ(e, 0);
      out = std::move(d), done = true;
    });
    settle(done, "read");
    return out;
  }
  int write(int t, vnode& vp, std::uint64_t off, std::vector<std::uint8_t> data,
            WriteMode mode = WriteMode::Delayed) {
    bool done = false;
    int err = 0;
    vfs().write(td(t), vp, off, std::move(data), mode, [&](int e) { err = e, done = true; });
    settle(done, "write");
    return err;
  }
  int write_mapped(int t, vnode& vp, std::uint64_t off, std::vector<std::uint8_t> data) {
    bool done = false;
    int err = 0;
    vfs().write_mapped(td(t), vp, off, std::move(data), [&](int e) { err = e, done = true; });
    settle(done, "write_mapped");
    return err;
  }
  int fsync(int t, vnode& vp, std::uint64_t off = 0, std::uint64_t len = 0) {
    bool done = false;
    int err = 0;
    vfs().fsync(td(t), vp, off, len, [&](int e) { err = e, done = true; });
    settle(done, "fsync");
    return err;
  }
  SendfileResult sendfile(int t, vnode& vp, std::uint64_t off, std::uint64_t len, cpuid_t ck = -1) {
    bool done = false;
    SendfileResult out;
    vfs().sendfile(td(t), vp, off, len, ck, [&](SendfileResult r, int e) {
      EXPECT_EQ(e, 0);
      out = r, done = true;
    });
    settle(done, "sendfile");
    return out;
  }
  // What `cpu` reads through the buffer's KVA (both staleness oracles run).
  std::vector<std::uint8_t> bdata(int cpu, buf* bp, std::size_t off, std::size_t n) {
    return pmap().load(cpu, bp->b_data + off, n);
  }
  std::vector<std::uint8_t> model(vnode& vp, std::uint64_t off, std::size_t n) { return vfs().model(vp, off, n); }
  std::size_t stale() const { return k->pmap().stale_log().size(); }

  std::unique_ptr<Kernel> k;
  std::vector<Thread*> tds;
};

inline std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t v) { return std::vector<std::uint8_t>(n, v); }

}  // namespace kva::test
