// kvabench.Page: a vm_page of the machine's physical memory, and Machine.page_alloc().
#include <cstring>

#include "python/bindings/bindings.h"

namespace kva::pyapi {

namespace {
// [offset, offset + n) must stay inside the page.
void check_in_page(std::size_t offset, std::size_t n) {
  if (offset > PAGE_SIZE || n > PAGE_SIZE - offset)
    throw py::value_error("range [" + std::to_string(offset) + ", " + std::to_string(offset + n) +
                          ") does not fit in a " + std::to_string(PAGE_SIZE) + "-byte page");
}

void write_page(PageHandle& p, const std::vector<std::uint8_t>& data, std::size_t offset) {
  check_in_page(offset, data.size());
  p.machine->pmap().phys().write(p.m->phys_addr + offset, data.data(), data.size());
}

// fill: None, one byte value for the whole page, or bytes written from offset 0.
void fill_page(PageHandle& p, const py::object& fill) {
  if (fill.is_none()) return;
  if (py::isinstance<py::int_>(fill)) {
    const long value = fill.cast<long>();
    if (value < 0 || value > 255) throw py::value_error("fill byte must be in 0..255");
    write_page(p, std::vector<std::uint8_t>(PAGE_SIZE, static_cast<std::uint8_t>(value)), 0);
    return;
  }
  write_page(p, bytes_arg(fill, "fill"), 0);
}

std::uint32_t page_bits(std::uint32_t bits) {
  if (bits & ~VM_PAGE_BITS_ALL)
    throw py::value_error("valid/dirty bits must be within VM_PAGE_BITS_ALL (" +
                          std::to_string(VM_PAGE_BITS_ALL) + ")");
  return bits;
}
}  // namespace

void bind_page(py::module_& m, MachineClass& cls) {
  py::class_<PageHandle>(m, "Page", "A physical page (struct vm_page) of a Machine's memory.")
      .def_property_readonly("pa", [](const PageHandle& p) { return p.m->phys_addr; })
      .def_property_readonly("index", [](const PageHandle& p) { return p.m->index; })
      .def_property_readonly("wire_count", [](const PageHandle& p) { return p.m->wire_count; })
      .def_property_readonly("machine", [](const PageHandle& p) { return p.machine; })
      .def("wire", [](PageHandle& p) { p.machine->pmap().phys().vm_page_wire(p.m); },
           "vm_page_wire: sf_buf_alloc requires a wired page.")
      .def("unwire", [](PageHandle& p) { p.machine->pmap().phys().vm_page_unwire(p.m); })
      .def_property("valid", [](const PageHandle& p) { return p.m->valid; },
                    [](PageHandle& p, std::uint32_t bits) { p.m->valid = page_bits(bits); },
                    "DEV_BSIZE-granular valid bits (VM_PAGE_BITS_ALL when fully valid).")
      .def_property("dirty", [](const PageHandle& p) { return p.m->dirty; },
                    [](PageHandle& p, std::uint32_t bits) { p.m->dirty = page_bits(bits); })
      .def("read", [](PageHandle& p, std::size_t offset, std::optional<std::size_t> n) {
             const std::size_t len = n.value_or(PAGE_SIZE - std::min(offset, PAGE_SIZE));
             check_in_page(offset, len);
             std::vector<std::uint8_t> out(len);
             p.machine->pmap().phys().read(p.m->phys_addr + offset, out.data(), len);
             return to_bytes(out);
           }, py::arg("offset") = 0, py::arg("n") = py::none(),
           "The page's bytes in physical memory (no TLB involved).")
      .def("write", [](PageHandle& p, const py::object& data, std::size_t offset) {
             write_page(p, bytes_arg(data, "data"), offset);
           }, py::arg("data"), py::arg("offset") = 0,
           "Write into the page's physical memory (no TLB involved).")
      .def("__eq__", [](const PageHandle& a, const PageHandle& b) { return a.m == b.m; })
      .def("__hash__", [](const PageHandle& p) { return std::hash<const void*>{}(p.m); })
      .def("__repr__", [](const PageHandle& p) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "<Page %zu pa=0x%llx wired=%d>", p.m->index,
                      static_cast<unsigned long long>(p.m->phys_addr), p.m->wire_count);
        return std::string(buf);
      });

  cls.def("page_alloc", [](Machine& self, const py::object& fill, bool wired, const py::object& align) {
    PageHandle p = align.is_none() ? self.page_alloc()
                                   : self.handle(self.pmap().phys().vm_page_alloc_aligned(parse_size(align)));
    fill_page(p, fill);
    if (wired) self.pmap().phys().vm_page_wire(p.m);
    return p;
  }, py::arg("fill") = py::none(), py::arg("wired") = false, py::arg("align") = py::none(),
     "Allocate a zeroed page; fill is a byte value for every byte, or bytes written at offset 0. "
     "align (bytes or '2M'): a page whose physical address is a multiple of it (the first page "
     "of a large-page frame).");
  m.attr("VM_PAGE_BITS_ALL") = VM_PAGE_BITS_ALL;
}

}  // namespace kva::pyapi
