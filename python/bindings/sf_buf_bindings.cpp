// Kernel threads and sf_buf(9): kvabench.Thread, SfBuf, PendingSfBuf and the Machine methods
// that drive them. An sf_buf_alloc whose thread has to sleep returns a PendingSfBuf that
// Machine.run() resolves.
#include "python/bindings/bindings.h"

namespace kva::pyapi {

namespace {
const char* state_name(Thread::State s) {
  switch (s) {
    case Thread::State::Idle: return "idle";
    case Thread::State::Runnable: return "runnable";
    case Thread::State::Sleeping: return "sleeping";
  }
  return "unknown";
}

py::list cpu_list(CpuSet set) {
  py::list out;
  set.for_each([&](cpuid_t c) { out.append(c); });
  return out;
}

// An sf_buf result as Python sees it: SfBuf, or None for NULL.
py::object sf_buf_result(Machine& machine, sf_buf* sf) {
  return sf ? py::cast(machine.handle(sf)) : py::object(py::none());
}

// A completed sleeping call's SfBuf, as of when it returned (the slot may be recycled since).
py::object pending_result(const PendingSfBufHandle& p) {
  if (!p.state->sf) return py::none();
  return py::cast(SfBufHandle{p.machine, p.state->sf, p.state->generation});
}

void bind_thread(py::module_& m) {
  py::class_<ThreadHandle>(m, "Thread", "A kernel thread of a Machine's scheduler.")
      .def_property_readonly("name", [](const ThreadHandle& t) { return t.td->name(); })
      .def_property_readonly("tid", [](const ThreadHandle& t) { return t.td->tid(); })
      .def_property_readonly("cpu", [](const ThreadHandle& t) { return t.td->cpu(); })
      .def_property_readonly("pinned", [](const ThreadHandle& t) { return t.td->pinned(); })
      .def_property_readonly("state", [](const ThreadHandle& t) { return state_name(t.td->state()); })
      .def_property_readonly("wmesg", [](const ThreadHandle& t) { return std::string(t.td->wmesg()); })
      .def_property_readonly("signal_pending", [](const ThreadHandle& t) { return t.td->signal_pending(); })
      .def("sched_pin", [](ThreadHandle& t) { t.td->sched_pin(); })
      .def("sched_unpin", [](ThreadHandle& t) { t.td->sched_unpin(); })
      .def("__eq__", [](const ThreadHandle& a, const ThreadHandle& b) { return a.td == b.td; })
      .def("__hash__", [](const ThreadHandle& t) { return std::hash<const void*>{}(t.td); })
      .def("__repr__", [](const ThreadHandle& t) {
        return "<Thread " + t.td->name() + " cpu=" + std::to_string(t.td->cpu()) + " " +
               state_name(t.td->state()) + ">";
      });
}

void bind_sf_buf_handles(py::module_& m) {
  py::class_<SfBufHandle>(m, "SfBuf", "An sf_buf: a temporary kernel mapping of a page.")
      .def_property_readonly("kva", [](const SfBufHandle& s) { return s.sf->kva; })
      .def_property_readonly("page", [](const SfBufHandle& s) -> py::object {
        return s.sf->m ? py::cast(s.machine->handle(s.sf->m)) : py::object(py::none());
      })
      .def_property_readonly("index", [](const SfBufHandle& s) { return s.sf->index; })
      .def_property_readonly("ref_count", [](const SfBufHandle& s) { return s.sf->ref_count; })
      .def_property_readonly("cpumask", [](const SfBufHandle& s) { return cpu_list(s.sf->cpumask); },
                             "CPUs whose TLB cannot hold a stale translation for kva.")
      .def_property_readonly("cpuprivate", [](const SfBufHandle& s) { return s.sf->cpuprivate; })
      .def("__eq__", [](const SfBufHandle& a, const SfBufHandle& b) { return a.sf == b.sf; })
      .def("__hash__", [](const SfBufHandle& s) { return std::hash<const void*>{}(s.sf); })
      .def("__repr__", [](const SfBufHandle& s) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "<SfBuf %d kva=0x%llx refs=%d cpumask=%s>", s.sf->index,
                      static_cast<unsigned long long>(s.sf->kva), s.sf->ref_count,
                      s.sf->cpumask.to_string().c_str());
        return std::string(buf);
      });

  py::class_<PendingSfBufHandle>(m, "PendingSfBuf",
                                 "An sf_buf_alloc() whose thread slept; Machine.run() completes it.")
      .def_property_readonly("done", [](const PendingSfBufHandle& p) { return p.state->done; })
      .def_property_readonly("result", [](PendingSfBufHandle& p) {
        if (!p.state->done)
          throw KvaError("sf_buf_alloc has not returned yet: its thread sleeps; call Machine.run()");
        return pending_result(p);
      }, "The SfBuf, or None if the call returned NULL (KvaError while still sleeping).")
      .def("__repr__", [](const PendingSfBufHandle& p) {
        return std::string(p.state->done ? "<PendingSfBuf done>" : "<PendingSfBuf sleeping>");
      });
}
}  // namespace

void bind_sf_buf(py::module_& m, MachineClass& cls) {
  bind_thread(m);
  bind_sf_buf_handles(m);

  cls.def("thread", &Machine::thread_create, py::arg("name"), py::arg("cpu"),
          py::arg("pinned") = true, "Create a kernel thread on cpu (sched_pin'ed unless pinned=False).");
  cls.def("threads", [](Machine& self) {
    py::list out;
    for (const auto& td : self.sched().threads()) out.append(self.handle(td.get()));
    return out;
  });
  cls.def("sf_buf_alloc", [](Machine& self, const ThreadHandle& thread, const PageHandle& page,
                             const py::object& flags) -> py::object {
    auto state = std::make_shared<PendingAlloc>();
    const bool returned = self.sfb().sf_buf_alloc(
        self.thread(thread), self.page(page), parse_sf_buf_flags(flags), [state](sf_buf* sf) {
          state->done = true;
          state->sf = sf;
          state->generation = sf ? sf->generation : 0;
        });
    if (returned) return sf_buf_result(self, state->sf);
    return py::cast(PendingSfBufHandle{self.shared_from_this(), state});
  }, py::arg("thread"), py::arg("page"), py::arg("flags") = 0,
     "sf_buf_alloc run by thread; flags: an int, 'NOWAIT|CPUPRIVATE' or a list of names.\n"
     "Returns an SfBuf, None for NULL, or a PendingSfBuf if the thread slept (Machine.run()).");
  cls.def("sf_buf_free", [](Machine& self, const ThreadHandle& thread, const SfBufHandle& sf) {
    self.sfb().sf_buf_free(self.thread(thread), self.sf_buf_of(sf));
  }, py::arg("thread"), py::arg("sf"));
  cls.def("sf_buf_ref", [](Machine& self, const SfBufHandle& sf) {
    self.sfb().sf_buf_ref(self.sf_buf_of(sf));
  }, py::arg("sf"));
  cls.def("signal", [](Machine& self, const ThreadHandle& thread) {
    self.sched().signal(self.thread(thread));
  }, py::arg("thread"), "Deliver a signal: interrupts a PCATCH (SFB_CATCH) sleep.");
  cls.def("run", [](Machine& self) { return self.sched().run(); },
          "Resume runnable threads in seeded order until none is; returns how many resumed.");
}

}  // namespace kva::pyapi
