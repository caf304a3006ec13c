#include "runner/target.h"

#include "runner/run_context.h"

namespace kva::runner {

Target Target::parse(Fields& f, ParseContext& pc, const std::string& prefix) {
  const YamlReader& r = pc.reader();
  Target t;
  int given = 0;
  for (auto [key, kind] :
       {std::pair{"sf", Kind::Sf}, {"va", Kind::Va}, {"dmap", Kind::Dmap}, {"buf", Kind::Buf}}) {
    std::string field = prefix + key;
    if (!f.has(field)) continue;
    ++given;
    t.kind = kind;
    YAML::Node n = f.get(field);
    t.name = r.name(n, f.what() + "." + field);
    pc.require(n, t.name,
               kind == Kind::Sf   ? ParseContext::Kind::SfBuf
               : kind == Kind::Va ? ParseContext::Kind::Kva
               : kind == Kind::Buf ? ParseContext::Kind::Buffer
                                   : ParseContext::Kind::Page);
  }
  if (given != 1)
    throw r.error(f.node(), f.what() + ": give exactly one of " + prefix + "sf, " + prefix +
                                "va, " + prefix + "dmap, " + prefix + "buf");
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
    case Kind::Buf: {
      const buf* bp = ctx.buffer(name);
      if (!buf_mapped(bp))
        // Dereferencing b_data of an unmapped buffer is a kernel bug (FreeBSD's unmapped_buf).
        throw KvaError("buffer " + name + " is unmapped (GB_UNMAPPED or lazily unmapped): it has no b_data");
      base = bp->b_data;
      size = static_cast<std::size_t>(bp->b_bcount);
      break;
    }
  }
  if (offset + len > size)
    throw StepError(describe() + " + " + std::to_string(len) + " bytes runs past the end (" +
                    std::to_string(size) + " bytes)");
  return base + offset;
}

std::optional<std::uint64_t> Target::file_offset(RunContext& ctx) const {
  if (kind != Kind::Buf) return std::nullopt;
  const buf* bp = ctx.buffer(name);
  if (bp->b_offset == NOOFFSET) return std::nullopt;
  return static_cast<std::uint64_t>(bp->b_offset) + offset;
}

std::string Target::describe() const {
  const char* k = kind == Kind::Sf ? "sf" : kind == Kind::Va ? "va" : kind == Kind::Buf ? "buf" : "dmap";
  return std::string(k) + " " + name + (offset ? "+" + std::to_string(offset) : "");
}

}  // namespace kva::runner
