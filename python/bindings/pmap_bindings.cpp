// Machine methods over the pmap: PTE operations, TLB maintenance, and accesses by a named CPU.
// Every access runs both staleness oracles (see Machine.stale()).
#include "python/bindings/bindings.h"

namespace kva::pyapi {

void bind_pmap_ops(MachineClass& cls) {
  cls.def("kva_alloc", &Machine::kva_alloc, py::arg("npages") = 1,
          "Reserve npages of KVA (never overlapping the sf_buf pool) for kenter/qenter.");
  cls.def("kva_free", &Machine::kva_free, py::arg("va"), py::arg("npages") = 1);
  cls.def("kenter", [](Machine& self, vaddr_t va, const PageOrPa& page) {
    self.kernel().kenter(va, pa_of(self, page));
  }, py::arg("va"), py::arg("page"),
     "pmap_kenter: map va to a Page (or physical address). No TLB maintenance.");
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
  cls.def("invalidate_range", [](Machine& self, int cpu, vaddr_t va, std::size_t npages) {
    self.pmap().invalidate_range_all(self.cpu(cpu), va, npages);
  }, py::arg("cpu"), py::arg("va"), py::arg("npages") = 1,
     "pmap_invalidate_range: local invalidation on cpu plus a shootdown to every other CPU.");

  cls.def("load", [](Machine& self, int cpu, vaddr_t va, std::size_t n) {
    return to_bytes(self.pmap().load(self.cpu(cpu), va, n));
  }, py::arg("cpu"), py::arg("va"), py::arg("n"), "Read n bytes at va as cpu (PageFault if unmapped).");
  cls.def("store", [](Machine& self, int cpu, vaddr_t va, const py::object& data) {
    const std::vector<std::uint8_t> bytes = bytes_arg(data, "data");
    self.pmap().store(self.cpu(cpu), va, bytes);
  }, py::arg("cpu"), py::arg("va"), py::arg("data"), "Write bytes at va as cpu.");
  cls.def("copy", [](Machine& self, int cpu, vaddr_t dst, vaddr_t src, std::size_t n) {
    self.pmap().copy(self.cpu(cpu), dst, src, n);
  }, py::arg("cpu"), py::arg("dst"), py::arg("src"), py::arg("n"), "Copy n bytes as cpu.");
}

}  // namespace kva::pyapi
