#include "bench/buf_workloads.h"

#include <memory>
#include <random>

#include "bench/measure.h"
#include "core/kernel.h"

namespace kva::bench {
namespace {

constexpr int kCpus = 4;

std::unique_ptr<Kernel> boot(const ArchInfo& arch, std::size_t mem, const BufConfig& buf) {
  KernelConfig cfg;
  cfg.buf = buf;
  cfg.device.size = 128u << 20;
  return std::make_unique<Kernel>(arch.create(MachineConfig{kCpus, mem}), cfg);
}

std::uint8_t fill(std::uint64_t off) { return static_cast<std::uint8_t>(off * 7 + 1); }

// Runs one thread op to completion: the scheduler runs until its `done` has been called.
template <class Start>
void settle(Kernel& k, Start&& start) {
  bool done = false;
  start(done);
  k.sched().run();
  if (!done) throw KvaError("benchmark: a call did not complete");
}

struct Snapshot {
  PmapStats pmap;
  BufStats buf;
  double cpu = 0, wall = 0;
  explicit Snapshot(Kernel& k) : pmap(k.pmap().stats()), buf(k.bufs().stats()), cpu(cpu_seconds()), wall(wall_seconds()) {}
};

WorkloadRow row_between(const Snapshot& a, const Snapshot& b, double ops) {
  WorkloadRow r;
  r.ops = ops;
  r.cpu_s = b.cpu - a.cpu;
  r.wall_s = b.wall - a.wall;
  r.per_s = ops / r.cpu_s;
  r.ipis_per_op = static_cast<double>(b.pmap.ipis - a.pmap.ipis) / ops;
  r.broadcasts_per_op = static_cast<double>(b.pmap.broadcasts - a.pmap.broadcasts) / ops;
  r.local_invals_per_op = static_cast<double>(b.pmap.local_invalidations - a.pmap.local_invalidations) / ops;
  r.kva_maps_per_op = static_cast<double>(b.buf.kva_maps - a.buf.kva_maps) / ops;
  r.lazy_unmaps_per_op = static_cast<double>(b.buf.kva_lazy_unmaps - a.buf.kva_lazy_unmaps) / ops;
  return r;
}

}  // namespace

WorkloadRow measure_sendfile(const ArchInfo& arch, std::uint64_t total_mib) {
  constexpr std::uint64_t kFileMib = 16;
  auto k = boot(arch, 64u << 20, BufConfig{});
  vnode& f = k->vfs().create("f", 65536, kFileMib << 20, fill, /*track=*/false);
  Thread& td = k->cpu_thread(0);
  std::uint64_t bytes = 0;
  const Snapshot a(*k);
  for (std::uint64_t sent = 0; sent < total_mib; sent += kFileMib)
    settle(*k, [&](bool& done) {
      k->vfs().sendfile(td, f, 0, kFileMib << 20, /*checksum_cpu=*/1, [&](SendfileResult r, int error) {
        if (error) throw KvaError("benchmark: sendfile failed");
        bytes += r.bytes;
        done = true;
      });
    });
  return row_between(a, Snapshot(*k), static_cast<double>(bytes / PAGE_SIZE));
}

WorkloadRow measure_buf_mix(const ArchInfo& arch, std::uint64_t nops) {
  constexpr std::uint64_t kFile = 64u << 20;
  constexpr std::size_t kBlock = 16384, kIo = 4096;
  BufConfig buf;
  buf.nbuf = 256;
  buf.maxbufspace = 1u << 20;
  auto k = boot(arch, 128u << 20, buf);
  vnode& f = k->vfs().create("f", kBlock, kFile, fill, /*track=*/false);
  std::mt19937_64 rng(1);
  const Snapshot a(*k);
  for (std::uint64_t i = 0; i < nops; ++i) {
    Thread& td = k->cpu_thread(static_cast<cpuid_t>(rng() % kCpus));
    const std::uint64_t off = rng() % (kFile / kIo) * kIo;
    const unsigned kind = static_cast<unsigned>(rng() % 10);
    settle(*k, [&](bool& done) {
      if (kind < 5) {
        k->vfs().read(td, f, off, kIo, [&](std::vector<std::uint8_t>, int error) {
          if (error) throw KvaError("benchmark: read failed");
          done = true;
        });
      } else if (kind < 9) {
        k->vfs().write(td, f, off, std::vector<std::uint8_t>(kIo, static_cast<std::uint8_t>(i)),
                       WriteMode::Delayed, [&](int error) {
                         if (error) throw KvaError("benchmark: write failed");
                         done = true;
                       });
      } else {
        k->vfs().fsync(td, f, 0, 0, [&](int error) {
          if (error) throw KvaError("benchmark: fsync failed");
          done = true;
        });
      }
    });
  }
  return row_between(a, Snapshot(*k), static_cast<double>(nops));
}

}  // namespace kva::bench
