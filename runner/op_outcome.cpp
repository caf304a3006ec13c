#include "runner/op_outcome.h"

namespace kva::runner {
namespace {

const char* text(OutcomeKind k) {
  switch (k) {
    case OutcomeKind::Ok: return "ok";
    case OutcomeKind::Null: return "NULL";
    case OutcomeKind::Error: return "an error";
    case OutcomeKind::Blocks: return "to sleep";
    case OutcomeKind::MayBlock: return "ok (possibly after sleeping)";
    case OutcomeKind::Any: return "to return without sleeping";
  }
  return "?";
}

std::string got_text(const OpRecord& r, bool returns_buffer) {
  if (r.error) return "error " + std::to_string(r.error);
  if (returns_buffer && !r.bp) return "NULL";
  return "ok";
}

// Checks a returned call against what it had to return.
void check(RunContext& ctx, const std::string& name, const OpRecord& r, OutcomeKind want,
           bool returns_buffer, bool after_sleep) {
  if (want == OutcomeKind::Any) return;
  const std::string got = got_text(r, returns_buffer);
  const bool ok = want == OutcomeKind::Error ? r.error != 0
                  : want == OutcomeKind::Null ? (r.error == 0 && !r.bp)
                                              : (r.error == 0 && (!returns_buffer || r.bp));
  if (ok) return;
  const std::string call = r.op + " '" + name + "' by " + r.thread + (after_sleep ? " after sleeping" : "");
  const char* oracle = got == "NULL" ? "unexpected NULL" : "unexpected value";
  ctx.fail({"", oracle, call + " returned " + got, std::nullopt, std::nullopt, text(want), got});
}

}  // namespace

OutcomeSpec OutcomeSpec::parse(Fields& f, ParseContext& pc, bool returns_buffer, const std::string& key) {
  const YamlReader& r = pc.reader();
  OutcomeSpec s;
  s.in_race = pc.race_thread.has_value();
  s.returns_buffer = returns_buffer;
  auto kind = [&](const std::string& what, bool allow_blocks) {
    return [&r, what, allow_blocks, returns_buffer](const YAML::Node& v) {
      if (v.IsNull()) {
        if (!returns_buffer) throw r.error(v, what + ": this call returns no buffer, so never NULL");
        return OutcomeKind::Null;
      }
      const std::string t = r.str(v, what);
      if (t == "ok") return OutcomeKind::Ok;
      if (t == "error") return OutcomeKind::Error;
      if (t == "any") return OutcomeKind::Any;
      if (t == "null" && returns_buffer) return OutcomeKind::Null;
      if (t == "blocks" && allow_blocks) return OutcomeKind::Blocks;
      throw r.error(v, what + ": expected ok, error, any" + std::string(returns_buffer ? ", null" : "") +
                           (allow_blocks ? ", blocks" : "") + ", got '" + t + "'");
    };
  };
  const std::string op = f.what();
  if (f.has(key)) s.expect = Selectable<OutcomeKind>::parse(r, f.get(key), op + "." + key, kind(op + "." + key, true));
  if (f.has("then")) s.then = Selectable<OutcomeKind>::parse(r, f.get("then"), op + ".then", kind(op + ".then", false));
  if (f.has("expect_woken_by")) s.woken_by = pc.forward_label(f, "expect_woken_by");
  if ((f.has("then") || f.has("expect_woken_by")) && !f.has(key))
    throw r.error(f.node(), op + ": then / expect_woken_by describe a sleeping call: add " + key + ": blocks");
  return s;
}

void run_op(RunContext& ctx, const OutcomeSpec& spec, const std::string& name,
            const std::string& op, Thread& td, const std::function<bool(Finish)>& start) {
  OutcomeKind want = spec.in_race ? OutcomeKind::MayBlock : OutcomeKind::Ok;
  if (const OutcomeKind* k = spec.expect.resolve(ctx.arch())) want = *k;
  OpRecord& rec = ctx.new_op(name, op, td.name());
  rec.td = &td;
  start([&ctx, &rec](buf* bp, int error) {
    rec.done = true;
    rec.bp = bp;
    rec.error = error;
    rec.lockgen = bp ? bp->b_lockgen : 0;
    rec.completed_step = ctx.step_label();
    if (rec.on_complete) rec.on_complete(ctx, rec);
  });
  // A call "returns" during its step even when it slept for I/O that completed meanwhile;
  // it blocks when it is still asleep once the step is over.
  const bool buffer = spec.returns_buffer;
  ctx.after_step([&ctx, &rec, &td, spec, name, op, want, buffer]() mutable {
    if (rec.done) {
      if (want == OutcomeKind::Blocks) {
        ctx.fail({"", "unexpected completion", op + " '" + name + "' by " + td.name() + " returned instead of sleeping",
                  td.cpu(), std::nullopt, "to sleep", got_text(rec, buffer)});
        return;
      }
      check(ctx, name, rec, want == OutcomeKind::MayBlock ? OutcomeKind::Ok : want, buffer, false);
      return;
    }
    if (want != OutcomeKind::Blocks && want != OutcomeKind::MayBlock) {
      ctx.fail({"", "unexpected block", op + " '" + name + "' by " + td.name() + " sleeps on \"" + td.wmesg() + "\"",
                td.cpu(), std::nullopt, text(want), "sleeping"});
      return;
    }
    OutcomeKind final_want = OutcomeKind::Ok;
    bool check_final = true;
    if (want == OutcomeKind::Blocks) {
      const OutcomeKind* t = spec.then.resolve(ctx.arch());
      if (!t && !spec.woken_by) return;
      if (t) final_want = *t;
      else check_final = false;
    }
    const std::string wb = spec.woken_by.value_or("");
    rec.on_complete = [name, final_want, check_final, wb, buffer](RunContext& c, OpRecord& r) {
      if (!wb.empty() && r.completed_step != wb)
        c.fail({"", "woken by wrong step", r.op + " '" + name + "' returned during the wrong step",
                std::nullopt, std::nullopt, wb, r.completed_step});
      if (check_final) check(c, name, r, final_want, buffer, true);
    };
  });
}

Actor Actor::parse(Fields& f, ParseContext& pc) {
  Actor a;
  if (f.has("cpu")) {
    if (f.has("thread") || pc.race_thread)
      throw pc.reader().error(f.get("cpu"), f.what() + ": give either cpu or thread, not both");
    a.cpu = pc.cpu_value(f.get("cpu"), f.what() + ".cpu");
    return a;
  }
  a.thread = pc.optional_thread(f);
  if (!a.thread) throw pc.reader().error(f.node(), f.what() + ": missing field 'thread' (or 'cpu')");
  return a;
}

}  // namespace kva::runner
