// Benchmark 1's workload on one arch of the registry, 4 vCPUs, a remap on every cycle.
//  - Pool mode (no direct map): an sf_buf cycle. The thread on cpu 0 allocates an sf_buf for
//    the next of nsfbufs + 1 pages (so every allocation recycles the LRU slot and remaps it),
//    a CPU reads the whole page through it, the sf_buf is freed. Flags 0 with the read on
//    cpu 1 (the remap invalidates locally and shoots down the 3 other CPUs), or CPUPRIVATE
//    with the read on cpu 0 (local invalidation only).
//  - Direct map (sf_buf maps nothing there): the pmap_qenter remap cycle that stands in for
//    it. pmap_qenter of the next page at a fixed KVA (local invalidation and a shootdown of
//    the 3 other CPUs), then cpu 1 reads the whole page.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "core/sched.h"
#include "core/sf_buf.h"

namespace kva::bench {

class RemapCycle {
 public:
  static constexpr int kCpus = 4;
  static constexpr int kSfBufs = 64;

  // cpuprivate: pool mode only (KvaError with a direct map).
  RemapCycle(const ArchInfo& arch, bool cpuprivate, int ncpus = kCpus);

  std::string description() const;
  void run();  // one cycle
  Pmap& pmap() { return *pmap_; }
  std::size_t pages() const { return pages_.size(); }  // cycles until the pattern repeats

 private:
  std::unique_ptr<Pmap> pmap_;
  Scheduler sched_;
  std::unique_ptr<SfBufSubsystem> sfb_;
  Thread* td_ = nullptr;
  std::vector<vm_page*> pages_;
  std::size_t next_ = 0;
  bool cpuprivate_;
  cpuid_t reader_;
  vaddr_t qenter_va_ = 0;
};

}  // namespace kva::bench
