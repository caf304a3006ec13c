// Raw pmap(9) on runner-owned reservations from the shared KVA arena: kenter, kremove, qenter,
// qremove, invalidations, targeted shootdowns, clearing A/M. The model tracks which CPUs may
// still cache an outdated translation of each page; accesses repair that first.
#include "tests/fuzz/opseq/ops.h"

namespace kva::fuzz {
namespace {

struct Range {
  int kva = -1, first = 0, n = 0;
  std::string text() const {
    return "kva#" + std::to_string(kva) + "[" + std::to_string(first) + (n > 1 ? ".." + std::to_string(first + n - 1) : "") + "]";
  }
  vaddr_t va(World& w) const {
    return w.kvas[static_cast<std::size_t>(kva)].va + static_cast<vaddr_t>(first) * PAGE_SIZE;
  }
};

// A run of pages inside one reservation; kva < 0 when there is none.
Range pick_range(ByteSource& src, Model& m, bool single) {
  Range r;
  if (m.kva.empty()) return r;
  r.kva = static_cast<int>(src.below(static_cast<std::uint32_t>(m.kva.size())));
  int npages = static_cast<int>(m.kva[static_cast<std::size_t>(r.kva)].size());
  r.first = static_cast<int>(src.below(static_cast<std::uint32_t>(npages)));
  r.n = single ? 1 : 1 + static_cast<int>(src.below(static_cast<std::uint32_t>(npages - r.first)));
  return r;
}

Model::KvaPage& page_of(Model& m, const Range& r, int i) {
  return m.kva[static_cast<std::size_t>(r.kva)][static_cast<std::size_t>(r.first + i)];
}

// The PTE of reserved page i now maps `page` (-1: nothing); every CPU may cache the old one.
void remap(Model& m, const Range& r, int i, int page) {
  Model::KvaPage& kp = page_of(m, r, i);
  if (kp.page >= 0) --m.pte_refs[static_cast<std::size_t>(kp.page)];
  kp.page = page;
  if (page >= 0) {
    if (m.pte_refs.size() <= static_cast<std::size_t>(page)) m.pte_refs.resize(static_cast<std::size_t>(page) + 1);
    ++m.pte_refs[static_cast<std::size_t>(page)];
  }
  kp.stale = CpuSet::first_n(m.ncpus);
}

int pick_cpu(ByteSource& src, const Model& m) { return static_cast<int>(src.below(static_cast<std::uint32_t>(m.ncpus))); }

}  // namespace

std::vector<OpDef> pmap_ops() {
  return {
      {"kva_reserve",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         if (static_cast<int>(m.kva.size()) >= Model::max_reservations) return;
         int npages = 1 + static_cast<int>(src.below(Model::max_reservation_pages));
         m.kva.emplace_back(static_cast<std::size_t>(npages));
         out.push_back({"kva_reserve " + std::to_string(npages) + " pages -> kva#" + std::to_string(m.kva.size() - 1),
                        [=](World& w) {
                          auto va = w.kva().alloc(static_cast<std::size_t>(npages) * PAGE_SIZE);
                          if (!va) throw KvaError("kva arena exhausted");
                          w.kvas.push_back({*va, npages});
                          return Outcome{};
                        }});
       }},
      {"kenter",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         Range r = pick_range(src, m, true);
         int p = pick(src, m.live_pages());
         if (r.kva < 0 || p < 0) return;
         remap(m, r, 0, p);
         out.push_back({"kenter " + r.text() + " page#" + std::to_string(p), [=](World& w) {
                          w.pmap().kenter(r.va(w), w.pages[static_cast<std::size_t>(p)]->phys_addr);
                          return Outcome{};
                        }});
       }},
      {"kremove",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         Range r = pick_range(src, m, true);
         if (r.kva < 0) return;
         remap(m, r, 0, -1);
         out.push_back({"kremove " + r.text(), [=](World& w) {
                          w.pmap().kremove(r.va(w));
                          return Outcome{};
                        }});
       }},
      {"qenter",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int cpu = pick_cpu(src, m);
         Range r = pick_range(src, m, false);
         std::vector<int> live = m.live_pages();
         if (r.kva < 0 || live.empty()) return;
         std::vector<int> pages;
         std::string names;
         bool replaced_valid = false;
         for (int i = 0; i < r.n; ++i) {
           pages.push_back(pick(src, live));
           names += " page#" + std::to_string(pages.back());
           // pmap_qenter rewrites (and counts as replaced) only PTEs whose frame changes.
           auto old = m.ref.pmap().pte(r.va(m.ref) + static_cast<vaddr_t>(i) * PAGE_SIZE);
           replaced_valid |= old.valid && old.pa != m.ref.pages[static_cast<std::size_t>(pages.back())]->phys_addr;
         }
         for (int i = 0; i < r.n; ++i) remap(m, r, i, pages[static_cast<std::size_t>(i)]);
         // pmap_qenter invalidates everywhere only when it replaced a valid PTE by another frame.
         if (replaced_valid)
           for (int i = 0; i < r.n; ++i) page_of(m, r, i).stale.zero();
         out.push_back({"qenter cpu" + std::to_string(cpu) + " " + r.text() + names, [=](World& w) {
                          std::vector<paddr_t> pas;
                          for (int p : pages) pas.push_back(w.pages[static_cast<std::size_t>(p)]->phys_addr);
                          w.pmap().qenter(cpu, r.va(w), pas);
                          return Outcome{};
                        }});
       }},
      {"qremove",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int cpu = pick_cpu(src, m);
         Range r = pick_range(src, m, false);
         if (r.kva < 0) return;
         for (int i = 0; i < r.n; ++i) {
           remap(m, r, i, -1);
           page_of(m, r, i).stale.zero();  // pmap_qremove always invalidates everywhere
         }
         out.push_back({"qremove cpu" + std::to_string(cpu) + " " + r.text(), [=](World& w) {
                          w.pmap().qremove(cpu, r.va(w), static_cast<std::size_t>(r.n));
                          return Outcome{};
                        }});
       }},
      {"invalidate",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int cpu = pick_cpu(src, m);
         Range r = pick_range(src, m, false);
         if (r.kva < 0) return;
         for (int i = 0; i < r.n; ++i) page_of(m, r, i).stale.clr(cpu);
         out.push_back({"invalidate cpu" + std::to_string(cpu) + " " + r.text(), [=](World& w) {
                          w.pmap().invalidate_local(cpu, r.va(w), static_cast<std::size_t>(r.n));
                          return Outcome{};
                        }});
       }},
      {"invalidate_range",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int cpu = pick_cpu(src, m);
         Range r = pick_range(src, m, false);
         if (r.kva < 0) return;
         for (int i = 0; i < r.n; ++i) page_of(m, r, i).stale.zero();
         out.push_back({"invalidate_range cpu" + std::to_string(cpu) + " " + r.text(), [=](World& w) {
                          w.pmap().invalidate_range_all(cpu, r.va(w), static_cast<std::size_t>(r.n));
                          return Outcome{};
                        }});
       }},
      {"shootdown",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int cpu = pick_cpu(src, m);
         std::uint64_t bits = (std::uint64_t{src.byte()} << 8 | src.byte()) & CpuSet::first_n(m.ncpus).bits();
         CpuSet targets;
         for (int c = 0; c < m.ncpus; ++c)
           if ((bits >> c) & 1) targets.set(c);
         Range r = pick_range(src, m, false);
         if (r.kva < 0) return;
         CpuSet reached = targets.andnot(CpuSet::only(cpu));  // the initiator is not a target
         for (int i = 0; i < r.n; ++i) page_of(m, r, i).stale = page_of(m, r, i).stale.andnot(reached);
         out.push_back({"shootdown cpu" + std::to_string(cpu) + " -> " + targets.to_string() + " " + r.text(),
                        [=](World& w) {
                          w.pmap().shootdown(cpu, targets, r.va(w), static_cast<std::size_t>(r.n));
                          return Outcome{};
                        }});
       }},
      {"clear_accessed",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         Range r = pick_range(src, m, true);
         bool modified = src.flag();
         if (r.kva < 0) return;
         if (!modified) page_of(m, r, 0).accessed_cleared = true;
         out.push_back({std::string(modified ? "clear_modified " : "clear_accessed ") + r.text(),
                        [=](World& w) {
                          if (modified) w.pmap().clear_modified(r.va(w));
                          else w.pmap().clear_accessed(r.va(w));
                          return Outcome{};
                        }});
       }},
  };
}

}  // namespace kva::fuzz
