// Physical page steps: page_alloc, page_fill, page_wire, page_unwire, page_free, page_check.
// Page contents are written and checked through the host view of RAM (as DMA would), so they
// never disturb a TLB or an oracle.
#include "runner/data_expect.h"
#include "runner/run_context.h"
#include "runner/size_spec.h"
#include "runner/step_op.h"

namespace kva::runner {
namespace {

struct PageAlloc : StepOp {
  std::vector<std::string> names;
  std::optional<BytePattern> fill;  // default: a pattern derived from each page's name
  bool wired = true;
  std::optional<SizeSpec> align;    // physical alignment (first page of a large-page frame)
  void run(RunContext& ctx) override {
    for (const auto& name : names) {
      vm_page* m = align ? ctx.pmap().phys().vm_page_alloc_aligned(align->resolve(ctx.pmap(), "page_alloc.align"))
                         : ctx.pmap().phys().vm_page_alloc();
      BytePattern p = fill ? *fill : BytePattern::from_name(name);
      auto bytes = p.bytes(0, PAGE_SIZE);
      ctx.pmap().phys().write(m->phys_addr, bytes.data(), bytes.size());
      if (wired) ctx.pmap().phys().vm_page_wire(m);
      ctx.bind_page(name, m);
    }
  }
};

struct PageFill : StepOp {
  std::string page;
  BytePattern pattern;
  std::size_t offset = 0, len = PAGE_SIZE;
  void run(RunContext& ctx) override {
    auto bytes = pattern.bytes(offset, len);
    ctx.pmap().phys().write(ctx.page(page)->phys_addr + offset, bytes.data(), len);
  }
};

struct PageCall : StepOp {
  std::string page;
  void (PhysicalMemory::*call)(vm_page*);
  void run(RunContext& ctx) override { (ctx.pmap().phys().*call)(ctx.page(page)); }
};

struct PageCheck : StepOp {
  std::string page;
  std::size_t offset = 0, len = 16;
  Selectable<DataExpect> expect;
  void run(RunContext& ctx) override {
    const DataExpect* e = expect.resolve(ctx.arch());
    if (!e) return;
    auto got = read_page(ctx, ctx.page(page), offset, len);
    auto want = e->expected(ctx, offset, len);
    if (got != want)
      ctx.fail({"", "unexpected value",
                "page " + page + " at offset " + std::to_string(offset) + " does not hold " +
                    e->describe(),
                std::nullopt, std::nullopt, hex_bytes(want), hex_bytes(got)});
  }
};

// offset/len within one page: offset defaults to 0, len to default_len (nullopt: the rest of
// the page from offset).
void parse_range(Fields& f, std::size_t& offset, std::size_t& len,
                 std::optional<std::size_t> default_len) {
  const YamlReader& r = f.reader();
  offset = f.has("offset") ? r.integer(f.get("offset"), f.what() + ".offset", 0, PAGE_SIZE - 1) : 0;
  len = f.has("len") ? r.integer(f.get("len"), f.what() + ".len", 1, PAGE_SIZE)
                     : default_len.value_or(PAGE_SIZE - offset);
  if (offset + len > PAGE_SIZE)
    throw r.error(f.node(), f.what() + ": offset + len exceeds the page size");
}

std::unique_ptr<StepOp> page_call(Fields& f, ParseContext& pc, void (PhysicalMemory::*call)(vm_page*)) {
  auto op = std::make_unique<PageCall>();
  op->page = pc.page(f);
  op->call = call;
  return op;
}

}  // namespace

std::vector<OpDef> page_ops() {
  return {
      {"page_alloc", "as",
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         const YamlReader& r = pc.reader();
         auto op = std::make_unique<PageAlloc>();
         YAML::Node as = f.require("as");
         if (!as.IsScalar() && !as.IsSequence())
           throw r.error(as, "page_alloc.as: expected a page name or a list of names");
         std::vector<YAML::Node> items;
         if (as.IsScalar()) items.push_back(as);
         else for (const auto& e : as) items.push_back(e);
         for (const auto& n : items) {
           std::string name = r.name(n, "page_alloc.as");
           pc.define(n, name, ParseContext::Kind::Page);
           op->names.push_back(name);
         }
         if (f.has("fill")) op->fill = BytePattern::parse(r, f.get("fill"), "page_alloc.fill");
         if (f.has("wired")) op->wired = r.boolean(f.get("wired"), "page_alloc.wired");
         if (f.has("align")) op->align = SizeSpec::parse(r, f.get("align"), "page_alloc.align", PAGE_SIZE);
         return op;
       }},
      {"page_fill", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<PageFill>();
         op->page = pc.page(f);
         op->pattern = BytePattern::parse(pc.reader(), f.require("fill"), "page_fill.fill");
         parse_range(f, op->offset, op->len, std::nullopt);
         return op;
       }},
      {"page_wire", "page", [](Fields& f, ParseContext& pc) { return page_call(f, pc, &PhysicalMemory::vm_page_wire); }},
      {"page_unwire", "page", [](Fields& f, ParseContext& pc) { return page_call(f, pc, &PhysicalMemory::vm_page_unwire); }},
      {"page_free", "page", [](Fields& f, ParseContext& pc) { return page_call(f, pc, &PhysicalMemory::vm_page_free); }},
      {"page_check", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<PageCheck>();
         op->page = pc.page(f);
         parse_range(f, op->offset, op->len, 16);
         op->expect = DataExpect::parse(f.require("expect"), pc, "page_check.expect");
         return op;
       }},
  };
}

}  // namespace kva::runner
