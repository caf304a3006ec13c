// kvabench-bench: `make bench`. One table per arch of the registry (new archs join on their
// own), then the testcase library's wall time. Figures and how to read them:
// docs/performance.md.
//   1. remap cycle (bench/remap_cycle.h): cycles/s, µs, emu calls and guest instructions per cycle;
//   2. the floor: the same cycle recorded and replayed on bare Unicorn engines (emu/replay.h),
//      and kvabench ÷ floor;
//      then each pmap operation alone (loads, stores, invalidation, shootdowns) beside its floor;
//   3. shootdown scaling on a 64-vCPU machine: host µs, IPIs / broadcasts per shootdown;
//   4. memory: peak RSS per vCPU for 1, 4, 16, 64 vCPUs; RSS after 1k and 1M remap cycles;
//   5. sendfile of 256 MiB through sf_bufs, every page read by the guest: pages/s;
//   6. a random read / write / fsync mix on the buffer cache under buffer-map pressure: ops/s
//      (bench/buf_workloads.h).
// Results also go to <out>/results.json (bench/plot_shootdown.py draws the shootdown plot).
//
//   kvabench-bench [--quick] [--out DIR] [--kvabench BIN --testcases DIR]
//   kvabench-bench --cycle ARCH shared|cpuprivate N     (only the remap cycle, for a profiler)
//   kvabench-bench --shootdown ARCH N                  (only shootdowns to 63 CPUs, for a profiler)
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "archs/registry.h"
#include "bench/buf_workloads.h"
#include "bench/measure.h"
#include "bench/remap_cycle.h"
#include "emu/emulated_pmap.h"
#include "emu/replay.h"

namespace kva::bench {
namespace {

constexpr int kRounds = 5;  // timings are the best of this many rounds (bench/measure.h)

struct Options {
  bool quick = false;
  std::string out = "bench-results";
  std::string kvabench, testcases;
};

struct CycleRow {
  std::string workload;
  double cycles_per_s = 0, cpu_us = 0, wall_us = 0;
  double emu_calls = 0, guest_insns = 0, ipis = 0, broadcasts = 0;
  std::optional<double> floor_us, floor_calls;
};

struct ShootdownRow {
  int targets = 0;
  double cpu_us = 0, wall_us = 0, ipis = 0, broadcasts = 0;
  std::optional<double> floor_us;  // the same shootdown replayed on bare engines
};

struct MemoryResult {
  std::vector<std::pair<int, double>> per_vcpu_mib;  // (vCPUs, peak RSS above the process, / vCPUs)
  double marginal_mib = 0;                           // (RSS(64) - RSS(1)) / 63: one more vCPU
  std::uint64_t cycles_short = 0, cycles_long = 0;
  double rss_short_mib = 0, rss_long_mib = 0;
};

struct ArchResult {
  std::string arch, mode;
  std::vector<CycleRow> cycles;
  std::vector<CycleRow> ops;  // each pmap operation alone
  std::vector<ShootdownRow> shootdowns;
  MemoryResult memory;
  WorkloadRow sendfile, buf_mix;
};

double per(std::uint64_t a, std::uint64_t b, std::size_t n) {
  return static_cast<double>(a - b) / static_cast<double>(n);
}

// kvabench and its floor, timed side by side. The floor: `turns` calls of fn are recorded and
// replayed on bare engines over a private copy of guest memory (same PTE writes, invalidations,
// loads, in the same calls). The two are timed in alternating rounds, so both see the same
// conditions on a shared machine. Not emulated: no floor.
struct FloorTiming {
  Timing best{1e300, 1e300};
  std::optional<double> floor_us, floor_calls;  // per call of fn
  PmapStats before, after;                      // around the timed rounds
  std::size_t calls = 0;                        // timed calls of fn
};

FloorTiming time_with_floor(Pmap& p, std::size_t turns, std::size_t iterations, const std::function<void()>& fn) {
  FloorTiming out;
  auto* em = dynamic_cast<EmulatedPmap*>(&p);
  EmuRecording rec;
  std::unique_ptr<BareEngines> bare;
  BareEngines::Program prog;
  if (em) {
    em->machine().start_recording(rec);
    for (std::size_t i = 0; i < turns; ++i) fn();
    em->machine().stop_recording();
    bare = std::make_unique<BareEngines>(em->machine(), /*private_copy=*/true);
    prog = bare->compile(rec);
    for (int i = 0; i < 3; ++i) bare->replay(prog);  // translate, fill the TLBs
  }
  const std::size_t per_round = std::max<std::size_t>(turns, iterations / kRounds);
  const std::size_t replays = std::max<std::size_t>(1, per_round / turns);
  Timing floor{1e300, 1e300};
  out.before = p.stats();
  for (int r = 0; r < kRounds; ++r) {
    Timing t = time_loop(per_round, fn);
    if (t.cpu_us < out.best.cpu_us) out.best = t;
    if (!bare) continue;
    Timing f = time_loop(replays, [&] { bare->replay(prog); });
    if (f.cpu_us < floor.cpu_us) floor = f;
  }
  out.after = p.stats();
  out.calls = per_round * kRounds;
  if (bare) {
    out.floor_us = floor.cpu_us / static_cast<double>(turns);
    out.floor_calls = static_cast<double>(rec.runs()) / static_cast<double>(turns);
  }
  return out;
}

// A table row from a side-by-side timing: per-call figures over the timed rounds.
CycleRow row_from(const std::string& workload, const FloorTiming& ft) {
  CycleRow row;
  row.workload = workload;
  row.cpu_us = ft.best.cpu_us;
  row.wall_us = ft.best.wall_us;
  row.cycles_per_s = 1e6 / ft.best.cpu_us;
  row.emu_calls = per(ft.after.emu_calls, ft.before.emu_calls, ft.calls);
  row.guest_insns = per(ft.after.guest_instructions, ft.before.guest_instructions, ft.calls);
  row.ipis = per(ft.after.ipis, ft.before.ipis, ft.calls);
  row.broadcasts = per(ft.after.broadcasts, ft.before.broadcasts, ft.calls);
  row.floor_us = ft.floor_us;
  row.floor_calls = ft.floor_calls;
  return row;
}

// Benchmarks 1 and 2: the remap cycle; one full turn (every page once) is the floor's recording.
CycleRow measure_cycle(const ArchInfo& arch, bool cpuprivate, std::size_t cycles) {
  RemapCycle c(arch, cpuprivate);
  for (std::size_t i = 0; i < 3 * c.pages(); ++i) c.run();  // every slot remapped, TLBs warm
  return row_from(c.description(), time_with_floor(c.pmap(), c.pages(), cycles, [&] { c.run(); }));
}

// Each pmap operation alone beside the floor, on a 4-vCPU machine where every CPU has used the
// mapping: loads and stores of 8 B and 4 KiB, a local invalidation, shootdowns to 1 and 3 CPUs.
std::vector<CycleRow> measure_ops(const ArchInfo& arch, std::size_t iterations) {
  std::unique_ptr<Pmap> p = arch.create(MachineConfig{4, 16u << 20});
  vm_page* m = p->phys().vm_page_alloc();
  p->phys().vm_page_wire(m);
  const vaddr_t va = p->kva_space().start;
  p->kenter(va, m->phys_addr);
  for (cpuid_t c = 0; c < 4; ++c) (void)p->load(c, va, 8);
  const std::vector<std::uint8_t> small(8, 0x5a), page(PAGE_SIZE, 0xa5);
  CpuSet one = CpuSet::only(1), three = CpuSet::first_n(4);
  three.clr(0);
  const std::vector<std::pair<std::string, std::function<void()>>> ops = {
      {"load 8 B, cpu 1", [&] { (void)p->load(1, va, 8); }},
      {"load 4 KiB, cpu 1", [&] { (void)p->load(1, va, PAGE_SIZE); }},
      {"store 8 B, cpu 1", [&] { p->store(1, va, small); }},
      {"store 4 KiB, cpu 1", [&] { p->store(1, va, page); }},
      {"invalidate 1 page, cpu 0", [&] { p->invalidate_local(0, va, 1); }},
      {"shootdown 1 page to 1 cpu", [&] { p->shootdown(0, one, va, 1); }},
      {"shootdown 1 page to 3 cpus", [&] { p->shootdown(0, three, va, 1); }},
  };
  std::vector<CycleRow> rows;
  for (const auto& [name, fn] : ops) {
    for (int i = 0; i < 20; ++i) fn();
    rows.push_back(row_from(name, time_with_floor(*p, 1, iterations, fn)));
  }
  return rows;
}

// A 64-vCPU machine with one kernel page every CPU has used, at kva_space().start.
std::unique_ptr<Pmap> shootdown_machine(const ArchInfo& arch) {
  std::unique_ptr<Pmap> p = arch.create(MachineConfig{MAXCPU, 16u << 20});
  vm_page* m = p->phys().vm_page_alloc();
  p->phys().vm_page_wire(m);
  p->kenter(p->kva_space().start, m->phys_addr);
  for (cpuid_t c = 0; c < MAXCPU; ++c) (void)p->load(c, p->kva_space().start, 8);
  return p;
}

std::vector<ShootdownRow> measure_shootdowns(const ArchInfo& arch, std::size_t reps) {
  std::unique_ptr<Pmap> p = shootdown_machine(arch);
  const vaddr_t va = p->kva_space().start;
  std::vector<ShootdownRow> rows;
  for (int k : {1, 2, 4, 8, 16, 32, 63}) {
    CpuSet targets = CpuSet::first_n(k + 1);
    targets.clr(0);
    for (int i = 0; i < 20; ++i) p->shootdown(0, targets, va, 1);
    const FloorTiming ft = time_with_floor(*p, 1, reps, [&] { p->shootdown(0, targets, va, 1); });
    rows.push_back({k, ft.best.cpu_us, ft.best.wall_us, per(ft.after.ipis, ft.before.ipis, ft.calls),
                    per(ft.after.broadcasts, ft.before.broadcasts, ft.calls), ft.floor_us});
  }
  return rows;
}

// --- child processes for memory figures (a fresh process has a meaningful peak RSS)

std::string run_self(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) throw KvaError("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    static std::string self = "kvabench-bench";
    argv.push_back(self.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw KvaError("memory probe failed: " + out);
  return out;
}

// Child: builds an n-vCPU machine, has every vCPU load, invalidate and take a shootdown, and
// prints its peak RSS above what the process held before.
int rss_probe(const std::string& arch_name, int n) {
  const ArchInfo* arch = find_arch(arch_name);
  if (!arch) return 2;
  const std::uint64_t before = rss_kib();
  {
    std::unique_ptr<Pmap> p = arch->create(MachineConfig{n, 16u << 20});
    vm_page* m = p->phys().vm_page_alloc();
    p->phys().vm_page_wire(m);
    const vaddr_t va = p->kva_space().start;
    p->kenter(va, m->phys_addr);
    for (int round = 0; round < 2; ++round)
      for (cpuid_t c = 0; c < n; ++c) {
        (void)p->load(c, va, PAGE_SIZE);
        p->store(c, va, std::vector<std::uint8_t>(64, static_cast<std::uint8_t>(c)));
        p->invalidate_range_all(c, va, 1);
      }
    std::printf("%llu\n", static_cast<unsigned long long>(peak_rss_kib() - before));
  }
  return 0;
}

// `--cycle ARCH shared|cpuprivate N`: N remap cycles and nothing else, to run under a profiler
// (docs/performance.md).
int cycle_only(const std::string& arch_name, const std::string& kind, std::uint64_t n) {
  const ArchInfo* arch = find_arch(arch_name);
  if (!arch || (kind != "shared" && kind != "cpuprivate")) return 2;
  RemapCycle c(*arch, kind == "cpuprivate");
  for (std::uint64_t i = 0; i < n; ++i) c.run();
  return 0;
}

// Only shootdowns to every other CPU of a 64-vCPU machine, for a profiler.
int shootdown_only(const std::string& arch_name, std::uint64_t n) {
  const ArchInfo* arch = find_arch(arch_name);
  if (!arch) return 2;
  std::unique_ptr<Pmap> p = shootdown_machine(*arch);
  CpuSet others = CpuSet::first_n(MAXCPU);
  others.clr(0);
  for (std::uint64_t i = 0; i < n; ++i) p->shootdown(0, others, p->kva_space().start, 1);
  return 0;
}

// Child: RSS after `a` remap cycles and after `b` in all.
int rss_growth(const std::string& arch_name, std::uint64_t a, std::uint64_t b) {
  const ArchInfo* arch = find_arch(arch_name);
  if (!arch) return 2;
  RemapCycle c(*arch, false);
  std::uint64_t i = 0;
  for (; i < a; ++i) c.run();
  const std::uint64_t r1 = rss_kib();
  for (; i < b; ++i) c.run();
  std::printf("%llu %llu\n", static_cast<unsigned long long>(r1), static_cast<unsigned long long>(rss_kib()));
  return 0;
}

MemoryResult measure_memory(const ArchInfo& arch, bool quick) {
  MemoryResult r;
  for (int n : {1, 4, 16, 64}) {
    double kib = std::stod(run_self({"--rss-probe", arch.name, std::to_string(n)}));
    r.per_vcpu_mib.emplace_back(n, kib / 1024.0 / n);
  }
  const double first = r.per_vcpu_mib.front().second, last = r.per_vcpu_mib.back().second;
  const int n = r.per_vcpu_mib.back().first;
  r.marginal_mib = (last * n - first) / (n - 1);
  r.cycles_short = 1000;
  r.cycles_long = quick ? 100000 : 1000000;
  std::istringstream in(run_self({"--rss-growth", arch.name, std::to_string(r.cycles_short),
                                  std::to_string(r.cycles_long)}));
  double a = 0, b = 0;
  in >> a >> b;
  r.rss_short_mib = a / 1024.0;
  r.rss_long_mib = b / 1024.0;
  return r;
}

// --- library timing: the runner on every registry arch, -j 1 and -j 2

double run_library(const Options& o, int jobs, int& status) {
  std::string archs;
  for (const auto& a : arch_registry()) archs += (archs.empty() ? "" : ",") + a.name;
  const double w0 = wall_seconds();
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    std::string j = std::to_string(jobs);
    execl(o.kvabench.c_str(), o.kvabench.c_str(), "run", o.testcases.c_str(), "--arch", archs.c_str(), "-j",
          j.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  waitpid(pid, &status, 0);
  return wall_seconds() - w0;
}

// --- output

std::string fmt(double v, int prec) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

void print_arch(const ArchResult& r) {
  std::cout << "\n== " << r.arch << " (" << r.mode << ") ==\n";
  std::printf("%-34s %10s %9s %9s %11s %8s %9s %6s\n", "remap cycle, 4 vCPUs", "cycles/s", "us/cycle",
              "emu-calls", "guest-insns", "ipi+bc", "floor-us", "ratio");
  auto row = [](const CycleRow& c) {
    std::printf("%-34s %10.0f %9.2f %9.2f %11.1f %8.2f %9s %6s\n", c.workload.c_str(), c.cycles_per_s, c.cpu_us,
                c.emu_calls, c.guest_insns, c.ipis + c.broadcasts,
                c.floor_us ? fmt(*c.floor_us, 2).c_str() : "-",
                c.floor_us ? fmt(c.cpu_us / *c.floor_us, 2).c_str() : "-");
  };
  for (const auto& c : r.cycles) row(c);
  std::printf("%-34s %10s %9s %9s %11s %8s %9s %6s\n", "one operation, 4 vCPUs", "ops/s", "us/op", "emu-calls",
              "guest-insns", "ipi+bc", "floor-us", "ratio");
  for (const auto& c : r.ops) row(c);
  std::printf("%-34s", "shootdown targets (64 vCPUs)");
  for (const auto& s : r.shootdowns) std::printf(" %7d", s.targets);
  std::printf("\n%-34s", "  us per shootdown");
  for (const auto& s : r.shootdowns) std::printf(" %7.2f", s.cpu_us);
  if (r.shootdowns.front().floor_us) {
    std::printf("\n%-34s", "  floor us (bare Unicorn)");
    for (const auto& s : r.shootdowns) std::printf(" %7.2f", *s.floor_us);
  }
  std::printf("\n%-34s", "  ipis(+broadcasts) per shootdown");
  for (const auto& s : r.shootdowns) std::printf(" %7s", (fmt(s.ipis, 0) + (s.broadcasts ? "+" + fmt(s.broadcasts, 0) : "")).c_str());
  std::printf("\n%-34s", "peak RSS per vCPU (MiB), vCPUs");
  for (const auto& [n, mib] : r.memory.per_vcpu_mib) std::printf("  %d: %.2f", n, mib);
  std::printf("   (each added vCPU: %.2f)", r.memory.marginal_mib);
  std::printf("\n%-34s  %llu: %.1f  %llu: %.1f\n", "RSS (MiB) after remap cycles", 
              static_cast<unsigned long long>(r.memory.cycles_short), r.memory.rss_short_mib,
              static_cast<unsigned long long>(r.memory.cycles_long), r.memory.rss_long_mib);
  std::printf("%-34s %10s %9s %9s %9s %9s %9s\n", "buffer cache and sendfile, 4 vCPUs", "per s", "count",
              "ipi+bc/op", "l-inv/op", "map/op", "lazy/op");
  auto wl = [](const char* what, const WorkloadRow& w) {
    std::printf("%-34s %10.0f %9.0f %9.2f %9.2f %9.3f %9.3f\n", what, w.per_s, w.ops,
                w.ipis_per_op + w.broadcasts_per_op, w.local_invals_per_op, w.kva_maps_per_op,
                w.lazy_unmaps_per_op);
  };
  wl("sendfile: pages", r.sendfile);
  wl("read/write/fsync mix: ops", r.buf_mix);
  std::fflush(stdout);
}

void write_json(const Options& o, const std::vector<ArchResult>& all, double lib1, double lib2) {
  std::filesystem::create_directories(o.out);
  std::ofstream j(o.out + "/results.json");
  j << "{\n  \"cpu_clock\": \"process CPU time\",\n  \"archs\": [";
  for (std::size_t i = 0; i < all.size(); ++i) {
    const ArchResult& r = all[i];
    j << (i ? "," : "") << "\n    {\"arch\": \"" << r.arch << "\", \"mode\": \"" << r.mode << "\", \"cycles\": [";
    auto rows = [&](const std::vector<CycleRow>& list) {
      for (std::size_t k = 0; k < list.size(); ++k) {
        const CycleRow& c = list[k];
        j << (k ? ", " : "") << "{\"workload\": \"" << c.workload << "\", \"per_s\": " << c.cycles_per_s
          << ", \"cpu_us\": " << c.cpu_us << ", \"wall_us\": " << c.wall_us << ", \"emu_calls\": " << c.emu_calls
          << ", \"guest_instructions\": " << c.guest_insns << ", \"ipis\": " << c.ipis
          << ", \"broadcasts\": " << c.broadcasts;
        if (c.floor_us) j << ", \"floor_us\": " << *c.floor_us << ", \"floor_calls\": " << *c.floor_calls;
        j << "}";
      }
    };
    rows(r.cycles);
    j << "],\n     \"ops\": [";
    rows(r.ops);
    j << "],\n     \"shootdowns\": [";
    for (std::size_t k = 0; k < r.shootdowns.size(); ++k) {
      const ShootdownRow& s = r.shootdowns[k];
      j << (k ? ", " : "") << "{\"targets\": " << s.targets << ", \"cpu_us\": " << s.cpu_us << ", \"wall_us\": "
        << s.wall_us << ", \"ipis\": " << s.ipis << ", \"broadcasts\": " << s.broadcasts;
      if (s.floor_us) j << ", \"floor_us\": " << *s.floor_us;
      j << "}";
    }
    j << "],\n     \"memory\": {\"rss_per_vcpu_mib\": {";
    for (std::size_t k = 0; k < r.memory.per_vcpu_mib.size(); ++k)
      j << (k ? ", " : "") << "\"" << r.memory.per_vcpu_mib[k].first << "\": " << r.memory.per_vcpu_mib[k].second;
    j << "}, \"rss_mib_after_cycles\": {\"" << r.memory.cycles_short << "\": " << r.memory.rss_short_mib << ", \""
      << r.memory.cycles_long << "\": " << r.memory.rss_long_mib << "}, \"marginal_vcpu_mib\": "
      << r.memory.marginal_mib << "}";
    auto wl = [&](const char* key, const WorkloadRow& w) {
      j << ", \"" << key << "\": {\"count\": " << w.ops << ", \"per_s\": " << w.per_s << ", \"cpu_s\": " << w.cpu_s
        << ", \"wall_s\": " << w.wall_s << ", \"ipis_per_op\": " << w.ipis_per_op << ", \"broadcasts_per_op\": "
        << w.broadcasts_per_op << ", \"local_invalidations_per_op\": " << w.local_invals_per_op
        << ", \"kva_maps_per_op\": " << w.kva_maps_per_op << ", \"lazy_unmaps_per_op\": " << w.lazy_unmaps_per_op
        << "}";
    };
    wl("sendfile_pages", r.sendfile);
    wl("buf_mix_ops", r.buf_mix);
    j << "}";
  }
  j << "\n  ],\n  \"library_wall_s\": {\"j1\": " << lib1 << ", \"j2\": " << lib2 << "}\n}\n";
}

// The targets that hold for every arch (docs/performance.md); the cycle-rate targets apply
// to pool-mode rows.
void print_targets(const std::vector<ArchResult>& all, double lib1, double lib2, bool have_library) {
  std::printf("\ntargets\n");
  auto line = [](const std::string& what, bool met) { std::printf("  %-66s %s\n", what.c_str(), met ? "met" : "MISSED"); };
  for (const auto& r : all) {
    for (const auto& c : r.cycles) {
      if (r.mode == "pool" && !c.floor_us) continue;
      if (c.floor_us) line(r.arch + ": " + c.workload + ", ratio " + fmt(c.cpu_us / *c.floor_us, 2) + " <= 1.3",
                           c.cpu_us / *c.floor_us <= 1.3);
      if (r.mode == "pool" && c.floor_us) {
        const bool priv = c.ipis + c.broadcasts == 0;
        const double want = priv ? 250000 : 150000;
        line(r.arch + ": " + c.workload + ", " + fmt(c.cycles_per_s, 0) + " cycles/s >= " + fmt(want, 0),
             c.cycles_per_s >= want);
      }
    }
    if (!r.cycles.front().floor_us) continue;  // not emulated
    const ShootdownRow& s63 = r.shootdowns.back();
    line(r.arch + ": shootdown to " + std::to_string(s63.targets) + " targets " + fmt(s63.cpu_us, 1) + " us <= 40 (floor " +
             fmt(*s63.floor_us, 1) + ")",
         s63.cpu_us <= 40);
    line(r.arch + ": RSS per vCPU at 64 vCPUs " + fmt(r.memory.per_vcpu_mib.back().second, 2) + " MiB <= 1.5",
         r.memory.per_vcpu_mib.back().second <= 1.5);
    line(r.arch + ": RSS after " + std::to_string(r.memory.cycles_long) + " cycles " + fmt(r.memory.rss_long_mib, 1) +
             " MiB, after " + std::to_string(r.memory.cycles_short) + " " + fmt(r.memory.rss_short_mib, 1),
         r.memory.rss_long_mib <= r.memory.rss_short_mib + 0.5);
  }
  if (have_library) {
    line("library on every arch: -j 2 " + fmt(lib2, 2) + " s <= 5 s", lib2 <= 5);
    line("library: -j 2 (" + fmt(lib2, 2) + " s) faster than -j 1 (" + fmt(lib1, 2) + " s)", lib2 < lib1);
  }
}

int bench_main(const Options& o) {
  const std::size_t cycles = o.quick ? 2000 : 20000;
  const std::size_t shootdowns = o.quick ? 200 : 2000;
  std::cout << "kvabench-bench: per-iteration figures use process CPU time (docs/performance.md)\n";
  std::vector<ArchResult> all;
  for (const ArchInfo& arch : arch_registry()) {
    ArchResult r;
    r.arch = arch.name;
    r.cycles.push_back(measure_cycle(arch, false, cycles));
    r.mode = arch.create(MachineConfig{1, 1u << 20})->has_direct_map() ? "dmap" : "pool";
    if (r.mode == "pool") r.cycles.push_back(measure_cycle(arch, true, cycles));
    r.ops = measure_ops(arch, o.quick ? 2000 : 20000);
    r.shootdowns = measure_shootdowns(arch, shootdowns);
    r.memory = measure_memory(arch, o.quick);
    r.sendfile = measure_sendfile(arch, o.quick ? 32 : 256);
    r.buf_mix = measure_buf_mix(arch, o.quick ? 2000 : 20000);
    print_arch(r);
    all.push_back(std::move(r));
  }
  double lib1 = 0, lib2 = 0;
  if (!o.kvabench.empty()) {
    int s1 = 0, s2 = 0;
    lib1 = run_library(o, 1, s1);
    lib2 = run_library(o, 2, s2);
    std::printf("\ntestcase library on every registry arch (wall): -j 1 %.2f s, -j 2 %.2f s%s\n", lib1, lib2,
                (s1 || s2) ? "  (SOME TESTCASES FAILED)" : "");
  }
  print_targets(all, lib1, lib2, !o.kvabench.empty());
  write_json(o, all, lib1, lib2);
  std::cout << "results: " << o.out << "/results.json\n";
  return 0;
}

}  // namespace
}  // namespace kva::bench

int main(int argc, char** argv) {
  using namespace kva::bench;
  try {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 3 && a[0] == "--rss-probe") return rss_probe(a[1], std::stoi(a[2]));
    if (a.size() == 4 && a[0] == "--rss-growth") return rss_growth(a[1], std::stoull(a[2]), std::stoull(a[3]));
    if (a.size() == 4 && a[0] == "--cycle") return cycle_only(a[1], a[2], std::stoull(a[3]));
    if (a.size() == 3 && a[0] == "--shootdown") return shootdown_only(a[1], std::stoull(a[2]));
    Options o;
    for (std::size_t i = 0; i < a.size(); ++i) {
      auto value = [&]() -> std::string {
        if (i + 1 >= a.size()) throw kva::KvaError(a[i] + ": missing value");
        return a[++i];
      };
      if (a[i] == "--quick") o.quick = true;
      else if (a[i] == "--out") o.out = value();
      else if (a[i] == "--kvabench") o.kvabench = value();
      else if (a[i] == "--testcases") o.testcases = value();
      else throw kva::KvaError("unknown option " + a[i] + " (see the top of bench/bench_main.cpp)");
    }
    if (o.kvabench.empty() != o.testcases.empty()) throw kva::KvaError("--kvabench and --testcases go together");
    return bench_main(o);
  } catch (const std::exception& e) {
    std::cerr << "kvabench-bench: " << e.what() << "\n";
    return 2;
  }
}
