// Argument conversions shared by the binding files.
#include <stdexcept>

#include "python/bindings/bindings.h"

namespace kva::pyapi {

paddr_t pa_of(const Machine& machine, const PageOrPa& page) {
  if (const auto* handle = std::get_if<PageHandle>(&page)) return machine.page(*handle)->phys_addr;
  return std::get<std::uint64_t>(page);
}

std::vector<std::uint8_t> bytes_arg(const py::handle& data, const char* what) {
  if (py::isinstance<py::str>(data))
    throw py::type_error(std::string(what) + " must be bytes-like, not str (encode it first)");
  PyObject* raw = PyBytes_FromObject(data.ptr());
  if (!raw) {
    PyErr_Clear();
    throw py::type_error(std::string(what) + " must be bytes, bytearray, memoryview or a list of "
                         "ints in 0..255, not " + std::string(py::str(py::type::of(data).attr("__name__"))));
  }
  py::bytes bytes = py::reinterpret_steal<py::bytes>(raw);
  const std::string_view view = bytes;
  return {view.begin(), view.end()};
}

py::bytes to_bytes(const std::vector<std::uint8_t>& data) {
  return py::bytes(reinterpret_cast<const char*>(data.data()), data.size());
}

}  // namespace kva::pyapi
