#include "core/tlb_model.h"

namespace kva {

TlbModel::TlbModel(int ncpus) : tlbs_(static_cast<std::size_t>(ncpus)) {}

namespace {
template <class Tlbs>
auto& tlb_of(Tlbs& tlbs, cpuid_t cpu) {
  if (cpu < 0 || static_cast<std::size_t>(cpu) >= tlbs.size())
    throw KvaError("TlbModel: cpu " + std::to_string(cpu) + " out of range");
  return tlbs[static_cast<std::size_t>(cpu)];
}
}  // namespace

std::optional<TlbEntry> TlbModel::lookup(cpuid_t cpu, vaddr_t va) const {
  const auto& tlb = tlb_of(tlbs_, cpu);
  auto it = tlb.find(trunc_page(va));
  if (it == tlb.end()) return std::nullopt;
  return it->second;
}

void TlbModel::fill(cpuid_t cpu, vaddr_t va, const TlbEntry& e) {
  TlbEntry entry = e;
  entry.pa = trunc_page(e.pa);
  tlb_of(tlbs_, cpu)[trunc_page(va)] = entry;
}

void TlbModel::invalidate_page(cpuid_t cpu, vaddr_t va) { tlb_of(tlbs_, cpu).erase(trunc_page(va)); }

void TlbModel::invalidate_page_asid(cpuid_t cpu, vaddr_t va, std::uint16_t asid) {
  auto& tlb = tlb_of(tlbs_, cpu);
  auto it = tlb.find(trunc_page(va));
  if (it != tlb.end() && !it->second.global && it->second.asid == asid) tlb.erase(it);
}

void TlbModel::invalidate_asid(cpuid_t cpu, std::uint16_t asid) {
  std::erase_if(tlb_of(tlbs_, cpu),
                [asid](const auto& kv) { return !kv.second.global && kv.second.asid == asid; });
}

void TlbModel::invalidate_all(cpuid_t cpu, bool keep_global) {
  auto& tlb = tlb_of(tlbs_, cpu);
  if (!keep_global) {
    tlb.clear();
    return;
  }
  std::erase_if(tlb, [](const auto& kv) { return !kv.second.global; });
}

std::size_t TlbModel::size(cpuid_t cpu) const { return tlb_of(tlbs_, cpu).size(); }

std::vector<std::pair<vaddr_t, TlbEntry>> TlbModel::entries(cpuid_t cpu) const {
  const auto& tlb = tlb_of(tlbs_, cpu);
  return {tlb.begin(), tlb.end()};
}

}  // namespace kva
