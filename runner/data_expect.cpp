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
      d.bytes_ = parse_hex_bytes(r, f.get("bytes"), what + ".bytes");
    }
    if (f.has("page")) {
      ++given;
      d.kind_ = Kind::Page;
      d.page_ = pc.page(f, "page");
    }
    if (f.has("file")) {
      ++given;
      d.kind_ = Kind::File;
      d.file_ = pc.file(f, "file");
    }
    if (given != 1) throw r.error(v, what + ": give exactly one of pattern, bytes, page, file");
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
                                               std::size_t len,
                                               std::optional<std::uint64_t> file_offset) const {
  switch (kind_) {
    case Kind::File:
      if (!file_offset) throw StepError("expect file: only for data read from a file's buffer or the file");
      return ctx.kernel().vfs().model(*ctx.file(file_), *file_offset, len);
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
    case Kind::File: return "contents of file " + file_;
  }
  return "?";
}

}  // namespace kva::runner
