#include "archs/arm64/arm64_cpu.h"

#include <unicorn/arm64.h>

#include <memory>
#include <string>
#include <string_view>

#include "archs/arm64/arm64_fault_address.h"
#include "archs/arm64/arm64_stub_abi.h"
#include "core/types.h"
#include "emu/disasm.h"

namespace kva::arm64 {

namespace {

// System registers not in Unicorn's enum, by encoding (op0, op1, CRn, CRm, op2).
constexpr uc_arm64_cp_reg kScrEl3Reg{1, 1, 3, 6, 0, 0};
constexpr uc_arm64_cp_reg kHcrEl2Reg{1, 1, 3, 4, 0, 0};
constexpr uc_arm64_cp_reg kSctlrEl1Reg{1, 0, 3, 0, 0, 0};
// The instruction budget (emu/guest_isa.h, rule 3): x28, which no stub uses otherwise.
constexpr int kBudgetRegUc = UC_ARM64_REG_X28;
constexpr unsigned kBudgetRegCs = ARM64_REG_X28;

void write_cp(uc_engine* uc, uc_arm64_cp_reg r, std::uint64_t v, const char* what) {
  r.val = v;
  if (uc_reg_write(uc, UC_ARM64_REG_CP_REG, &r) != UC_ERR_OK)
    throw KvaError(std::string("arm64 boot: cannot write ") + what);
}

std::uint64_t read_cp(uc_engine* uc, uc_arm64_cp_reg r) {
  uc_reg_read(uc, UC_ARM64_REG_CP_REG, &r);
  return r.val;
}

std::uint64_t read_reg(uc_engine* uc, int reg) {
  std::uint64_t v = 0;
  uc_reg_read(uc, reg, &v);
  return v;
}

// Rules 1-3 of emu/guest_isa.h on arm64: `wfi` halts, `sub x28, x28, #N` charges, and the
// branches are b, b.cond, cbz/cbnz, tbz/tbnz (direct), br/blr/ret (not allowed).
InsnRole classify(const cs_insn& i) {
  InsnRole r;
  const cs_arm64& a = i.detail->arm64;
  if (i.id == ARM64_INS_WFI) {
    r.kind = InsnRole::Halt;
  } else if (i.id == ARM64_INS_SUB && a.op_count == 3 && a.operands[0].type == ARM64_OP_REG &&
             a.operands[0].reg == kBudgetRegCs && a.operands[1].type == ARM64_OP_REG &&
             a.operands[1].reg == kBudgetRegCs && a.operands[2].type == ARM64_OP_IMM &&
             a.operands[2].shift.type == ARM64_SFT_INVALID) {
    r.kind = InsnRole::Charge;
    r.charge = static_cast<std::uint64_t>(a.operands[2].imm);
  } else if (insn_in_group(i, CS_GRP_JUMP) || insn_in_group(i, CS_GRP_CALL) || insn_in_group(i, CS_GRP_RET)) {
    r.kind = InsnRole::Branch;
    r.call_or_return = !insn_in_group(i, CS_GRP_JUMP);
    r.conditional = !(i.id == ARM64_INS_B && (a.cc == ARM64_CC_INVALID || a.cc == ARM64_CC_AL)) &&
                    i.id != ARM64_INS_BR;
    for (std::uint8_t k = 0; k < a.op_count; ++k)  // the target is the last immediate (tbz: bit, target)
      if (a.operands[k].type == ARM64_OP_IMM) r.target = static_cast<std::uint64_t>(a.operands[k].imm);
  }
  return r;
}

}  // namespace

BootParams boot_params(const StubImage& stubs, const FirmwareLayout& fw, std::uint64_t ttbr0,
                       std::uint64_t ttbr1) {
  auto find = [&](std::string_view name) {
    for (const auto& s : stubs.symbols)
      if (s.name == name) return fw.code() + s.offset;
    throw KvaError("arm64: stub image has no symbol '" + std::string(name) + "'");
  };
  return {ttbr0, ttbr1, find(kStubBoot), find(std::string(kStubBoot) + "_done")};
}

GuestIsa guest_isa(const BootParams& boot) {
  GuestIsa isa;
  isa.name = "arm64";
  isa.uc_arch_id = UC_ARCH_ARM64;
  isa.uc_mode_id = UC_MODE_ARM;
  isa.cs_arch_id = CS_ARCH_ARM64;
  isa.cs_mode_id = CS_MODE_ARM;
  isa.pc_reg = UC_ARM64_REG_PC;
  isa.sp_reg = UC_ARM64_REG_SP;
  isa.arg_regs = {UC_ARM64_REG_X0, UC_ARM64_REG_X1, UC_ARM64_REG_X2, UC_ARM64_REG_X3, UC_ARM64_REG_X4};
  isa.budget_reg = kBudgetRegUc;
  isa.word_bytes = 8;
  isa.halt_bytes = 4;  // wfi
  isa.boot_cpu = [boot](uc_engine* uc, cpuid_t cpu) {
    write_cp(uc, kScrEl3Reg, kScrEl3, "SCR_EL3");
    write_cp(uc, kHcrEl2Reg, kHcrEl2, "HCR_EL2");
    const std::uint64_t args[] = {kMair, kTcr, boot.ttbr0, boot.ttbr1, kSctlr};
    for (int i = 0; i < 5; ++i)
      if (uc_reg_write(uc, UC_ARM64_REG_X0 + i, &args[i]) != UC_ERR_OK)
        throw KvaError("arm64 boot: cannot write boot stub arguments");
    // Stop before the halt in both execution modes, so traces agree: with Unicorn's exit list
    // on (fast mode) `until` is ignored, so the list holds kva_boot_done for this one run.
    std::size_t nexits = 0;
    const bool exit_list = uc_ctl_get_exits_cnt(uc, &nexits) == UC_ERR_OK;
    std::uint64_t stop = boot.boot_done;
    if (exit_list && uc_ctl_set_exits(uc, &stop, 1) != UC_ERR_OK)
      throw KvaError("arm64 boot: cannot set the exit list");
    uc_err err = uc_emu_start(uc, boot.boot_entry, boot.boot_done, 0, 0);
    if (exit_list && uc_ctl_set_exits(uc, &stop, 0) != UC_ERR_OK)
      throw KvaError("arm64 boot: cannot empty the exit list");
    std::uint64_t pc = read_reg(uc, UC_ARM64_REG_PC);
    if (err != UC_ERR_OK || pc != boot.boot_done)
      throw KvaError("arm64 boot: cpu" + std::to_string(cpu) + " did not finish kva_boot (" +
                     uc_strerror(err) + ")");
    if ((read_cp(uc, kSctlrEl1Reg) & kSctlrM) == 0)
      throw KvaError("arm64 boot: the MMU did not turn on (SCTLR_EL1 readback)");
  };
  auto decoder = std::make_shared<FaultAddressDecoder>();
  isa.decode_trap = [decoder](uc_engine* uc, std::uint32_t intno) {
    Trap t;
    t.intno = intno;
    t.pc = read_reg(uc, UC_ARM64_REG_PC);
    if (intno == kExcpPrefetchAbort) {
      t.page_fault = true;
      t.fault_va = t.pc;
    } else if (intno == kExcpDataAbort) {
      if (auto va = decoder->accessed_address(uc, t.pc)) {
        t.page_fault = true;
        t.fault_va = *va;
      }
    }
    return t;
  };
  isa.classify = classify;
  return isa;
}

}  // namespace kva::arm64
