// Machine methods that look at state: PTEs and walks, the TLB model, counters, stale accesses.
#include "python/bindings/bindings.h"

namespace kva::pyapi {

namespace {
py::object optional_pa(const std::optional<paddr_t>& pa) {
  return pa ? py::object(py::int_(*pa)) : py::object(py::none());
}

py::dict pte_dict(const PteState& p) {
  return py::dict(py::arg("valid") = p.valid, py::arg("writable") = p.writable,
                  py::arg("accessed") = p.accessed, py::arg("modified") = p.modified,
                  py::arg("global") = p.global, py::arg("pa") = p.pa);
}

py::dict stale_dict(const StaleAccess& a) {
  return py::dict(py::arg("oracle") = to_string(a.oracle), py::arg("kind") = to_string(a.kind),
                  py::arg("cpu") = a.cpu, py::arg("va") = a.va,
                  py::arg("expected_pa") = optional_pa(a.expected_pa),
                  py::arg("cached_pa") = optional_pa(a.cached_pa),
                  py::arg("expected") = to_bytes(a.expected), py::arg("observed") = to_bytes(a.observed),
                  py::arg("step") = a.step, py::arg("description") = a.describe());
}

py::dict pmap_stats_dict(const PmapStats& s) {
  return py::dict(py::arg("local_invalidations") = s.local_invalidations,
                  py::arg("full_flushes") = s.full_flushes, py::arg("shootdowns") = s.shootdowns,
                  py::arg("shootdown_targets") = s.shootdown_targets, py::arg("ipis") = s.ipis,
                  py::arg("broadcasts") = s.broadcasts, py::arg("dropped_ipis") = s.dropped_ipis,
                  py::arg("loads") = s.loads, py::arg("stores") = s.stores,
                  py::arg("guest_instructions") = s.guest_instructions,
                  py::arg("emu_calls") = s.emu_calls);
}

py::dict sf_buf_stats_dict(const SfBufStats& s) {
  return py::dict(py::arg("nsfbufs") = s.nsfbufs, py::arg("nsfbufsused") = s.nsfbufsused,
                  py::arg("nsfbufspeak") = s.nsfbufspeak, py::arg("sf_allocwait") = s.sf_allocwait,
                  py::arg("sf_allocfail") = s.sf_allocfail, py::arg("remaps") = s.remaps,
                  py::arg("hash_hits") = s.hash_hits,
                  py::arg("local_invalidations") = s.local_invalidations,
                  py::arg("shootdowns") = s.shootdowns,
                  py::arg("shootdown_targets") = s.shootdown_targets,
                  py::arg("invalidations_skipped_unaccessed") = s.invalidations_skipped_unaccessed);
}
py::dict buf_stats_dict(const BufStats& s) {
  py::dict d;
#define F(x) d[#x] = s.x
  F(nbuf); F(bufspace); F(maxbufspace); F(hibufspace); F(lobufspace); F(bufkvaspace);
  F(numdirtybuffers); F(hidirtybuffers); F(lodirtybuffers); F(getblk_hits); F(getblk_misses);
  F(reads); F(writes); F(bdwrites); F(bawrites); F(brelses); F(bqrelses); F(recycles);
  F(allocbuf_grows); F(allocbuf_shrinks); F(kva_maps); F(kva_unmaps); F(kva_lazy_unmaps);
  F(kva_remaps); F(bogus_pages); F(bogus_restores); F(unmapped_ios); F(mapped_ios); F(io_errors);
  F(sleeps); F(daemon_runs); F(daemon_flushes); F(invariant_violations);
#undef F
  return d;
}

py::dict vfs_stats_dict(Kernel& k) {
  const VfsStats& s = k.vfs().stats();
  const DeviceStats& dv = k.device().stats();
  py::dict d;
#define F(x) d[#x] = s.x
  F(files); F(reads); F(writes); F(mapped_writes); F(bytes_read); F(bytes_written); F(fsyncs);
  F(syncs); F(truncates); F(crashes); F(sendfiles); F(sendfile_pages); F(sendfile_bytes);
  F(blocks_allocated); F(lost_writes);
#undef F
  d["device_reads"] = dv.reads;
  d["device_writes"] = dv.writes;
  d["device_bytes_read"] = dv.bytes_read;
  d["device_bytes_written"] = dv.bytes_written;
  d["device_errors"] = dv.errors;
  d["remote_completions"] = dv.remote_completions;
  d["discarded_ios"] = dv.discarded;
  d["pages_reclaimed"] = k.vfs().pages_reclaimed();
  return d;
}
}  // namespace

void bind_observation(MachineClass& cls) {
  cls.def("pte", [](Machine& self, vaddr_t va) { return pte_dict(self.pmap().pte(va)); },
          py::arg("va"), "The leaf PTE for va: dict(valid, writable, accessed, modified, global, pa).");
  cls.def("extract", [](Machine& self, vaddr_t va) { return self.pmap().extract(va); },
          py::arg("va"), "pmap_extract: the physical address va maps (offset kept), or None.");
  cls.def("walk", [](Machine& self, vaddr_t va) { return self.pmap().describe_walk(va); },
          py::arg("va"), "The decoded page-table walk of va, one level per line.");
  cls.def("tlb", [](Machine& self, int cpu) {
    py::list out;
    for (const auto& [va, e] : self.pmap().tlb_model().entries(self.cpu(cpu)))
      out.append(py::make_tuple(va, e.pa, e.global, e.writable));
    return out;
  }, py::arg("cpu"),
     "Translations cpu's TLB may hold (the architectural model): (va, pa, global, writable).");
  cls.def("stats", [](Machine& self) {
    return py::dict(py::arg("pmap") = pmap_stats_dict(self.pmap().stats()),
                    py::arg("sf_buf") = sf_buf_stats_dict(self.sfb().stats()),
                    py::arg("buf") = buf_stats_dict(self.kernel().bufs().stats()),
                    py::arg("vfs") = vfs_stats_dict(self.kernel()));
  }, "Counters: {'pmap': {...}, 'sf_buf': {...}, 'buf': {...}, 'vfs': {...}} (the runner's groups).");
  cls.def("stale", [](Machine& self) {
    py::list out;
    for (const StaleAccess& a : self.pmap().stale_log().entries()) out.append(stale_dict(a));
    return out;
  }, "Stale accesses reported by the oracles ('observed' and 'architectural') since the last clear.");
  cls.def("clear_stale", [](Machine& self) { self.pmap().stale_log().clear(); });
}

}  // namespace kva::pyapi
