// Just enough RV64 instruction decoding to find the address a trapping load or store used:
// base register rs1 plus the sign-extended 12-bit offset (RISC-V unprivileged spec, "Load and
// Store Instructions"; I-type for loads, S-type for stores, offset 0 for AMOs).
#pragma once
#include <cstdint>
#include <optional>

namespace kva::riscv {

struct MemoryOperand {
  unsigned base_reg = 0;  // x0..x31
  std::int64_t offset = 0;
  bool store = false;
};

inline std::optional<MemoryOperand> memory_operand(std::uint32_t insn) {
  const std::uint32_t opcode = insn & 0x7f;
  const unsigned rs1 = (insn >> 15) & 31;
  // Arithmetic right shift of the top bits sign-extends the immediate.
  const auto high = static_cast<std::int64_t>(static_cast<std::int32_t>(insn));
  switch (opcode) {
    case 0x03:  // LOAD
    case 0x07:  // LOAD-FP
      return MemoryOperand{rs1, high >> 20, false};
    case 0x23:  // STORE
    case 0x27:  // STORE-FP
      return MemoryOperand{rs1, ((high >> 25) << 5) | ((insn >> 7) & 31), true};
    case 0x2f:  // AMO (and LR/SC): address in rs1, no offset
      return MemoryOperand{rs1, 0, ((insn >> 27) & 31) != 2 /* LR only reads */};
    default:
      return std::nullopt;
  }
}

}  // namespace kva::riscv
