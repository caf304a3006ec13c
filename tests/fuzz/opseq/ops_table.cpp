#include <cstdio>

#include "tests/fuzz/opseq/ops.h"

namespace kva::fuzz {

Model::Model(World& reference) : ref(reference), ncpus(reference.shape().ncpus) {}

std::vector<int> Model::live_pages() const {
  std::vector<int> out;
  for (std::size_t i = 0; i < ref.pages.size(); ++i)
    if (ref.pages[i]) out.push_back(static_cast<int>(i));
  return out;
}

std::vector<int> Model::idle_threads() const {
  std::vector<int> out;
  for (std::size_t i = 0; i < ref.threads.size(); ++i)
    if (ref.threads[i]->state() == Thread::State::Idle) out.push_back(static_cast<int>(i));
  return out;
}

std::vector<int> Model::live_sfs() const {
  std::vector<int> out;
  for (std::size_t i = 0; i < ref.sfs.size(); ++i)
    if (ref.sfs[i].state == SfHandle::State::Live) out.push_back(static_cast<int>(i));
  return out;
}

bool Model::page_in_use(int page) const {
  if (static_cast<std::size_t>(page) < pte_refs.size() && pte_refs[static_cast<std::size_t>(page)] > 0)
    return true;
  for (const auto& h : ref.sfs)
    if (h.page == page && (h.state == SfHandle::State::Live || h.state == SfHandle::State::Pending))
      return true;
  return false;
}

int pick(ByteSource& src, const std::vector<int>& from) {
  return from.empty() ? -1 : from[src.below(static_cast<std::uint32_t>(from.size()))];
}

std::vector<std::uint8_t> pattern(std::uint8_t seed, std::size_t offset, std::size_t len) {
  std::vector<std::uint8_t> b(len);
  for (std::size_t i = 0; i < len; ++i) {
    std::size_t at = offset + i;
    b[i] = static_cast<std::uint8_t>(seed * 37u + at * 13u + (at >> 8));
  }
  return b;
}

void repair_stale(Model& m, int cpu, int kva, int first, int n, std::vector<Op>& out) {
  auto& pages = m.kva[static_cast<std::size_t>(kva)];
  for (int i = first; i < first + n; ++i) {
    if (!pages[static_cast<std::size_t>(i)].stale.isset(cpu)) continue;
    pages[static_cast<std::size_t>(i)].stale.clr(cpu);
    out.push_back({"invalidate cpu" + std::to_string(cpu) + " kva#" + std::to_string(kva) + "[" +
                       std::to_string(i) + "] (before an access)",
                   [=](World& w) {
                     w.pmap().invalidate_local(cpu, w.kvas[static_cast<std::size_t>(kva)].va +
                                                        static_cast<vaddr_t>(i) * PAGE_SIZE);
                     return Outcome{};
                   }});
  }
}

void repair_accessed(Model& m, int kva, int first, int n, std::vector<Op>& out) {
  auto& pages = m.kva[static_cast<std::size_t>(kva)];
  for (int i = first; i < first + n; ++i) {
    if (!pages[static_cast<std::size_t>(i)].accessed_cleared) continue;
    pages[static_cast<std::size_t>(i)].accessed_cleared = false;
    out.push_back({"access flag fault kva#" + std::to_string(kva) + "[" + std::to_string(i) + "] (pmap_fault sets it)",
                   [=](World& w) {
                     if (w.pmap().capabilities().accessed_flag_faults)
                       w.pmap().set_accessed(w.kvas[static_cast<std::size_t>(kva)].va +
                                             static_cast<vaddr_t>(i) * PAGE_SIZE);
                     return Outcome{};
                   }});
  }
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

const std::vector<OpDef>& op_table() {
  static const std::vector<OpDef> table = [] {
    std::vector<OpDef> t;
    for (auto family : {page_ops, sf_buf_ops, pmap_ops, access_ops})
      for (auto& def : family()) t.push_back(def);
    return t;
  }();
  return table;
}

}  // namespace kva::fuzz
