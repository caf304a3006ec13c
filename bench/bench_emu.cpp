// Cost of the emulated x86 pmaps per access and per shootdown, next to a bare Unicorn engine
// running the same stub over the same page tables and memory (no hooks, no oracles, no TLB
// model). The ratio of a Pmap/* time to its Raw/* twin is the overhead of kvabench's layers.
//
//   ./bench_emu --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "archs/amd64/amd64_paging.h"
#include "archs/i386/i386_paging.h"
#include "archs/registry.h"
#include "archs/x86/x86_pmap.h"
#include "archs/x86/x86_stub_abi.h"

namespace {

using namespace kva;

const char* const kArchs[] = {"amd64", "i386", "i386-pae"};

Machine& machine_of(Pmap& p) {
  if (auto* x = dynamic_cast<x86::X86Pmap<amd64::Paging>*>(&p)) return x->machine();
  if (auto* x = dynamic_cast<x86::X86Pmap<i386::Paging>*>(&p)) return x->machine();
  if (auto* x = dynamic_cast<x86::X86Pmap<i386::PaePaging>*>(&p)) return x->machine();
  throw KvaError("not an x86 pmap");
}

// A pmap with one mapped KVA page, already cached in every CPU's TLB.
struct Setup {
  explicit Setup(const char* arch, int ncpus = 2)
      : pmap(find_arch(arch)->create(MachineConfig{ncpus, 8u << 20, nullptr})) {
    va = pmap->kva_space().start;
    vm_page* m = pmap->phys().vm_page_alloc();
    pmap->phys().vm_page_wire(m);
    pmap->kenter(va, m->phys_addr);
    for (cpuid_t c = 0; c < ncpus; ++c) pmap->load(c, va, 8);
  }
  std::unique_ptr<Pmap> pmap;
  vaddr_t va = 0;
};

// A bare engine: the same RAM, firmware (stubs) and page tables, booted like vCPU 0, no hooks.
struct RawEngine {
  explicit RawEngine(Setup& s) : m(machine_of(*s.pmap)) {
    const GuestIsa& isa = m.isa();
    uc_open(isa.uc_arch_id, isa.uc_mode_id, &uc);
    uc_ctl_set_tcg_buffer_size(uc, Machine::kTcgBufferBytes);
    PhysicalMemory& ram = s.pmap->phys();
    uc_mem_map_ptr(uc, ram.base(), ram.size(), UC_PROT_ALL, ram.host_ptr(ram.base()));
    const FirmwareLayout& fw = m.firmware();
    uc_mem_map_ptr(uc, fw.base, FirmwareLayout::kSize, UC_PROT_ALL, m.firmware_ptr(fw.base));
    isa.boot_cpu(uc, 0);
  }
  ~RawEngine() { uc_close(uc); }
  void run(const StubRoutine& r, std::initializer_list<std::uint64_t> args) {
    std::size_t i = 0;
    for (std::uint64_t a : args) uc_reg_write(uc, m.isa().arg_regs[i++], &a);
    if (uc_emu_start(uc, r.entry, r.done, 0, 0) != UC_ERR_OK) throw KvaError("raw run failed");
  }
  Machine& m;
  uc_engine* uc = nullptr;
};

void PmapLoad(benchmark::State& st, const char* arch) {
  Setup s(arch);
  const std::size_t n = static_cast<std::size_t>(st.range(0));
  for (auto _ : st) benchmark::DoNotOptimize(s.pmap->load(0, s.va, n));
  st.counters["guest_insns/iter"] =
      benchmark::Counter(static_cast<double>(s.pmap->stats().guest_instructions), benchmark::Counter::kAvgIterations);
}

void RawLoad(benchmark::State& st, const char* arch) {
  Setup s(arch);
  RawEngine raw(s);
  const std::size_t n = static_cast<std::size_t>(st.range(0));
  StubRoutine copy = raw.m.routine(x86::kStubCopy);
  paddr_t scratch = raw.m.firmware().scratch(0);
  std::vector<std::uint8_t> out(n);
  for (auto _ : st) {
    raw.run(copy, {scratch, s.va, n});
    std::memcpy(out.data(), raw.m.firmware_ptr(scratch, n), n);
    benchmark::DoNotOptimize(out.data());
  }
}

void PmapShootdown(benchmark::State& st, const char* arch) {
  const int ncpus = static_cast<int>(st.range(0)) + 1;
  Setup s(arch, ncpus);
  for (auto _ : st) s.pmap->shootdown(0, s.pmap->all_cpus(), s.va, 1);
  st.counters["ipis/iter"] =
      benchmark::Counter(static_cast<double>(s.pmap->stats().ipis), benchmark::Counter::kAvgIterations);
}

void RawShootdown(benchmark::State& st, const char* arch) {
  // The same guest work for one target: mailbox written by the host, handler run, ack read.
  const int targets = static_cast<int>(st.range(0));
  Setup s(arch, 2);
  RawEngine raw(s);
  StubRoutine handler = raw.m.routine(x86::kStubIpiHandler);
  paddr_t mb = raw.m.firmware().mailbox(1);
  std::uint64_t gen = 0;
  for (auto _ : st) {
    for (int t = 0; t < targets; ++t) {
      std::uint64_t req[4] = {0, s.va, 1, ++gen};
      std::memcpy(raw.m.firmware_ptr(mb, sizeof req), req, sizeof req);
      raw.run(handler, {mb});
      std::uint64_t done;
      std::memcpy(&done, raw.m.firmware_ptr(mb + x86::MailboxOffsets::done, 8), 8);
      benchmark::DoNotOptimize(done);
    }
  }
}

void PmapInvlpg(benchmark::State& st, const char* arch) {
  Setup s(arch, 1);
  for (auto _ : st) s.pmap->invalidate_local(0, s.va, 1);
}

void RawInvlpg(benchmark::State& st, const char* arch) {
  Setup s(arch, 1);
  RawEngine raw(s);
  StubRoutine inv = raw.m.routine(x86::kStubInvlrng);
  for (auto _ : st) raw.run(inv, {s.va, 1});
}

const int kRegistered = [] {
  for (const char* a : kArchs) {
    std::string n(a);
    benchmark::RegisterBenchmark(("Load/Pmap/" + n).c_str(), PmapLoad, a)->Arg(8)->Arg(4096);
    benchmark::RegisterBenchmark(("Load/Raw/" + n).c_str(), RawLoad, a)->Arg(8)->Arg(4096);
    benchmark::RegisterBenchmark(("Invlpg/Pmap/" + n).c_str(), PmapInvlpg, a);
    benchmark::RegisterBenchmark(("Invlpg/Raw/" + n).c_str(), RawInvlpg, a);
    benchmark::RegisterBenchmark(("Shootdown/Pmap/" + n).c_str(), PmapShootdown, a)->Arg(1)->Arg(3);
    benchmark::RegisterBenchmark(("Shootdown/Raw/" + n).c_str(), RawShootdown, a)->Arg(1)->Arg(3);
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
