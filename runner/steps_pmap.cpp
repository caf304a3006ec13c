// Raw pmap(9) steps on Kernel KVA reservations: kva_reserve, kenter, kremove, qenter, qremove,
// invalidate, invalidate_range, shootdown, clear_accessed, pte. They exercise the arch's page
// tables and invalidation protocol directly (on archs where sf_buf maps nothing, too).
#include "runner/run_context.h"
#include "runner/step_op.h"
#include "runner/target.h"

namespace kva::runner {
namespace {

std::size_t parse_count(Fields& f, const char* key) {
  if (!f.has(key)) return 1;
  return f.reader().integer(f.get(key), f.what() + "." + key, 1, Limits::max_reserve_pages);
}

struct KvaReserve : StepOp {
  std::string as;
  std::size_t pages = 1;
  void run(RunContext& ctx) override { ctx.reserve_kva(as, pages); }
};

struct Kenter : StepOp {
  Target target;
  std::string page;
  void run(RunContext& ctx) override {
    ctx.kernel().kenter(target.resolve(ctx, 1), ctx.page(page)->phys_addr);
  }
};

struct Kremove : StepOp {
  Target target;
  void run(RunContext& ctx) override { ctx.kernel().kremove(target.resolve(ctx, 1)); }
};

struct ClearAccessed : StepOp {
  Target target;
  void run(RunContext& ctx) override { ctx.pmap().clear_accessed(target.resolve(ctx, 1)); }
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
    vaddr_t va = target.resolve(ctx, npages * PAGE_SIZE);
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
    ctx.pmap().shootdown(cpu, set, target.resolve(ctx, npages * PAGE_SIZE), npages);
  }
};

struct PteExpect {
  std::optional<bool> valid, accessed, modified, writable;
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
    auto bit = [&](const char* name, const std::optional<bool>& want, bool got) {
      if (want && *want != got)
        ctx.fail({"", "unexpected value", std::string("PTE ") + name + " bit of " + target.describe(),
                  std::nullopt, va, *want ? "set" : "clear", got ? "set" : "clear"});
    };
    bit("valid", e->valid, s.valid);
    bit("accessed", e->accessed, s.accessed);
    bit("modified", e->modified, s.modified);
    bit("writable", e->writable, s.writable);
    if (e->page && (!s.valid || trunc_page(s.pa) != ctx.page(*e->page)->phys_addr))
      ctx.fail({"", "unexpected value", "PTE of " + target.describe() + " does not map " + *e->page,
                std::nullopt, va, *e->page, ctx.pmap().describe_walk(va)});
  }
};

Selectable<PteExpect> parse_pte_expect(const YAML::Node& n, ParseContext& pc) {
  const YamlReader& r = pc.reader();
  return Selectable<PteExpect>::parse(r, n, "pte.expect", [&](const YAML::Node& v) {
    Fields f(r, v, "pte.expect");
    PteExpect e;
    for (auto [key, field] : {std::pair{"valid", &PteExpect::valid}, {"accessed", &PteExpect::accessed},
                              {"modified", &PteExpect::modified}, {"writable", &PteExpect::writable}})
      if (f.has(key)) e.*field = r.boolean(f.get(key), std::string("pte.expect.") + key);
    if (f.has("page")) e.page = pc.page(f, "page");
    f.finish();
    return e;
  });
}

template <class Op>
std::unique_ptr<StepOp> with_target(Fields& f, ParseContext& pc) {
  auto op = std::make_unique<Op>();
  op->target = Target::parse(f, pc);
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
         op->pages = parse_count(f, "pages");
         return op;
       }},
      {"kenter", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Kenter>();
         op->target = Target::parse(f, pc);
         op->page = pc.page(f);
         return op;
       }},
      {"kremove", nullptr, with_target<Kremove>},
      {"clear_accessed", nullptr, with_target<ClearAccessed>},
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
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Invalidate>();
         op->cpu = pc.cpu(f);
         op->target = Target::parse(f, pc);
         op->npages = parse_count(f, "npages");
         return op;
       }},
      {"invalidate_range", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Invalidate>();
         op->all_cpus = true;
         op->cpu = pc.cpu(f);
         op->target = Target::parse(f, pc);
         op->npages = parse_count(f, "npages");
         return op;
       }},
      {"shootdown", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<Shootdown>();
         op->cpu = pc.cpu(f);
         op->target = Target::parse(f, pc);
         op->npages = parse_count(f, "npages");
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
