#include "archs/riscv64/riscv_cpu.h"

#include <unicorn/riscv.h>

#include "archs/riscv64/riscv_insn.h"
#include "archs/riscv64/riscv_stub_abi.h"
#include "core/types.h"
#include "stubs/riscv64_stubs.h"

namespace kva::riscv {

namespace {

void write_reg(uc_engine* uc, int reg, std::uint64_t v, const char* what) {
  if (uc_reg_write(uc, reg, &v) != UC_ERR_OK) throw KvaError(std::string("riscv64 boot: cannot write ") + what);
}

std::uint64_t read_reg(uc_engine* uc, int reg) {
  std::uint64_t v = 0;
  uc_reg_read(uc, reg, &v);
  return v;
}

// The VA a trapping load/store at `pc` used, read back from the instruction and its base
// register (neither has changed: the instruction did not complete). Stub code is identity
// mapped, so pc is also the physical address uc_mem_read wants.
std::optional<vaddr_t> data_fault_address(uc_engine* uc, std::uint64_t pc) {
  std::uint32_t insn = 0;
  if (uc_mem_read(uc, pc, &insn, sizeof insn) != UC_ERR_OK) return std::nullopt;
  auto op = memory_operand(insn);
  if (!op) return std::nullopt;
  std::uint64_t base = op->base_reg == 0 ? 0 : read_reg(uc, UC_RISCV_REG_X0 + static_cast<int>(op->base_reg));
  return base + static_cast<std::uint64_t>(op->offset);
}

// Rules 1-3 of emu/guest_isa.h, from the raw encoding (Capstone's detail files `j` under
// "call" and gives branch offsets, not targets).
InsnRole classify(const cs_insn& i) {
  InsnRole r;
  if (i.size != 4) return r;
  const std::uint32_t insn = static_cast<std::uint32_t>(i.bytes[0]) | static_cast<std::uint32_t>(i.bytes[1]) << 8 |
                             static_cast<std::uint32_t>(i.bytes[2]) << 16 | static_cast<std::uint32_t>(i.bytes[3]) << 24;
  if (insn == kInsnWfi) {
    r.kind = InsnRole::Halt;
  } else if (auto n = charge_of(insn, kBudgetReg)) {
    r.kind = InsnRole::Charge;
    r.charge = *n;
  } else if (auto ct = control_transfer(insn)) {
    r.kind = InsnRole::Branch;
    r.conditional = ct->kind == ControlTransfer::Conditional;
    r.call_or_return = ct->kind == ControlTransfer::Call;
    if (ct->kind != ControlTransfer::Indirect) r.target = i.address + static_cast<std::uint64_t>(ct->offset);
  }
  return r;
}

}  // namespace

GuestIsa guest_isa(std::uint64_t satp, std::uint64_t boot_entry, std::uint64_t boot_landing) {
  GuestIsa isa;
  isa.name = "riscv64";
  isa.uc_arch_id = UC_ARCH_RISCV;
  isa.uc_mode_id = UC_MODE_RISCV64;
  isa.cs_arch_id = CS_ARCH_RISCV;
  isa.cs_mode_id = CS_MODE_RISCV64;
  isa.pc_reg = UC_RISCV_REG_PC;
  isa.sp_reg = UC_RISCV_REG_SP;
  // a0..a7: a6/a7 carry the SBI function and extension IDs of an ecall.
  isa.arg_regs = {UC_RISCV_REG_A0, UC_RISCV_REG_A1, UC_RISCV_REG_A2, UC_RISCV_REG_A3,
                  UC_RISCV_REG_A4, UC_RISCV_REG_A5, UC_RISCV_REG_A6};
  isa.budget_reg = UC_RISCV_REG_X0 + static_cast<int>(kBudgetReg);
  isa.word_bytes = 8;
  isa.halt_bytes = 4;  // wfi
  isa.boot_cpu = [satp, boot_entry, boot_landing](uc_engine* uc, cpuid_t) {
    write_reg(uc, UC_RISCV_REG_SATP, satp, "satp");
    std::uint64_t mstatus = read_reg(uc, UC_RISCV_REG_MSTATUS);
    write_reg(uc, UC_RISCV_REG_MSTATUS, (mstatus & ~kMstatusMppMask) | kMstatusMppSupervisor, "mstatus");
    write_reg(uc, UC_RISCV_REG_MEPC, boot_landing, "mepc");
    // Stop before the wfi at the landing in both execution modes, so traces agree: with
    // Unicorn's exit list on (fast mode) `until` is ignored, so the list holds the landing
    // for this one run and is emptied again.
    std::size_t nexits = 0;
    const bool exit_list = uc_ctl_get_exits_cnt(uc, &nexits) == UC_ERR_OK;
    std::uint64_t stop = boot_landing;
    if (exit_list && uc_ctl_set_exits(uc, &stop, 1) != UC_ERR_OK) throw KvaError("riscv64 boot: cannot set the exit list");
    uc_err err = uc_emu_start(uc, boot_entry, boot_landing, 0, 0);
    if (exit_list && uc_ctl_set_exits(uc, &stop, 0) != UC_ERR_OK)
      throw KvaError("riscv64 boot: cannot empty the exit list");
    if (err != UC_ERR_OK) throw KvaError(std::string("riscv64 boot: mret failed: ") + uc_strerror(err));
    const std::uint64_t pc = read_reg(uc, UC_RISCV_REG_PC);
    if (read_reg(uc, UC_RISCV_REG_PRIV) != kPrivSupervisor || pc != boot_landing)
      throw KvaError("riscv64 boot: the hart did not reach S-mode at the landing address");
    if (read_reg(uc, UC_RISCV_REG_SATP) != satp)
      throw KvaError("riscv64 boot: satp readback differs (paging mode not supported?)");
  };
  isa.decode_trap = [](uc_engine* uc, std::uint32_t intno) {
    Trap t;
    t.intno = intno;
    t.pc = read_reg(uc, UC_RISCV_REG_PC) - 4;  // Unicorn advanced it past the trapping instruction
    if (intno == kTrapFetchPageFault) {
      t.page_fault = true;
      t.fault_va = t.pc;
    } else if (intno == kTrapLoadPageFault || intno == kTrapStorePageFault) {
      // An undecodable instruction leaves page_fault false: the arch reports an unexpected trap.
      if (auto va = data_fault_address(uc, t.pc)) {
        t.page_fault = true;
        t.fault_va = *va;
      }
    }
    return t;
  };
  isa.classify = classify;
  isa.is_firmware_call = [](const Trap& t) { return t.intno == kTrapEcall; };
  return isa;
}

GuestIsa stub_guest_isa(std::uint64_t satp, paddr_t firmware_base) {
  const StubImage& image = stubs::riscv64_stubs;
  const FirmwareLayout fw{firmware_base};
  auto entry = image.offset_of(kStubMret);
  auto landing = image.offset_of(kStubSmodeEntry);
  if (!entry || !landing) throw KvaError("riscv64: the stub image lacks kva_mret / kva_smode_entry");
  return guest_isa(satp, fw.code() + *entry, fw.code() + *landing);
}

}  // namespace kva::riscv
