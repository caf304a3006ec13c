#include "emu/disasm.h"

#include "core/types.h"

namespace kva {

Disassembler::Disassembler(cs_arch arch, cs_mode mode) {
  if (cs_open(arch, mode, &handle_) != CS_ERR_OK)
    throw KvaError("capstone: cs_open failed for this guest ISA");
  cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
  insn_ = cs_malloc(handle_);
}

Disassembler::~Disassembler() {
  if (insn_) cs_free(insn_, 1);
  cs_close(&handle_);
}

std::size_t Disassembler::for_each(std::span<const std::uint8_t> code, std::uint64_t address,
                                   const std::function<bool(const cs_insn&)>& fn) {
  const std::uint8_t* p = code.data();
  std::size_t left = code.size();
  std::uint64_t a = address;
  while (left && cs_disasm_iter(handle_, &p, &left, &a, insn_))
    if (!fn(*insn_)) break;
  return code.size() - left;
}

std::string Disassembler::format_one(std::span<const std::uint8_t> code, std::uint64_t address) {
  std::string s = "(bad)";
  for_each(code, address, [&](const cs_insn& i) {
    s = i.mnemonic;
    if (i.op_str[0]) s += std::string(" ") + i.op_str;
    return false;
  });
  return s;
}

}  // namespace kva
