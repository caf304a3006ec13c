#include "runner/byte_pattern.h"

#include <cstdio>
#include <sstream>

namespace kva::runner {

BytePattern BytePattern::constant(std::uint8_t v) {
  BytePattern p;
  p.base_ = v;
  return p;
}

// An 8-byte repeating pattern from an FNV-1a hash of the name.
BytePattern BytePattern::from_name(const std::string& name) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  BytePattern p;
  p.kind_ = Kind::Repeat;
  for (int i = 0; i < 8; ++i) p.repeat_.push_back(static_cast<std::uint8_t>(h >> (8 * i)));
  return p;
}

BytePattern BytePattern::parse(const YamlReader& r, const YAML::Node& n, const std::string& what) {
  BytePattern p;
  if (n.IsScalar() && n.Scalar() == "seq") {
    p.kind_ = Kind::Seq;
    return p;
  }
  if (n.IsScalar()) {
    p.base_ = static_cast<std::uint8_t>(r.integer(n, what + " (byte value)", 0, 255));
    return p;
  }
  Fields f(r, n, what);
  if (f.has("seq")) {
    p.kind_ = Kind::Seq;
    p.base_ = static_cast<std::uint8_t>(r.integer(f.get("seq"), what + ".seq", 0, 255));
  } else if (f.has("bytes")) {
    p.kind_ = Kind::Repeat;
    p.repeat_ = parse_hex_bytes(r, f.get("bytes"), what + ".bytes");
  } else {
    throw r.error(n, what + ": expected a byte value, seq, {seq: N} or {bytes: \"..\"}");
  }
  f.finish();
  return p;
}

std::uint8_t BytePattern::at(std::size_t off) const {
  switch (kind_) {
    case Kind::Constant: return base_;
    case Kind::Seq: return static_cast<std::uint8_t>(base_ + off);
    case Kind::Repeat: return repeat_[off % repeat_.size()];
  }
  return 0;
}

std::vector<std::uint8_t> BytePattern::bytes(std::size_t offset, std::size_t len) const {
  std::vector<std::uint8_t> out(len);
  for (std::size_t i = 0; i < len; ++i) out[i] = at(offset + i);
  return out;
}

std::string BytePattern::describe() const {
  char buf[32];
  switch (kind_) {
    case Kind::Constant: std::snprintf(buf, sizeof buf, "0x%02x", base_); return buf;
    case Kind::Seq: std::snprintf(buf, sizeof buf, "seq from 0x%02x", base_); return buf;
    case Kind::Repeat: return "bytes " + hex_bytes(repeat_, 8);
  }
  return "?";
}

std::vector<std::uint8_t> parse_hex_bytes(const YamlReader& r, const YAML::Node& n, const std::string& what) {
  std::istringstream in(r.str(n, what));
  std::vector<std::uint8_t> out;
  std::string tok;
  while (in >> tok) {
    if (tok.size() > 2 || tok.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      throw r.error(n, what + ": '" + tok + "' is not a hex byte");
    out.push_back(static_cast<std::uint8_t>(std::stoul(tok, nullptr, 16)));
  }
  if (out.empty()) throw r.error(n, what + ": no bytes given");
  return out;
}

std::string hex_bytes(const std::vector<std::uint8_t>& b, std::size_t max) {
  std::string s;
  char buf[4];
  for (std::size_t i = 0; i < b.size() && i < max; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", b[i]);
    if (i) s += ' ';
    s += buf;
  }
  if (b.size() > max) s += " ...";
  return s;
}

}  // namespace kva::runner
