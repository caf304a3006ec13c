// File steps: file_create, file_read, file_write, file_write_mapped, fsync, sync, truncate,
// sendfile, pageout, file_page, crash, device_check. File contents are patterns of the file offset (a
// pattern's "page offset" is file offset & PAGE_MASK); reads are checked against the file's
// reference model unless they say otherwise.
#include "runner/byte_pattern.h"
#include "runner/data_expect.h"
#include "runner/op_outcome.h"
#include "runner/run_context.h"
#include "runner/step_op.h"

namespace kva::runner {
namespace {

// Default contents of a file: distinct at nearly every offset (and per file), so a read at the
// wrong offset or of the wrong file is never accidentally right.
std::function<std::uint8_t(std::uint64_t)> default_fill(const std::string& name) {
  const BytePattern salt = BytePattern::from_name(name);
  return [salt](std::uint64_t off) {
    return static_cast<std::uint8_t>(((off * 0x9E3779B1u) >> 13) ^ salt.at(off % 8));
  };
}

std::vector<std::uint8_t> pattern_at(const BytePattern& p, std::uint64_t off, std::size_t len) {
  std::vector<std::uint8_t> out(len);
  for (std::size_t i = 0; i < len; ++i) out[i] = p.at((off + i) & PAGE_MASK);
  return out;
}

std::uint64_t parse_u64(Fields& f, const char* key, std::uint64_t dflt, std::uint64_t max) {
  if (!f.has(key)) return dflt;
  return f.reader().size(f.get(key), f.what() + "." + key, max);
}

// An op name from `as:` (Kind::Op), else the step label at run time.
std::optional<std::string> op_name(Fields& f, ParseContext& pc) {
  if (!f.has("as")) return std::nullopt;
  YAML::Node as = f.get("as");
  std::string name = pc.reader().name(as, f.what() + ".as");
  pc.define(as, name, ParseContext::Kind::Op);
  return name;
}

struct FileCreate : StepOp {
  std::string as;
  std::size_t bsize = PAGE_SIZE;
  std::uint64_t size = 64u << 10;
  std::optional<BytePattern> fill;
  bool empty = false;  // fill: none (all holes)
  void run(RunContext& ctx) override {
    std::function<std::uint8_t(std::uint64_t)> f;
    if (fill) f = [p = *fill](std::uint64_t off) { return p.at(off & PAGE_MASK); };
    else if (!empty) f = default_fill(as);
    ctx.bind_file(as, &ctx.kernel().vfs().create(as, bsize, size, f));
  }
};

// Every file call: who runs it, its outcome, and the call itself.
struct FileCall : StepOp {
  enum class Call { Read, Write, WriteMapped, Fsync, Sync, Truncate, Sendfile } call = Call::Read;
  Actor actor;
  std::optional<std::string> name;
  std::string file;
  std::uint64_t offset = 0, len = 0, size = 0;
  BytePattern data;
  WriteMode mode = WriteMode::Delayed;
  int checksum_cpu = -1;
  std::optional<std::uint64_t> pages;  // sendfile
  Selectable<DataExpect> expect;       // file_read (default: the file's model)
  OutcomeSpec outcome;

  static const char* op_text(Call c) {
    switch (c) {
      case Call::Read: return "file_read";
      case Call::Write: return "file_write";
      case Call::WriteMapped: return "file_write_mapped";
      case Call::Fsync: return "fsync";
      case Call::Sync: return "sync";
      case Call::Truncate: return "truncate";
      case Call::Sendfile: return "sendfile";
    }
    return "?";
  }

  void run(RunContext& ctx) override {
    Thread& td = actor.get(ctx);
    Vfs& vfs = ctx.kernel().vfs();
    vnode* vp = file.empty() ? nullptr : ctx.file(file);
    run_op(ctx, outcome, name.value_or(ctx.step_label()), op_text(call), td, [&](Finish finish) {
      auto done = [finish](int error) { finish(nullptr, error); };
      switch (call) {
        case Call::Read:
          return vfs.read(td, *vp, offset, len, [this, &ctx, finish, vp](std::vector<std::uint8_t> got, int error) {
            if (!error) check_read(ctx, *vp, got);
            finish(nullptr, error);
          });
        case Call::Write:
          return vfs.write(td, *vp, offset, pattern_at(data, offset, len), mode, done);
        case Call::WriteMapped:
          return vfs.write_mapped(td, *vp, offset, pattern_at(data, offset, len), done);
        case Call::Fsync: return vfs.fsync(td, *vp, offset, len, done);
        case Call::Sync: return vfs.sync(td, done);
        case Call::Truncate: return vfs.truncate(td, *vp, size, done);
        case Call::Sendfile:
          return vfs.sendfile(td, *vp, offset, len, checksum_cpu, [this, &ctx, finish](SendfileResult r, int error) {
            if (!error) check_sendfile(ctx, r);
            finish(nullptr, error);
          });
      }
      return true;
    });
  }

  void check_read(RunContext& ctx, vnode& vp, const std::vector<std::uint8_t>& got) const {
    std::vector<std::uint8_t> want;
    std::string what = "contents of file " + file + " (its reference model)";
    if (const DataExpect* e = expect.resolve(ctx.arch())) {
      want = e->expected(ctx, offset & PAGE_MASK, got.size(), offset);
      what = e->describe();
    } else if (expect.empty()) {
      want = ctx.kernel().vfs().model(vp, offset, got.size());
    } else {
      return;  // no expectation for this arch
    }
    if (got != want)
      ctx.fail({"", "unexpected value",
                "file_read of " + file + " at " + std::to_string(offset) + " did not return " + what,
                std::nullopt, std::nullopt, hex_bytes(want), hex_bytes(got)});
  }

  void check_sendfile(RunContext& ctx, const SendfileResult& r) const {
    if (r.first_mismatch)
      ctx.fail({"", "unexpected value",
                "sendfile of " + file + ": the guest read bytes that differ from the file at offset " +
                    std::to_string(*r.first_mismatch),
                std::nullopt, std::nullopt, "the file's contents", "other bytes"});
    if (pages && r.pages != *pages)
      ctx.fail({"", "unexpected value", "sendfile of " + file + ": pages sent", std::nullopt,
                std::nullopt, std::to_string(*pages), std::to_string(r.pages)});
  }
};

std::unique_ptr<StepOp> parse_call(Fields& f, ParseContext& pc, FileCall::Call call) {
  const YamlReader& r = pc.reader();
  auto op = std::make_unique<FileCall>();
  op->call = call;
  op->actor = Actor::parse(f, pc);
  constexpr std::uint64_t kMax = 1u << 30;
  if (call != FileCall::Call::Sync) op->file = pc.file(f);
  switch (call) {
    case FileCall::Call::Read:
    case FileCall::Call::Sendfile:
      op->offset = parse_u64(f, "offset", 0, kMax);
      op->len = parse_u64(f, "len", call == FileCall::Call::Read ? 16 : kMax, kMax);
      break;
    case FileCall::Call::Write:
    case FileCall::Call::WriteMapped:
      op->offset = parse_u64(f, "offset", 0, kMax);
      op->len = parse_u64(f, "len", 16, 16u << 20);
      if (op->len == 0) throw r.error(f.get("len"), f.what() + ".len: must be positive");
      op->data = BytePattern::parse(r, f.require("data"), f.what() + ".data");
      break;
    case FileCall::Call::Fsync:
      op->offset = parse_u64(f, "offset", 0, kMax);
      op->len = parse_u64(f, "len", 0, kMax);  // 0: to the end
      break;
    case FileCall::Call::Truncate: op->size = r.size(f.require("size"), "truncate.size", kMax); break;
    case FileCall::Call::Sync: break;
  }
  if (call == FileCall::Call::Write && f.has("mode")) {
    const std::string m = r.str(f.get("mode"), "file_write.mode");
    if (m == "delayed") op->mode = WriteMode::Delayed;
    else if (m == "async") op->mode = WriteMode::Async;
    else if (m == "sync") op->mode = WriteMode::Sync;
    else throw r.error(f.get("mode"), "file_write.mode: delayed (bdwrite), async (bawrite) or sync (bwrite)");
  }
  if (call == FileCall::Call::Sendfile) {
    if (f.has("checksum_cpu")) op->checksum_cpu = pc.cpu_value(f.get("checksum_cpu"), "sendfile.checksum_cpu");
    if (f.has("pages")) op->pages = static_cast<std::uint64_t>(r.integer(f.get("pages"), "sendfile.pages", 0, 1 << 30));
  }
  if (call == FileCall::Call::Read) {
    if (f.has("expect")) op->expect = DataExpect::parse(f.get("expect"), pc, "file_read.expect");
    op->outcome = OutcomeSpec::parse(f, pc, false, "outcome");
  } else {
    op->outcome = OutcomeSpec::parse(f, pc, false);
  }
  op->name = op_name(f, pc);
  return op;
}

struct Pageout : StepOp {
  std::optional<Comparison> reclaimed;
  bool release_buffers = false;
  void run(RunContext& ctx) override {
    // Memory pressure: clean released buffers first let go of their pages' wiring.
    if (release_buffers) ctx.kernel().bufs().release_clean(0);
    const std::size_t n = ctx.kernel().vfs().pageout();
    if (reclaimed && !reclaimed->holds(static_cast<std::int64_t>(n)))
      ctx.fail({"", "unexpected value", "pages reclaimed by pageout", std::nullopt, std::nullopt,
                reclaimed->text(), std::to_string(n)});
  }
};

// Names a page of a file's VM object (allocated, not yet valid, when absent).
struct FilePage : StepOp {
  std::string file, as;
  std::uint64_t pindex = 0;
  void run(RunContext& ctx) override { ctx.bind_page(as, ctx.file(file)->object().grab(pindex)); }
};

struct Crash : StepOp {
  int cpu = 0;
  void run(RunContext& ctx) override { ctx.kernel().vfs().crash(cpu); }
};

// What the device holds for a file's bytes (no cache involved).
struct DeviceCheck : StepOp {
  std::string file;
  std::uint64_t offset = 0, len = 16;
  Selectable<DataExpect> expect;
  void run(RunContext& ctx) override {
    vnode& vp = *ctx.file(file);
    const std::vector<std::uint8_t> got = ctx.kernel().vfs().on_device(vp, offset, len);
    std::vector<std::uint8_t> want;
    std::string what = "the contents of file " + file;
    if (const DataExpect* e = expect.resolve(ctx.arch())) {
      want = e->expected(ctx, offset & PAGE_MASK, len, offset);
      what = e->describe();
    } else if (expect.empty()) {
      want = ctx.kernel().vfs().model(vp, offset, len);
    } else {
      return;
    }
    want.resize(got.size(), 0);  // past EOF the device holds zeros
    if (got != want)
      ctx.fail({"", "unexpected value",
                "the device does not hold " + what + " at " + std::to_string(offset), std::nullopt,
                std::nullopt, hex_bytes(want), hex_bytes(got)});
  }
};

}  // namespace

std::vector<OpDef> file_ops() {
  using C = FileCall::Call;
  auto call = [](C c) { return [c](Fields& f, ParseContext& pc) { return parse_call(f, pc, c); }; };
  return {
      {"file_create", "as",
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         const YamlReader& r = pc.reader();
         auto op = std::make_unique<FileCreate>();
         YAML::Node as = f.require("as");
         op->as = r.name(as, "file_create.as");
         pc.define(as, op->as, ParseContext::Kind::File);
         if (f.has("bsize")) {
           YAML::Node b = f.get("bsize");
           op->bsize = r.size(b, "file_create.bsize", MAXBSIZE);
           if (op->bsize < DEV_BSIZE || op->bsize % DEV_BSIZE)
             throw r.error(b, "file_create.bsize: a multiple of 512 from 512 to 64K");
         }
         op->size = parse_u64(f, "size", op->size, 1u << 30);
         if (f.has("fill")) {
           YAML::Node n = f.get("fill");
           if (n.IsScalar() && n.Scalar() == "none") op->empty = true;
           else op->fill = BytePattern::parse(r, n, "file_create.fill");
         }
         return op;
       }},
      {"file_read", nullptr, call(C::Read)},
      {"file_write", nullptr, call(C::Write)},
      {"file_write_mapped", nullptr, call(C::WriteMapped)},
      {"fsync", nullptr, call(C::Fsync)},
      {"sync", nullptr, call(C::Sync)},
      {"truncate", nullptr, call(C::Truncate)},
      {"sendfile", nullptr, call(C::Sendfile)},
      {"pageout", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Pageout>();
         if (f.has("reclaimed")) op->reclaimed = Comparison::parse(pc.reader(), f.get("reclaimed"), "pageout.reclaimed");
         if (f.has("release_buffers")) op->release_buffers = pc.reader().boolean(f.get("release_buffers"), "pageout.release_buffers");
         return op;
       }},
      {"file_page", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         const YamlReader& r = pc.reader();
         auto op = std::make_unique<FilePage>();
         op->file = pc.file(f);
         op->pindex = static_cast<std::uint64_t>(r.integer(f.require("index"), "file_page.index", 0, 1 << 20));
         YAML::Node as = f.require("as");
         op->as = r.name(as, "file_page.as");
         pc.define(as, op->as, ParseContext::Kind::Page);
         return op;
       }},
      {"crash", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Crash>();
         if (f.has("cpu")) op->cpu = pc.cpu_value(f.get("cpu"), "crash.cpu");
         return op;
       }},
      {"device_check", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<DeviceCheck>();
         op->file = pc.file(f);
         op->offset = parse_u64(f, "offset", 0, 1u << 30);
         op->len = parse_u64(f, "len", 16, 1u << 20);
         if (f.has("expect")) op->expect = DataExpect::parse(f.get("expect"), pc, "device_check.expect");
         return op;
       }},
  };
}

}  // namespace kva::runner
