// Mapping scenarios shared by the arch suites' fault-injection tests: each injected fault
// leaves some CPU reading an old page; without injection nothing is stale, whatever the arch.
#pragma once
#include <optional>
#include <string>

#include "core/faults.h"
#include "core/sched.h"
#include "core/sf_buf.h"
#include "tests/test_util.h"

namespace kva::test {

// A range long enough to be a full flush on x86 (PMAP_INVLPG_THRESHOLD pages).
inline constexpr std::size_t kLongRangePages = 4096;

// What the oracles reported: observed, and the model's reports of any kind (architectural,
// bbm, negative).
struct StaleCounts {
  std::size_t observed = 0;
  std::size_t model = 0;
};

inline StaleCounts counts(Pmap& pmap) {
  const StaleLog& log = pmap.stale_log();
  return {log.count(Oracle::Observed),
          log.count(Oracle::Architectural) + log.count(Oracle::Bbm) + log.count(Oracle::Negative)};
}

inline void read_on_every_cpu(Pmap& pmap, vaddr_t va) {
  for (cpuid_t c = 0; c < pmap.ncpus(); ++c) pmap.load(c, va + 8 * c, 64);
}

// One sf_buf slot, so every new page recycles it: shared use, private use, shared reuse (hash
// hit) and a recycle from another CPU. Each injected fault leaves some CPU reading an old page.
inline StaleCounts sf_buf_scenario(const std::string& arch, int ncpus, std::optional<Fault> fault) {
  auto pmap = make_pmap(arch, ncpus);
  if (fault) pmap->faults().enable(*fault);
  Scheduler sched(1);
  SfBufSubsystem sfb(*pmap, sched, SfBufConfig{1});
  Thread& td0 = sched.thread_create("td0", 0);
  Thread& td_last = ncpus > 1 ? sched.thread_create("td_last", ncpus - 1) : td0;
  vm_page* a = pattern_page(pmap->phys(), 0x11);
  vm_page* b = pattern_page(pmap->phys(), 0x22);
  vm_page* c = pattern_page(pmap->phys(), 0x33);

  pmap->set_step("shared A");
  sf_buf* sf = sfb.sf_buf_alloc_now(td0, a, SFB_DEFAULT);
  read_on_every_cpu(*pmap, sf->kva);
  sfb.sf_buf_free(td0, sf);

  pmap->set_step("private B on cpu0");
  sf = sfb.sf_buf_alloc_now(td0, b, SFB_CPUPRIVATE);
  pmap->load(0, sf->kva, 64);
  sfb.sf_buf_free(td0, sf);

  pmap->set_step("shared B (hash hit)");
  sf = sfb.sf_buf_alloc_now(td0, b, SFB_DEFAULT);
  read_on_every_cpu(*pmap, sf->kva);
  sfb.sf_buf_free(td0, sf);

  pmap->set_step("shared C from the last cpu");
  sf = sfb.sf_buf_alloc_now(td_last, c, SFB_DEFAULT);
  read_on_every_cpu(*pmap, sf->kva);
  sfb.sf_buf_free(td_last, sf);
  return counts(*pmap);
}

// pmap_qenter over a buffer-map page, replaced and removed from different CPUs.
inline StaleCounts qenter_scenario(const std::string& arch, int ncpus, std::optional<Fault> fault) {
  auto pmap = make_pmap(arch, ncpus);
  if (fault) pmap->faults().enable(*fault);
  const vaddr_t va = pmap->kva_space().start + 64 * PAGE_SIZE;
  const paddr_t a[] = {pattern_page(pmap->phys(), 0x44)->phys_addr,
                       pattern_page(pmap->phys(), 0x55)->phys_addr};
  const paddr_t b[] = {pattern_page(pmap->phys(), 0x66)->phys_addr,
                       pattern_page(pmap->phys(), 0x77)->phys_addr};
  pmap->qenter(0, va, a);
  read_on_every_cpu(*pmap, va);
  read_on_every_cpu(*pmap, va + PAGE_SIZE);
  pmap->qenter(0, va, b);
  read_on_every_cpu(*pmap, va);
  read_on_every_cpu(*pmap, va + PAGE_SIZE);
  pmap->qremove(ncpus - 1, va, 2);
  pmap->qenter(ncpus - 1, va, a);
  read_on_every_cpu(*pmap, va);
  return counts(*pmap);
}

// FreeBSD's sequences with the model's newer operations: global kernel PTEs changed and
// invalidated everywhere, rights narrowed then invalidated (pmap_protect), a large page
// replaced then invalidated at one address, a page table replaced then invalidated (as after
// freeing a page-table page), and a range past PMAP_INVLPG_THRESHOLD (invltlb_glob).
inline StaleCounts model_ops_scenario(const std::string& arch, int ncpus, std::optional<Fault> fault) {
  auto pmap = make_pmap(arch, ncpus, 16u << 20);
  if (fault) pmap->faults().enable(*fault);
  const vaddr_t va = pmap->kva_space().start + 80 * PAGE_SIZE;
  vm_page* a = pattern_page(pmap->phys(), 0x21);
  vm_page* b = pattern_page(pmap->phys(), 0x42);
  const cpuid_t last = ncpus - 1;

  pmap->set_step("global kenter changed");
  pmap->kenter(va, a->phys_addr, KenterAttrs{true, {}, {}});
  read_on_every_cpu(*pmap, va);
  pmap->kenter(va, b->phys_addr, KenterAttrs{true, {}, {}});
  pmap->invalidate_range_all(last, va, 1);
  read_on_every_cpu(*pmap, va);

  pmap->set_step("protect");
  const std::vector<std::uint8_t> data(16, 0x77);
  for (cpuid_t c = 0; c < ncpus; ++c) pmap->store(c, va, data);
  pmap->protect(va, 1, false);
  pmap->invalidate_range_all(0, va, 1);
  for (cpuid_t c = 0; c < ncpus; ++c) {
    try {
      pmap->store(c, va, data);
    } catch (const PageFault&) {
    }
  }
  pmap->protect(va, 1, true);

  pmap->set_step("large page replaced");
  const std::uint64_t size = pmap->capabilities().large_page_sizes.front();
  const vaddr_t L = (pmap->growable_kva().start + size - 1) & ~(size - 1);
  vm_page* f1 = pmap->phys().vm_page_alloc_aligned(size);
  vm_page* f2 = pmap->phys().vm_page_alloc_aligned(size);
  pmap->kenter_large(L, f1->phys_addr, size);
  read_on_every_cpu(*pmap, L + PAGE_SIZE);
  pmap->kenter_large(L, f2->phys_addr, size);
  pmap->invalidate_range_all(0, L + size / 2, 1);
  read_on_every_cpu(*pmap, L + PAGE_SIZE);

  pmap->set_step("page table replaced");
  pmap->replace_table(va, 1, /*copy=*/true);
  pmap->kenter(va, a->phys_addr);
  pmap->invalidate_range_all(last, va, 1);
  read_on_every_cpu(*pmap, va);

  pmap->set_step("threshold flush");
  pmap->kenter(va, b->phys_addr, KenterAttrs{true, {}, {}});
  pmap->invalidate_range_all(0, pmap->kva_space().start, kLongRangePages);
  read_on_every_cpu(*pmap, va);
  return counts(*pmap);
}

inline Fault fault_named(const char* name) {
  auto f = fault_by_name(name);
  if (!f) throw KvaError(std::string("no fault named ") + name);
  return *f;
}

}  // namespace kva::test
