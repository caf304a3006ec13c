// Raw pieces the Pythonic layer (python/kvabench/*.py) needs beyond the original bindings: the
// VA format every address argument is checked against, page_free, sf_buf handle generations
// and the pool's state. Kept apart from the per-part binding files that other work extends.
#include "python/bindings/bindings.h"

namespace kva::pyapi {

namespace {
py::list cpu_list(CpuSet set) {
  py::list out;
  set.for_each([&](cpuid_t c) { out.append(c); });
  return out;
}
}  // namespace

void bind_api(py::module_& m, MachineClass& cls) {
#ifdef KVA_VERSION
  m.attr("__version__") = KVA_VERSION;
#endif
  m.attr("MAXCPU") = MAXCPU;
  cls.def("va_fits", [](Machine& self, vaddr_t va) { return self.pmap().va_format().fits(va); },
          py::arg("va"), "Whether va is an address of this pmap's VA format (VaFormat::fits).");
  cls.def_property_readonly("va_format", [](Machine& self) {
    const VaFormat f = self.pmap().va_format();
    return py::make_tuple(f.width, f.bits);
  }, "(width, bits): a width-bit VA whose low bits translate; the bits above copy bit bits-1.");
  cls.def("page_free", [](Machine& self, const PageHandle& page) {
    self.pmap().phys().vm_page_free(self.page(page));
  }, py::arg("page"), "vm_page_free (KvaError while wired, mapped or busy).");
  cls.def("sf_buf_pool", [](Machine& self) {
    py::list out;
    for (const auto& sf : self.sfb().pool()) out.append(self.handle(sf.get()));
    return out;
  }, "Every slot of the sf_buf pool, in slot order (empty in direct-map mode).");
  cls.def("sf_buf_free_list", [](Machine& self) {
    py::list out;
    for (const sf_buf* sf : self.sfb().free_list()) out.append(sf->index);
    return out;
  }, "Slot numbers on the sf_buf free list, least recently used first.");

  cls.def("mapped_leaves", [](Machine& self, vaddr_t first, vaddr_t last) {
    std::vector<MappedLeaf> leaves;
    std::vector<paddr_t> tables;
    self.pmap().mapped_leaves(first, last, leaves, &tables);
    py::list out;
    for (const MappedLeaf& l : leaves) {
      py::dict d = level_dict(l.entry);
      d["va"] = l.va;
      d["writable"] = l.writable;
      out.append(d);
    }
    return py::make_tuple(out, tables);
  }, py::arg("first"), py::arg("last"),
     "(leaves, table pages): every valid leaf mapping VA in [first, last] (walk-level dicts with "
     "'va' and the effective 'writable'), and the page-table pages read.");
  cls.def_property_readonly("ram", [](Machine& self) {
    return py::make_tuple(self.pmap().phys().base(), self.pmap().phys().size());
  }, "(base, size) of guest RAM in physical memory.");
  cls.def("raw_reservations", [](Machine& self) {
    py::list out;
    for (const auto& [va, npages] : self.kernel().raw_reservations()) out.append(py::make_tuple(va, npages));
    return out;
  }, "kva_alloc reservations: (va, npages).");

  cls.def("buffer_kva", [](Machine& self) {
    py::list out;
    for (const auto& bp : self.kernel().bufs().bufs())
      if (bp->b_kvasize > 0) out.append(py::make_tuple(bp->b_index, bp->b_kvabase, bp->b_kvasize));
    return out;
  }, "Buffers that hold buffer-map KVA: (index, kvabase, kvasize).");
  py::dict buf_flags;
  for (const auto& [name, value] : kBufFlagNames) buf_flags[("B_" + std::string(name)).c_str()] = value;
  m.attr("BUF_FLAGS") = buf_flags;
  m.attr("GB_FLAGS") = py::dict(py::arg("NOWAIT") = GB_NOWAIT, py::arg("NOCREAT") = GB_NOCREAT,
                                py::arg("UNMAPPED") = GB_UNMAPPED);

  auto sf_buf_class = py::reinterpret_borrow<py::class_<SfBufHandle>>(m.attr("SfBuf"));
  sf_buf_class.def_property_readonly("generation", [](const SfBufHandle& s) { return s.generation; },
                                     "The slot's recycle count when this handle was returned.");
  sf_buf_class.def_property_readonly("stale", [](const SfBufHandle& s) { return s.stale(); },
                                     "True once the slot was recycled for another page.");
  sf_buf_class.def_property_readonly("cpus", [](const SfBufHandle& s) { return cpu_list(s.sf->cpumask); });

  auto page_class = py::reinterpret_borrow<py::class_<PageHandle>>(m.attr("Page"));
  page_class.def_property_readonly("kmap_count", [](const PageHandle& p) { return p.m->kmap_count; },
                                   "Kernel mappings of the page made through kenter/qenter.");
  page_class.def_property_readonly("allocated", [](const PageHandle& p) { return p.m->allocated; });
}

}  // namespace kva::pyapi
