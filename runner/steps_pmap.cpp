// Raw pmap(9) steps on Kernel KVA reservations: kva_reserve, kenter, kenter_large, kremove, protect,
// growkernel, replace_table, clear_accessed, clear_modified, qenter, qremove, invalidate,
// invalidate_range, shootdown, flush_local, pte. They exercise the arch's page tables,
// invalidation protocol and TLB rules directly (on archs where sf_buf maps nothing, too).
#include "runner/run_context.h"
#include "runner/size_spec.h"
#include "runner/step_op.h"
#include "runner/target.h"

namespace kva::runner {
namespace {

// Invalidations may name ranges far beyond any reservation (PMAP_INVLPG_THRESHOLD is 4096
// pages): only their first page must be inside the target.
constexpr std::int64_t kMaxInvalidatePages = std::int64_t{1} << 20;

std::size_t parse_count(Fields& f, const char* key, std::int64_t max = Limits::max_reserve_pages) {
  if (!f.has(key)) return 1;
  return f.reader().integer(f.get(key), f.what() + "." + key, 1, max);
}

SizeSpec parse_size(Fields& f, const char* key, std::uint64_t min) {
  return SizeSpec::parse(f.reader(), f.require(key), f.what() + "." + key, min);
}

// kenter attributes: global, writable, cache (wb, wt, uc-, uc); unset: the arch's default.
KenterAttrs parse_attrs(Fields& f) {
  const YamlReader& r = f.reader();
  KenterAttrs a;
  if (f.has("global")) a.global = r.boolean(f.get("global"), f.what() + ".global");
  if (f.has("writable")) a.writable = r.boolean(f.get("writable"), f.what() + ".writable");
  if (f.has("cache")) {
    YAML::Node n = f.get("cache");
    a.cache = cache_mode_by_name(r.str(n, f.what() + ".cache"));
    if (!a.cache) throw r.error(n, f.what() + ".cache: expected wb, wt, uc- or uc");
  }
  return a;
}

struct KvaReserve : StepOp {
  std::string as;
  std::size_t pages = 1;
  std::optional<SizeSpec> size;   // aligned, unpopulated kernel VA (growable_kva)
  std::optional<SizeSpec> align;  // of a `pages` reservation, e.g. `large` to hold large pages
  void run(RunContext& ctx) override {
    if (size) ctx.reserve_grow_kva(as, size->resolve(ctx.pmap(), "kva_reserve.size"));
    else ctx.reserve_kva(as, pages, align ? align->resolve(ctx.pmap(), "kva_reserve.align") : PAGE_SIZE);
  }
};

struct Kenter : StepOp {
  Target target;
  std::string page;
  KenterAttrs attrs;
  void run(RunContext& ctx) override {
    ctx.kernel().kenter(target.resolve(ctx, 1), ctx.page(page)->phys_addr, attrs);
  }
};

struct KenterLarge : StepOp {
  Target target;
  std::string page;
  SizeSpec size_spec;
  KenterAttrs attrs;
  void run(RunContext& ctx) override {
    const std::uint64_t size = size_spec.resolve(ctx.pmap(), "kenter_large.size");
    if (ctx.page(page)->phys_addr % size)
      throw StepError("kenter_large: page " + page + " is not " + size_name(size) +
                      "-aligned (page_alloc it with align: " + size_name(size) + ")");
    ctx.kernel().kenter_large(target.resolve(ctx, size), ctx.page(page)->phys_addr, size, attrs);
  }
};

// Through the kernel: it keeps the mapped-page bookkeeping vm_page_free checks.
struct Kremove : StepOp {
  Target target;
  void run(RunContext& ctx) override { ctx.kernel().kremove(target.resolve(ctx, 1)); }
};

// A step that calls one Pmap operation on the target's VA.
struct VaCall : StepOp {
  Target target;
  void (Pmap::*call)(vaddr_t) = nullptr;
  void run(RunContext& ctx) override { (ctx.pmap().*call)(target.resolve(ctx, 1)); }
};

struct Protect : StepOp {
  Target target;
  std::size_t npages = 1;
  bool writable = false;
  void run(RunContext& ctx) override {
    ctx.pmap().protect(target.resolve(ctx, npages * PAGE_SIZE), npages, writable);
  }
};

struct Growkernel : StepOp {
  Target target;
  std::optional<std::int64_t> expect_pages;  // page-table pages it must allocate
  void run(RunContext& ctx) override {
    vaddr_t va = target.resolve(ctx, 1);
    const std::size_t n = ctx.pmap().growkernel(va);
    if (expect_pages && static_cast<std::int64_t>(n) != *expect_pages)
      ctx.fail({"", "unexpected value", "growkernel of " + target.describe() + " allocated " +
                std::to_string(n) + " page-table pages", std::nullopt, va,
                std::to_string(*expect_pages), std::to_string(n)});
  }
};

struct ReplaceTable : StepOp {
  Target target;
  int level = 1;
  bool copy = false;
  void run(RunContext& ctx) override { ctx.pmap().replace_table(target.resolve(ctx, 1), level, copy); }
};

struct Qenter : StepOp {
  int cpu = 0;
  Target target;
  std::vector<std::string> pages;
  void run(RunContext& ctx) override {
    std::vector<paddr_t> pas;
    for (const auto& p : pages) pas.push_back(ctx.page(p)->phys_addr);
    ctx.kernel().qenter(cpu, target.resolve(ctx, pages.size() * PAGE_SIZE), pas);
  }
};

struct Qremove : StepOp {
  int cpu = 0;
  Target target;
  std::size_t count = 1;
  void run(RunContext& ctx) override {
    ctx.kernel().qremove(cpu, target.resolve(ctx, count * PAGE_SIZE), count);
  }
};

struct Invalidate : StepOp {
  int cpu = 0;
  Target target;
  std::size_t npages = 1;
  bool all_cpus = false;  // invalidate_range: local + shootdown to every other CPU
  void run(RunContext& ctx) override {
    vaddr_t va = target.resolve(ctx, 1);
    if (all_cpus) ctx.pmap().invalidate_range_all(cpu, va, npages);
    else ctx.pmap().invalidate_local(cpu, va, npages);
  }
};

struct Shootdown : StepOp {
  int cpu = 0;
  std::optional<std::vector<int>> targets;  // nullopt: every CPU but the initiator
  Target target;
  std::size_t npages = 1;
  void run(RunContext& ctx) override {
    CpuSet set;
    if (targets) for (int c : *targets) set.set(c);
    else set = ctx.pmap().all_cpus();
    set.clr(cpu);
    ctx.pmap().shootdown(cpu, set, target.resolve(ctx, 1), npages);
  }
};

struct FlushLocal : StepOp {
  int cpu = 0;
  bool global = false;
  void run(RunContext& ctx) override { ctx.pmap().flush_local(cpu, global); }
};

struct PteExpect {
  std::optional<bool> valid, accessed, modified, writable, global, executable;
  std::optional<std::uint64_t> size;
  std::optional<CacheMode> cache;
  std::optional<std::string> page;
};

struct Pte : StepOp {
  Target target;
  Selectable<PteExpect> expect;
  void run(RunContext& ctx) override {
    const PteExpect* e = expect.resolve(ctx.arch());
    if (!e) return;
    vaddr_t va = target.resolve(ctx, 1);
    PteState s = ctx.pmap().pte(va);
    auto mismatch = [&](const std::string& what, const std::string& want, const std::string& got) {
      ctx.fail({"", "unexpected value", "PTE " + what + " of " + target.describe(), std::nullopt, va,
                want, got + "\n" + ctx.pmap().describe_walk(va)});
    };
    auto bit = [&](const char* name, const std::optional<bool>& want, bool got) {
      if (want && *want != got) mismatch(std::string(name) + " bit", *want ? "set" : "clear", got ? "set" : "clear");
    };
    bit("valid", e->valid, s.valid);
    bit("accessed", e->accessed, s.accessed);
    bit("modified", e->modified, s.modified);
    bit("writable", e->writable, s.writable);
    bit("global", e->global, s.global);
    bit("executable", e->executable, s.executable);
    if (e->size && (!s.valid || s.page_size != *e->size))
      mismatch("page size", size_name(*e->size), s.valid ? size_name(s.page_size) : "unmapped");
    if (e->cache && (!s.valid || s.cache != *e->cache))
      mismatch("cache mode", to_string(*e->cache), s.valid ? to_string(s.cache) : "unmapped");
    if (e->page && (!s.valid || trunc_page(s.pa) != ctx.page(*e->page)->phys_addr))
      mismatch("frame", *e->page, "another frame");
  }
};

Selectable<PteExpect> parse_pte_expect(const YAML::Node& n, ParseContext& pc) {
  const YamlReader& r = pc.reader();
  return Selectable<PteExpect>::parse(r, n, "pte.expect", [&](const YAML::Node& v) {
    Fields f(r, v, "pte.expect");
    PteExpect e;
    for (auto [key, field] : {std::pair{"valid", &PteExpect::valid}, {"accessed", &PteExpect::accessed},
                              {"modified", &PteExpect::modified}, {"writable", &PteExpect::writable},
                              {"global", &PteExpect::global}, {"executable", &PteExpect::executable}})
      if (f.has(key)) e.*field = r.boolean(f.get(key), std::string("pte.expect.") + key);
    if (f.has("size")) e.size = r.size(f.get("size"), "pte.expect.size", Limits::max_memory);
    if (f.has("cache")) {
      YAML::Node c = f.get("cache");
      e.cache = cache_mode_by_name(r.str(c, "pte.expect.cache"));
      if (!e.cache) throw r.error(c, "pte.expect.cache: expected wb, wt, uc- or uc");
    }
    if (f.has("page")) e.page = pc.page(f, "page");
    f.finish();
    return e;
  });
}

StepParser va_call(void (Pmap::*call)(vaddr_t)) {
  return [call](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
    auto op = std::make_unique<VaCall>();
    op->target = Target::parse(f, pc);
    op->call = call;
    return op;
  };
}

std::unique_ptr<StepOp> parse_invalidate(Fields& f, ParseContext& pc, bool all_cpus) {
  auto op = std::make_unique<Invalidate>();
  op->all_cpus = all_cpus;
  op->cpu = pc.cpu(f);
  op->target = Target::parse(f, pc);
  op->npages = parse_count(f, "npages", kMaxInvalidatePages);
  return op;
}

}  // namespace

std::vector<OpDef> pmap_ops() {
  return {
      {"kva_reserve", "as",
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<KvaReserve>();
         YAML::Node as = f.require("as");
         op->as = pc.reader().name(as, "kva_reserve.as");
         pc.define(as, op->as, ParseContext::Kind::Kva);
         if (f.has("size") && f.has("pages"))
           throw pc.reader().error(f.node(), "kva_reserve: give pages or size, not both");
         if (f.has("size") && f.has("align"))
           throw pc.reader().error(f.node(), "kva_reserve: a size reservation is aligned to its size; align is for pages");
         if (f.has("size")) op->size = parse_size(f, "size", PAGE_SIZE);
         else op->pages = parse_count(f, "pages");
         if (f.has("align")) op->align = parse_size(f, "align", PAGE_SIZE);
         return op;
       }},
      {"kenter", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Kenter>();
         op->target = Target::parse(f, pc);
         op->page = pc.page(f);
         op->attrs = parse_attrs(f);
         return op;
       }},
      {"kenter_large", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<KenterLarge>();
         op->target = Target::parse(f, pc);
         op->page = pc.page(f);
         op->size_spec = f.has("size") ? parse_size(f, "size", PAGE_SIZE * 2) : SizeSpec{};
         op->attrs = parse_attrs(f);
         return op;
       }},
      {"kremove", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Kremove>();
         op->target = Target::parse(f, pc);
         return op;
       }},
      {"clear_accessed", nullptr, va_call(&Pmap::clear_accessed)},
      {"clear_modified", nullptr, va_call(&Pmap::clear_modified)},
      {"protect", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Protect>();
         op->target = Target::parse(f, pc);
         op->npages = parse_count(f, "npages");
         op->writable = pc.reader().boolean(f.require("writable"), "protect.writable");
         return op;
       }},
      {"growkernel", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Growkernel>();
         op->target = Target::parse(f, pc);
         if (f.has("expect_pages"))
           op->expect_pages = pc.reader().integer(f.get("expect_pages"), "growkernel.expect_pages", 0, 8);
         return op;
       }},
      {"replace_table", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<ReplaceTable>();
         op->target = Target::parse(f, pc);
         if (f.has("level")) op->level = static_cast<int>(pc.reader().integer(f.get("level"), "replace_table.level", 1, 8));
         if (f.has("copy")) op->copy = pc.reader().boolean(f.get("copy"), "replace_table.copy");
         return op;
       }},
      {"qenter", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Qenter>();
         op->cpu = pc.cpu(f);
         op->target = Target::parse(f, pc);
         YAML::Node pages = f.require("pages");
         pc.reader().require_seq(pages, "qenter.pages");
         for (const auto& p : pages) {
           std::string name = pc.reader().name(p, "qenter.pages");
           pc.require(p, name, ParseContext::Kind::Page);
           op->pages.push_back(name);
         }
         if (op->pages.empty()) throw pc.reader().error(pages, "qenter.pages: empty list");
         return op;
       }},
      {"qremove", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Qremove>();
         op->cpu = pc.cpu(f);
         op->target = Target::parse(f, pc);
         op->count = parse_count(f, "count");
         return op;
       }},
      {"invalidate", nullptr,
       [](Fields& f, ParseContext& pc) { return parse_invalidate(f, pc, false); }},
      {"invalidate_range", nullptr,
       [](Fields& f, ParseContext& pc) { return parse_invalidate(f, pc, true); }},
      {"shootdown", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Shootdown>();
         op->cpu = pc.cpu(f);
         op->target = Target::parse(f, pc);
         op->npages = parse_count(f, "npages", kMaxInvalidatePages);
         if (f.has("targets")) {
           YAML::Node t = f.get("targets");
           if (!(t.IsScalar() && t.Scalar() == "all")) {
             pc.reader().require_seq(t, "shootdown.targets");
             op->targets.emplace();
             for (const auto& c : t) op->targets->push_back(pc.cpu_value(c, "shootdown.targets"));
           }
         }
         return op;
       }},
      {"flush_local", "cpu",
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<FlushLocal>();
         op->cpu = pc.cpu(f);
         if (f.has("global")) op->global = pc.reader().boolean(f.get("global"), "flush_local.global");
         return op;
       }},
      {"pte", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Pte>();
         op->target = Target::parse(f, pc);
         op->expect = parse_pte_expect(f.require("expect"), pc);
         return op;
       }},
  };
}

}  // namespace kva::runner
