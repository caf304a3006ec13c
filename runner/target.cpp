#include "runner/target.h"

#include "runner/run_context.h"

namespace kva::runner {

Target Target::parse(Fields& f, ParseContext& pc, const std::string& prefix) {
  const YamlReader& r = pc.reader();
  Target t;
  int given = 0;
  for (auto [key, kind] : {std::pair{"sf", Kind::Sf}, {"va", Kind::Va}, {"dmap", Kind::Dmap}}) {
    std::string field = prefix + key;
    if (!f.has(field)) continue;
    ++given;
    t.kind = kind;
    YAML::Node n = f.get(field);
    t.name = r.name(n, f.what() + "." + field);
    pc.require(n, t.name,
               kind == Kind::Sf ? ParseContext::Kind::SfBuf
               : kind == Kind::Va ? ParseContext::Kind::Kva
                                  : ParseContext::Kind::Page);
  }
  if (given != 1)
    throw r.error(f.node(), f.what() + ": give exactly one of " + prefix + "sf, " + prefix +
                                "va, " + prefix + "dmap");
  if (f.has(prefix + "offset"))
    t.offset = static_cast<std::uint64_t>(
        r.integer(f.get(prefix + "offset"), f.what() + "." + prefix + "offset", 0,
                  static_cast<std::int64_t>(Limits::max_memory)));
  return t;
}

vaddr_t Target::resolve(RunContext& ctx, std::size_t len) const {
  vaddr_t base = 0;
  std::size_t size = PAGE_SIZE;
  switch (kind) {
    case Kind::Sf: base = ctx.sfbufs().sf_buf_kva(ctx.sf(name)); break;
    case Kind::Va:
      base = ctx.kva(name);
      size = ctx.kva_pages(name) * PAGE_SIZE;
      break;
    case Kind::Dmap:
      if (!ctx.pmap().has_direct_map())
        throw StepError("dmap: this arch has no direct map (use a mode selector or sf:)");
      base = ctx.pmap().phys_to_dmap(ctx.page(name)->phys_addr);
      break;
  }
  if (offset + len > size)
    throw StepError(describe() + " + " + std::to_string(len) + " bytes runs past the end (" +
                    std::to_string(size) + " bytes)");
  return base + offset;
}

std::string Target::describe() const {
  const char* k = kind == Kind::Sf ? "sf" : kind == Kind::Va ? "va" : "dmap";
  return std::string(k) + " " + name + (offset ? "+" + std::to_string(offset) : "");
}

}  // namespace kva::runner
