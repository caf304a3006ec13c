// The faulting VA of an arm64 data abort, recovered from the instruction at the faulting PC.
// Unicorn reports aborts through UC_HOOK_INTR without running the guest's vector, so FAR_EL1 is
// never written; QEMU has restored the registers to the state before the faulting instruction,
// so its base register (+ immediate offset) is the address it accessed. Called only
// on a fault: no per-access hook on the hot path.
#pragma once
#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include <cstdint>
#include <optional>

namespace kva::arm64 {

class FaultAddressDecoder {
 public:
  FaultAddressDecoder();
  ~FaultAddressDecoder();
  FaultAddressDecoder(const FaultAddressDecoder&) = delete;
  FaultAddressDecoder& operator=(const FaultAddressDecoder&) = delete;

  // The address the load/store at `pc` accessed, or nullopt when the instruction there is not
  // a memory access with a register base (the caller reports the trap without a VA).
  std::optional<std::uint64_t> accessed_address(uc_engine* uc, std::uint64_t pc);

 private:
  csh handle_ = 0;
  cs_insn* insn_ = nullptr;
};

}  // namespace kva::arm64
