// The buffer cache and sendfile on every arch of the registry, through the Kernel.
//  - Sendfile: 256 MiB pushed through sendfile() per iteration: a 16 MiB file sent 16 times
//    (the first pass reads it through the cache, the rest hit it). MiB/s in the counters.
//  - SendfileCold: a file larger than RAM, so every page is read and later reclaimed.
//  - BreadMapped / BreadUnmapped: bread + brelse cycling over more blocks than nbuf, so every
//    read recycles a buffer: with KVA (qenter/qremove, shootdowns) and without (GB_UNMAPPED).
#include <benchmark/benchmark.h>

#include <memory>

#include "archs/registry.h"
#include "core/kernel.h"

namespace {

using namespace kva;

std::unique_ptr<Kernel> boot(const ArchInfo& arch, std::size_t mem, BufConfig buf = {}) {
  KernelConfig cfg;
  cfg.buf = buf;
  cfg.device.size = 512u << 20;
  return std::make_unique<Kernel>(arch.create(MachineConfig{2, mem, nullptr}), cfg);
}

std::uint8_t fill(std::uint64_t off) { return static_cast<std::uint8_t>(off); }

template <class Start>
void settle(Kernel& k, Start&& start) {
  bool done = false;
  start(done);
  k.sched().run();
  if (!done) throw KvaError("benchmark call did not return");
}

void BM_Sendfile(benchmark::State& state, const ArchInfo* arch, std::uint64_t file_mib,
                 int passes, std::size_t mem_mib) {
  auto k = boot(*arch, mem_mib << 20);
  vnode& f = k->vfs().create("f", 65536, file_mib << 20, fill, /*track=*/false);
  Thread& td = k->cpu_thread(0);
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    for (int p = 0; p < passes; ++p)
      settle(*k, [&](bool& done) {
        k->vfs().sendfile(td, f, 0, file_mib << 20, -1, [&](SendfileResult r, int) {
          bytes += r.bytes;
          done = true;
        });
      });
  }
  state.counters["MiB/s"] = benchmark::Counter(static_cast<double>(bytes) / (1 << 20), benchmark::Counter::kIsRate);
  state.counters["guest-insns/page"] =
      static_cast<double>(k->pmap().stats().guest_instructions) / static_cast<double>(bytes / PAGE_SIZE);
  state.counters["ipis/page"] = static_cast<double>(k->pmap().stats().ipis) / static_cast<double>(bytes / PAGE_SIZE);
}

void BM_Bread(benchmark::State& state, const ArchInfo* arch, bool unmapped) {
  BufConfig cfg;
  cfg.nbuf = 32;
  auto k = boot(*arch, 32u << 20, cfg);
  vnode& f = k->vfs().create("f", 16384, 4u << 20, fill, false);
  Thread& td = k->cpu_thread(0);
  kva::daddr_t lbn = 0;
  for (auto _ : state) {
    settle(*k, [&](bool& done) {
      k->bufs().bread(td, f.bo(), lbn, 16384, unmapped ? GB_UNMAPPED : 0, [&](kva::buf* bp, int) {
        k->bufs().brelse(td, bp);
        done = true;
      });
    });
    lbn = (lbn + 1) % 256;
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["shootdowns/op"] = static_cast<double>(k->pmap().stats().shootdowns) / n;
  state.counters["l-inval/op"] = static_cast<double>(k->pmap().stats().local_invalidations) / n;
}

const int registered = [] {
  for (const ArchInfo& a : arch_registry()) {
    benchmark::RegisterBenchmark(("Sendfile256MiB/" + a.name).c_str(), BM_Sendfile, &a, 16, 16, 64)
        ->Unit(benchmark::kMillisecond)->Iterations(1);
    benchmark::RegisterBenchmark(("SendfileCold48MiB/" + a.name).c_str(), BM_Sendfile, &a, 48, 1, 32)
        ->Unit(benchmark::kMillisecond)->Iterations(1);
    benchmark::RegisterBenchmark(("BreadMapped/" + a.name).c_str(), BM_Bread, &a, false);
    benchmark::RegisterBenchmark(("BreadUnmapped/" + a.name).c_str(), BM_Bread, &a, true);
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
