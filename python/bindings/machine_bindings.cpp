// kvabench.Machine: construction, identity, fault injection, step labels and the trace.
#include "python/bindings/bindings.h"

namespace kva::pyapi {

namespace {
// inject=: one fault name or a list of them.
std::vector<std::string> fault_names(const py::object& inject) {
  if (py::isinstance<py::str>(inject)) return {inject.cast<std::string>()};
  try {
    return inject.cast<std::vector<std::string>>();
  } catch (const py::cast_error&) {
    throw py::type_error("inject must be a fault name or a list of fault names (kvabench.faults())");
  }
}
}  // namespace

void bind_machine(py::module_& m, MachineClass& cls) {
  cls.doc() = "An emulated machine: a kernel (pmap, scheduler, sf_buf, buffer cache, device, files) on one arch.";
  cls.def(py::init([](const std::string& arch, int cpus, const py::object& memory, int nsfbufs,
                      std::uint64_t seed, const py::object& inject, bool trace,
                      const std::string& exec_mode, const py::object& buf, const py::object& device,
                      const std::optional<std::string>& ad, bool bbm) {
            const std::optional<ExecMode> mode = exec_mode_by_name(exec_mode);
            if (!mode)
              throw std::invalid_argument("exec_mode: expected 'fast' or 'reference', got '" + exec_mode + "'");
            std::optional<AdBits> ad_bits;
            if (ad) {
              ad_bits = ad_bits_by_name(*ad);
              if (!ad_bits) throw std::invalid_argument("ad: expected 'hardware' or 'software', got '" + *ad + "'");
            }
            return std::make_shared<Machine>(MachineOptions{arch, cpus, parse_size(memory), nsfbufs,
                                                            seed, fault_names(inject), trace, *mode, ad_bits, bbm,
                                                            parse_buf_options(buf),
                                                            parse_device_options(device, cpus)});
          }),
          py::arg("arch"), py::arg("cpus") = 2, py::arg("memory") = "16M", py::arg("nsfbufs") = 64,
          py::arg("seed") = 1, py::arg("inject") = py::list(), py::arg("trace") = false,
          py::arg("exec_mode") = "fast", py::arg("buf") = py::none(), py::arg("device") = py::none(),
          py::arg("ad") = py::none(), py::arg("bbm") = false,
          "arch: a name from kvabench.archs(); memory: bytes or '16M'; inject: fault names from\n"
          "kvabench.faults(); trace: collect the guest trace (Machine.trace()).\n"
          "buf: {nbuf, maxbufspace, hibufspace, lobufspace, hidirtybuffers, lodirtybuffers,\n"
          "unmapped, check_invariants (default True), daemon_cpu}; device: {size, file,\n"
          "completion ('next', 'issuer', 'seeded' or a cpu), pio}; ad: 'hardware' or 'software'\n"
          "(where the arch offers it, feature software_ad); bbm: break before make where the ISA requires it.");
  cls.def("__repr__", [](Machine& self) {
    return "<kvabench.Machine " + self.arch().name + " cpus=" + std::to_string(self.pmap().ncpus()) +
           " memory=" + std::to_string(self.pmap().phys().size()) +
           (self.sfb().direct_map_mode() ? " direct map>" : " sf_buf pool>");
  });

  cls.def_property_readonly("arch", [](Machine& self) { return self.arch().name; });
  cls.def_property_readonly("description", [](Machine& self) { return self.arch().description; });
  cls.def_property_readonly("emulated", [](Machine& self) { return self.arch().emulated; });
  cls.def_property_readonly("ncpus", [](Machine& self) { return self.pmap().ncpus(); });
  cls.def_property_readonly("memory", [](Machine& self) { return self.pmap().phys().size(); });
  cls.def_property_readonly("has_direct_map", [](Machine& self) { return self.pmap().has_direct_map(); });
  cls.def_property_readonly("sf_buf_direct_map",
                            [](Machine& self) { return self.sfb().direct_map_mode(); },
                            "True when sf_bufs are direct-map addresses (no pool).");
  cls.def_property_readonly("kva_space", [](Machine& self) {
    const VaRange r = self.pmap().kva_space();
    return py::make_tuple(r.start, r.end);
  }, "(start, end) of the KVA reserved for sf_bufs and buffer maps; end is exclusive.");
  cls.def_property_readonly("seed", [](Machine& self) { return self.sched().seed(); });

  cls.def("inject", &Machine::inject, py::arg("fault"), "Enable a fault-injection switch by name.");
  cls.def_property_readonly("faults", &Machine::enabled_faults, "Names of the enabled faults.");
  cls.def("set_step", [](Machine& self, std::string label) { self.pmap().set_step(std::move(label)); },
          py::arg("label"), "Label recorded with every stale access from now on.");
  cls.def_property_readonly("step", [](Machine& self) { return self.pmap().step(); });
  cls.def("trace", &Machine::take_trace,
          "Disassembled guest trace since the last call (Machine(trace=True), emulated archs).");
}

}  // namespace kva::pyapi
