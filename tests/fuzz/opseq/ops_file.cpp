// Files through the Kernel's Vfs: create (sub-page to 16K blocks, filled or holes), write(2) in
// the three buf(9) modes (may grow the file), read, fsync, sync, stores through a file mapping,
// sendfile, the buffer daemon and pageout. The decoder keeps every file's logical contents
// (FileModel) and predicts reads and results from it. File calls are made by a thread that holds
// no buffer, on a file none of whose buffers is held (so they never sleep on a buffer lock), and
// page loops that need an sf_buf start only when one is free: so every call returns within its op.
#include <algorithm>
#include <memory>

#include "tests/fuzz/opseq/ops.h"

namespace kva::fuzz {
namespace {

std::string fh(int f) { return "file#" + std::to_string(f); }

// A file that no buffer op holds, and a free thread; -1 when there is none.
struct Caller {
  int td = -1, file = -1;
};
Caller pick_caller(ByteSource& src, Model& m, bool need_sf_buf, bool need_bytes) {
  Caller c;
  std::vector<int> files;
  for (std::size_t f = 0; f < m.files.size(); ++f)
    if (!m.file_busy(static_cast<int>(f)) && (!need_bytes || m.files[f].size() > 0)) files.push_back(static_cast<int>(f));
  c.td = pick(src, m.free_threads());
  c.file = pick(src, files);
  if (need_sf_buf && !m.sf_buf_available()) c.td = -1;
  return c;
}

// Runs a Vfs call that reports through `done` and returns what it reported ("sleeps" if it had
// not returned when the scheduler ran out of work).
template <class Call>
Outcome call_and_wait(World& w, Call&& call) {
  auto result = std::make_shared<Outcome>(std::string("sleeps"));
  call(result);
  w.sched().run();
  return *result;
}

Thread& thread(World& w, int td) { return *w.threads[static_cast<std::size_t>(td)]; }
vnode& file(World& w, int f) { return *w.files[static_cast<std::size_t>(f)]; }

}  // namespace

std::vector<OpDef> file_ops() {
  return {
      {"file_create",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         static constexpr std::size_t bsizes[] = {512, 1024, 2048, 4096, 8192, 16384};
         const std::size_t bsize = bsizes[src.below(6)];
         const std::uint64_t size = src.below(static_cast<std::uint32_t>(Model::max_file_size + 1));
         const std::uint8_t seed = src.byte();
         const bool filled = seed & 1;
         if (static_cast<int>(m.files.size()) >= Model::max_files) return;
         auto bytes = filled ? pattern(seed, 0, size) : std::vector<std::uint8_t>(size, 0);
         const int f = static_cast<int>(m.files.size());
         m.files.emplace_back(bsize, bytes, true);  // on the device already: durable
         out.push_back({"file_create " + fh(f) + " bsize " + std::to_string(bsize) + " size " + std::to_string(size) +
                            (filled ? " seed " + std::to_string(seed) : " holes"),
                        [=](World& w) {
                          std::function<std::uint8_t(std::uint64_t)> fill;
                          if (filled) fill = [&bytes](std::uint64_t at) { return bytes[at]; };
                          w.files.push_back(&w.vfs().create("f" + std::to_string(f), bsize, size, fill));
                          return Outcome{};
                        }});
       }},
      {"file_write",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         Caller c = pick_caller(src, m, m.ref.shape().unmapped_bufs, false);
         if (c.td < 0 || c.file < 0) return;
         FileModel& fm = m.files[static_cast<std::size_t>(c.file)];
         // Mostly inside the file, sometimes past EOF (growing it, maybe over a hole).
         const std::uint64_t limit = std::min<std::uint64_t>(Model::max_file_size - 1, fm.size() + fm.bsize());
         const std::uint64_t off = src.below(static_cast<std::uint32_t>(limit + 1));
         const std::uint32_t len = src.length(static_cast<std::uint32_t>(
             std::min<std::uint64_t>(3 * fm.bsize(), Model::max_file_size - off)));
         const std::uint8_t seed = src.byte();
         const auto mode = static_cast<WriteMode>(src.below(3));
         static const char* modes[] = {"bdwrite", "bawrite", "bwrite"};
         auto data = pattern(seed, off, len);
         fm.write(off, data);
         const int td = c.td, f = c.file;
         Op op{"file_write td" + std::to_string(td) + " " + fh(f) + "+" + std::to_string(off) + " len " +
                   std::to_string(len) + " seed " + std::to_string(seed) + " " + modes[static_cast<int>(mode)],
               [=](World& w) {
                 return call_and_wait(w, [&](auto result) {
                   w.vfs().write(thread(w, td), file(w, f), off, data, mode,
                                 [result](int err) { result->what = std::to_string(err); });
                 });
               }};
         op.expect_what = "0";
         out.push_back(std::move(op));
       }},
      {"file_read",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         Caller c = pick_caller(src, m, m.ref.shape().unmapped_bufs, false);
         if (c.td < 0 || c.file < 0) return;
         const FileModel& fm = m.files[static_cast<std::size_t>(c.file)];
         const std::uint64_t off = src.below(static_cast<std::uint32_t>(fm.size() + 1));
         const std::uint32_t len = src.length(static_cast<std::uint32_t>(3 * fm.bsize()));
         const int td = c.td, f = c.file;
         Op op{"file_read td" + std::to_string(td) + " " + fh(f) + "+" + std::to_string(off) + " len " + std::to_string(len),
               [=](World& w) {
                 return call_and_wait(w, [&](auto result) {
                   w.vfs().read(thread(w, td), file(w, f), off, len,
                                [result](std::vector<std::uint8_t> data, int err) {
                                  result->what = std::to_string(err);
                                  result->bytes = std::move(data);
                                });
                 });
               }};
         op.expect_what = "0";
         op.expect_bytes = fm.read(off, len);
         out.push_back(std::move(op));
       }},
      {"fsync",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         Caller c = pick_caller(src, m, false, true);
         if (c.td < 0 || c.file < 0) return;
         FileModel& fm = m.files[static_cast<std::size_t>(c.file)];
         const std::uint64_t off = src.flag() ? 0 : src.below(static_cast<std::uint32_t>(fm.size()));
         const std::uint64_t len = src.flag() ? 0 : src.length(static_cast<std::uint32_t>(fm.size() - off));
         fm.synced(off, len);
         const int td = c.td, f = c.file;
         Op op{"fsync td" + std::to_string(td) + " " + fh(f) + "+" + std::to_string(off) + " len " +
                   (len ? std::to_string(len) : "EOF"),
               [=](World& w) {
                 Outcome o = call_and_wait(w, [&](auto result) {
                   w.vfs().fsync(thread(w, td), file(w, f), off, len, [result](int err) { result->what = std::to_string(err); });
                 });
                 // What is durable now: the device holds the range (whole blocks were written).
                 o.bytes = w.vfs().on_device(file(w, f), off, (len ? len : file(w, f).size() - off));
                 return o;
               }};
         op.expect_what = "0";
         op.expect_bytes = fm.read(off, len ? len : fm.size() - off);
         out.push_back(std::move(op));
       }},
      {"sync",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int td = pick(src, m.free_threads());
         if (td < 0 || m.any_file_busy()) return;
         for (auto& fm : m.files) fm.synced(0, 0);
         Op op{"sync td" + std::to_string(td), [=](World& w) {
                 return call_and_wait(w, [&](auto result) {
                   w.vfs().sync(thread(w, td), [result](int err) { result->what = std::to_string(err); });
                 });
               }};
         op.expect_what = "0";
         out.push_back(std::move(op));
       }},
      {"file_write_mapped",  // a store through a mapping of the file: dirties the cached page
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         Caller c = pick_caller(src, m, true, true);
         if (c.td < 0 || c.file < 0) return;
         FileModel& fm = m.files[static_cast<std::size_t>(c.file)];
         const std::uint64_t off = src.below(static_cast<std::uint32_t>(fm.size()));
         const std::uint32_t len = src.length(static_cast<std::uint32_t>(std::min<std::uint64_t>(fm.size() - off, 2 * PAGE_SIZE)));
         const std::uint8_t seed = src.byte();
         auto data = pattern(seed, off, len);
         fm.write(off, data);
         const int td = c.td, f = c.file;
         Op op{"file_write_mapped td" + std::to_string(td) + " " + fh(f) + "+" + std::to_string(off) + " len " +
                   std::to_string(len) + " seed " + std::to_string(seed),
               [=](World& w) {
                 return call_and_wait(w, [&](auto result) {
                   w.vfs().write_mapped(thread(w, td), file(w, f), off, data,
                                        [result](int err) { result->what = std::to_string(err); });
                 });
               }};
         op.expect_what = "0";
         out.push_back(std::move(op));
       }},
      {"mapped_store_during_flush",
       // The buffer daemon's writes are in flight (device held) while a CPU stores through a
       // mapping into a page of one of those buffers; the store must survive the completion.
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         Caller c = pick_caller(src, m, true, true);
         if (c.td < 0 || c.file < 0) return;
         vnode& vp = *m.ref.files[static_cast<std::size_t>(c.file)];
         std::vector<int> dirty;
         const auto bufs = m.ref.bufs().dirty_buffers(vp.bo());
         for (std::size_t i = 0; i < bufs.size(); ++i) dirty.push_back(static_cast<int>(i));
         const int which = pick(src, dirty);
         const std::uint8_t seed = src.byte();
         if (which < 0) return;
         FileModel& fm = m.files[static_cast<std::size_t>(c.file)];
         const buf* bp = bufs[static_cast<std::size_t>(which)];
         const auto lo = static_cast<std::uint64_t>(bp->b_offset);
         const std::uint64_t hi = std::min<std::uint64_t>(lo + static_cast<std::uint64_t>(bp->b_bcount), fm.size());
         if (lo >= hi) return;
         const std::uint64_t off = lo + src.below(static_cast<std::uint32_t>(hi - lo));
         const std::uint32_t len = src.length(static_cast<std::uint32_t>(std::min<std::uint64_t>(hi - off, 2 * PAGE_SIZE)));
         // Only valid pages: a read would wait for the held device.
         for (std::uint64_t p = off / PAGE_SIZE; p <= (off + len - 1) / PAGE_SIZE; ++p) {
           const vm_page* pg = vp.object().lookup(p);
           if (!pg || pg->valid != VM_PAGE_BITS_ALL) return;
         }
         auto data = pattern(seed, off, len);
         fm.write(off, data);
         const int td = c.td, f = c.file, cpu = m.thread_cpu(c.td);
         Op op{"mapped_store_during_flush td" + std::to_string(td) + " " + fh(f) + "+" + std::to_string(off) + " len " +
                   std::to_string(len) + " seed " + std::to_string(seed),
               [=](World& w) {
                 w.kernel().device().hold();
                 const std::size_t flushed = w.bufs().flush_dirty(cpu, true);
                 Outcome o = call_and_wait(w, [&](auto result) {
                   w.vfs().write_mapped(thread(w, td), file(w, f), off, data,
                                        [result](int err) { result->what = std::to_string(err); });
                 });
                 w.kernel().device().release();
                 o.what += " while " + std::to_string(flushed) + " writes were in flight";
                 return o;
               }};
         out.push_back(std::move(op));
       }},
      {"sendfile",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         Caller c = pick_caller(src, m, true, true);
         const int checksum_cpu = static_cast<int>(src.below(static_cast<std::uint32_t>(m.ncpus + 1))) - 1;
         if (c.td < 0 || c.file < 0) return;
         const FileModel& fm = m.files[static_cast<std::size_t>(c.file)];
         const std::uint64_t off = src.below(static_cast<std::uint32_t>(fm.size()));
         const std::uint32_t len = src.length(static_cast<std::uint32_t>(fm.size() - off));
         const int td = c.td, f = c.file;
         // The Vfs compares what the guest read with its own model (first_mismatch); the
         // checksum is compared across archs.
         Op op{"sendfile td" + std::to_string(td) + " " + fh(f) + "+" + std::to_string(off) + " len " +
                   std::to_string(len) + " checksum cpu " + std::to_string(checksum_cpu),
               [=](World& w) {
                 return call_and_wait(w, [&](auto result) {
                   w.vfs().sendfile(thread(w, td), file(w, f), off, len, checksum_cpu,
                                    [result](SendfileResult r, int err) {
                                      result->what = std::to_string(err) + " bytes " + std::to_string(r.bytes);
                                      if (r.first_mismatch)
                                        result->what += " differs from the model at " + std::to_string(*r.first_mismatch);
                                      for (int i = 0; i < 4; ++i)
                                        result->bytes.push_back(static_cast<std::uint8_t>(r.checksum >> (8 * i)));
                                    });
                 });
               }};
         op.expect_what = "0 bytes " + std::to_string(std::min<std::uint64_t>(len, fm.size() - off));
         out.push_back(std::move(op));
       }},
      {"buf_daemon",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         const int cpu = static_cast<int>(src.below(static_cast<std::uint32_t>(m.ncpus)));
         const bool all = src.flag();
         out.push_back({"buf_daemon cpu" + std::to_string(cpu) + (all ? " all" : ""), [=](World& w) {
                          return Outcome{"flushed " + std::to_string(w.bufs().flush_dirty(cpu, all))};
                        }});
       }},
      {"pageout",  // memory pressure: clean buffers let their pages go, vm_pageout takes them
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         const int cpu = static_cast<int>(src.below(static_cast<std::uint32_t>(m.ncpus)));
         out.push_back({"pageout cpu" + std::to_string(cpu), [=](World& w) {
                          const std::size_t bufs = w.bufs().release_clean(cpu);
                          return Outcome{std::to_string(bufs) + " buffers, " + std::to_string(w.vfs().pageout()) + " pages"};
                        }});
       }},
  };
}

Op verify_files_op(const Model& m) {
  Op op{"sync and compare every file's device contents with the model (end of sequence)", [](World& w) {
          Outcome o = call_and_wait(w, [&](auto result) {
            w.vfs().sync(w.kernel().cpu_thread(0), [result](int err) { result->what = std::to_string(err); });
          });
          for (vnode* vp : w.files) {
            const auto dev = w.vfs().on_device(*vp, 0, vp->size());
            o.bytes.insert(o.bytes.end(), dev.begin(), dev.end());
          }
          return o;
        }};
  op.expect_what = "0";
  op.expect_bytes.emplace();
  for (const auto& f : m.files) op.expect_bytes->insert(op.expect_bytes->end(), f.bytes().begin(), f.bytes().end());
  return op;
}

}  // namespace kva::fuzz
