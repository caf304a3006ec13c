// sf_buf(9) steps: sf_buf_alloc, sf_buf_free, sf_buf_ref.
#include <cstdio>

#include "runner/run_context.h"
#include "runner/step_op.h"

namespace kva::runner {
namespace {

// What an sf_buf_alloc call must do.
struct AllocOutcome {
  enum class Kind {
    Ok,      // returns an sf_buf without sleeping
    Null,    // returns NULL without sleeping
    Blocks,  // sleeps; `then` says how it ends
    MayBlock, // inside a race: may sleep, must end with an sf_buf
    Any       // returns without sleeping, NULL or not (SFB_NOWAIT inside a race)
  };
  Kind kind = Kind::Ok;
  // Checks on the returned sf_buf.
  std::optional<std::string> same_as, not_same_as;
  std::optional<int> ref_count;
  std::optional<bool> direct_map;
};

const char* kind_text(AllocOutcome::Kind k) {
  switch (k) {
    case AllocOutcome::Kind::Ok: return "an sf_buf";
    case AllocOutcome::Kind::Null: return "NULL";
    case AllocOutcome::Kind::Blocks: return "to sleep";
    case AllocOutcome::Kind::MayBlock: return "an sf_buf (possibly after sleeping)";
    case AllocOutcome::Kind::Any: return "NULL or an sf_buf, without sleeping";
  }
  return "?";
}

Selectable<AllocOutcome> parse_outcome(const YAML::Node& n, ParseContext& pc,
                                       const std::string& what, bool allow_blocks) {
  const YamlReader& r = pc.reader();
  return Selectable<AllocOutcome>::parse(r, n, what, [&](const YAML::Node& v) {
    AllocOutcome o;
    if (v.IsNull()) {
      o.kind = AllocOutcome::Kind::Null;
      return o;
    }
    if (v.IsScalar()) {
      std::string s = v.Scalar();
      if (s == "ok") o.kind = AllocOutcome::Kind::Ok;
      else if (s == "any") o.kind = AllocOutcome::Kind::Any;
      else if (s == "blocks" && allow_blocks) o.kind = AllocOutcome::Kind::Blocks;
      else
        throw r.error(v, what + ": expected ok, null, any" + std::string(allow_blocks ? ", blocks" : "") +
                             " or a map of checks, got '" + s + "'");
      return o;
    }
    Fields f(r, v, what);
    auto sf_ref = [&](const char* key) {
      YAML::Node n2 = f.get(key);
      std::string name = r.name(n2, what + "." + key);
      pc.require(n2, name, ParseContext::Kind::SfBuf);
      return name;
    };
    if (f.has("same_as")) o.same_as = sf_ref("same_as");
    if (f.has("not_same_as")) o.not_same_as = sf_ref("not_same_as");
    if (f.has("ref_count")) o.ref_count = r.integer(f.get("ref_count"), what + ".ref_count", 0, 1 << 20);
    if (f.has("direct_map")) o.direct_map = r.boolean(f.get("direct_map"), what + ".direct_map");
    f.finish();
    return o;
  });
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

struct SfBufAlloc : StepOp {
  std::string thread, page, as;
  int flags = SFB_DEFAULT;
  Selectable<AllocOutcome> expect;  // empty: Ok (MayBlock inside a race)
  Selectable<AllocOutcome> then;    // for Blocks
  std::optional<std::string> woken_by;
  bool in_race = false;

  AllocOutcome immediate(const ArchContext& a) const {
    if (const AllocOutcome* o = expect.resolve(a)) return *o;
    AllocOutcome o;
    o.kind = in_race ? AllocOutcome::Kind::MayBlock : AllocOutcome::Kind::Ok;
    return o;
  }

  void run(RunContext& ctx) override {
    AllocOutcome want = immediate(ctx.arch());
    AllocRecord& rec = ctx.new_alloc(as, thread);
    Thread& td = ctx.thread(thread);
    bool now = ctx.sfbufs().sf_buf_alloc(td, ctx.page(page), flags, [&ctx, &rec](sf_buf* sf) {
      rec.done = true;
      rec.result = sf;
      rec.completed_step = ctx.step_label();
      if (rec.on_complete) rec.on_complete(ctx, rec);
    });
    if (!now) {
      if (want.kind == AllocOutcome::Kind::Ok || want.kind == AllocOutcome::Kind::Null ||
          want.kind == AllocOutcome::Kind::Any) {
        ctx.fail({"", "unexpected block",
                  "sf_buf_alloc(" + page + ") by " + thread + " slept on \"" + td.wmesg() + "\"",
                  td.cpu(), std::nullopt, kind_text(want.kind), "sleeping"});
        return;
      }
      // Checked when the call finally returns (during some later step).
      AllocOutcome final_want;
      if (want.kind == AllocOutcome::Kind::Blocks) {
        const AllocOutcome* t = then.resolve(ctx.arch());
        if (!t && !woken_by) return;
        if (t) final_want = *t;
        else final_want.kind = AllocOutcome::Kind::MayBlock;  // only woken_by is checked
      } else {
        final_want.kind = AllocOutcome::Kind::Ok;
      }
      std::string wb = woken_by.value_or("");
      rec.on_complete = [this, final_want, wb](RunContext& c, AllocRecord& r) {
        if (!wb.empty() && r.completed_step != wb)
          c.fail({"", "woken by wrong step",
                  "sf_buf_alloc(" + page + ") by " + thread + " returned during the wrong step",
                  std::nullopt, std::nullopt, wb, r.completed_step});
        if (final_want.kind != AllocOutcome::Kind::MayBlock) check(c, r, final_want, true);
      };
      return;
    }
    if (want.kind == AllocOutcome::Kind::Blocks) {
      ctx.fail({"", "unexpected completion",
                "sf_buf_alloc(" + page + ") by " + thread + " returned instead of sleeping",
                td.cpu(), std::nullopt, "to sleep", rec.result ? "an sf_buf" : "NULL"});
      return;
    }
    if (want.kind == AllocOutcome::Kind::Any) return;
    if (want.kind == AllocOutcome::Kind::MayBlock) want.kind = AllocOutcome::Kind::Ok;
    check(ctx, rec, want, false);
  }

  void check(RunContext& ctx, const AllocRecord& rec, const AllocOutcome& want, bool after_sleep) const {
    if (want.kind == AllocOutcome::Kind::Any) return;
    std::string call = "sf_buf_alloc(" + page + ") by " + thread + (after_sleep ? " after sleeping" : "");
    if (want.kind == AllocOutcome::Kind::Null) {
      if (rec.result)
        ctx.fail({"", "unexpected value", call + " returned an sf_buf", std::nullopt,
                  rec.result->kva, "NULL", hex(rec.result->kva)});
      return;
    }
    if (!rec.result) {
      ctx.fail({"", "unexpected NULL", call + " returned NULL", std::nullopt, std::nullopt,
                "an sf_buf", "NULL"});
      return;
    }
    vaddr_t kva = rec.result->kva;
    auto other_kva = [&](const std::string& name) -> std::optional<vaddr_t> {
      const AllocRecord& o = ctx.alloc(name);
      if (!o.done || !o.result) return std::nullopt;
      return o.result->kva;
    };
    if (want.same_as && other_kva(*want.same_as) != kva)
      ctx.fail({"", "unexpected value", call + " did not return the same sf_buf as " + *want.same_as,
                std::nullopt, kva, "kva of " + *want.same_as, hex(kva)});
    if (want.not_same_as && other_kva(*want.not_same_as) == kva)
      ctx.fail({"", "unexpected value", call + " returned the same sf_buf as " + *want.not_same_as,
                std::nullopt, kva, "another kva", hex(kva)});
    if (want.ref_count && rec.result->ref_count != *want.ref_count)
      ctx.fail({"", "unexpected value", call + ": wrong reference count", std::nullopt, kva,
                std::to_string(*want.ref_count), std::to_string(rec.result->ref_count)});
    if (want.direct_map) {
      Pmap& p = ctx.pmap();
      bool is_dmap = p.has_direct_map() && kva == p.phys_to_dmap(ctx.page(page)->phys_addr);
      if (is_dmap != *want.direct_map)
        ctx.fail({"", "unexpected value", call + ": kva is " + (is_dmap ? "" : "not ") +
                                              "the page's direct-map address",
                  std::nullopt, kva, *want.direct_map ? "direct map" : "pool kva", hex(kva)});
    }
  }
};

int parse_flags(Fields& f, const YamlReader& r) {
  int flags = SFB_DEFAULT;
  if (!f.has("flags")) return flags;
  YAML::Node n = f.get("flags");
  std::vector<YAML::Node> items;
  if (n.IsSequence()) for (const auto& e : n) items.push_back(e);
  else items.push_back(n);
  for (const auto& e : items) {
    std::string s = r.str(e, "sf_buf_alloc.flags");
    if (s.rfind("SFB_", 0) == 0) s = s.substr(4);
    if (s == "NOWAIT") flags |= SFB_NOWAIT;
    else if (s == "CATCH") flags |= SFB_CATCH;
    else if (s == "CPUPRIVATE") flags |= SFB_CPUPRIVATE;
    else if (s == "DEFAULT") flags |= SFB_DEFAULT;
    else throw r.error(e, "sf_buf_alloc.flags: unknown flag '" + s + "' (NOWAIT, CATCH, CPUPRIVATE)");
  }
  return flags;
}

struct SfBufFree : StepOp {
  std::string sf;
  std::optional<std::string> thread;  // default: the thread that allocated it
  bool if_not_null = false;           // `if (sf != NULL) sf_buf_free(sf)`, after SFB_NOWAIT
  void run(RunContext& ctx) override {
    const AllocRecord& rec = ctx.alloc(sf);
    if (if_not_null && rec.done && !rec.result) return;
    sf_buf* b = ctx.sf(sf);
    ctx.sfbufs().sf_buf_free(ctx.thread(thread.value_or(ctx.alloc(sf).thread)), b);
  }
};

struct SfBufRef : StepOp {
  std::string sf;
  void run(RunContext& ctx) override { ctx.sfbufs().sf_buf_ref(ctx.sf(sf)); }
};

}  // namespace

std::vector<OpDef> sf_buf_ops() {
  return {
      {"sf_buf_alloc", nullptr,
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         const YamlReader& r = pc.reader();
         auto op = std::make_unique<SfBufAlloc>();
         op->in_race = pc.race_thread.has_value();
         op->thread = pc.thread(f);
         op->page = pc.page(f);
         op->flags = parse_flags(f, r);
         if (f.has("expect")) op->expect = parse_outcome(f.get("expect"), pc, "sf_buf_alloc.expect", true);
         if (f.has("then")) op->then = parse_outcome(f.get("then"), pc, "sf_buf_alloc.then", false);
         if (f.has("expect_woken_by")) op->woken_by = pc.forward_label(f, "expect_woken_by");
         if ((f.has("then") || f.has("expect_woken_by")) && !f.has("expect"))
           throw r.error(f.node(), "sf_buf_alloc: then / expect_woken_by describe a sleeping call: add expect: blocks");
         YAML::Node as = f.require("as");
         op->as = r.name(as, "sf_buf_alloc.as");
         pc.define(as, op->as, ParseContext::Kind::SfBuf);
         return op;
       }},
      {"sf_buf_free", "sf",
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<SfBufFree>();
         op->sf = pc.sf(f);
         op->thread = pc.optional_thread(f);
         if (f.has("if_not_null")) op->if_not_null = pc.reader().boolean(f.get("if_not_null"), "sf_buf_free.if_not_null");
         return op;
       }},
      {"sf_buf_ref", "sf",
       [](Fields& f, ParseContext& pc) -> std::unique_ptr<StepOp> {
         auto op = std::make_unique<SfBufRef>();
         op->sf = pc.sf(f);
         return op;
       }},
  };
}

}  // namespace kva::runner
