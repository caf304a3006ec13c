// kva::KvaError -> kvabench.KvaError (a RuntimeError); kva::PageFault -> kvabench.PageFault, a
// KvaError subclass carrying cpu, va, access and the decoded walk.
#include "python/bindings/bindings.h"

namespace kva::pyapi {

namespace {
const char* access_name(AccessType t) {
  switch (t) {
    case AccessType::Read: return "read";
    case AccessType::Write: return "write";
    case AccessType::Execute: return "execute";
  }
  return "unknown";
}
}  // namespace

void bind_errors(py::module_& m) {
  // Created once per process and never freed: the translator below may run at any time.
  static PyObject* const kva_error =
      PyErr_NewException("kvabench.KvaError", PyExc_RuntimeError, nullptr);
  static PyObject* const page_fault = PyErr_NewException("kvabench.PageFault", kva_error, nullptr);
  m.add_object("KvaError", py::handle(kva_error));
  m.add_object("PageFault", py::handle(page_fault));

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const PageFault& e) {
      py::object exc = py::handle(page_fault)(e.what());
      exc.attr("cpu") = e.cpu;
      exc.attr("va") = e.va;
      exc.attr("access") = access_name(e.type);
      exc.attr("walk") = e.walk;
      PyErr_SetObject(page_fault, exc.ptr());
    } catch (const KvaError& e) {
      PyErr_SetString(kva_error, e.what());
    }
  });
}

}  // namespace kva::pyapi
