// What the arch-agnostic machine needs to know about a guest ISA. An arch module fills one in;
// emu/ never names an architecture.
#pragma once
#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include <cstdint>
#include <functional>
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

struct GuestIsa {
  std::string name;  // for messages: "x86-64", "i386"
  uc_arch uc_arch_id;
  uc_mode uc_mode_id;
  cs_arch cs_arch_id;
  cs_mode cs_mode_id;
  int pc_reg;
  int sp_reg;
  std::vector<int> arg_regs;  // stub arguments, in order
  // Turns paging on in a freshly opened engine (control registers written from the host).
  // Runs once per vCPU before the machine snapshots its context.
  std::function<void(uc_engine*, cpuid_t)> boot_cpu;
  // Decodes a trap: called from the interrupt hook, before any state is restored.
  std::function<Trap(uc_engine*, std::uint32_t intno)> decode_trap;
};

}  // namespace kva
