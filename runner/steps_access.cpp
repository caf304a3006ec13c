// Guest accesses by a named CPU: read, write, copy. Every access runs both staleness oracles
// (Pmap::load/store); `expect:` on a read adds a value check.
#include "runner/data_expect.h"
#include "runner/run_context.h"
#include "runner/step_op.h"
#include "runner/target.h"

namespace kva::runner {
namespace {

std::size_t parse_len(Fields& f, std::size_t dflt) {
  if (!f.has("len")) return dflt;
  return f.reader().integer(f.get("len"), f.what() + ".len", 1, Limits::max_access);
}

struct Read : StepOp {
  int cpu = 0;
  Target target;
  std::size_t len = 16;
  Selectable<DataExpect> expect;
  void run(RunContext& ctx) override {
    vaddr_t va = target.resolve(ctx, len);
    auto got = ctx.pmap().load(cpu, va, len);
    const DataExpect* e = expect.resolve(ctx.arch());
    if (!e) return;
    // Bytes of a buffer are expected where they sit in the file (a b_data with the wrong page
    // offset must not find its own wrong bytes "right").
    const std::optional<std::uint64_t> foff = target.file_offset(ctx);
    auto want = e->expected(ctx, foff ? (*foff & PAGE_MASK) : (va & PAGE_MASK), len, foff);
    if (got != want)
      ctx.fail({"", "unexpected value",
                "read of " + target.describe() + " on cpu " + std::to_string(cpu) +
                    " did not return " + e->describe(),
                cpu, va, hex_bytes(want), hex_bytes(got)});
  }
};

struct Write : StepOp {
  int cpu = 0;
  Target target;
  std::size_t len = 16;
  BytePattern data;
  void run(RunContext& ctx) override {
    vaddr_t va = target.resolve(ctx, len);
    auto bytes = data.bytes(va & PAGE_MASK, len);
    ctx.kernel().store(cpu, va, bytes);
  }
};

struct Copy : StepOp {
  int cpu = 0;
  Target from, to;
  std::size_t len = 16;
  void run(RunContext& ctx) override {
    vaddr_t src = from.resolve(ctx, len);
    vaddr_t dst = to.resolve(ctx, len);
    ctx.kernel().copy(cpu, dst, src, len);
  }
};

}  // namespace

std::vector<OpDef> access_ops() {
  return {
      {"read", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Read>();
         op->cpu = pc.cpu(f);
         op->target = Target::parse(f, pc);
         op->len = parse_len(f, 16);
         if (f.has("expect")) op->expect = DataExpect::parse(f.get("expect"), pc, "read.expect");
         return op;
       }},
      {"write", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Write>();
         op->cpu = pc.cpu(f);
         op->target = Target::parse(f, pc);
         op->len = parse_len(f, 16);
         op->data = BytePattern::parse(pc.reader(), f.require("data"), "write.data");
         return op;
       }},
      {"copy", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Copy>();
         op->cpu = pc.cpu(f);
         op->from = Target::parse(f, pc, "from_");
         op->to = Target::parse(f, pc, "to_");
         op->len = parse_len(f, 16);
         return op;
       }},
  };
}

}  // namespace kva::runner
