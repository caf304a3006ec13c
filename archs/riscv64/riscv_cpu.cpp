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
                  UC_RISCV_REG_A4, UC_RISCV_REG_A5, UC_RISCV_REG_A6, UC_RISCV_REG_A7};
  isa.boot_cpu = [satp, boot_entry, boot_landing](uc_engine* uc, cpuid_t) {
    write_reg(uc, UC_RISCV_REG_SATP, satp, "satp");
    std::uint64_t mstatus = read_reg(uc, UC_RISCV_REG_MSTATUS);
    write_reg(uc, UC_RISCV_REG_MSTATUS, (mstatus & ~kMstatusMppMask) | kMstatusMppSupervisor, "mstatus");
    write_reg(uc, UC_RISCV_REG_MEPC, boot_landing, "mepc");
    uc_err err = uc_emu_start(uc, boot_entry, boot_landing, 0, 0);
    if (err != UC_ERR_OK) throw KvaError(std::string("riscv64 boot: mret failed: ") + uc_strerror(err));
    if (read_reg(uc, UC_RISCV_REG_PRIV) != kPrivSupervisor || read_reg(uc, UC_RISCV_REG_PC) != boot_landing)
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
  return isa;
}

std::unique_ptr<Machine> boot_machine(std::uint64_t satp, const MachineConfig& cfg, PhysicalMemory& ram,
                                      paddr_t firmware_base) {
  const StubImage& image = stubs::riscv64_stubs;
  FirmwareLayout fw{firmware_base};
  std::string landing = std::string(kStubBoot) + "_done";
  auto entry = image.offset_of(kStubBoot);
  auto done = image.offset_of(landing);
  if (!entry || !done) throw KvaError("riscv64: stub image lacks kva_boot");
  auto m = std::make_unique<Machine>(guest_isa(satp, fw.code() + *entry, fw.code() + *done), image, cfg, ram,
                                     firmware_base);
  m->boot();
  return m;
}

}  // namespace kva::riscv
