// Capstone wrapper: instruction counts of translated blocks and trace lines.
#pragma once
#include <capstone/capstone.h>

#include <cstdint>
#include <span>
#include <string>

namespace kva {

class Disassembler {
 public:
  Disassembler(cs_arch arch, cs_mode mode);
  ~Disassembler();
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  // Number of instructions in `code` (a block of whole instructions).
  std::uint32_t count(std::span<const std::uint8_t> code, std::uint64_t address);
  // "mnemonic operands" of the first instruction, or "(bad)".
  std::string format_one(std::span<const std::uint8_t> code, std::uint64_t address);

 private:
  csh handle_ = 0;
};

}  // namespace kva
