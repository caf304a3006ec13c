// buf(9) from Python: kvabench.Buf handles, PendingCall, the buffer-cache Machine methods and the
// buf= / device= construction options. Calls that may sleep run the scheduler once (I/O
// completes on interrupt threads); a call whose thread still sleeps returns a PendingCall.
#include "python/bindings/bindings.h"

namespace kva::pyapi {

namespace {

template <class T>
T option(const py::dict& d, const char* key, T dflt) {
  return d.contains(key) ? d[key].cast<T>() : dflt;
}

void check_keys(const py::dict& d, std::initializer_list<const char*> known, const char* what) {
  for (const auto& [k, v] : d) {
    const std::string key = py::str(k);
    bool ok = false;
    std::string list;
    for (const char* n : known) {
      ok = ok || key == n;
      list += (list.empty() ? "" : ", ") + std::string(n);
    }
    if (!ok) throw py::value_error(std::string(what) + ": unknown option '" + key + "' (" + list + ")");
  }
}

py::dict as_dict(const py::object& o, const char* what) {
  if (o.is_none()) return py::dict();
  if (!py::isinstance<py::dict>(o)) throw py::type_error(std::string(what) + " must be a dict");
  return o.cast<py::dict>();
}

int gb_flags(const py::object& flags) {
  if (py::isinstance<py::int_>(flags)) return flags.cast<int>();
  int out = 0;
  std::vector<std::string> names;
  if (py::isinstance<py::str>(flags)) names.push_back(flags.cast<std::string>());
  else names = flags.cast<std::vector<std::string>>();
  for (std::string n : names) {
    for (char& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (n.rfind("GB_", 0) == 0) n.erase(0, 3);
    if (n == "UNMAPPED") out |= GB_UNMAPPED;
    else if (n == "NOCREAT") out |= GB_NOCREAT;
    else if (n == "NOWAIT") out |= GB_NOWAIT;
    else if (!n.empty()) throw py::value_error("unknown getblk flag '" + n + "' (UNMAPPED, NOCREAT, NOWAIT)");
  }
  return out;
}

py::list flag_names(std::uint32_t f) {
  py::list out;
  for (const auto& [n, v] : kBufFlagNames)
    if (f & v) out.append("B_" + std::string(n));
  return out;
}

// The thread that holds bp (default for calls on a buffer).
Thread& holder(Machine& m, buf* bp, const std::optional<ThreadOrCpu>& t) {
  if (t) return thread_arg(m, *t);
  if (!bp->b_locked || !bp->b_lockowner)
    throw KvaError("buffer " + std::to_string(bp->b_index) +
                   " is not held by a thread (released, or owned by an I/O): pass thread=");
  return *bp->b_lockowner;
}

py::object error_result(Machine&, const PendingCall& c) { return py::int_(c.error); }

}  // namespace

Thread& thread_arg(Machine& machine, const ThreadOrCpu& t) {
  if (const auto* h = std::get_if<ThreadHandle>(&t)) return machine.thread(*h);
  return machine.kernel().cpu_thread(machine.cpu(std::get<int>(t)));
}

py::object call_result(Machine& machine, const PendingCall& c) {
  if (c.returns_buffer) return buf_or_none(machine, c.bp);
  if (c.returns_data || c.sendfile) {
    if (c.error)
      throw KvaError(std::string(c.sendfile ? "sendfile" : "file_read") + ": I/O error " + std::to_string(c.error));
    return c.sendfile ? py::object(sendfile_dict(*c.sendfile)) : py::object(to_bytes(c.data));
  }
  return py::int_(c.error);
}

py::object buf_or_none(Machine& machine, buf* bp) {
  return bp ? py::cast(machine.handle(bp)) : py::object(py::none());
}

py::object run_call(Machine& machine, const std::function<void(std::shared_ptr<PendingCall>)>& start,
                    const std::function<py::object(Machine&, const PendingCall&)>& result) {
  auto state = std::make_shared<PendingCall>();
  start(state);
  machine.sched().run();
  if (state->done) return result(machine, *state);
  return py::cast(PendingCallHandle{machine.shared_from_this(), state});
}

BufConfig parse_buf_options(const py::object& options) {
  const py::dict d = as_dict(options, "buf");
  check_keys(d, {"nbuf", "maxbufspace", "hibufspace", "lobufspace", "hidirtybuffers",
                 "lodirtybuffers", "unmapped", "check_invariants", "daemon_cpu"}, "buf");
  BufConfig c;
  c.check_invariants = true;  // on in scripts, as in tests; buf={'check_invariants': False} to skip
  c.nbuf = option(d, "nbuf", c.nbuf);
  if (d.contains("maxbufspace")) c.maxbufspace = parse_size(d["maxbufspace"]);
  if (d.contains("hibufspace")) c.hibufspace = parse_size(d["hibufspace"]);
  if (d.contains("lobufspace")) c.lobufspace = parse_size(d["lobufspace"]);
  c.hidirtybuffers = option(d, "hidirtybuffers", c.hidirtybuffers);
  c.lodirtybuffers = option(d, "lodirtybuffers", c.lodirtybuffers);
  c.unmapped = option(d, "unmapped", c.unmapped);
  c.check_invariants = option(d, "check_invariants", c.check_invariants);
  c.daemon_cpu = option(d, "daemon_cpu", c.daemon_cpu);
  return c;
}

DeviceConfig parse_device_options(const py::object& options, int ncpus) {
  const py::dict d = as_dict(options, "device");
  check_keys(d, {"size", "file", "completion", "pio"}, "device");
  DeviceConfig c;
  if (d.contains("size")) c.size = parse_size(d["size"]);
  c.backing_file = option<std::string>(d, "file", "");
  c.pio = option(d, "pio", c.pio);
  if (d.contains("completion")) {
    py::object v = d["completion"];
    if (py::isinstance<py::int_>(v)) {
      c.completion = CompletionCpu::Fixed;
      c.completion_cpu = v.cast<int>();
      if (c.completion_cpu < 0 || c.completion_cpu >= ncpus)
        throw py::value_error("device completion cpu " + std::to_string(c.completion_cpu) + " does not exist");
    } else {
      const std::string s = v.cast<std::string>();
      if (s == "next") c.completion = CompletionCpu::Next;
      else if (s == "issuer") c.completion = CompletionCpu::Issuer;
      else if (s == "seeded") c.completion = CompletionCpu::Seeded;
      else throw py::value_error("device completion: 'next', 'issuer', 'seeded' or a cpu number, not '" + s + "'");
    }
  }
  return c;
}

void bind_buf(py::module_& m, MachineClass& cls) {
  py::class_<BufHandle>(m, "Buf", "A struct buf returned by getblk/bread/geteblk.")
      .def_property_readonly("index", [](const BufHandle& b) { return b.bp->b_index; })
      .def_property_readonly("flags", [](const BufHandle& b) { return b.bp->b_flags; })
      .def_property_readonly("flag_names", [](const BufHandle& b) { return flag_names(b.bp->b_flags); })
      .def_property_readonly("error", [](const BufHandle& b) {
        return (b.bp->b_ioflags & BIO_ERROR) ? (b.bp->b_error ? b.bp->b_error : EIO) : 0;
      }, "b_error when BIO_ERROR is set (EIO for an injected device error), else 0.")
      .def_property_readonly("lblkno", [](const BufHandle& b) { return b.bp->b_lblkno; })
      .def_property_readonly("blkno", [](const BufHandle& b) { return b.bp->b_blkno; })
      .def_property_readonly("offset", [](const BufHandle& b) { return b.bp->b_offset; })
      .def_property_readonly("bcount", [](const BufHandle& b) { return b.bp->b_bcount; })
      .def_property_readonly("bufsize", [](const BufHandle& b) { return b.bp->b_bufsize; })
      .def_property_readonly("kvabase", [](const BufHandle& b) { return b.bp->b_kvabase; })
      .def_property_readonly("kvasize", [](const BufHandle& b) { return b.bp->b_kvasize; })
      .def_property_readonly("data", [](const BufHandle& b) { return b.bp->b_data; },
                             "b_data: b_kvabase + (b_offset & PAGE_MASK); 0 when unmapped.")
      .def_property_readonly("mapped", [](const BufHandle& b) { return buf_mapped(b.bp); })
      .def_property_readonly("npages", [](const BufHandle& b) { return b.bp->b_npages; })
      .def_property_readonly("pages", [](const BufHandle& b) {
        py::list out;
        for (int i = 0; i < b.bp->b_npages; ++i)
          out.append(b.machine->handle(b.bp->b_pages[static_cast<std::size_t>(i)]));
        return out;
      }, "b_pages (bogus_page appears as itself during a read over partly valid pages).")
      .def_property_readonly("bogus", [](const BufHandle& b) {
        const vm_page* bogus = b.machine->kernel().bufs().bogus_page();
        return std::count(b.bp->b_pages.begin(), b.bp->b_pages.begin() + b.bp->b_npages, bogus);
      }, "How many b_pages slots hold bogus_page now.")
      .def_property_readonly("dirty", [](const BufHandle& b) { return py::make_tuple(b.bp->b_dirtyoff, b.bp->b_dirtyend); })
      .def_property_readonly("valid", [](const BufHandle& b) { return py::make_tuple(b.bp->b_validoff, b.bp->b_validend); })
      .def_property_readonly("locked", [](const BufHandle& b) { return b.bp->b_locked; })
      .def_property_readonly("owner", [](const BufHandle& b) -> py::object {
        if (!b.bp->b_locked || !b.bp->b_lockowner) return py::none();
        return py::cast(b.machine->handle(b.bp->b_lockowner));
      }, "The thread holding it, or None (unlocked, or owned by an I/O: BUF_KERNPROC).")
      .def_property_readonly("queue", [](const BufHandle& b) { return buf_queue_name(b.bp->b_qindex); })
      .def_property_readonly("stale", [](const BufHandle& b) { return b.bp->b_lockgen != b.lockgen; },
                             "True once the buffer was locked again after this handle was returned.")
      .def("__eq__", [](const BufHandle& a, const BufHandle& b) { return a.bp == b.bp; })
      .def("__hash__", [](const BufHandle& b) { return std::hash<const void*>{}(b.bp); })
      .def("__repr__", [](const BufHandle& b) {
        char text[160];
        std::snprintf(text, sizeof text, "<Buf %d lblkno=%lld bcount=%ld %s %s>", b.bp->b_index,
                      static_cast<long long>(b.bp->b_lblkno), b.bp->b_bcount,
                      buf_mapped(b.bp) ? "mapped" : "unmapped", b.bp->b_locked ? "locked" : "released");
        return std::string(text);
      });

  py::class_<PendingCallHandle>(m, "PendingCall",
                                "A buffer-cache or file call whose thread sleeps; Machine.run() may complete it.")
      .def_property_readonly("done", [](const PendingCallHandle& p) { return p.state->done; })
      .def_property_readonly("error", [](const PendingCallHandle& p) { return p.state->error; })
      .def_property_readonly("result", [](PendingCallHandle& p) -> py::object {
        if (!p.state->done) throw KvaError("the call has not returned yet: its thread sleeps; call Machine.run()");
        return call_result(*p.machine, *p.state);
      }, "What the call returned: the Buf (or None) for getblk/bread, the bytes for file_read, the\n"
         "sendfile dict, else the error number (0: success).")
      .def("__repr__", [](const PendingCallHandle& p) {
        return std::string(p.state->done ? "<PendingCall done>" : "<PendingCall sleeping>");
      });

  // --- getting buffers
  auto buffer_call = [](Machine& self, Thread& td,
                        const std::function<bool(Thread&, BufResult)>& call) {
    return run_call(self, [&](std::shared_ptr<PendingCall> st) {
      st->returns_buffer = true;
      call(td, [st](buf* bp, int error) {
        st->done = true;
        st->bp = bp;
        st->error = error;
      });
    }, [](Machine& mm, const PendingCall& c) { return buf_or_none(mm, c.bp); });
  };
  cls.def("getblk", [buffer_call](Machine& self, const ThreadOrCpu& thread, const FileHandle& file,
                                  std::int64_t lblkno, std::optional<int> size, const py::object& flags) {
    vnode* vp = self.file(file);
    return buffer_call(self, thread_arg(self, thread), [&](Thread& td, BufResult done) {
      return self.kernel().bufs().getblk(td, vp->bo(), lblkno, size.value_or(static_cast<int>(vp->bsize())),
                                         gb_flags(flags), done);
    });
  }, py::arg("thread"), py::arg("file"), py::arg("lblkno"), py::arg("size") = py::none(),
     py::arg("flags") = 0,
     "getblk: the locked buffer of block lblkno (size: the file's block size). flags: 'UNMAPPED',\n"
     "'NOCREAT', 'NOWAIT' (a list or 'A|B'). Returns a Buf, None, or a PendingCall if the thread sleeps.");
  cls.def("bread", [buffer_call](Machine& self, const ThreadOrCpu& thread, const FileHandle& file,
                                 std::int64_t lblkno, std::optional<int> size, const py::object& flags,
                                 const std::vector<std::int64_t>& rablkno) {
    vnode* vp = self.file(file);
    return buffer_call(self, thread_arg(self, thread), [&](Thread& td, BufResult done) {
      const std::vector<daddr_t> ra(rablkno.begin(), rablkno.end());
      const std::vector<int> ras(ra.size(), static_cast<int>(vp->bsize()));
      return self.kernel().bufs().breadn(td, vp->bo(), lblkno, size.value_or(static_cast<int>(vp->bsize())),
                                         ra, ras, gb_flags(flags), done);
    });
  }, py::arg("thread"), py::arg("file"), py::arg("lblkno"), py::arg("size") = py::none(),
     py::arg("flags") = 0, py::arg("rablkno") = std::vector<std::int64_t>{},
     "bread (breadn with rablkno): the buffer, read unless B_CACHE; Buf.error tells an I/O error.");
  cls.def("geteblk", [buffer_call](Machine& self, const ThreadOrCpu& thread, int size, const py::object& flags) {
    return buffer_call(self, thread_arg(self, thread), [&](Thread& td, BufResult done) {
      return self.kernel().bufs().geteblk(td, size, gb_flags(flags), done);
    });
  }, py::arg("thread"), py::arg("size"), py::arg("flags") = 0, "geteblk: an anonymous mapped buffer.");

  // --- calls on a held buffer
  using OptThread = std::optional<ThreadOrCpu>;
  auto error_call = [](Machine& self, const std::function<bool(IoResult)>& call) {
    return run_call(self, [&](std::shared_ptr<PendingCall> st) {
      call([st](int error) {
        st->done = true;
        st->error = error;
      });
    }, error_result);
  };
  cls.def("bwrite", [error_call](Machine& self, const BufHandle& b, const OptThread& thread) {
    buf* bp = self.locked_buffer(b);
    Thread& td = holder(self, bp, thread);
    return error_call(self, [&](IoResult done) { return self.kernel().bufs().bwrite(td, bp, done); });
  }, py::arg("buf"), py::arg("thread") = py::none(), "Synchronous write; returns the error (0) or a PendingCall.");
  cls.def("bufwait", [error_call](Machine& self, const BufHandle& b, const OptThread& thread) {
    buf* bp = self.locked_buffer(b);
    Thread& td = holder(self, bp, thread);
    return error_call(self, [&](IoResult done) { return self.kernel().bufs().bufwait(td, bp, done); });
  }, py::arg("buf"), py::arg("thread") = py::none());
  cls.def("buf_map", [error_call](Machine& self, const BufHandle& b, const OptThread& thread) {
    buf* bp = self.locked_buffer(b);
    Thread& td = holder(self, bp, thread);
    return error_call(self, [&](IoResult done) { return self.kernel().bufs().bp_unmapped_get_kva(td, bp, done); });
  }, py::arg("buf"), py::arg("thread") = py::none(), "bp_unmapped_get_kva: give an unmapped buffer KVA.");
  auto simple = [](const char* name, void (BufCache::*call)(Thread&, buf*), const char* doc) {
    return std::make_tuple(name, call, doc);
  };
  for (auto [name, call, doc] : {simple("bawrite", &BufCache::bawrite, "Asynchronous write; the completion releases the buffer."),
                                 simple("bdwrite", &BufCache::bdwrite, "Delayed write: B_DELWRI, page dirty bits cleared now."),
                                 simple("bqrelse", &BufCache::bqrelse, "Release, keeping the buffer for reuse.")}) {
    cls.def(name, [call](Machine& self, const BufHandle& b, const OptThread& thread) {
      buf* bp = self.locked_buffer(b);
      (self.kernel().bufs().*call)(holder(self, bp, thread), bp);
      self.sched().run();
    }, py::arg("buf"), py::arg("thread") = py::none(), doc);
  }
  cls.def("brelse", [](Machine& self, const BufHandle& b, const std::vector<std::string>& flags, const OptThread& thread) {
    buf* bp = self.locked_buffer(b);
    Thread& td = holder(self, bp, thread);
    std::uint32_t set = 0;
    for (std::string f : flags) {
      if (f.rfind("B_", 0) == 0) f.erase(0, 2);
      if (f == "RELBUF") set |= B_RELBUF;
      else if (f == "NOCACHE") set |= B_NOCACHE;
      else if (f == "INVAL") set |= B_INVAL;
      else throw py::value_error("brelse flag '" + f + "' (RELBUF, NOCACHE, INVAL)");
    }
    if (!self.kernel().bufs().owned_by(td, bp)) self.kernel().bufs().brelse(td, bp);  // the misuse error
    bp->b_flags |= set;
    self.kernel().bufs().brelse(td, bp);
    self.sched().run();
  }, py::arg("buf"), py::arg("flags") = std::vector<std::string>{}, py::arg("thread") = py::none(),
     "brelse, after setting b_flags from flags (RELBUF, NOCACHE, INVAL).");
  cls.def("allocbuf", [](Machine& self, const BufHandle& b, int size, const OptThread& thread) {
    buf* bp = self.locked_buffer(b);
    self.kernel().bufs().allocbuf(holder(self, bp, thread), bp, size);
  }, py::arg("buf"), py::arg("size"), py::arg("thread") = py::none());
  cls.def("bstrategy", [](Machine& self, const BufHandle& b, const std::string& cmd, const OptThread& thread) {
    buf* bp = self.locked_buffer(b);
    if (cmd != "read" && cmd != "write") throw py::value_error("bstrategy cmd: 'read' or 'write'");
    self.kernel().bufs().bstrategy(holder(self, bp, thread), bp, cmd == "read" ? BIO_READ : BIO_WRITE);
    self.sched().run();
  }, py::arg("buf"), py::arg("cmd") = "read", py::arg("thread") = py::none(),
     "Start I/O on a buffer the thread keeps; wait with bufwait.");
  cls.def("buf_set_valid", [](Machine& self, const BufHandle& b, int offset, int n, const OptThread& thread) {
    buf* bp = self.locked_buffer(b);
    self.kernel().bufs().vfs_bio_set_valid(holder(self, bp, thread), bp, offset, n);
  }, py::arg("buf"), py::arg("offset"), py::arg("n"), py::arg("thread") = py::none(),
     "A validation operation (vfs_bio_set_valid): page bits + byte valid range (no hole).");
  cls.def("buf_set_dirty", [](Machine& self, const BufHandle& b, int offset, int n, const OptThread& thread) {
    buf* bp = self.locked_buffer(b);
    self.kernel().bufs().vfs_bio_set_dirty(holder(self, bp, thread), bp, offset, n);
  }, py::arg("buf"), py::arg("offset"), py::arg("n"), py::arg("thread") = py::none(),
     "A dirty operation: the byte dirty range grows over any hole.");
  cls.def("buf_daemon", [](Machine& self, int cpu, bool all) {
    const std::size_t n = self.kernel().bufs().flush_dirty(self.cpu(cpu), all);
    self.sched().run();
    return n;
  }, py::arg("cpu") = 0, py::arg("all") = false,
     "One buffer-daemon pass: write delayed buffers down to lodirtybuffers (or all).");
  cls.def("buf_violations", [](Machine& self) {
    py::list out;
    for (const BufViolation& v : self.kernel().bufs().violations())
      out.append(py::dict(py::arg("step") = v.step, py::arg("buf") = v.buf_index, py::arg("message") = v.message));
    return out;
  }, "Buffer invariant violations found so far (checked after every buffer operation).");
  cls.def("check_buffers", [](Machine& self) { self.kernel().bufs().check_invariants(); },
          "Check every buffer's invariants now.");
  cls.def_property_readonly("bogus_page", [](Machine& self) { return self.handle(self.kernel().bufs().bogus_page()); });

  // --- the device
  cls.def("device_hold", [](Machine& self) { self.kernel().device().hold(); },
          "Queue I/O at the device instead of completing it.");
  cls.def("device_release", [](Machine& self, std::optional<std::size_t> count) {
    self.kernel().device().release(count.value_or(SIZE_MAX));
    self.sched().run();
  }, py::arg("count") = py::none(), "Complete the oldest `count` held I/Os (all by default).");
  cls.def("device_fail_next", [](Machine& self, const std::string& cmd, int count, std::optional<daddr_t> block) {
    if (cmd != "read" && cmd != "write") throw py::value_error("device_fail_next: 'read' or 'write'");
    self.kernel().device().fail_next(cmd == "read" ? BIO_READ : BIO_WRITE, count, block);
  }, py::arg("cmd"), py::arg("count") = 1, py::arg("block") = py::none(),
     "The next reads or writes (those covering device block `block`, if given) fail with BIO_ERROR (EIO).");
  cls.def_property_readonly("device_in_flight", [](Machine& self) { return self.kernel().device().in_flight(); });
}

}  // namespace kva::pyapi
