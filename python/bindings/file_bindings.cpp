// Files from Python: kvabench.File handles and the file-layer Machine methods (read, write,
// mapped write, fsync, sync, truncate, sendfile, pageout, crash) with the lost-write oracle.
#include "python/bindings/bindings.h"

namespace kva::pyapi {

namespace {

WriteMode write_mode(const std::string& m) {
  if (m == "delayed") return WriteMode::Delayed;
  if (m == "async") return WriteMode::Async;
  if (m == "sync") return WriteMode::Sync;
  throw py::value_error("write mode: 'delayed' (bdwrite), 'async' (bawrite) or 'sync' (bwrite), not '" + m + "'");
}

// fill=: None (all holes), a byte value, or bytes repeated from offset 0.
std::function<std::uint8_t(std::uint64_t)> fill_fn(const py::object& fill) {
  if (fill.is_none()) return nullptr;
  if (py::isinstance<py::int_>(fill)) {
    const long v = fill.cast<long>();
    if (v < 0 || v > 255) throw py::value_error("fill byte must be in 0..255");
    return [v](std::uint64_t) { return static_cast<std::uint8_t>(v); };
  }
  std::vector<std::uint8_t> pattern = bytes_arg(fill, "fill");
  if (pattern.empty()) throw py::value_error("fill: empty pattern");
  return [pattern](std::uint64_t off) { return pattern[off % pattern.size()]; };
}

py::object error_or_pending(Machine& self, const std::function<bool(Vfs::Done)>& call) {
  return run_call(self, [&](std::shared_ptr<PendingCall> st) {
    call([st](int error) {
      st->done = true;
      st->error = error;
    });
  }, [](Machine&, const PendingCall& c) { return py::object(py::int_(c.error)); });
}

}  // namespace

py::dict sendfile_dict(const SendfileResult& r) {
  return py::dict(py::arg("bytes") = r.bytes, py::arg("pages") = r.pages, py::arg("checksum") = r.checksum,
                  py::arg("first_mismatch") = r.first_mismatch ? py::object(py::int_(*r.first_mismatch)) : py::object(py::none()));
}

void bind_files(py::module_& m, MachineClass& cls) {
  py::class_<FileHandle>(m, "File", "A file: a vnode with a VM object and a block map on the device.")
      .def_property_readonly("name", [](const FileHandle& f) { return f.vp->name(); })
      .def_property_readonly("bsize", [](const FileHandle& f) { return f.vp->bsize(); })
      .def_property_readonly("size", [](const FileHandle& f) { return f.vp->size(); })
      .def("blkno", [](const FileHandle& f, std::int64_t lblkno) { return f.vp->blkno(lblkno); },
           py::arg("lblkno"), "Device block (DEV_BSIZE units) of a logical block, -1 for a hole.")
      .def("page", [](const FileHandle& f, std::uint64_t pindex) -> py::object {
        vm_page* mpg = f.vp->object().lookup(pindex);
        return mpg ? py::cast(f.machine->handle(mpg)) : py::object(py::none());
      }, py::arg("pindex"), "The cached page at a page index, or None.")
      .def("model", [](const FileHandle& f, std::uint64_t off, std::size_t n) {
        return to_bytes(f.machine->kernel().vfs().model(*f.vp, off, n));
      }, py::arg("offset"), py::arg("n"), "What the file holds (its reference model).")
      .def("on_device", [](const FileHandle& f, std::uint64_t off, std::size_t n) {
        return to_bytes(f.machine->kernel().vfs().on_device(*f.vp, off, n));
      }, py::arg("offset"), py::arg("n"), "What the device holds for those bytes.")
      .def("__eq__", [](const FileHandle& a, const FileHandle& b) { return a.vp == b.vp; })
      .def("__hash__", [](const FileHandle& f) { return std::hash<const void*>{}(f.vp); })
      .def("__repr__", [](const FileHandle& f) {
        return "<File " + f.vp->name() + " bsize=" + std::to_string(f.vp->bsize()) + " size=" + std::to_string(f.vp->size()) + ">";
      });

  cls.def("file_create", [](Machine& self, const std::string& name, const py::object& bsize,
                            const py::object& size, const py::object& fill, bool track) {
    return self.handle(&self.kernel().vfs().create(name, parse_size(bsize), parse_size(size), fill_fn(fill), track));
  }, py::arg("name"), py::arg("bsize") = 4096, py::arg("size") = "64K", py::arg("fill") = py::none(),
     py::arg("track") = true,
     "A file of size bytes with block size bsize; fill (a byte or bytes repeated) puts its contents\n"
     "on the device, None leaves it all holes. track=False skips the reference model.");
  cls.def("file", [](Machine& self, const std::string& name) -> py::object {
    vnode* vp = self.kernel().vfs().find(name);
    return vp ? py::cast(self.handle(vp)) : py::object(py::none());
  }, py::arg("name"));
  cls.def("file_read", [](Machine& self, const ThreadOrCpu& thread, const FileHandle& file,
                          std::uint64_t off, std::size_t n) {
    vnode* vp = self.file(file);
    Thread& td = thread_arg(self, thread);
    return run_call(self, [&](std::shared_ptr<PendingCall> st) {
      st->returns_data = true;
      self.kernel().vfs().read(td, *vp, off, n, [st](std::vector<std::uint8_t> d, int e) {
        st->done = true;
        st->error = e;
        st->data = std::move(d);
      });
    }, call_result);
  }, py::arg("thread"), py::arg("file"), py::arg("offset"), py::arg("n"),
     "Read through buffers, copying with the thread's CPU (guest loads). Returns bytes.");
  cls.def("file_write", [](Machine& self, const ThreadOrCpu& thread, const FileHandle& file,
                           std::uint64_t off, const py::object& data, const std::string& mode) {
    vnode* vp = self.file(file);
    Thread& td = thread_arg(self, thread);
    std::vector<std::uint8_t> bytes = bytes_arg(data, "data");
    return error_or_pending(self, [&](Vfs::Done done) {
      return self.kernel().vfs().write(td, *vp, off, std::move(bytes), write_mode(mode), done);
    });
  }, py::arg("thread"), py::arg("file"), py::arg("offset"), py::arg("data"), py::arg("mode") = "delayed",
     "Write through buffers (mode: delayed, async, sync); returns the error (0) or a PendingCall.");
  cls.def("file_write_mapped", [](Machine& self, const ThreadOrCpu& thread, const FileHandle& file,
                                  std::uint64_t off, const py::object& data) {
    vnode* vp = self.file(file);
    Thread& td = thread_arg(self, thread);
    std::vector<std::uint8_t> bytes = bytes_arg(data, "data");
    return error_or_pending(self, [&](Vfs::Done done) {
      return self.kernel().vfs().write_mapped(td, *vp, off, std::move(bytes), done);
    });
  }, py::arg("thread"), py::arg("file"), py::arg("offset"), py::arg("data"),
     "Store through an sf_buf of each cached page and mark it dirty (a store through a mapping).");
  cls.def("fsync", [](Machine& self, const ThreadOrCpu& thread, const FileHandle& file,
                      std::uint64_t off, std::uint64_t n) {
    vnode* vp = self.file(file);
    Thread& td = thread_arg(self, thread);
    return error_or_pending(self, [&](Vfs::Done done) { return self.kernel().vfs().fsync(td, *vp, off, n, done); });
  }, py::arg("thread"), py::arg("file"), py::arg("offset") = 0, py::arg("n") = 0,
     "Write the range's dirty buffers and pages and wait (n=0: to EOF); then the lost-write oracle checks it.");
  cls.def("sync", [](Machine& self, const ThreadOrCpu& thread) {
    Thread& td = thread_arg(self, thread);
    return error_or_pending(self, [&](Vfs::Done done) { return self.kernel().vfs().sync(td, done); });
  }, py::arg("thread"));
  cls.def("truncate", [](Machine& self, const ThreadOrCpu& thread, const FileHandle& file, const py::object& size) {
    vnode* vp = self.file(file);
    Thread& td = thread_arg(self, thread);
    const std::size_t bytes = py::isinstance<py::int_>(size) && size.cast<long long>() == 0 ? 0 : parse_size(size);
    return error_or_pending(self, [&](Vfs::Done done) { return self.kernel().vfs().truncate(td, *vp, bytes, done); });
  }, py::arg("thread"), py::arg("file"), py::arg("size"));
  cls.def("sendfile", [](Machine& self, const ThreadOrCpu& thread, const FileHandle& file, std::uint64_t off,
                         std::optional<std::uint64_t> n, std::optional<int> checksum_cpu) {
    vnode* vp = self.file(file);
    Thread& td = thread_arg(self, thread);
    const int ck = checksum_cpu ? self.cpu(*checksum_cpu) : -1;
    return run_call(self, [&](std::shared_ptr<PendingCall> st) {
      self.kernel().vfs().sendfile(td, *vp, off, n.value_or(vp->size()), ck, [st](SendfileResult r, int e) {
        st->done = true;
        st->error = e;
        st->sendfile = r;
      });
    }, call_result);
  }, py::arg("thread"), py::arg("file"), py::arg("offset") = 0, py::arg("n") = py::none(),
     py::arg("checksum_cpu") = py::none(),
     "sendfile page by page through sf_bufs on the thread's CPU (and checksum_cpu); returns\n"
     "{bytes, pages, checksum (Adler-32), first_mismatch (offset where the guest read other data)}.");
  cls.def("pageout", [](Machine& self, bool release_buffers) {
    if (release_buffers) self.kernel().bufs().release_clean(0);
    return self.kernel().vfs().pageout();
  }, py::arg("release_buffers") = false,
     "Reclaim clean, unwired, unmapped cached pages (after clean buffers drop theirs, if asked).");
  cls.def("crash", [](Machine& self, int cpu) { self.kernel().vfs().crash(self.cpu(cpu)); },
          py::arg("cpu") = 0, "Discard all in-memory state (buffers, pages, I/O); then the crash oracle runs.");
  cls.def("lost_writes", [](Machine& self) {
    py::list out;
    for (const LostWrite& lw : self.kernel().vfs().lost_writes())
      out.append(py::dict(py::arg("step") = lw.step, py::arg("file") = lw.file, py::arg("offset") = lw.offset,
                          py::arg("length") = lw.length, py::arg("expected") = to_bytes(lw.expected),
                          py::arg("device") = to_bytes(lw.device), py::arg("when") = lw.when));
    return out;
  }, "Lost writes the oracle found (after fsync/sync, after a crash).");
}

}  // namespace kva::pyapi
