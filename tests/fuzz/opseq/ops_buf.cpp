// buf(9) on file blocks, as a file system uses it: getblk/bread (GB_UNMAPPED, GB_NOWAIT) by a
// thread holding no other buffer (so holders never wait for each other), loads and stores
// through b_data by any CPU (a store is validated and dirtied like a write(2) copy), then
// bwrite/bawrite/bdwrite, or brelse/bqrelse of an unchanged buffer. A getblk of a block
// another thread holds sleeps until it is released. B_INVAL/B_NOCACHE are only given to buffers
// with nothing dirty in them (they discard the contents, as FreeBSD does).
#include <algorithm>

#include "tests/fuzz/opseq/ops.h"

namespace kva::fuzz {
namespace {

std::string bh(int h) { return "buf#" + std::to_string(h); }

buf* bp_of(World& w, int h) { return w.bufs_held[static_cast<std::size_t>(h)].bp; }
Thread& holder(World& w, int h) {
  return *w.threads[static_cast<std::size_t>(w.bufs_held[static_cast<std::size_t>(h)].thread)];
}
void released(World& w, int h) { w.bufs_held[static_cast<std::size_t>(h)].state = BufHandle::State::Released; }

// File bytes [lo, hi) of a held buffer that lie inside the file (bytes past EOF stay zeros).
struct Span {
  std::uint64_t file_off;  // of the block
  std::uint32_t inside;    // bytes of the block before EOF
};
Span span_of(const Model& m, int h) {
  const BufHandle& b = m.ref.bufs_held[static_cast<std::size_t>(h)];
  const FileModel& f = m.files[static_cast<std::size_t>(b.file)];
  Span s;
  s.file_off = static_cast<std::uint64_t>(b.lblkno) * f.bsize();
  s.inside = static_cast<std::uint32_t>(std::min<std::uint64_t>(f.bsize(), f.size() - s.file_off));
  return s;
}

// Nothing in the buffer would be lost if it were discarded.
bool discardable(const Model& m, int h) {
  const buf* bp = m.ref.bufs_held[static_cast<std::size_t>(h)].bp;
  if (bp->b_flags & B_DELWRI) return false;
  for (int i = 0; i < bp->b_npages; ++i)
    if (bp->b_pages[static_cast<std::size_t>(i)]->dirty) return false;
  return true;
}

void get_op(ByteSource& src, Model& m, std::vector<Op>& out, bool read) {
  if (static_cast<int>(m.ref.bufs_held.size()) >= Model::max_buf_handles) return;
  int td = pick(src, m.free_threads());
  std::vector<int> files;
  for (std::size_t f = 0; f < m.files.size(); ++f)
    if (m.files[f].size() > 0) files.push_back(static_cast<int>(f));
  int file = pick(src, files);
  std::uint8_t b = src.byte();
  if (td < 0 || file < 0) return;
  const auto lbn = static_cast<daddr_t>(src.below(static_cast<std::uint32_t>(m.files[static_cast<std::size_t>(file)].nblocks())));
  const int flags = ((b & 1) ? GB_UNMAPPED : 0) | ((b & 2) ? GB_NOWAIT : 0);
  const int handle = static_cast<int>(m.ref.bufs_held.size());
  m.bufs.emplace_back();
  std::string text = std::string(read ? "bread" : "getblk") + " td" + std::to_string(td) + " file#" +
                     std::to_string(file) + " lblkno " + std::to_string(lbn) +
                     ((flags & GB_UNMAPPED) ? " UNMAPPED" : "") + ((flags & GB_NOWAIT) ? " NOWAIT" : "") +
                     " -> " + bh(handle);
  out.push_back({text, [=](World& w) {
                   BufHandle h;
                   h.thread = td;
                   h.file = file;
                   h.lblkno = lbn;
                   w.bufs_held.push_back(h);
                   w.start_getblk(handle, read, flags);
                   return Outcome{w.describe(w.bufs_held.back())};
                 }});
}

// A held, mapped buffer with valid contents, and a range of it inside the file.
struct Pick {
  int h = -1;
  std::uint32_t off = 0, len = 0;
};
Pick pick_range(ByteSource& src, Model& m) {
  Pick p;
  std::vector<int> ok;
  for (int h : m.live_bufs())
    if (m.ref.bufs_held[static_cast<std::size_t>(h)].bp->b_data && m.buf_valid(h)) ok.push_back(h);
  p.h = pick(src, ok);
  if (p.h < 0) return p;
  const Span s = span_of(m, p.h);
  p.off = src.below(s.inside);
  p.len = src.length(s.inside - p.off);
  return p;
}

}  // namespace

std::vector<OpDef> buf_ops() {
  return {
      {"getblk", [](ByteSource& src, Model& m, std::vector<Op>& out) { get_op(src, m, out, false); }},
      {"bread", [](ByteSource& src, Model& m, std::vector<Op>& out) { get_op(src, m, out, true); }},
      {"buf_store",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int cpu = static_cast<int>(src.below(static_cast<std::uint32_t>(m.ncpus)));
         std::uint8_t seed = src.byte();
         // A buffer without valid contents is filled whole (zeros past EOF, as the device has).
         std::vector<int> unfilled;
         for (int h : m.live_bufs())
           if (m.ref.bufs_held[static_cast<std::size_t>(h)].bp->b_data && !m.buf_valid(h)) unfilled.push_back(h);
         Pick p;
         if (!unfilled.empty() && src.flag()) {
           p.h = pick(src, unfilled);
           p.off = 0;
           p.len = static_cast<std::uint32_t>(m.files[static_cast<std::size_t>(m.ref.bufs_held[static_cast<std::size_t>(p.h)].file)].bsize());
         } else {
           p = pick_range(src, m);
         }
         if (p.h < 0) return;
         const int h = p.h;
         const Span s = span_of(m, h);
         const int file = m.ref.bufs_held[static_cast<std::size_t>(h)].file;
         std::vector<std::uint8_t> data = pattern(seed, s.file_off + p.off, p.len);
         for (std::uint32_t i = 0; i < p.len; ++i)
           if (p.off + i >= s.inside) data[i] = 0;
         m.files[static_cast<std::size_t>(file)].write(
             s.file_off + p.off, std::vector<std::uint8_t>(data.begin(), data.begin() + std::min(p.len, s.inside - std::min(p.off, s.inside))));
         m.bufs[static_cast<std::size_t>(h)].filled |= p.off == 0 && p.len >= s.inside;
         m.bufs[static_cast<std::size_t>(h)].modified = true;
         const std::uint32_t off = p.off;
         out.push_back({"buf_store cpu" + std::to_string(cpu) + " " + bh(h) + "+" + std::to_string(off) + " len " +
                            std::to_string(p.len) + " seed " + std::to_string(seed),
                        [=](World& w) {
                          buf* bp = bp_of(w, h);
                          Thread& td = holder(w, h);
                          w.kernel().store(cpu, bp->b_data + off, data);
                          w.bufs().vfs_bio_set_valid(td, bp, static_cast<int>(off), static_cast<int>(data.size()));
                          w.bufs().vfs_bio_set_dirty(td, bp, static_cast<int>(off), static_cast<int>(data.size()));
                          return Outcome{};
                        }});
       }},
      {"buf_load",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int cpu = static_cast<int>(src.below(static_cast<std::uint32_t>(m.ncpus)));
         Pick p = pick_range(src, m);
         if (p.h < 0) return;
         const int h = p.h;
         const std::uint32_t off = p.off, len = p.len;
         Op op{"buf_load cpu" + std::to_string(cpu) + " " + bh(h) + "+" + std::to_string(off) + " len " + std::to_string(len),
               [=](World& w) {
                 Outcome o;
                 o.bytes = w.pmap().load(cpu, bp_of(w, h)->b_data + off, len);
                 return o;
               }};
         op.expect_bytes = m.files[static_cast<std::size_t>(m.ref.bufs_held[static_cast<std::size_t>(h)].file)].read(
             span_of(m, h).file_off + off, len);
         out.push_back(std::move(op));
       }},
      {"buf_write",  // bwrite, bawrite or bdwrite of a buffer with valid contents
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         std::vector<int> ok;
         for (int h : m.live_bufs())
           if (m.buf_valid(h)) ok.push_back(h);
         int h = pick(src, ok);
         int how = static_cast<int>(src.below(3));
         if (h < 0) return;
         static const char* names[] = {"bwrite", "bawrite", "bdwrite"};
         Op op{std::string(names[how]) + " " + bh(h), [=](World& w) {
                 buf* bp = bp_of(w, h);
                 Thread& td = holder(w, h);
                 released(w, h);
                 if (how == 1) {
                   w.bufs().bawrite(td, bp);
                   return Outcome{};
                 }
                 if (how == 2) {
                   w.bufs().bdwrite(td, bp);
                   return Outcome{};
                 }
                 auto result = std::make_shared<std::string>("sleeps");
                 w.bufs().bwrite(td, bp, [result](int err) { *result = std::to_string(err); });
                 w.sched().run();
                 return Outcome{*result};
               }};
         if (how == 0) op.expect_what = "0";
         out.push_back(std::move(op));
       }},
      {"buf_release",  // brelse (with B_RELBUF, B_NOCACHE, B_INVAL) or bqrelse of an unchanged buffer
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         std::vector<int> ok;
         for (int h : m.live_bufs())
           if (!m.bufs[static_cast<std::size_t>(h)].modified) ok.push_back(h);
         int h = pick(src, ok);
         std::uint8_t b = src.byte();
         if (h < 0) return;
         const bool quick = b & 1;
         std::uint32_t flags = (b & 2) ? B_RELBUF : 0;
         if (discardable(m, h)) flags |= ((b & 4) ? B_NOCACHE : 0) | ((b & 8) ? B_INVAL : 0);
         std::string text = quick ? "bqrelse " + bh(h) : "brelse " + bh(h);
         for (const auto& f : kBufFlagNames)
           if (!quick && (flags & f.flag)) text += std::string(" B_") + f.name;
         out.push_back({text, [=](World& w) {
                          buf* bp = bp_of(w, h);
                          Thread& td = holder(w, h);
                          released(w, h);
                          if (quick) {
                            w.bufs().bqrelse(td, bp);
                          } else {
                            bp->b_flags |= flags;
                            w.bufs().brelse(td, bp);
                          }
                          return Outcome{};
                        }});
       }},
  };
}

void release_held_buffers(Model& m, std::vector<Op>& out) {
  for (int h : m.live_bufs()) {
    const bool changed = m.bufs[static_cast<std::size_t>(h)].modified;
    out.push_back({(changed ? "bawrite " : "bqrelse ") + bh(h) + " (end of sequence)", [=](World& w) {
                     buf* bp = bp_of(w, h);
                     Thread& td = holder(w, h);
                     released(w, h);
                     if (changed)
                       w.bufs().bawrite(td, bp);
                     else
                       w.bufs().bqrelse(td, bp);
                     return Outcome{};
                   }});
  }
}

}  // namespace kva::fuzz
