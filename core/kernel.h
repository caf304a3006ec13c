// The simulated kernel of one run, assembled once: the pmap (built by the front end from the
// arch registry, since core never names an arch), the scheduler, the KVA arena every consumer
// carves from (sf_buf pool, buffer map, raw reservations), and the subsystems over them:
// sf_buf, VM objects, the buffer cache, the block device with its interrupt threads, files.
//
// Both front ends (the YAML runner and the Python Machine) hold one Kernel and assemble nothing
// themselves, so a testcase and a notebook see the same machine for the same configuration.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <span>

#include "core/block_device.h"
#include "core/buf_cache.h"
#include "core/intr.h"
#include "core/kva_arena.h"
#include "core/pmap.h"
#include "core/sched.h"
#include "core/sf_buf.h"
#include "core/vfs.h"
#include "core/vm_object.h"

namespace kva {

struct KernelConfig {
  int nsfbufs = 64;         // sf_buf pool slots (pool mode only)
  std::uint64_t seed = 1;   // scheduler seed
  FaultSet faults;          // fault-injection switches, applied to the pmap's FaultSet
  BufConfig buf;            // buffer cache (nbuf, buffer map, thresholds, invariant checks)
  DeviceConfig device;      // the block device under the files
};

class Kernel {
 public:
  // Takes the pmap the front end created from the registry. Throws KvaError when the
  // configuration does not fit the machine (e.g. more sf_bufs than kva_space holds).
  Kernel(std::unique_ptr<Pmap> pmap, const KernelConfig& cfg);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  const KernelConfig& config() const { return cfg_; }
  Pmap& pmap() { return *pmap_; }
  const Pmap& pmap() const { return *pmap_; }
  PhysicalMemory& phys() { return pmap_->phys(); }
  Scheduler& sched() { return sched_; }
  SfBufSubsystem& sfbufs() { return *sfbufs_; }
  const SfBufSubsystem& sfbufs() const { return *sfbufs_; }
  FaultSet& faults() { return pmap_->faults(); }
  const FaultSet& faults() const { return pmap_->faults(); }
  VmObjects& vm() { return *vm_; }
  BufCache& bufs() { return *bufs_; }
  const BufCache& bufs() const { return *bufs_; }
  BlockDevice& device() { return *device_; }
  const BlockDevice& device() const { return *device_; }
  Vfs& vfs() { return *vfs_; }
  const Vfs& vfs() const { return *vfs_; }
  // A pinned kernel thread on cpu ("kernel/cpuN"), for front-end calls that name only a CPU.
  Thread& cpu_thread(cpuid_t cpu);

  // --- raw KVA reservations (the runner's kva_reserve, Python's kva_alloc): one policy for
  // both, first fit in the arena the sf_buf pool was carved from, so they never overlap.
  // KvaError when no hole is large enough; `align` (a power of two) lets a reservation hold
  // large pages.
  vaddr_t kva_alloc(std::size_t npages, std::uint64_t align = PAGE_SIZE);
  void kva_free(vaddr_t va, std::size_t npages);  // KvaError unless exactly a reservation
  std::size_t kva_free_pages() const { return arena_.free_bytes() / PAGE_SIZE; }
  // A reservation of `bytes` (a multiple of the page size, aligned to a power of two of it) in
  // Pmap::growable_kva(): kernel VA with no page tables yet, for growkernel and large pages.
  // Handed out upwards like kernel_vm_end grows; KvaError when the arch has none or it is full.
  vaddr_t kva_alloc_growable(std::uint64_t bytes);
  KvaArena& kva_arena() { return arena_; }
  const std::map<vaddr_t, std::size_t>& raw_reservations() const { return raw_; }  // start -> pages

  // --- pmap(9) on any kernel VA, with the bookkeeping the page allocator needs: mappings made
  // here inside a raw reservation count as kernel mappings of the page (vm_page::kmap_count),
  // so vm_page_free refuses the page until they are removed. Elsewhere (e.g. an sf_buf slot)
  // the call goes straight to the pmap: that mapping belongs to its subsystem.
  void kenter(vaddr_t va, paddr_t pa, const KenterAttrs& attrs = {});
  void kenter_large(vaddr_t va, paddr_t pa, std::uint64_t size, const KenterAttrs& attrs = {});
  void kremove(vaddr_t va);  // the leaf that maps va, whatever its size
  void qenter(cpuid_t cpu, vaddr_t va, std::span<const paddr_t> pas);
  void qremove(cpuid_t cpu, vaddr_t va, std::size_t count);

  // --- guest accesses that change memory. A store into the data of a mapped file buffer is a
  // change of that file's page (its pages are the file's cache), so the Vfs reference model
  // takes the bytes the guest meant to store; a stale translation that sends them elsewhere is
  // then a lost write. Front ends store through these, not through Pmap directly.
  void store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> data);
  void copy(cpuid_t cpu, vaddr_t dst, vaddr_t src, std::size_t n);

 private:
  void buffer_kva_stored(vaddr_t va, std::span<const std::uint8_t> data);
  bool in_raw_reservation(vaddr_t va) const;
  void track_unmap(vaddr_t va);
  void track_map(vaddr_t va, paddr_t pa);

  KernelConfig cfg_;
  std::unique_ptr<Pmap> pmap_;
  Scheduler sched_;
  KvaArena arena_;
  std::unique_ptr<SfBufSubsystem> sfbufs_;
  std::unique_ptr<VmObjects> vm_;
  std::unique_ptr<BufCache> bufs_;
  std::unique_ptr<InterruptThreads> intr_;
  std::unique_ptr<BlockDevice> device_;
  std::unique_ptr<Vfs> vfs_;
  std::vector<Thread*> cpu_threads_;
  std::map<vaddr_t, std::size_t> raw_;       // reservation start -> pages
  std::map<vaddr_t, vm_page*> raw_mapped_;   // page VA in a reservation -> page it maps
  vaddr_t grow_next_ = 0;                    // next free byte of growable_kva() (0: none yet)
};

}  // namespace kva
