// sf_buf(9): alloc with random flags on a random idle thread, free (by any idle thread), ref,
// and signals. Allocations may sleep; they complete during a later op's Scheduler::run().
#include "tests/fuzz/opseq/ops.h"

namespace kva::fuzz {
namespace {

constexpr std::size_t kMaxHandles = 96;

std::string flag_text(int flags) {
  std::string s;
  if (flags & SFB_NOWAIT) s += "|NOWAIT";
  if (flags & SFB_CATCH) s += "|CATCH";
  if (flags & SFB_CPUPRIVATE) s += "|CPUPRIVATE";
  return s.empty() ? "0" : s.substr(1);
}

std::string describe(const SfHandle& h, World& w) {
  switch (h.state) {
    case SfHandle::State::Live: return w.describe(h.sf);
    case SfHandle::State::Null: return "NULL";
    case SfHandle::State::Pending: return "sleeps";
    case SfHandle::State::Freed: return "freed";
  }
  return "?";
}

}  // namespace

std::vector<OpDef> sf_buf_ops() {
  return {
      {"sf_buf_alloc",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         if (m.ref.sfs.size() >= kMaxHandles) return;
         int td = pick(src, m.idle_threads());
         std::vector<int> wired;
         for (int p : m.live_pages())
           if (m.ref.pages[static_cast<std::size_t>(p)]->wire_count > 0) wired.push_back(p);
         int p = pick(src, wired);
         std::uint8_t f = src.byte();
         if (td < 0 || p < 0) return;
         int flags = ((f & 1) ? SFB_NOWAIT : 0) | ((f & 2) ? SFB_CATCH : 0) | ((f & 4) ? SFB_CPUPRIVATE : 0);
         out.push_back({"sf_buf_alloc td" + std::to_string(td) + " page#" + std::to_string(p) + " " +
                            flag_text(flags) + " -> sf#" + std::to_string(m.ref.sfs.size()),
                        [=](World& w) {
                          SfHandle h;
                          h.page = p;
                          h.thread = td;
                          h.cpuprivate = flags & SFB_CPUPRIVATE;
                          w.sfs.push_back(h);
                          int handle = static_cast<int>(w.sfs.size() - 1);
                          w.start_alloc(handle, flags);
                          return Outcome{describe(w.sfs.back(), w)};
                        }});
       }},
      {"sf_buf_free",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int h = pick(src, m.live_sfs());
         int td = pick(src, m.idle_threads());
         if (h < 0 || td < 0) return;
         out.push_back({"sf_buf_free sf#" + std::to_string(h) + " by td" + std::to_string(td),
                        [=](World& w) {
                          SfHandle& s = w.sfs[static_cast<std::size_t>(h)];
                          s.state = SfHandle::State::Freed;
                          w.sfbufs().sf_buf_free(*w.threads[static_cast<std::size_t>(td)], s.sf);
                          return Outcome{};
                        }});
       }},
      {"sf_buf_ref",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         if (m.ref.sfs.size() >= kMaxHandles) return;
         int h = pick(src, m.live_sfs());
         if (h < 0) return;
         out.push_back({"sf_buf_ref sf#" + std::to_string(h) + " -> sf#" + std::to_string(m.ref.sfs.size()),
                        [=](World& w) {
                          SfHandle copy = w.sfs[static_cast<std::size_t>(h)];
                          w.sfbufs().sf_buf_ref(copy.sf);
                          w.sfs.push_back(copy);
                          return Outcome{w.describe(copy.sf)};
                        }});
       }},
      {"signal",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int td = static_cast<int>(src.below(static_cast<std::uint32_t>(m.ref.threads.size())));
         out.push_back({"signal td" + std::to_string(td), [=](World& w) {
                          w.sched().signal(*w.threads[static_cast<std::size_t>(td)]);
                          return Outcome{};
                        }});
       }},
  };
}

}  // namespace kva::fuzz
