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
                  py::arg("global") = p.global, py::arg("pa") = p.pa,
                  py::arg("page_size") = p.page_size, py::arg("cache") = to_string(p.cache),
                  py::arg("executable") = p.executable, py::arg("level") = p.level);
}

}  // namespace

py::dict level_dict(const WalkLevel& l) {
  return py::dict(py::arg("level") = l.level, py::arg("name") = l.name, py::arg("slot") = l.slot,
                  py::arg("raw") = l.raw, py::arg("present") = l.present, py::arg("leaf") = l.leaf,
                  py::arg("writable") = l.writable, py::arg("user") = l.user,
                  py::arg("accessed") = l.accessed, py::arg("dirty") = l.dirty,
                  py::arg("global") = l.global, py::arg("executable") = l.executable,
                  py::arg("cache") = to_string(l.cache), py::arg("next") = l.next,
                  py::arg("reach") = l.reach, py::arg("table") = l.table,
                  py::arg("index") = l.index >= 0 ? py::object(py::int_(l.index)) : py::object(py::none()));
}

namespace {

py::object optional_str(const std::string& s) { return s.empty() ? py::object(py::none()) : py::object(py::str(s)); }

py::dict stale_dict(const StaleAccess& a) {
  return py::dict(py::arg("oracle") = to_string(a.oracle), py::arg("kind") = to_string(a.kind),
                  py::arg("cpu") = a.cpu, py::arg("va") = a.va,
                  py::arg("expected_pa") = optional_pa(a.expected_pa),
                  py::arg("cached_pa") = optional_pa(a.cached_pa),
                  py::arg("expected") = to_bytes(a.expected), py::arg("observed") = to_bytes(a.observed),
                  py::arg("step") = a.step,
                  py::arg("holding") = a.holding ? py::object(py::str(to_string(*a.holding))) : py::object(py::none()),
                  py::arg("entry") = optional_str(a.entry), py::arg("rule") = optional_str(a.rule),
                  py::arg("rights") = a.rights, py::arg("via_table") = a.via_table,
                  py::arg("description") = a.describe());
}

py::dict held_dict(const Pmap& pmap, const HeldEntry& e) {
  const Translation& t = e.t;
  return py::dict(py::arg("va") = t.va, py::arg("span") = t.span, py::arg("pa") = t.pa,
                  py::arg("kind") = to_string(t.kind), py::arg("name") = t.name,
                  py::arg("level") = t.level, py::arg("global") = t.global,
                  py::arg("writable") = t.writable, py::arg("asid") = t.asid,
                  py::arg("stale") = e.retired,
                  py::arg("holding") = to_string(e.holding), py::arg("bbm") = e.bbm,
                  py::arg("rule") = e.retired ? py::object(py::str(pmap.rule_text(e))) : py::object(py::none()));
}

py::dict capabilities_dict(const PmapCapabilities& c) {
  return py::dict(py::arg("large_page_sizes") = c.large_page_sizes,
                  py::arg("global_entries") = c.global_entries, py::arg("cache_modes") = c.cache_modes,
                  py::arg("table_reach") = c.table_reach, py::arg("walk_cache") = c.walk_cache,
                  py::arg("root_registers") = c.root_registers,
                  py::arg("requires_break_before_make") = c.requires_break_before_make,
                  py::arg("caches_invalid_entries") = c.caches_invalid_entries,
                  py::arg("broadcast_invalidation") = c.broadcast_invalidation,
                  py::arg("accessed_flag_faults") = c.accessed_flag_faults,
                  py::arg("sbi_invalidation") = c.sbi_invalidation,
                  py::arg("page_fence_keeps_tables") = c.page_fence_keeps_tables,
                  py::arg("software_ad") = c.software_ad,
                  py::arg("growable_kva") = c.growable_kva,
                  py::arg("write_drops_readonly_entry") = c.write_drops_readonly_entry,
                  py::arg("reference") = c.reference);
}

py::dict stale_counts(const StaleLog& log) {
  return py::dict(py::arg("observed") = log.count(Oracle::Observed),
                  py::arg("architectural") = log.count(Oracle::Architectural),
                  py::arg("bbm") = log.count(Oracle::Bbm), py::arg("negative") = log.count(Oracle::Negative),
                  py::arg("demand") = log.count(Holding::Demand),
                  py::arg("speculative") = log.count(Holding::Speculative),
                  py::arg("table") = log.via_table_count(), py::arg("rights") = log.rights_count(),
                  py::arg("total") = log.size(), py::arg("kept") = log.entries().size());
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
          py::arg("va"),
          "The leaf entry for va: dict(valid, writable, accessed, modified, global, pa, page_size, "
          "cache, executable, level).");
  cls.def("walk_levels", [](Machine& self, vaddr_t va) {
    py::list out;
    for (const WalkLevel& l : self.pmap().walk(va)) out.append(level_dict(l));
    return out;
  }, py::arg("va"), "Every entry the software walk of va reads, root first, as dicts.");
  cls.def("capabilities", [](Machine& self) { return capabilities_dict(self.pmap().capabilities()); },
          "What the arch supports (large pages, global entries, table levels, ...).");
  cls.def_property_readonly("features", [](Machine& self) { return self.pmap().features(); },
                            "Feature names, as used by testcase `only:` and `requires:`.");
  cls.def("extract", [](Machine& self, vaddr_t va) { return self.pmap().extract(va); },
          py::arg("va"), "pmap_extract: the physical address va maps (offset kept), or None.");
  cls.def("walk", [](Machine& self, vaddr_t va) { return self.pmap().describe_walk(va); },
          py::arg("va"), "The decoded page-table walk of va, one level per line.");
  cls.def("tlb", [](Machine& self, int cpu) {
    py::list out;
    for (const HeldEntry& e : self.pmap().tlb_model().view(self.cpu(cpu)))
      out.append(held_dict(self.pmap(), e));
    return out;
  }, py::arg("cpu"),
     "What the architectural model says cpu may hold: stale (retired) translations it may still "
     "use, with holding ('demand' or 'speculative') and rule, and current ones it walked. Each a "
     "dict(va, span, pa, kind, name, level, global, writable, asid, stale, holding, bbm, rule).");
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
  }, "The first stale accesses the oracles reported ('observed', 'architectural', 'bbm', "
     "'negative') since the last clear; stale_counts() counts every one.");
  cls.def("stale_counts", [](Machine& self) { return stale_counts(self.pmap().stale_log()); },
          "Counts of every stale access since the last clear, by oracle, holding, table, rights.");
  cls.def_property("stale_capacity", [](Machine& self) { return self.pmap().stale_log().capacity(); },
                   [](Machine& self, std::size_t n) { self.pmap().stale_log().set_capacity(n); },
                   "How many full reports stale() keeps (counts are always complete).");
  cls.def("clear_stale", [](Machine& self) { self.pmap().stale_log().clear(); });
}

}  // namespace kva::pyapi
