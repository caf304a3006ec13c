#include "archs/x86/x86_cpu.h"

#include <unicorn/x86.h>

#include "core/types.h"
#include "emu/disasm.h"

namespace kva::x86 {

namespace {

void write_reg(uc_engine* uc, int reg, std::uint64_t v, const char* what) {
  if (uc_reg_write(uc, reg, &v) != UC_ERR_OK)
    throw KvaError(std::string("x86 boot: cannot write ") + what);
}

std::uint64_t read_reg(uc_engine* uc, int reg) {
  std::uint64_t v = 0;
  uc_reg_read(uc, reg, &v);
  return v;
}

// Rules 1-3 of emu/guest_isa.h on x86: `hlt` halts, `sub $N, <budget>` charges, jumps branch.
InsnRole classify(const cs_insn& i, x86_reg budget) {
  InsnRole r;
  const cs_x86& x = i.detail->x86;
  if (i.id == X86_INS_HLT) {
    r.kind = InsnRole::Halt;
  } else if (i.id == X86_INS_SUB && x.op_count == 2 && x.operands[0].type == X86_OP_REG &&
             x.operands[0].reg == budget && x.operands[1].type == X86_OP_IMM) {
    r.kind = InsnRole::Charge;
    r.charge = static_cast<std::uint64_t>(x.operands[1].imm);
  } else if (insn_in_group(i, CS_GRP_JUMP) || insn_in_group(i, CS_GRP_CALL) || insn_in_group(i, CS_GRP_RET) ||
             insn_in_group(i, CS_GRP_IRET)) {
    r.kind = InsnRole::Branch;
    r.call_or_return = !insn_in_group(i, CS_GRP_JUMP);
    r.conditional = i.id != X86_INS_JMP;
    if (x.op_count == 1 && x.operands[0].type == X86_OP_IMM)
      r.target = static_cast<std::uint64_t>(x.operands[0].imm);
  }
  return r;
}

void write_msr(uc_engine* uc, std::uint32_t msr, std::uint64_t v, const char* what) {
  uc_x86_msr m{msr, v};
  if (uc_reg_write(uc, UC_X86_REG_MSR, &m) != UC_ERR_OK)
    throw KvaError(std::string("x86 boot: cannot write ") + what);
}

std::uint64_t read_msr(uc_engine* uc, std::uint32_t msr) {
  uc_x86_msr m{msr, 0};
  uc_reg_read(uc, UC_X86_REG_MSR, &m);
  return m.value;
}

}  // namespace

GuestIsa guest_isa(CpuMode mode, std::uint64_t root, std::uint64_t cr4_bits,
                   std::uint64_t efer_bits) {
  bool is64 = mode == CpuMode::Long64;
  GuestIsa isa;
  isa.name = is64 ? "x86-64" : "i386";
  isa.uc_arch_id = UC_ARCH_X86;
  isa.uc_mode_id = is64 ? UC_MODE_64 : UC_MODE_32;
  isa.cs_arch_id = CS_ARCH_X86;
  isa.cs_mode_id = is64 ? CS_MODE_64 : CS_MODE_32;
  isa.pc_reg = is64 ? UC_X86_REG_RIP : UC_X86_REG_EIP;
  isa.sp_reg = is64 ? UC_X86_REG_RSP : UC_X86_REG_ESP;
  isa.arg_regs = is64 ? std::vector<int>{UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RDX}
                      : std::vector<int>{UC_X86_REG_EDI, UC_X86_REG_ESI, UC_X86_REG_EDX};
  isa.budget_reg = is64 ? UC_X86_REG_RBP : UC_X86_REG_EBP;
  isa.word_bytes = is64 ? 8 : 4;
  isa.halt_bytes = 1;  // hlt
  isa.boot_cpu = [root, cr4_bits, efer_bits](uc_engine* uc, cpuid_t) {
    if (efer_bits) {
      write_msr(uc, kMsrEfer, read_msr(uc, kMsrEfer) | efer_bits, "EFER");
      if ((read_msr(uc, kMsrEfer) & efer_bits) != efer_bits)
        throw KvaError("x86 boot: EFER bits did not stick (MSR readback)");
    }
    const std::uint64_t cr4 = cr4_bits | kCr4Smep | kCr4OsFxsr | kCr4OsXmmExcpt;
    write_reg(uc, UC_X86_REG_CR4, read_reg(uc, UC_X86_REG_CR4) | cr4, "CR4");
    if ((read_reg(uc, UC_X86_REG_CR4) & cr4) != cr4) throw KvaError("x86 boot: CR4 bits did not stick");
    write_reg(uc, UC_X86_REG_CR3, root, "CR3");
    write_reg(uc, UC_X86_REG_CR0, kCr0PagingOn, "CR0");
    if ((read_reg(uc, UC_X86_REG_CR0) & kCr0PagingOn) != kCr0PagingOn)
      throw KvaError("x86 boot: paging did not turn on (CR0 readback)");
  };
  isa.decode_trap = [pc_reg = isa.pc_reg](uc_engine* uc, std::uint32_t intno) {
    Trap t;
    t.intno = intno;
    t.pc = read_reg(uc, pc_reg);
    if (intno == kVectorPageFault) {
      t.page_fault = true;
      t.fault_va = read_reg(uc, UC_X86_REG_CR2);  // the faulting linear address
    }
    return t;
  };
  const x86_reg budget = is64 ? X86_REG_RBP : X86_REG_EBP;
  isa.classify = [budget](const cs_insn& i) { return classify(i, budget); };
  return isa;
}

}  // namespace kva::x86
