#include "archs/arm64/arm64_fault_address.h"

#include <unicorn/arm64.h>

#include "core/types.h"

namespace kva::arm64 {

namespace {

std::optional<int> unicorn_reg(unsigned cs_reg) {
  if (cs_reg >= ARM64_REG_X0 && cs_reg <= ARM64_REG_X28)
    return UC_ARM64_REG_X0 + static_cast<int>(cs_reg - ARM64_REG_X0);
  switch (cs_reg) {
    case ARM64_REG_X29: return UC_ARM64_REG_X29;
    case ARM64_REG_X30: return UC_ARM64_REG_X30;
    case ARM64_REG_SP: return UC_ARM64_REG_SP;
    default: return std::nullopt;
  }
}

std::optional<std::uint64_t> reg_value(uc_engine* uc, unsigned cs_reg) {
  auto r = unicorn_reg(cs_reg);
  if (!r) return std::nullopt;
  std::uint64_t v = 0;
  if (uc_reg_read(uc, *r, &v) != UC_ERR_OK) return std::nullopt;
  return v;
}

}  // namespace

FaultAddressDecoder::FaultAddressDecoder() {
  if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &handle_) != CS_ERR_OK)
    throw KvaError("capstone: cannot open an AArch64 decoder");
  cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
  insn_ = cs_malloc(handle_);
}

FaultAddressDecoder::~FaultAddressDecoder() {
  cs_free(insn_, 1);
  cs_close(&handle_);
}

std::optional<std::uint64_t> FaultAddressDecoder::accessed_address(uc_engine* uc, std::uint64_t pc) {
  std::uint8_t code[4];
  if (uc_mem_read(uc, pc, code, sizeof code) != UC_ERR_OK) return std::nullopt;  // stubs: VA == PA
  const std::uint8_t* p = code;
  std::size_t size = sizeof code;
  std::uint64_t address = pc;
  if (!cs_disasm_iter(handle_, &p, &size, &address, insn_)) return std::nullopt;
  const cs_arm64& a = insn_->detail->arm64;
  for (std::uint8_t i = 0; i < a.op_count; ++i) {
    const cs_arm64_op& op = a.operands[i];
    if (op.type != ARM64_OP_MEM) continue;
    auto base = reg_value(uc, op.mem.base);
    if (!base) return std::nullopt;
    // Register-offset forms are not used by the stubs: no address rather than a wrong one.
    if (op.mem.index != ARM64_REG_INVALID) return std::nullopt;
    // Immediate-offset and pre-index forms access base + disp; post-index forms access the
    // base itself (the increment applies only when the access completes).
    const bool post_index = a.writeback && a.post_index;
    std::uint64_t va = *base + (post_index ? 0 : static_cast<std::int64_t>(op.mem.disp));
    return va;
  }
  return std::nullopt;
}

}  // namespace kva::arm64
