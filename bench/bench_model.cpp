// The TLB model's costs on the reference pmap (no emulation):
//  - StaleRead: one stale load (observed + architectural report) per iteration with the stale
//    log full, i.e. counting only: what 20,000 stale reads cost per read.
//  - CleanRead: a load with nothing retired (the common case).
//  - Retire64: a kenter over an accessed PTE on a 64-CPU machine, then a shootdown to all 63
//    others and the local invalidation (the FreeBSD sequence): retire + 64 invalidations.
//  - LargeHeld: a held 1 GiB record looked up at 4 KiB offsets inside it, on 64 CPUs (held()
//    is a few hash probes, never per-4K pieces or per-CPU scans).
#include <benchmark/benchmark.h>

#include <vector>

#include "core/ref_pmap.h"

namespace {

using namespace kva;

vm_page* page(RefPmap& p, std::uint8_t fill = 0) {
  vm_page* m = p.phys().vm_page_alloc();
  p.phys().vm_page_wire(m);
  const std::vector<std::uint8_t> bytes(PAGE_SIZE, fill);
  p.phys().write(m->phys_addr, bytes.data(), bytes.size());
  return m;
}

void BM_StaleRead(benchmark::State& state) {
  RefPmap p(MachineConfig{2, 4u << 20, nullptr});
  const vaddr_t va = p.kva_space().start;
  p.kenter(va, page(p)->phys_addr);
  p.load(1, va, 1);
  p.kenter(va, page(p, 1)->phys_addr);
  p.stale_log().set_capacity(0);
  for (auto _ : state) benchmark::DoNotOptimize(p.load(1, va, 1));
  state.counters["reports/op"] = static_cast<double>(p.stale_log().size()) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_StaleRead);

void BM_CleanRead(benchmark::State& state) {
  RefPmap p(MachineConfig{2, 4u << 20, nullptr});
  const vaddr_t va = p.kva_space().start;
  p.kenter(va, page(p)->phys_addr);
  for (auto _ : state) benchmark::DoNotOptimize(p.load(1, va, 1));
}
BENCHMARK(BM_CleanRead);

void BM_Retire64(benchmark::State& state) {
  RefPmap p(MachineConfig{MAXCPU, 4u << 20, nullptr});
  const vaddr_t va = p.kva_space().start;
  const paddr_t a = page(p)->phys_addr, b = page(p)->phys_addr;
  bool flip = false;
  for (auto _ : state) {
    p.kenter(va, flip ? a : b);
    p.load(static_cast<cpuid_t>(flip ? 5 : 17), va, 1);
    p.invalidate_range_all(0, va, 1);
    flip = !flip;
  }
  state.counters["records"] = static_cast<double>(p.tlb_model().size());
}
BENCHMARK(BM_Retire64);

void BM_LargeHeld(benchmark::State& state) {
  TlbModel m(MAXCPU);
  Translation t;
  t.va = 0x4000'0000;
  t.span = std::uint64_t{1} << 30;
  t.pa = 0x8000'0000;
  m.retire(t);
  std::vector<HeldEntry> out;
  vaddr_t off = 0;
  for (auto _ : state) {
    m.held(63, t.va + off, out);
    benchmark::DoNotOptimize(out.data());
    off = (off + PAGE_SIZE) & (t.span - 1);
  }
  state.counters["records"] = static_cast<double>(m.size());
}
BENCHMARK(BM_LargeHeld);

}  // namespace

BENCHMARK_MAIN();
