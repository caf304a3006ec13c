// Shared fixtures for core tests: a RefPmap machine with pages filled with known patterns.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/ref_pmap.h"
#include "core/sched.h"
#include "core/sf_buf.h"

namespace kva::test {

// Fills m with the byte `pattern` and wires it, as a caller of sf_buf_alloc must.
inline vm_page* wired_page(PhysicalMemory& phys, std::uint8_t pattern) {
  vm_page* m = phys.vm_page_alloc();
  std::vector<std::uint8_t> bytes(PAGE_SIZE, pattern);
  phys.write(m->phys_addr, bytes.data(), bytes.size());
  phys.vm_page_wire(m);
  return m;
}

// A machine in sf_buf pool mode (or direct-map mode) with one pinned thread per CPU.
struct SfBufMachine {
  explicit SfBufMachine(int ncpus = 2, int nsfbufs = 4, bool direct_map = false,
                        std::uint64_t seed = 1)
      : pmap(MachineConfig{ncpus, 4u << 20, nullptr}, RefPmapConfig{direct_map}),
        sched(seed),
        sfb(pmap, sched, SfBufConfig{nsfbufs}) {
    for (int c = 0; c < ncpus; ++c) td.push_back(&sched.thread_create("cpu" + std::to_string(c), c));
  }
  std::uint8_t read_byte(cpuid_t cpu, vaddr_t va) { return pmap.load(cpu, va, 1).at(0); }

  RefPmap pmap;
  Scheduler sched;
  SfBufSubsystem sfb;
  std::vector<Thread*> td;  // td[c] runs on CPU c
};

}  // namespace kva::test
