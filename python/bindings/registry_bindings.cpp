// kvabench.archs() and kvabench.faults(): the registries, as lists of dicts.
#include "python/bindings/bindings.h"

namespace kva::pyapi {

void bind_registry(py::module_& m) {
  m.def("archs", [] {
    py::list out;
    for (const ArchInfo& a : arch_registry())
      out.append(py::dict(py::arg("name") = a.name, py::arg("description") = a.description,
                          py::arg("emulated") = a.emulated, py::arg("default") = a.in_default_set));
    return out;
  }, "Arch variants: dicts {name, description, emulated, default}.");

  m.def("faults", [] {
    py::list out;
    for (const FaultInfo& f : fault_registry())
      out.append(py::dict(py::arg("name") = std::string(f.name),
                          py::arg("description") = std::string(f.description),
                          py::arg("pool_only") = f.sf_buf_pool_only,
                          py::arg("subsystem") = std::string(f.subsystem)));
    return out;
  }, "Fault-injection switches: dicts {name, description, pool_only, subsystem}.");

  m.attr("PAGE_SIZE") = PAGE_SIZE;
}

}  // namespace kva::pyapi
