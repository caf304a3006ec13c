// buf(9) steps: getblk, geteblk, bread, breadn, bwrite, bawrite, bdwrite, brelse, bqrelse,
// allocbuf, bstrategy, bufwait, buf_map, buf_write, buf_set_valid, buf_set_dirty, buf_check,
// buf_daemon, device, pending.
#include <algorithm>

#include "runner/byte_pattern.h"
#include "runner/op_outcome.h"
#include "runner/run_context.h"
#include "runner/step_op.h"

namespace kva::runner {
namespace {

int parse_gb_flags(Fields& f, const YamlReader& r, int allowed) {
  int flags = 0;
  if (!f.has("flags")) return flags;
  for (const std::string& given : r.str_list(f.get("flags"), f.what() + ".flags")) {
    std::string s = given.rfind("GB_", 0) == 0 ? given.substr(3) : given;
    const int bit = s == "UNMAPPED" ? GB_UNMAPPED : s == "NOCREAT" ? GB_NOCREAT : s == "NOWAIT" ? GB_NOWAIT : 0;
    if (!bit || !(bit & allowed))
      throw r.error(f.get("flags"), f.what() + ".flags: '" + given + "' is not accepted here (" +
                                        std::string(allowed & GB_NOCREAT ? "UNMAPPED, NOCREAT, NOWAIT" : "UNMAPPED, NOWAIT") + ")");
    flags |= bit;
  }
  return flags;
}

// `as:` naming the buffer a call returns.
std::string define_buffer(Fields& f, ParseContext& pc) {
  YAML::Node as = f.require("as");
  std::string name = pc.reader().name(as, f.what() + ".as");
  pc.define(as, name, ParseContext::Kind::Buffer);
  return name;
}

// The op's record name: `as:` (an operation name) when given, else the step label.
std::optional<std::string> define_op(Fields& f, ParseContext& pc) {
  if (!f.has("as")) return std::nullopt;
  YAML::Node as = f.get("as");
  std::string name = pc.reader().name(as, f.what() + ".as");
  pc.define(as, name, ParseContext::Kind::Op);
  return name;
}

int parse_size(Fields& f, const char* key = "size") {
  if (!f.has(key)) return 0;  // the file's block size
  return static_cast<int>(f.reader().integer(f.get(key), f.what() + "." + key, 1, MAXBSIZE));
}

// --- getblk, bread, breadn, geteblk

struct GetBuf : StepOp {
  enum class Call { Getblk, Bread, Geteblk } call = Call::Getblk;
  Actor actor;
  std::string file, as;
  daddr_t lblkno = 0;
  int size = 0, flags = 0;
  std::vector<daddr_t> rablkno;
  OutcomeSpec outcome;
  void run(RunContext& ctx) override {
    Thread& td = actor.get(ctx);
    BufCache& bc = ctx.kernel().bufs();
    const char* op = call == Call::Getblk ? "getblk" : call == Call::Bread ? (rablkno.empty() ? "bread" : "breadn") : "geteblk";
    run_op(ctx, outcome, as, op, td, [&](Finish finish) {
      auto done = [finish](buf* bp, int error) { finish(bp, error); };
      if (call == Call::Geteblk) return bc.geteblk(td, size, flags, done);
      vnode& vp = *ctx.file(file);
      const int sz = size ? size : static_cast<int>(vp.bsize());
      if (call == Call::Getblk) return bc.getblk(td, vp.bo(), lblkno, sz, flags, done);
      const std::vector<int> rabsize(rablkno.size(), static_cast<int>(vp.bsize()));
      return bc.breadn(td, vp.bo(), lblkno, sz, rablkno, rabsize, flags, done);
    });
  }
};

std::unique_ptr<StepOp> parse_get(Fields& f, ParseContext& pc, GetBuf::Call call) {
  const YamlReader& r = pc.reader();
  auto op = std::make_unique<GetBuf>();
  op->call = call;
  op->actor = Actor::parse(f, pc);
  if (call == GetBuf::Call::Geteblk) {
    op->size = static_cast<int>(r.integer(f.require("size"), "geteblk.size", 1, MAXBSIZE));
    op->flags = parse_gb_flags(f, r, GB_NOWAIT);
  } else {
    op->file = pc.file(f);
    op->lblkno = r.integer(f.require("lblkno"), f.what() + ".lblkno", 0, 1 << 24);
    op->size = parse_size(f);
    op->flags = parse_gb_flags(f, r, call == GetBuf::Call::Getblk ? GB_UNMAPPED | GB_NOCREAT | GB_NOWAIT
                                                                  : GB_UNMAPPED | GB_NOWAIT);
    if (f.has("rablkno")) {
      if (f.what() != "breadn") throw r.error(f.get("rablkno"), f.what() + ": read-ahead is breadn's");
      YAML::Node ra = f.get("rablkno");
      r.require_seq(ra, "breadn.rablkno");
      for (const auto& b : ra) op->rablkno.push_back(r.integer(b, "breadn.rablkno", 0, 1 << 24));
    } else if (f.what() == "breadn") {
      throw r.error(f.node(), "breadn: missing field 'rablkno' (use bread without read-ahead)");
    }
  }
  op->outcome = OutcomeSpec::parse(f, pc, /*returns_buffer=*/true);
  op->as = define_buffer(f, pc);
  return op;
}

// --- calls on a buffer a thread holds

struct OnBuf : StepOp {
  enum class Call { Bawrite, Bdwrite, Brelse, Bqrelse, Allocbuf, Bstrategy, SetValid, SetDirty };
  Call call = Call::Brelse;
  std::string buf_name;
  std::optional<std::string> thread;  // default: the thread holding it
  std::uint32_t set_flags = 0;        // brelse: B_RELBUF / B_NOCACHE / B_INVAL first
  int size = 0, offset = 0, len = 0;
  std::uint8_t iocmd = BIO_READ;
  void run(RunContext& ctx) override {
    buf* bp = ctx.locked_buffer(buf_name);
    Thread& td = thread ? ctx.thread(*thread) : *ctx.op(buf_name).td;
    BufCache& bc = ctx.kernel().bufs();
    switch (call) {
      case Call::Bawrite: bc.bawrite(td, bp); break;
      case Call::Bdwrite: bc.bdwrite(td, bp); break;
      case Call::Brelse:
        if (set_flags && !bc.owned_by(td, bp)) bc.brelse(td, bp);  // reports the misuse
        bp->b_flags |= set_flags;
        bc.brelse(td, bp);
        break;
      case Call::Bqrelse: bc.bqrelse(td, bp); break;
      case Call::Allocbuf: bc.allocbuf(td, bp, size); break;
      case Call::Bstrategy: bc.bstrategy(td, bp, iocmd); break;
      case Call::SetValid: bc.vfs_bio_set_valid(td, bp, offset, len); break;
      case Call::SetDirty: bc.vfs_bio_set_dirty(td, bp, offset, len); break;
    }
  }
};

std::unique_ptr<StepOp> parse_on_buf(Fields& f, ParseContext& pc, OnBuf::Call call) {
  const YamlReader& r = pc.reader();
  auto op = std::make_unique<OnBuf>();
  op->call = call;
  op->buf_name = pc.buffer(f);
  op->thread = pc.optional_thread(f);
  if (call == OnBuf::Call::Brelse && f.has("flags")) {
    for (const std::string& given : r.str_list(f.get("flags"), "brelse.flags")) {
      const std::string s = given.rfind("B_", 0) == 0 ? given.substr(2) : given;
      const std::uint32_t bit = s == "RELBUF" ? B_RELBUF : s == "NOCACHE" ? B_NOCACHE : s == "INVAL" ? B_INVAL : 0;
      if (!bit) throw r.error(f.get("flags"), "brelse.flags: '" + given + "' (expected RELBUF, NOCACHE, INVAL)");
      op->set_flags |= bit;
    }
  }
  if (call == OnBuf::Call::Allocbuf) op->size = static_cast<int>(r.integer(f.require("size"), "allocbuf.size", 1, MAXBSIZE));
  if (call == OnBuf::Call::Bstrategy) {
    const std::string cmd = r.str(f.require("cmd"), "bstrategy.cmd");
    if (cmd != "read" && cmd != "write") throw r.error(f.get("cmd"), "bstrategy.cmd: expected read or write");
    op->iocmd = cmd == "read" ? BIO_READ : BIO_WRITE;
  }
  if (call == OnBuf::Call::SetValid || call == OnBuf::Call::SetDirty) {
    op->offset = static_cast<int>(r.integer(f.require("offset"), f.what() + ".offset", 0, MAXBSIZE));
    op->len = static_cast<int>(r.integer(f.require("len"), f.what() + ".len", 1, MAXBSIZE));
  }
  return op;
}

// bwrite, bufwait, buf_map: calls on a held buffer that may sleep.
struct WaitBuf : StepOp {
  enum class Call { Bwrite, Bufwait, Map } call = Call::Bwrite;
  std::string buf_name, name;
  std::optional<std::string> thread;
  OutcomeSpec outcome;
  void run(RunContext& ctx) override {
    buf* bp = ctx.locked_buffer(buf_name);
    Thread& td = thread ? ctx.thread(*thread) : *ctx.op(buf_name).td;
    BufCache& bc = ctx.kernel().bufs();
    const char* op = call == Call::Bwrite ? "bwrite" : call == Call::Bufwait ? "bufwait" : "buf_map";
    run_op(ctx, outcome, name.empty() ? ctx.step_label() : name, op, td, [&](Finish finish) {
      auto done = [finish](int error) { finish(nullptr, error); };
      if (call == Call::Bwrite) return bc.bwrite(td, bp, done);
      if (call == Call::Bufwait) return bc.bufwait(td, bp, done);
      return bc.bp_unmapped_get_kva(td, bp, done);
    });
  }
};

std::unique_ptr<StepOp> parse_wait_buf(Fields& f, ParseContext& pc, WaitBuf::Call call) {
  auto op = std::make_unique<WaitBuf>();
  op->call = call;
  op->buf_name = pc.buffer(f);
  op->thread = pc.optional_thread(f);
  op->outcome = OutcomeSpec::parse(f, pc, false);
  op->name = define_op(f, pc).value_or("");
  return op;
}

// buf_write: a dirty operation through b_data by a CPU (guest stores, both staleness oracles),
// plus the validation of the bytes written.
struct BufWrite : StepOp {
  std::string buf_name;
  int cpu = 0;
  int offset = 0, len = 16;
  BytePattern data;
  void run(RunContext& ctx) override {
    buf* bp = ctx.locked_buffer(buf_name);
    Thread& td = *ctx.op(buf_name).td;
    if (!buf_mapped(bp)) throw StepError("buf_write: buffer " + buf_name + " is unmapped (no b_data)");
    if (offset + len > bp->b_bcount)
      throw StepError("buf_write: [" + std::to_string(offset) + ", " + std::to_string(offset + len) +
                      ") runs past b_bcount " + std::to_string(bp->b_bcount));
    const std::size_t page_off = bp->b_offset == NOOFFSET ? static_cast<std::size_t>(offset)
                                                          : static_cast<std::size_t>(bp->b_offset + offset) & PAGE_MASK;
    ctx.kernel().store(cpu, bp->b_data + static_cast<vaddr_t>(offset), data.bytes(page_off, static_cast<std::size_t>(len)));
    ctx.kernel().bufs().vfs_bio_set_valid(td, bp, offset, len);
    ctx.kernel().bufs().vfs_bio_set_dirty(td, bp, offset, len);
  }
};

// --- inspection

struct BufExpect {
  std::uint32_t flags = 0, not_flags = 0;
  std::optional<std::pair<int, int>> dirty, valid;
  std::optional<long> bcount, bufsize;
  std::optional<int> npages, bogus;
  std::optional<bool> mapped, locked, lazy_unmapped;
  std::optional<std::size_t> data_offset;
  std::optional<std::string> queue, same_as;
  std::optional<std::uint32_t> page_valid, page_dirty;
  int page = 0;
};

std::uint32_t parse_bflags(const YamlReader& r, const YAML::Node& n, const std::string& what) {
  std::uint32_t out = 0;
  for (const std::string& given : r.str_list(n, what)) {
    const std::string s = given.rfind("B_", 0) == 0 ? given.substr(2) : given;
    std::uint32_t bit = 0;
    for (const auto& [name, v] : kBufFlagNames) if (s == name) bit = v;
    if (!bit) throw r.error(n, what + ": unknown flag '" + given + "' (CACHE, DELWRI, DONE, INVAL, NOCACHE, RELBUF, VMIO, ASYNC, MALLOC)");
    out |= bit;
  }
  return out;
}

struct BufCheck : StepOp {
  std::string buf_name;
  Selectable<BufExpect> expect;
  void run(RunContext& ctx) override {
    const BufExpect* e = expect.resolve(ctx.arch());
    if (!e) return;
    buf* bp = ctx.buffer(buf_name);
    auto fail = [&](const std::string& what, const std::string& want, const std::string& got) {
      ctx.fail({"", "unexpected value", "buffer " + buf_name + ": " + what, std::nullopt, std::nullopt, want, got});
    };
    auto flag_text = [](std::uint32_t f) { char b[16]; std::snprintf(b, sizeof b, "0x%x", f); return std::string(b); };
    if ((bp->b_flags & e->flags) != e->flags) fail("b_flags lack " + flag_text(e->flags & ~bp->b_flags), flag_text(e->flags), flag_text(bp->b_flags));
    if (bp->b_flags & e->not_flags) fail("b_flags have " + flag_text(bp->b_flags & e->not_flags), "not " + flag_text(e->not_flags), flag_text(bp->b_flags));
    auto range = [&](const char* what, const std::optional<std::pair<int, int>>& want, int off, int end) {
      if (want && (want->first != off || want->second != end))
        fail(std::string(what) + " range", "[" + std::to_string(want->first) + ", " + std::to_string(want->second) + ")",
             "[" + std::to_string(off) + ", " + std::to_string(end) + ")");
    };
    range("dirty", e->dirty, bp->b_dirtyoff, bp->b_dirtyend);
    range("valid", e->valid, bp->b_validoff, bp->b_validend);
    auto num = [&](const char* what, auto want, auto got) {
      if (want && static_cast<long long>(*want) != static_cast<long long>(got))
        fail(what, std::to_string(*want), std::to_string(got));
    };
    num("b_bcount", e->bcount, bp->b_bcount);
    num("b_bufsize", e->bufsize, bp->b_bufsize);
    num("b_npages", e->npages, bp->b_npages);
    const vm_page* bogus = ctx.kernel().bufs().bogus_page();
    num("bogus_page slots in b_pages", e->bogus,
        std::count(bp->b_pages.begin(), bp->b_pages.begin() + bp->b_npages, bogus));
    auto yes = [&](const char* what, const std::optional<bool>& want, bool got) {
      if (want && *want != got) fail(what, *want ? "yes" : "no", got ? "yes" : "no");
    };
    yes("mapped (has KVA)", e->mapped, buf_mapped(bp));
    yes("locked", e->locked, bp->b_locked);
    yes("lazily unmapped", e->lazy_unmapped, bp->b_lazy_unmapped);
    if (e->data_offset && buf_mapped(bp)) num("b_data - b_kvabase", e->data_offset, bp->b_data - bp->b_kvabase);
    if (e->queue && *e->queue != buf_queue_name(bp->b_qindex)) fail("queue", *e->queue, buf_queue_name(bp->b_qindex));
    if (e->same_as && ctx.buffer(*e->same_as) != bp) fail("struct buf", "the same as " + *e->same_as, "another");
    if (e->page_valid || e->page_dirty) {
      if (e->page >= bp->b_npages) throw StepError("buf_check.page: the buffer has " + std::to_string(bp->b_npages) + " pages");
      const vm_page* m = bp->b_pages[static_cast<std::size_t>(e->page)];
      num("page valid bits", e->page_valid, m->valid);
      num("page dirty bits", e->page_dirty, m->dirty);
    }
  }
};

Selectable<BufExpect> parse_buf_expect(const YAML::Node& n, ParseContext& pc) {
  const YamlReader& r = pc.reader();
  return Selectable<BufExpect>::parse(r, n, "buf_check.expect", [&](const YAML::Node& v) {
    Fields f(r, v, "buf_check.expect");
    BufExpect e;
    if (f.has("flags")) e.flags = parse_bflags(r, f.get("flags"), "buf_check.expect.flags");
    if (f.has("not_flags")) e.not_flags = parse_bflags(r, f.get("not_flags"), "buf_check.expect.not_flags");
    auto range = [&](const char* key, std::optional<std::pair<int, int>>& out) {
      if (!f.has(key)) return;
      YAML::Node rn = f.get(key);
      r.require_seq(rn, std::string("buf_check.expect.") + key);
      if (rn.size() != 2) throw r.error(rn, std::string("buf_check.expect.") + key + ": expected [off, end]");
      out = {static_cast<int>(r.integer(rn[0], key, 0, MAXBSIZE)), static_cast<int>(r.integer(rn[1], key, 0, MAXBSIZE))};
    };
    range("dirty", e.dirty);
    range("valid", e.valid);
    auto integer = [&](const char* key, auto& out, std::int64_t max) {
      if (f.has(key)) out = r.integer(f.get(key), std::string("buf_check.expect.") + key, 0, max);
    };
    integer("bcount", e.bcount, MAXBSIZE);
    integer("bufsize", e.bufsize, MAXBSIZE);
    integer("npages", e.npages, BUF_MAXPAGES);
    integer("bogus", e.bogus, BUF_MAXPAGES);
    integer("data_offset", e.data_offset, PAGE_SIZE - 1);
    integer("page_valid", e.page_valid, VM_PAGE_BITS_ALL);
    integer("page_dirty", e.page_dirty, VM_PAGE_BITS_ALL);
    if (f.has("page")) e.page = static_cast<int>(r.integer(f.get("page"), "buf_check.expect.page", 0, BUF_MAXPAGES - 1));
    for (auto [key, field] : {std::pair{"mapped", &BufExpect::mapped}, {"locked", &BufExpect::locked},
                              {"lazy_unmapped", &BufExpect::lazy_unmapped}})
      if (f.has(key)) e.*field = r.boolean(f.get(key), std::string("buf_check.expect.") + key);
    if (f.has("queue")) {
      e.queue = r.str(f.get("queue"), "buf_check.expect.queue");
      if (*e.queue != "clean" && *e.queue != "dirty" && *e.queue != "empty" && *e.queue != "none")
        throw r.error(f.get("queue"), "buf_check.expect.queue: clean, dirty, empty or none");
    }
    if (f.has("same_as")) e.same_as = pc.buffer(f, "same_as");
    f.finish();
    return e;
  });
}

// --- daemon, device, pending ops

struct BufDaemon : StepOp {
  int cpu = 0;
  bool all = false;
  void run(RunContext& ctx) override { ctx.kernel().bufs().flush_dirty(cpu, all); }
};

struct Device : StepOp {
  std::optional<bool> hold;
  std::optional<std::size_t> release;  // SIZE_MAX: all
  std::optional<std::uint8_t> fail;
  int count = 1;
  std::optional<daddr_t> block;  // only I/O covering this device block fails
  std::string file;              // or the device block of this file's logical block
  daddr_t lblkno = 0;
  void run(RunContext& ctx) override {
    BlockDevice& dev = ctx.kernel().device();
    if (hold && *hold) dev.hold();
    if (release) dev.release(*release);
    if (!fail) return;
    std::optional<daddr_t> at = block;
    if (!file.empty()) {
      at = ctx.file(file)->blkno(lblkno);
      if (*at < 0)
        throw StepError("device.fail_next: block " + std::to_string(lblkno) + " of file " + file +
                        " is a hole (no device block yet)");
    }
    try {
      dev.fail_next(*fail, count, at);
    } catch (const KvaError& e) {
      throw StepError(std::string("device.") + e.what());  // a testcase error, not the kernel's
    }
  }
};

struct Pending : StepOp {
  std::string name;
  bool want_done = false;
  void run(RunContext& ctx) override {
    const OpRecord& rec = ctx.op(name);
    if (rec.done != want_done)
      ctx.fail({"", want_done ? "unexpected block" : "unexpected completion",
                rec.op + " '" + name + "' by " + rec.thread, std::nullopt, std::nullopt,
                want_done ? "returned" : "sleeping", rec.done ? "returned" : "sleeping"});
  }
};

}  // namespace

std::vector<OpDef> buf_ops() {
  using C = OnBuf::Call;
  auto on = [](C c) { return [c](Fields& f, ParseContext& pc) { return parse_on_buf(f, pc, c); }; };
  using W = WaitBuf::Call;
  auto wait = [](W c) { return [c](Fields& f, ParseContext& pc) { return parse_wait_buf(f, pc, c); }; };
  using G = GetBuf::Call;
  auto get = [](G c) { return [c](Fields& f, ParseContext& pc) { return parse_get(f, pc, c); }; };
  return {
      {"getblk", nullptr, get(G::Getblk)},
      {"bread", nullptr, get(G::Bread)},
      {"breadn", nullptr, get(G::Bread)},
      {"geteblk", nullptr, get(G::Geteblk)},
      {"bawrite", "buf", on(C::Bawrite)},
      {"bdwrite", "buf", on(C::Bdwrite)},
      {"brelse", "buf", on(C::Brelse)},
      {"bqrelse", "buf", on(C::Bqrelse)},
      {"allocbuf", nullptr, on(C::Allocbuf)},
      {"bstrategy", nullptr, on(C::Bstrategy)},
      {"buf_set_valid", nullptr, on(C::SetValid)},
      {"buf_set_dirty", nullptr, on(C::SetDirty)},
      {"bwrite", "buf", wait(W::Bwrite)},
      {"bufwait", "buf", wait(W::Bufwait)},
      {"buf_map", "buf", wait(W::Map)},
      {"buf_write", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         const YamlReader& r = pc.reader();
         auto op = std::make_unique<BufWrite>();
         op->buf_name = pc.buffer(f);
         op->cpu = pc.cpu(f);
         op->offset = static_cast<int>(f.has("offset") ? r.integer(f.get("offset"), "buf_write.offset", 0, MAXBSIZE - 1) : 0);
         op->len = static_cast<int>(f.has("len") ? r.integer(f.get("len"), "buf_write.len", 1, MAXBSIZE) : 16);
         op->data = BytePattern::parse(r, f.require("data"), "buf_write.data");
         return op;
       }},
      {"buf_check", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<BufCheck>();
         op->buf_name = pc.buffer(f);
         op->expect = parse_buf_expect(f.require("expect"), pc);
         return op;
       }},
      {"buf_daemon", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<BufDaemon>();
         op->cpu = f.has("cpu") ? pc.cpu_value(f.get("cpu"), "buf_daemon.cpu") : 0;
         if (f.has("all")) op->all = pc.reader().boolean(f.get("all"), "buf_daemon.all");
         return op;
       }},
      {"device", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         const YamlReader& r = pc.reader();
         auto op = std::make_unique<Device>();
         if (f.has("hold")) op->hold = r.boolean(f.get("hold"), "device.hold");
         if (f.has("release")) {
           YAML::Node n = f.get("release");
           op->release = n.IsScalar() && n.Scalar() == "all"
                             ? SIZE_MAX
                             : static_cast<std::size_t>(r.integer(n, "device.release (a count or all)", 1, 1 << 20));
         }
         if (f.has("fail_next")) {
           const std::string s = r.str(f.get("fail_next"), "device.fail_next");
           if (s != "read" && s != "write") throw r.error(f.get("fail_next"), "device.fail_next: read or write");
           op->fail = s == "read" ? BIO_READ : BIO_WRITE;
         }
         if (f.has("count")) op->count = static_cast<int>(r.integer(f.get("count"), "device.count", 1, 1000));
         if (f.has("block")) op->block = r.integer(f.get("block"), "device.block", 0, INT64_MAX);
         if (f.has("file")) {
           op->file = pc.file(f);
           op->lblkno = r.integer(f.require("lblkno"), "device.lblkno", 0, INT32_MAX);
         } else if (f.has("lblkno")) {
           throw r.error(f.get("lblkno"), "device.lblkno: give the file too");
         }
         if ((op->block || !op->file.empty()) && !op->fail)
           throw r.error(f.node(), "device: block and file choose which I/O fail_next fails; give fail_next");
         if (op->block && !op->file.empty())
           throw r.error(f.get("block"), "device: give block or file with lblkno, not both");
         if (!op->hold && !op->release && !op->fail)
           throw r.error(f.node(), "device: give hold, release or fail_next");
         return op;
       }},
      {"pending", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         const YamlReader& r = pc.reader();
         auto op = std::make_unique<Pending>();
         YAML::Node n = f.require("op");
         op->name = r.name(n, "pending.op");
         if (!pc.defined(op->name, ParseContext::Kind::Buffer)) pc.require(n, op->name, ParseContext::Kind::Op);
         const std::string s = r.str(f.require("expect"), "pending.expect");
         if (s != "blocks" && s != "sleeping" && s != "done")
           throw r.error(f.get("expect"), "pending.expect: blocks (still sleeping) or done");
         op->want_done = s == "done";
         return op;
       }},
  };
}

}  // namespace kva::runner
