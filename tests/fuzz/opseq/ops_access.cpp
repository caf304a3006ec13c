// Guest accesses by a CPU: read, write, copy, through an sf_buf, a reservation or (archs with a
// direct map) a page's direct-map address. Both staleness oracles run on every access, and
// reads are compared with the reference world's.
#include "tests/fuzz/opseq/ops.h"

namespace kva::fuzz {
namespace {

struct Target {
  enum class Kind { Sf, Kva, Dmap } kind = Kind::Sf;
  int handle = -1;
  std::uint32_t offset = 0;
  std::uint32_t size = PAGE_SIZE;  // bytes addressable from the target's base

  std::string text() const {
    const char* k = kind == Kind::Sf ? "sf#" : kind == Kind::Kva ? "kva#" : "dmap page#";
    return k + std::to_string(handle) + "+" + std::to_string(offset);
  }
  vaddr_t va(World& w) const {
    switch (kind) {
      case Kind::Sf: return w.sfbufs().sf_buf_kva(w.sfs[static_cast<std::size_t>(handle)].sf) + offset;
      case Kind::Kva: return w.kvas[static_cast<std::size_t>(handle)].va + offset;
      case Kind::Dmap: return w.pmap().phys_to_dmap(w.pages[static_cast<std::size_t>(handle)]->phys_addr) + offset;
    }
    return 0;
  }
};

// A target reachable from `cpu` (which a CPU-private sf_buf may force); handle < 0: none.
Target pick_target(ByteSource& src, Model& m, int& cpu, bool cpu_fixed) {
  Target t;
  std::vector<Target::Kind> kinds;
  if (!m.live_sfs().empty()) kinds.push_back(Target::Kind::Sf);
  if (!m.kva.empty()) kinds.push_back(Target::Kind::Kva);
  if (m.ref.direct_map() && !m.live_pages().empty()) kinds.push_back(Target::Kind::Dmap);
  if (kinds.empty()) return t;
  t.kind = kinds[src.below(static_cast<std::uint32_t>(kinds.size()))];
  switch (t.kind) {
    case Target::Kind::Sf: {
      t.handle = pick(src, m.live_sfs());
      const SfHandle& h = m.ref.sfs[static_cast<std::size_t>(t.handle)];
      if (h.cpuprivate) {  // valid only on the allocating thread's CPU
        int own = m.thread_cpu(h.thread);
        if (cpu_fixed && cpu != own) t.handle = -1;
        cpu = own;
      }
      break;
    }
    case Target::Kind::Kva:
      t.handle = static_cast<int>(src.below(static_cast<std::uint32_t>(m.kva.size())));
      t.size = static_cast<std::uint32_t>(m.kva[static_cast<std::size_t>(t.handle)].size() * PAGE_SIZE);
      break;
    case Target::Kind::Dmap: t.handle = pick(src, m.live_pages()); break;
  }
  t.offset = src.below(t.size);
  return t;
}

// Invalidations a correct caller would have done before `cpu` touches [t.offset, +len).
void repair(Model& m, const Target& t, int cpu, std::uint32_t len, std::vector<Op>& out) {
  if (t.kind != Target::Kind::Kva) return;
  int first = static_cast<int>(t.offset / PAGE_SIZE);
  int last = static_cast<int>((t.offset + len - 1) / PAGE_SIZE);
  repair_stale(m, cpu, t.handle, first, last - first + 1, out);
  repair_accessed(m, t.handle, first, last - first + 1, out);
}

}  // namespace

std::vector<OpDef> access_ops() {
  return {
      {"read",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int cpu = static_cast<int>(src.below(static_cast<std::uint32_t>(m.ncpus)));
         Target t = pick_target(src, m, cpu, false);
         if (t.handle < 0) return;
         std::uint32_t len = src.length(std::min<std::uint32_t>(t.size - t.offset, 2 * PAGE_SIZE));
         repair(m, t, cpu, len, out);
         out.push_back({"read cpu" + std::to_string(cpu) + " " + t.text() + " len " + std::to_string(len),
                        [=](World& w) {
                          Outcome o;
                          o.bytes = w.pmap().load(cpu, t.va(w), len);
                          return o;
                        }});
       }},
      {"write",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int cpu = static_cast<int>(src.below(static_cast<std::uint32_t>(m.ncpus)));
         Target t = pick_target(src, m, cpu, false);
         if (t.handle < 0) return;
         std::uint32_t len = src.length(std::min<std::uint32_t>(t.size - t.offset, 2 * PAGE_SIZE));
         std::uint8_t seed = src.byte();
         repair(m, t, cpu, len, out);
         out.push_back({"write cpu" + std::to_string(cpu) + " " + t.text() + " len " + std::to_string(len) +
                            " seed " + std::to_string(seed),
                        [=](World& w) {
                          w.pmap().store(cpu, t.va(w), pattern(seed, t.offset, len));
                          return Outcome{};
                        }});
       }},
      {"copy",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int cpu = static_cast<int>(src.below(static_cast<std::uint32_t>(m.ncpus)));
         Target from = pick_target(src, m, cpu, false);
         Target to = pick_target(src, m, cpu, true);
         if (from.handle < 0 || to.handle < 0) return;
         std::uint32_t room = std::min(from.size - from.offset, to.size - to.offset);
         std::uint32_t len = src.length(std::min<std::uint32_t>(room, 2 * PAGE_SIZE));
         repair(m, from, cpu, len, out);
         repair(m, to, cpu, len, out);
         out.push_back({"copy cpu" + std::to_string(cpu) + " " + from.text() + " -> " + to.text() + " len " +
                            std::to_string(len),
                        [=](World& w) {
                          w.pmap().copy(cpu, to.va(w), from.va(w), len);
                          return Outcome{};
                        }});
       }},
  };
}

}  // namespace kva::fuzz
