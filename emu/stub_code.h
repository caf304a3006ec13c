// A stub image as placed in the firmware code page, checked against the guest stub convention
// (emu/guest_isa.h) when a machine is built, with what the machine needs to count retired
// instructions exactly.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "emu/disasm.h"
#include "emu/guest_isa.h"
#include "emu/stub_image.h"

namespace kva {

// A routine inside the stub image: it starts at `entry` and ends at the halt at `done`.
struct StubRoutine {
  std::string name;
  vaddr_t entry = 0;
  vaddr_t done = 0;
};

class StubCode {
 public:
  // Decodes every routine of `image` loaded at `base`. Throws KvaError naming the routine, the
  // offset and the broken rule when the image does not follow the convention.
  StubCode(const GuestIsa& isa, const StubImage& image, vaddr_t base, Disassembler& dis);
  // The same, computed once per process for each (ISA, image, base): machines are built per job.
  static std::shared_ptr<const StubCode> shared(const GuestIsa& isa, const StubImage& image, vaddr_t base);

  const std::vector<StubRoutine>& routines() const { return routines_; }
  const StubRoutine& routine(std::string_view name) const;  // throws KvaError if absent
  vaddr_t budget_exhausted() const { return budget_exhausted_; }

  // Instructions of pc's counting region at or after pc: what a fault at pc leaves unretired
  // although the region's charge counted them. 0 when pc is not inside a routine.
  std::uint64_t unretired_from(vaddr_t pc) const;
  // Whether an instruction is instrumentation (a charge or a budget check), which
  // guest_instructions leaves out.
  bool is_instrumentation(const InsnRole& role) const;

 private:
  std::vector<StubRoutine> routines_;
  std::unordered_map<vaddr_t, std::uint32_t> unretired_;
  vaddr_t budget_exhausted_ = 0;
};

}  // namespace kva
