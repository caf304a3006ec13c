// Just enough RV64 instruction decoding for the host: the address a trapping load or store used
// (base register rs1 plus the sign-extended 12-bit offset: I-type for loads, S-type for
// stores, offset 0 for AMOs), and what the stub checker must know about control transfers and
// the instruction-budget charge (RISC-V unprivileged spec, "RV32I Base Integer Instruction
// Set": instruction formats and immediate encodings). Compressed instructions are not used.
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

// A control transfer, with its target relative to its own address when it is direct.
struct ControlTransfer {
  enum Kind { Conditional, Jump, Call, Indirect } kind = Jump;
  std::int64_t offset = 0;  // Conditional, Jump, Call
};

inline std::optional<ControlTransfer> control_transfer(std::uint32_t insn) {
  const std::uint32_t opcode = insn & 0x7f;
  const auto high = static_cast<std::int64_t>(static_cast<std::int32_t>(insn));  // insn[31] sign
  const unsigned rd = (insn >> 7) & 31;
  switch (opcode) {
    case 0x63: {  // BRANCH, B-type: imm[12|10:5] in 31:25, imm[4:1|11] in 11:7
      std::int64_t imm = ((high >> 31) << 12) | (((insn >> 25) & 0x3f) << 5) | (((insn >> 8) & 0xf) << 1) |
                         (((insn >> 7) & 1) << 11);
      return ControlTransfer{ControlTransfer::Conditional, imm};
    }
    case 0x6f: {  // JAL, J-type: imm[20|10:1|11|19:12] in 31:12
      std::int64_t imm = ((high >> 31) << 20) | (((insn >> 21) & 0x3ff) << 1) | (((insn >> 20) & 1) << 11) |
                         (insn & 0xff000);
      return ControlTransfer{rd == 0 ? ControlTransfer::Jump : ControlTransfer::Call, imm};
    }
    case 0x67:  // JALR
      return ControlTransfer{ControlTransfer::Indirect, 0};
    default:
      break;
  }
  if (insn == 0x30200073 || insn == 0x10200073)  // mret, sret: jump to mepc / sepc
    return ControlTransfer{ControlTransfer::Indirect, 0};
  return std::nullopt;
}

// `addi reg, reg, -n` with n > 0: the budget charge of the stub convention, or nullopt.
inline std::optional<std::uint64_t> charge_of(std::uint32_t insn, unsigned reg) {
  const bool addi = (insn & 0x7f) == 0x13 && ((insn >> 12) & 7) == 0;
  if (!addi || ((insn >> 7) & 31) != reg || ((insn >> 15) & 31) != reg) return std::nullopt;
  const std::int64_t imm = static_cast<std::int64_t>(static_cast<std::int32_t>(insn)) >> 20;
  if (imm >= 0) return std::nullopt;
  return static_cast<std::uint64_t>(-imm);
}

inline constexpr std::uint32_t kInsnWfi = 0x10500073;

}  // namespace kva::riscv
