// Benchmarks 5 and 6 of `make bench`: the buffer cache and sendfile through the Kernel, the way
// the runner and the Python API drive them.
#pragma once
#include <cstdint>

#include "archs/registry.h"

namespace kva::bench {

struct WorkloadRow {
  double ops = 0;          // pages sent / operations done in the timed run
  double per_s = 0;        // per second of process CPU time
  double cpu_s = 0, wall_s = 0;
  double ipis_per_op = 0, broadcasts_per_op = 0, local_invals_per_op = 0;
  double kva_maps_per_op = 0, lazy_unmaps_per_op = 0;  // buffer map traffic (mix only)
};

// 5. sendfile of `total_mib` through sf_bufs on 4 vCPUs: a 16 MiB file sent again and again,
//    the first pass reading it from the device; every page is read by the guest on the sending
//    CPU and again on another CPU (checksum).
WorkloadRow measure_sendfile(const ArchInfo& arch, std::uint64_t total_mib);

// 6. `nops` random operations on a 64 MiB file (16 KiB blocks) on 4 vCPUs, each from a random
//    CPU's kernel thread: 50% 4 KiB reads, 40% 4 KiB delayed writes, 10% fsync. The buffer map
//    (1 MiB) holds 64 of the 256 buffers, so buffers are lazily unmapped and mapped again.
WorkloadRow measure_buf_mix(const ArchInfo& arch, std::uint64_t nops);

}  // namespace kva::bench
