// sf_buf_alloc + sf_buf_free on the reference pmap: pool mode (i386-style KVA slots) next to
// direct-map mode (amd64-style), for the cases sf_buf distinguishes.
//  - HashHit: the page is still cached on the free list with its mapping; nothing is remapped.
//  - Recycle: every allocation takes the LRU slot and remaps it to another page (65 pages cycle
//    through 64 slots). "Unaccessed" never touches the mapping, so the PG_A check skips all TLB
//    work; "Accessed" has CPU 1 read one byte each time, so each remap invalidates locally and
//    shoots down CPU 1 (that variant includes the cost of the one-byte RefPmap load).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "core/ref_pmap.h"
#include "core/sf_buf.h"

namespace {

using namespace kva;

constexpr int kNsfbufs = 64;

struct Bench {
  explicit Bench(bool direct_map, int npages)
      : pmap(MachineConfig{2, 4u << 20, nullptr}, RefPmapConfig{direct_map}),
        sfb(pmap, sched, SfBufConfig{kNsfbufs}),
        td(sched.thread_create("bench", 0)) {
    for (int i = 0; i < npages; ++i) {
      vm_page* m = pmap.phys().vm_page_alloc();
      pmap.phys().vm_page_wire(m);
      pages.push_back(m);
    }
  }
  RefPmap pmap;
  Scheduler sched;
  SfBufSubsystem sfb;
  Thread& td;
  std::vector<vm_page*> pages;
};

void report(benchmark::State& state, const Bench& b) {
  const auto n = static_cast<double>(state.iterations());
  state.counters["remaps/op"] = static_cast<double>(b.sfb.stats().remaps) / n;
  state.counters["invl/op"] = static_cast<double>(b.pmap.stats().local_invalidations) / n;
  state.counters["shootdowns/op"] = static_cast<double>(b.pmap.stats().shootdowns) / n;
}

// One page allocated and freed over and over: a hash hit in pool mode.
void BM_HashHit(benchmark::State& state, bool direct_map) {
  Bench b(direct_map, 1);
  for (auto _ : state) {
    sf_buf* sf = b.sfb.sf_buf_alloc_now(b.td, b.pages[0], SFB_DEFAULT);
    benchmark::DoNotOptimize(sf->kva);
    b.sfb.sf_buf_free(b.td, sf);
  }
  report(state, b);
}

// More pages than slots, in cyclic order: every pool-mode allocation recycles the LRU slot.
void BM_Recycle(benchmark::State& state, bool direct_map, bool accessed) {
  Bench b(direct_map, kNsfbufs + 1);
  std::size_t next = 0;
  for (auto _ : state) {
    sf_buf* sf = b.sfb.sf_buf_alloc_now(b.td, b.pages[next], SFB_DEFAULT);
    if (accessed) benchmark::DoNotOptimize(b.pmap.load(1, sf->kva, 1));
    benchmark::DoNotOptimize(sf->kva);
    b.sfb.sf_buf_free(b.td, sf);
    next = (next + 1) % b.pages.size();
  }
  report(state, b);
}

BENCHMARK_CAPTURE(BM_HashHit, pool, false);
BENCHMARK_CAPTURE(BM_HashHit, dmap, true);
BENCHMARK_CAPTURE(BM_Recycle, pool_unaccessed, false, false);
BENCHMARK_CAPTURE(BM_Recycle, dmap_unaccessed, true, false);
BENCHMARK_CAPTURE(BM_Recycle, pool_accessed, false, true);
BENCHMARK_CAPTURE(BM_Recycle, dmap_accessed, true, true);

}  // namespace

BENCHMARK_MAIN();
