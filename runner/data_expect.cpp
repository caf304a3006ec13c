#include "runner/data_expect.h"

#include "runner/run_context.h"

namespace kva::runner {

Selectable<DataExpect> DataExpect::parse(const YAML::Node& n, ParseContext& pc,
                                         const std::string& what) {
  const YamlReader& r = pc.reader();
  return Selectable<DataExpect>::parse(r, n, what, [&](const YAML::Node& v) {
    Fields f(r, v, what);
    DataExpect d;
    int given = 0;
    if (f.has("pattern")) {
      ++given;
      d.pattern_ = BytePattern::parse(r, f.get("pattern"), what + ".pattern");
    }
    if (f.has("bytes")) {
      ++given;
      d.kind_ = Kind::Bytes;
      // Reuse the pattern parser for the hex syntax, then take its bytes once.
      YAML::Node b = f.get("bytes");
      YAML::Node wrapped(YAML::NodeType::Map);
      wrapped["bytes"] = b;
      std::string text = r.str(b, what + ".bytes");
      std::size_t count = 0;
      for (std::size_t i = 0; i < text.size();) {
        while (i < text.size() && text[i] == ' ') ++i;
        if (i < text.size()) ++count;
        while (i < text.size() && text[i] != ' ') ++i;
      }
      BytePattern p = BytePattern::parse(r, wrapped, what);
      d.bytes_ = p.bytes(0, count);
      if (count == 0) throw r.error(b, what + ".bytes: no bytes given");
    }
    if (f.has("page")) {
      ++given;
      d.kind_ = Kind::Page;
      d.page_ = pc.page(f, "page");
    }
    if (given != 1) throw r.error(v, what + ": give exactly one of pattern, bytes, page");
    f.finish();
    return d;
  });
}

std::vector<std::uint8_t> read_page(RunContext& ctx, vm_page* m, std::size_t offset,
                                    std::size_t len) {
  std::vector<std::uint8_t> out(len);
  ctx.pmap().phys().read(m->phys_addr + offset, out.data(), len);
  return out;
}

std::vector<std::uint8_t> DataExpect::expected(RunContext& ctx, std::size_t page_offset,
                                               std::size_t len) const {
  switch (kind_) {
    case Kind::Pattern: return pattern_.bytes(page_offset, len);
    case Kind::Bytes: return bytes_;
    case Kind::Page: {
      // An access may span pages of a reservation; the expectation is about one page.
      if (page_offset + len > PAGE_SIZE)
        throw StepError("expect page: the access spans more than one page");
      return read_page(ctx, ctx.page(page_), page_offset, len);
    }
  }
  return {};
}

std::string DataExpect::describe() const {
  switch (kind_) {
    case Kind::Pattern: return "pattern " + pattern_.describe();
    case Kind::Bytes: return "bytes " + hex_bytes(bytes_);
    case Kind::Page: return "contents of page " + page_;
  }
  return "?";
}

}  // namespace kva::runner
