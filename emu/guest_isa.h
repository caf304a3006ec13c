// What the arch-agnostic machine needs to know about a guest ISA, and the convention every
// arch's guest stubs follow. An arch module fills in a GuestIsa; emu/ never names an
// architecture.
//
// ## Guest stub convention (every arch)
//
// Stubs are written in assembly (archs/<arch>/<arch>_stubs.S, assembled at build time by
// emu/GuestStubs.cmake). Machine::run() runs one routine per uc_emu_start; the machine checks
// the whole image against the rules below when it is built (emu/stub_code.h) and refuses an
// image that breaks one, naming the routine, the offset and the fix.
//
// 1. Routines. A routine `R` is the code from the global label `R` to the global label
//    `R_done`. Arguments arrive in GuestIsa::arg_regs. Branches target local labels only (a
//    branch to a global symbol would need a relocation, which the raw image cannot carry).
//    Indirect branches, calls and returns are not allowed. Keep the image within one page, so
//    both execution modes touch the same code pages (and so the same TLB entries).
//
// 2. Stop. `R_done` holds the ISA's *halt* instruction: the host treats the halt at `R_done`
//    as the normal end of the run. A halt leaves uc_emu_start on its own (QEMU's EXCP_HLT),
//    with no hook, no exception and no re-translation; the uc_emu_start `until` address is
//    never reached (fast mode enables Unicorn's exit list and leaves it empty).
//      x86:   `hlt` (1 byte; PC = R_done + 1 afterwards). int3 would go through the interrupt
//             hook and QEMU's exception path; ud2 is reported as UC_ERR_INSN_INVALID.
//      arm64: `wfi` (PC = R_done + 4). Needs SCR_EL3.TWI = HCR_EL2.TWI = 0 (the boot values
//             0x401 / 0x80000000 leave them clear). QEMU's WFI returns without halting when
//             the CPU "has work" (a pending interrupt), so follow it with `brk #0`: should
//             the wfi ever fall through, the brk traps and the host reports it instead of
//             running into the next routine. brk/hvc/svc alone would work too, but each goes
//             through the interrupt hook and QEMU's exception machinery on every call.
//      riscv: `wfi` (PC = R_done + 4), from S-mode with mstatus.TW = 0 (its reset value);
//             follow it with `ebreak` for the same reason. ebreak/ecall alone would stop
//             through the interrupt hook (and Unicorn advances PC by 4 before the hook).
//    Probed on Unicorn 2.1.4 (x86 through kvabench; arm64 wfi at EL1 and riscv wfi in M-mode,
//    MMU off): each halt returns from uc_emu_start with no hook, PC as above.
//
// 3. Instruction budget and exact counts. GuestIsa::budget_reg is reserved in every stub: only
//    charges write it. The host writes Machine::kInstructionBudget into it before each run; the
//    code charges itself:
//    - every *counting region* starts with a charge instruction that subtracts the number of
//      instructions in the region (not counting the charge itself and its budget check);
//    - a region runs to the next charge, or to R_done. Every branch ends its region (it is the
//      region's last instruction) and every branch target is a region start or R_done; so the
//      code runs whole regions, except when it faults;
//    - the start of any region that a *backward* branch reaches is followed by a budget
//      check: a conditional branch, on "budget negative", to the local label that precedes
//      the image's global `kva_budget_exhausted` label, which holds a halt. So runaway code is
//      stopped after at most kInstructionBudget instructions, with no per-block hook.
//      x86:   charge `sub $N, %ebp` (`%rbp` on amd64), check `js .Lbudget_exhausted`.
//             The charge clobbers the flags, so no flag may live across a region start.
//      arm64: a register no stub uses; `sub xB, xB, #N` (not `subs`: it keeps NZCV) and
//             `tbnz xB, #63, .Lbudget_exhausted`.
//      riscv: likewise `addi tB, tB, -N` and `bltz tB, .Lbudget_exhausted`.
//    guest_instructions counts the instructions a routine *retired*, leaving out charges,
//    budget checks and the halt: budget consumed, minus the rest of the region when a fault
//    stops it mid-way (the faulting instruction did not retire). The reference execution mode
//    counts the same thing independently (block hook + Capstone) and checks the two agree.
//
// 4. Faults. A guest trap reaches the host through UC_HOOK_INTR (decode_trap), stops the run
//    and the vCPU's post-boot context is restored (Machine). Traps are never the normal path,
//    with one exception:
// 5. Firmware calls. A trap GuestIsa::is_firmware_call accepts (riscv: ecall, an SBI call) is a
//    call to firmware the host plays: Machine::run hands it to the machine's firmware handler,
//    which may run routines on other vCPUs, and then resumes the caller right after the
//    trapping instruction, in the same run (one more uc_emu_start). The region around the call
//    is counted as usual: the call instruction retires.
#pragma once
#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"

namespace kva {

// A guest trap that reached the host (UC_HOOK_INTR), decoded by the arch.
struct Trap {
  std::uint32_t intno = 0;
  bool page_fault = false;
  vaddr_t fault_va = 0;  // valid when page_fault
  std::uint64_t pc = 0;
};

// What one decoded instruction means to the stub convention (rule 3).
struct InsnRole {
  enum Kind { Plain, Charge, Branch, Halt };
  Kind kind = Plain;
  std::uint64_t charge = 0;              // Charge: instructions the region charges
  std::optional<std::uint64_t> target;   // Branch: direct target address; nullopt if indirect
  bool conditional = false;              // Branch
  bool call_or_return = false;           // Branch: call / return (not allowed in stubs)
};

struct GuestIsa {
  std::string name;  // for messages: "x86-64", "i386"
  uc_arch uc_arch_id;
  uc_mode uc_mode_id;
  cs_arch cs_arch_id;
  cs_mode cs_mode_id;
  int pc_reg;
  int sp_reg;
  std::vector<int> arg_regs;   // stub arguments, in order
  int budget_reg;              // rule 3
  unsigned word_bytes;         // 4 or 8: width of registers (budget) and mailbox acks
  std::uint64_t halt_bytes;    // rule 2: PC after the halt at R_done is R_done + halt_bytes
  // Turns paging on in a freshly opened engine (control registers written from the host).
  // Runs once per vCPU before the machine snapshots its context.
  std::function<void(uc_engine*, cpuid_t)> boot_cpu;
  // Decodes a trap: called from the interrupt hook, before any state is restored.
  std::function<Trap(uc_engine*, std::uint32_t intno)> decode_trap;
  // Classifies a decoded instruction (Capstone detail is on) for rules 1-3.
  std::function<InsnRole(const cs_insn&)> classify;
  // Rule 5; empty when the ISA has no firmware calls. The trap's pc is the calling instruction
  // and Unicorn must already have moved the engine's PC past it.
  std::function<bool(const Trap&)> is_firmware_call;
};

}  // namespace kva
