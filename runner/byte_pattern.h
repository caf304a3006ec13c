// Byte patterns used to fill pages and to state what a read must return. A pattern is a
// function of the byte's offset within its page, so reading [offset, offset+len) of a page
// filled with a pattern returns pattern bytes offset..offset+len-1.
//   0xA1            every byte is 0xA1
//   seq | {seq: N}  byte i is (N + i) mod 256 (N = 0 for plain `seq`)
//   {bytes: "de ad be ef"}  these bytes, repeated
// Pages allocated without `fill` get a pattern derived from their name, so distinct pages
// hold distinct bytes and a stale read is never accidentally "right".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "runner/yaml_fields.h"

namespace kva::runner {

class BytePattern {
 public:
  static BytePattern parse(const YamlReader& r, const YAML::Node& n, const std::string& what);
  static BytePattern constant(std::uint8_t v);
  static BytePattern from_name(const std::string& name);

  std::uint8_t at(std::size_t page_offset) const;
  std::vector<std::uint8_t> bytes(std::size_t offset, std::size_t len) const;
  std::string describe() const;

 private:
  enum class Kind { Constant, Seq, Repeat };
  Kind kind_ = Kind::Constant;
  std::uint8_t base_ = 0;
  std::vector<std::uint8_t> repeat_;
};

std::string hex_bytes(const std::vector<std::uint8_t>& b, std::size_t max = 16);
// "de ad be ef" -> {0xde, 0xad, 0xbe, 0xef}; at least one byte.
std::vector<std::uint8_t> parse_hex_bytes(const YamlReader& r, const YAML::Node& n, const std::string& what);

}  // namespace kva::runner
