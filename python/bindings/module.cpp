// kvabench._core: the compiled half of the kvabench package (see python/kvabench/__init__.py).
#include "python/bindings/bindings.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  using namespace kva::pyapi;
  m.doc() = "kvabench core: arch registry, machines, pmaps, sf_bufs (use the kvabench package)";
  bind_errors(m);
  bind_arg_parsing(m);
  bind_registry(m);
  MachineClass machine(m, "Machine");
  bind_machine(m, machine);
  bind_page(m, machine);
  bind_pmap_ops(machine);
  bind_observation(machine);
  bind_sf_buf(m, machine);
  bind_buf(m, machine);
  bind_files(m, machine);
  bind_api(m, machine);     // after the classes it extends
  bind_runner(m);
}
