// Clocks and memory readings for the benchmarks. Figures are taken from the process CPU clock:
// on a machine shared with other work it is steadier than the wall clock (which is reported too).
#pragma once
#include <cstddef>
#include <cstdint>

namespace kva::bench {

double cpu_seconds();   // CLOCK_PROCESS_CPUTIME_ID
double wall_seconds();  // CLOCK_MONOTONIC

struct Timing {
  double cpu_us = 0;   // per iteration
  double wall_us = 0;  // per iteration
};

// Runs fn() n times; per-iteration CPU and wall time.
template <class F>
Timing time_loop(std::size_t n, F&& fn) {
  const double c0 = cpu_seconds(), w0 = wall_seconds();
  for (std::size_t i = 0; i < n; ++i) fn();
  const double c1 = cpu_seconds(), w1 = wall_seconds();
  return {(c1 - c0) * 1e6 / static_cast<double>(n), (w1 - w0) * 1e6 / static_cast<double>(n)};
}

// /proc/self/status fields, in KiB.
std::uint64_t rss_kib();       // VmRSS
std::uint64_t peak_rss_kib();  // VmHWM

}  // namespace kva::bench
