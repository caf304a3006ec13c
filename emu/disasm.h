// Capstone wrapper: decodes stub code (detail on, for GuestIsa::classify) and formats trace lines.
#pragma once
#include <capstone/capstone.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace kva {

// Whether a decoded instruction (Capstone detail on) belongs to a group (CS_GRP_JUMP, ...).
inline bool insn_in_group(const cs_insn& i, std::uint8_t group) {
  for (std::uint8_t k = 0; k < i.detail->groups_count; ++k)
    if (i.detail->groups[k] == group) return true;
  return false;
}

class Disassembler {
 public:
  Disassembler(cs_arch arch, cs_mode mode);
  ~Disassembler();
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  // Decodes `code` (loaded at `address`) instruction by instruction, calling fn for each, until
  // fn returns false or the bytes end. Returns the number of bytes decoded; fewer than
  // code.size() means undecodable bytes (or an early stop).
  std::size_t for_each(std::span<const std::uint8_t> code, std::uint64_t address,
                       const std::function<bool(const cs_insn&)>& fn);
  // "mnemonic operands" of the first instruction, or "(bad)".
  std::string format_one(std::span<const std::uint8_t> code, std::uint64_t address);

 private:
  csh handle_ = 0;
  cs_insn* insn_ = nullptr;
};

}  // namespace kva
