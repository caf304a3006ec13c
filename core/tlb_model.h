// Architectural TLB model: per CPU, the translations the ISA *permits* to still be cached.
// The reference pmap uses it as its actual TLB; emulated archs run it beside the emulator,
// applying their ISA's invalidation rules through these primitives.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/types.h"

namespace kva {

struct TlbEntry {
  paddr_t pa = 0;        // page frame address
  bool writable = true;
  bool global = false;   // x86 G, riscv G; arm64 !nG
  std::uint16_t asid = 0;
};

class TlbModel {
 public:
  explicit TlbModel(int ncpus);
  int ncpus() const { return static_cast<int>(tlbs_.size()); }

  std::optional<TlbEntry> lookup(cpuid_t cpu, vaddr_t va) const;
  void fill(cpuid_t cpu, vaddr_t va, const TlbEntry& e);
  void invalidate_page(cpuid_t cpu, vaddr_t va);                 // every entry for va, global too
  void invalidate_page_asid(cpuid_t cpu, vaddr_t va, std::uint16_t asid);  // non-global of asid
  void invalidate_asid(cpuid_t cpu, std::uint16_t asid);          // non-global entries of asid
  void invalidate_all(cpuid_t cpu, bool keep_global);
  std::size_t size(cpuid_t cpu) const;
  // (page-aligned va, entry) pairs, ordered by va: for per-CPU TLB views.
  std::vector<std::pair<vaddr_t, TlbEntry>> entries(cpuid_t cpu) const;

 private:
  std::vector<std::map<vaddr_t, TlbEntry>> tlbs_;
};

}  // namespace kva
