#include "emu/disasm.h"

#include "core/types.h"

namespace kva {

Disassembler::Disassembler(cs_arch arch, cs_mode mode) {
  if (cs_open(arch, mode, &handle_) != CS_ERR_OK)
    throw KvaError("capstone: cs_open failed for this guest ISA");
}

Disassembler::~Disassembler() { cs_close(&handle_); }

std::uint32_t Disassembler::count(std::span<const std::uint8_t> code, std::uint64_t address) {
  cs_insn* insn = nullptr;
  std::size_t n = cs_disasm(handle_, code.data(), code.size(), address, 0, &insn);
  if (n) cs_free(insn, n);
  return static_cast<std::uint32_t>(n);
}

std::string Disassembler::format_one(std::span<const std::uint8_t> code, std::uint64_t address) {
  cs_insn* insn = nullptr;
  if (cs_disasm(handle_, code.data(), code.size(), address, 1, &insn) != 1) return "(bad)";
  std::string s = insn->mnemonic;
  if (insn->op_str[0]) s += std::string(" ") + insn->op_str;
  cs_free(insn, 1);
  return s;
}

}  // namespace kva
