// Machine methods over the pmap: PTE operations, TLB maintenance, and accesses by a named CPU.
// Every access runs both staleness oracles (see Machine.stale()).
#include "python/bindings/bindings.h"

namespace kva::pyapi {

namespace {
KenterAttrs attrs(std::optional<bool> global, std::optional<bool> writable,
                  const std::optional<std::string>& cache) {
  KenterAttrs a{global, writable, std::nullopt};
  if (cache) {
    a.cache = cache_mode_by_name(*cache);
    if (!a.cache) throw std::invalid_argument("cache: expected 'wb', 'wt', 'uc-' or 'uc', got '" + *cache + "'");
  }
  return a;
}
}  // namespace

void bind_pmap_ops(MachineClass& cls) {
  cls.def("kva_alloc", &Machine::kva_alloc, py::arg("npages") = 1,
          "Reserve npages of KVA (never overlapping the sf_buf pool) for kenter/qenter.");
  cls.def("kva_free", &Machine::kva_free, py::arg("va"), py::arg("npages") = 1);
  cls.def("kenter", [](Machine& self, vaddr_t va, const PageOrPa& page, std::optional<bool> global,
                       std::optional<bool> writable, const std::optional<std::string>& cache) {
    self.kernel().kenter(va, pa_of(self, page), attrs(global, writable, cache));
  }, py::arg("va"), py::arg("page"), py::arg("global_") = py::none(), py::arg("writable") = py::none(),
     py::arg("cache") = py::none(),
     "pmap_kenter: map va to a Page (or physical address). No TLB maintenance. global_, "
     "writable and cache ('wb', 'wt', 'uc-', 'uc') default to the arch's FreeBSD kernel PTE.");
  cls.def("kenter_large", [](Machine& self, vaddr_t va, const PageOrPa& page, const py::object& size,
                             std::optional<bool> global, std::optional<bool> writable,
                             const std::optional<std::string>& cache) {
    const auto& sizes = self.pmap().capabilities().large_page_sizes;
    if (size.is_none() && sizes.empty())
      throw std::invalid_argument(self.arch().name + " has no large pages");
    self.kernel().kenter_large(va, pa_of(self, page), size.is_none() ? sizes.front() : parse_size(size),
                             attrs(global, writable, cache));
  }, py::arg("va"), py::arg("page"), py::arg("size") = py::none(), py::arg("global_") = py::none(),
     py::arg("writable") = py::none(), py::arg("cache") = py::none(),
     "Map one large page (size: bytes or '2M'; default the arch's smallest) at va to the frame "
     "starting at page. No TLB maintenance.");
  cls.def("protect", [](Machine& self, vaddr_t va, std::size_t npages, bool writable) {
    self.pmap().protect(va, npages, writable);
  }, py::arg("va"), py::arg("npages") = 1, py::kw_only(), py::arg("writable"),
     "pmap_protect's PTE write on kernel KVA (no invalidation: do invalidate_range after).");
  cls.def("growkernel", [](Machine& self, vaddr_t va) { return self.pmap().growkernel(va); },
          py::arg("va"), "pmap_growkernel for va: returns the number of page-table pages allocated.");
  cls.def("replace_table", [](Machine& self, vaddr_t va, int level, bool copy) {
    return self.pmap().replace_table(va, level, copy);
  }, py::arg("va"), py::arg("level") = 1, py::arg("copy") = false,
     "Point the upper-level entry `level` levels above va's leaf at a new table page (empty or a "
     "copy); returns its physical address. No TLB maintenance.");
  cls.def_property_readonly("growable_kva", [](Machine& self) {
    const VaRange r = self.pmap().growable_kva();
    return py::make_tuple(r.start, r.end);
  }, "(start, end) of kernel VA without page tables yet (growkernel, kenter_large).");
  cls.def("kremove", [](Machine& self, vaddr_t va) { self.kernel().kremove(va); }, py::arg("va"),
          "pmap_kremove: unmap va. No TLB maintenance.");
  cls.def("qenter", [](Machine& self, int cpu, vaddr_t va, const std::vector<PageOrPa>& pages) {
    std::vector<paddr_t> pas;
    for (const PageOrPa& p : pages) pas.push_back(pa_of(self, p));
    self.kernel().qenter(self.cpu(cpu), va, pas);
  }, py::arg("cpu"), py::arg("va"), py::arg("pages"),
     "pmap_qenter from cpu: map consecutive pages, invalidating everywhere if a valid PTE was replaced.");
  cls.def("qremove", [](Machine& self, int cpu, vaddr_t va, std::size_t count) {
    self.kernel().qremove(self.cpu(cpu), va, count);
  }, py::arg("cpu"), py::arg("va"), py::arg("count"),
     "pmap_qremove from cpu: unmap count pages and invalidate them on every CPU.");
  cls.def("clear_accessed", [](Machine& self, vaddr_t va) { self.pmap().clear_accessed(va); },
          py::arg("va"));
  cls.def("clear_modified", [](Machine& self, vaddr_t va) { self.pmap().clear_modified(va); },
          py::arg("va"));
  cls.def("phys_to_dmap", [](Machine& self, paddr_t pa) { return self.pmap().phys_to_dmap(pa); },
          py::arg("pa"), "PHYS_TO_DMAP (KvaError on an arch without a direct map).");

  cls.def("invalidate", [](Machine& self, int cpu, vaddr_t va, std::size_t npages) {
    self.pmap().invalidate_local(self.cpu(cpu), va, npages);
  }, py::arg("cpu"), py::arg("va"), py::arg("npages") = 1,
     "Invalidate va's pages in cpu's own TLB (invlpg, ...).");
  cls.def("shootdown", [](Machine& self, int cpu, const std::vector<int>& targets, vaddr_t va,
                          std::size_t npages) {
    self.pmap().shootdown(self.cpu(cpu), self.cpus(targets), va, npages);
  }, py::arg("cpu"), py::arg("targets"), py::arg("va"), py::arg("npages") = 1,
     "Invalidate on the target CPUs with the arch's shootdown protocol (the issuer is skipped).");
  cls.def("flush_local", [](Machine& self, int cpu, bool include_global) {
    self.pmap().flush_local(self.cpu(cpu), include_global);
  }, py::arg("cpu"), py::arg("include_global") = false,
     "Full local flush (x86 CR3 reload; include_global: CR4.PGE toggle).");
  cls.def("invalidate_range", [](Machine& self, int cpu, vaddr_t va, std::size_t npages) {
    self.pmap().invalidate_range_all(self.cpu(cpu), va, npages);
  }, py::arg("cpu"), py::arg("va"), py::arg("npages") = 1,
     "pmap_invalidate_range: local invalidation on cpu plus a shootdown to every other CPU.");

  cls.def("load", [](Machine& self, int cpu, vaddr_t va, std::size_t n) {
    return to_bytes(self.pmap().load(self.cpu(cpu), va, n));
  }, py::arg("cpu"), py::arg("va"), py::arg("n"), "Read n bytes at va as cpu (PageFault if unmapped).");
  cls.def("store", [](Machine& self, int cpu, vaddr_t va, const py::object& data) {
    const std::vector<std::uint8_t> bytes = bytes_arg(data, "data");
    self.kernel().store(self.cpu(cpu), va, bytes);
  }, py::arg("cpu"), py::arg("va"), py::arg("data"),
     "Write bytes at va as cpu (into a file buffer's data: the file's contents change).");
  cls.def("copy", [](Machine& self, int cpu, vaddr_t dst, vaddr_t src, std::size_t n) {
    self.kernel().copy(self.cpu(cpu), dst, src, n);
  }, py::arg("cpu"), py::arg("dst"), py::arg("src"), py::arg("n"), "Copy n bytes as cpu.");
}

}  // namespace kva::pyapi
