// What bytes a read (or a page check) must return:
//   {pattern: P}     the BytePattern P at the bytes' page offsets
//   {bytes: "a1 b2"} exactly these bytes
//   {page: p1}       what page p1 holds at those page offsets right now (host view of RAM)
//   {file: f1}       what file f1 holds at the bytes' file offsets (its reference model): for
//                    reads of a buffer or a file
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runner/byte_pattern.h"
#include "runner/selector.h"
#include "runner/step_op.h"

namespace kva::runner {

class DataExpect {
 public:
  static Selectable<DataExpect> parse(const YAML::Node& n, ParseContext& pc, const std::string& what);
  // file_offset: where the bytes sit in their file, when they come from a buffer or a file.
  std::vector<std::uint8_t> expected(RunContext& ctx, std::size_t page_offset, std::size_t len,
                                     std::optional<std::uint64_t> file_offset = std::nullopt) const;
  std::string describe() const;

 private:
  enum class Kind { Pattern, Bytes, Page, File };
  Kind kind_ = Kind::Pattern;
  BytePattern pattern_;
  std::vector<std::uint8_t> bytes_;
  std::string page_;
  std::string file_;
};

// Reads page bytes through the host view of guest RAM (no TLB, no oracle).
std::vector<std::uint8_t> read_page(RunContext& ctx, vm_page* m, std::size_t offset, std::size_t len);

}  // namespace kva::runner
