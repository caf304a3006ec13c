#include "core/pmap.h"

#include <algorithm>
#include <cstring>

namespace kva {

namespace {
const MachineConfig& validated(const MachineConfig& cfg) {
  if (cfg.ncpus < 1 || cfg.ncpus > MAXCPU)
    throw KvaError("ncpus must be between 1 and " + std::to_string(MAXCPU) + ", got " +
                   std::to_string(cfg.ncpus));
  return cfg;
}

// Bytes of [va, va+n) that stay within va's page.
std::size_t chunk_in_page(vaddr_t va, std::size_t n) {
  return std::min<std::size_t>(n, PAGE_SIZE - (va & PAGE_MASK));
}
}  // namespace

Pmap::Pmap(const MachineConfig& cfg, paddr_t ram_base)
    : phys_(std::make_unique<PhysicalMemory>(ram_base, validated(cfg).mem_bytes)),
      ncpus_(cfg.ncpus),
      tlb_model_(cfg.ncpus) {}

Pmap::~Pmap() = default;

vaddr_t Pmap::phys_to_dmap(paddr_t) const {
  throw KvaError(std::string(arch_name()) + " has no direct map (PHYS_TO_DMAP)");
}

bool VaFormat::fits(vaddr_t va) const {
  if (width < 64 && (va >> width) != 0) return false;
  if (bits >= width) return true;
  const vaddr_t all = width == 64 ? ~vaddr_t{0} : (vaddr_t{1} << width) - 1;
  const vaddr_t upper = va >> (bits - 1);  // bit bits-1 and every bit above it
  return upper == 0 || upper == all >> (bits - 1);
}

std::optional<paddr_t> Pmap::extract(vaddr_t va) const {
  const PteState p = pte(va);
  if (!p.valid) return std::nullopt;
  return p.pa + (va & PAGE_MASK);
}

// Like amd64 pmap_qenter, invalidate only when some old PTE was valid: an invalid PTE cannot
// have been cached by a correct pmap, so a fresh range needs no TLB work.
void Pmap::qenter(cpuid_t cpu, vaddr_t va, std::span<const paddr_t> pas) {
  check_cpu(cpu);
  bool replaced_valid = false;
  for (std::size_t i = 0; i < pas.size(); ++i) {
    const vaddr_t page_va = va + i * PAGE_SIZE;
    replaced_valid |= pte(page_va).valid;
    kenter(page_va, pas[i]);
  }
  if (replaced_valid) invalidate_range_all(cpu, va, pas.size());
}

void Pmap::qremove(cpuid_t cpu, vaddr_t va, std::size_t count) {
  check_cpu(cpu);
  for (std::size_t i = 0; i < count; ++i) kremove(va + i * PAGE_SIZE);
  invalidate_range_all(cpu, va, count);
}

void Pmap::invalidate_local(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  check_cpu(cpu);
  if (faults_.enabled(Fault::SkipLocalInvalidation)) return;
  do_invalidate_local(cpu, va, npages);
}

void Pmap::shootdown(cpuid_t initiator, CpuSet targets, vaddr_t va, std::size_t npages) {
  check_cpu(initiator);
  targets = targets & all_cpus();
  targets.clr(initiator);
  if (faults_.enabled(Fault::DropShootdownIpi) && !targets.empty()) {
    targets.clr(targets.last());
    ++stats_.dropped_ipis;
  }
  if (targets.empty()) return;
  ++stats_.shootdowns;
  stats_.shootdown_targets += static_cast<std::uint64_t>(targets.count());
  do_shootdown(initiator, targets, va, npages);
}

void Pmap::invalidate_range_all(cpuid_t cpu, vaddr_t va, std::size_t npages) {
  invalidate_local(cpu, va, npages);
  shootdown(cpu, all_cpus(), va, npages);
}

void Pmap::model_fill_on_access(cpuid_t cpu, vaddr_t va, AccessType) {
  const PteState p = pte(va);
  if (!p.valid) return;
  tlb_model_.fill(cpu, va, TlbEntry{p.pa, p.writable, p.global, 0});
}

void Pmap::check_cpu(cpuid_t cpu) const {
  if (cpu < 0 || cpu >= ncpus_)
    throw KvaError("cpu " + std::to_string(cpu) + " does not exist (ncpus=" +
                   std::to_string(ncpus_) + ")");
}

// Runs before the access: a cached translation that differs from the page tables is reported;
// a miss is a hardware walk, which may fill the model.
void Pmap::check_architectural(cpuid_t cpu, vaddr_t va, AccessKind kind) {
  std::optional<TlbEntry> cached = tlb_model_.lookup(cpu, va);
  if (!cached) {
    // A miss walks the tables; the walk itself may use cached paging-structure entries (PAE's
    // PDPTE registers), so what it fills is checked like any cached translation.
    model_fill_on_access(cpu, va, kind == AccessKind::Load ? AccessType::Read : AccessType::Write);
    cached = tlb_model_.lookup(cpu, va);
    if (!cached) return;
  }
  const PteState p = pte(va);
  if (p.valid && cached->pa == p.pa) return;
  StaleAccess a{Oracle::Architectural, kind, cpu, va, std::nullopt, cached->pa, {}, {}, step_};
  if (p.valid) a.expected_pa = p.pa;
  stale_.add(std::move(a));
}

// Compares what the access saw (a load's bytes) or left (a store's bytes) with the page the
// tables map now; a mismatch, or success through an unmapped VA, is stale.
void Pmap::check_observed(cpuid_t cpu, vaddr_t va, AccessKind kind,
                          std::vector<std::uint8_t> accessed) {
  const PteState p = pte(va);
  std::vector<std::uint8_t> in_page;
  if (p.valid) {
    in_page.resize(accessed.size());
    phys_->read(p.pa + (va & PAGE_MASK), in_page.data(), in_page.size());
    if (in_page == accessed) return;
  }
  // For a load the page holds what was expected; for a store, what was written was expected.
  const bool is_load = kind == AccessKind::Load;
  StaleAccess a{Oracle::Observed, kind, cpu, va, std::nullopt, std::nullopt,
                is_load ? std::move(in_page) : accessed, is_load ? std::move(accessed) : in_page,
                step_};
  if (p.valid) a.expected_pa = p.pa;
  if (auto cached = tlb_model_.lookup(cpu, va)) a.cached_pa = cached->pa;
  stale_.add(std::move(a));
}

std::vector<std::uint8_t> Pmap::load(cpuid_t cpu, vaddr_t va, std::size_t n) {
  check_cpu(cpu);
  std::vector<std::uint8_t> out(n);
  for (std::size_t done = 0; done < n;) {
    const vaddr_t cva = va + done;
    const std::size_t len = chunk_in_page(cva, n - done);
    std::span<std::uint8_t> chunk(out.data() + done, len);
    ++stats_.loads;
    check_architectural(cpu, cva, AccessKind::Load);
    do_load(cpu, cva, chunk);
    // Observed oracle: the bytes must be those of the page the tables map now.
    check_observed(cpu, cva, AccessKind::Load, {chunk.begin(), chunk.end()});
    done += len;
  }
  return out;
}

void Pmap::store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> data) {
  check_cpu(cpu);
  for (std::size_t done = 0; done < data.size();) {
    const vaddr_t cva = va + done;
    const std::size_t len = chunk_in_page(cva, data.size() - done);
    std::span<const std::uint8_t> chunk = data.subspan(done, len);
    ++stats_.stores;
    check_architectural(cpu, cva, AccessKind::Store);
    do_store(cpu, cva, chunk);
    // Observed oracle: the bytes must have landed in the page the tables map now.
    check_observed(cpu, cva, AccessKind::Store, {chunk.begin(), chunk.end()});
    done += len;
  }
}

void Pmap::copy(cpuid_t cpu, vaddr_t dst, vaddr_t src, std::size_t n) {
  for (std::size_t done = 0; done < n;) {
    // A chunk stays within one page on both sides.
    const std::size_t len = chunk_in_page(dst + done, chunk_in_page(src + done, n - done));
    const std::vector<std::uint8_t> bytes = load(cpu, src + done, len);
    store(cpu, dst + done, bytes);
    done += len;
  }
}

}  // namespace kva
