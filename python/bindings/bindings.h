// Declarations shared by the binding files: each file binds one part of the API.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "python/bindings/machine.h"

namespace kva::pyapi {

namespace py = pybind11;
using MachineClass = py::class_<Machine, std::shared_ptr<Machine>>;

// A page given either as a Page handle or as a physical address.
using PageOrPa = std::variant<PageHandle, std::uint64_t>;
paddr_t pa_of(const Machine& machine, const PageOrPa& page);

// bytes, bytearray, memoryview or a list of ints, as a byte vector (TypeError otherwise, e.g.
// for str, which has no single byte encoding).
std::vector<std::uint8_t> bytes_arg(const py::handle& data, const char* what);
py::bytes to_bytes(const std::vector<std::uint8_t>& data);
std::size_t parse_size(const py::handle& size);      // int or "16M" (arg_parsing.cpp)
int parse_sf_buf_flags(const py::handle& flags);     // int, "NOWAIT|CPUPRIVATE" or a list
py::dict level_dict(const WalkLevel& l);             // a walk level (observation_bindings.cpp)

void bind_errors(py::module_& m);                 // errors.cpp
void bind_arg_parsing(py::module_& m);            // arg_parsing.cpp
void bind_registry(py::module_& m);               // registry_bindings.cpp
void bind_machine(py::module_& m, MachineClass& cls);          // machine_bindings.cpp
void bind_page(py::module_& m, MachineClass& cls);             // page_bindings.cpp
void bind_pmap_ops(MachineClass& cls);                         // pmap_bindings.cpp
void bind_observation(MachineClass& cls);                      // observation_bindings.cpp
void bind_sf_buf(py::module_& m, MachineClass& cls);           // sf_buf_bindings.cpp
void bind_api(py::module_& m, MachineClass& cls);              // api_bindings.cpp
void bind_runner(py::module_& m);                              // runner_bindings.cpp
void bind_buf(py::module_& m, MachineClass& cls);              // buf_bindings.cpp
void bind_files(py::module_& m, MachineClass& cls);            // file_bindings.cpp
// A thread argument: a Thread, or an int naming a CPU (the kernel's thread of that CPU).
using ThreadOrCpu = std::variant<ThreadHandle, int>;
Thread& thread_arg(Machine& machine, const ThreadOrCpu& t);
// Runs a call that may sleep: `start(finish_state)`; then the scheduler; returns the result
// (built by `result`) when it has returned, else a PendingCall handle.
py::object run_call(Machine& machine, const std::function<void(std::shared_ptr<PendingCall>)>& start,
                    const std::function<py::object(Machine&, const PendingCall&)>& result);
py::object buf_or_none(Machine& machine, buf* bp);
py::dict sendfile_dict(const SendfileResult& r);                // file_bindings.cpp
// What a finished call returns: Buf/None, bytes (file_read), the sendfile dict, or the error.
py::object call_result(Machine& machine, const PendingCall& c);
BufConfig parse_buf_options(const py::object& options);        // buf_bindings.cpp
DeviceConfig parse_device_options(const py::object& options, int ncpus);

}  // namespace kva::pyapi
