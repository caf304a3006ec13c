// What bytes a read (or a page check) must return:
//   {pattern: P}     the BytePattern P at the bytes' page offsets
//   {bytes: "a1 b2"} exactly these bytes
//   {page: p1}       what page p1 holds at those page offsets right now (host view of RAM)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "runner/byte_pattern.h"
#include "runner/selector.h"
#include "runner/step_op.h"

namespace kva::runner {

class DataExpect {
 public:
  static Selectable<DataExpect> parse(const YAML::Node& n, ParseContext& pc, const std::string& what);
  std::vector<std::uint8_t> expected(RunContext& ctx, std::size_t page_offset, std::size_t len) const;
  std::string describe() const;

 private:
  enum class Kind { Pattern, Bytes, Page };
  Kind kind_ = Kind::Pattern;
  BytePattern pattern_;
  std::vector<std::uint8_t> bytes_;
  std::string page_;
};

// Reads page bytes through the host view of guest RAM (no TLB, no oracle).
std::vector<std::uint8_t> read_page(RunContext& ctx, vm_page* m, std::size_t offset, std::size_t len);

}  // namespace kva::runner
