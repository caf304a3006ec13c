// C++ exceptions -> the documented Python hierarchy of kvabench/errors.py (defined in Python, so
// the package and its docs own it; imported here once, when _core loads):
//   kva::KvaError -> KvaError; kva::PageFault -> PageFault (with cpu, va, access, walk);
//   std::invalid_argument -> ArgumentError (a ValueError); StaleHandle -> StaleHandleError.
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

// Strong references kept for the life of the process: the translator may run at any time.
PyObject* error_class(const py::module_& errors, const char* name) {
  return py::object(errors.attr(name)).release().ptr();
}
}  // namespace

void bind_errors(py::module_& m) {
  const py::module_ errors = py::module_::import("kvabench.errors");
  static PyObject* const kva_error = error_class(errors, "KvaError");
  static PyObject* const page_fault = error_class(errors, "PageFault");
  static PyObject* const argument_error = error_class(errors, "ArgumentError");
  static PyObject* const stale_handle = error_class(errors, "StaleHandleError");
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
    } catch (const StaleHandle& e) {
      PyErr_SetString(stale_handle, e.what());
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(argument_error, e.what());
    }
  });
}

}  // namespace kva::pyapi
