// How an emulated pmap drives its guest code (emu/machine.h). Both modes run the same guest
// stubs and give bit-identical results (data, staleness reports, counters, traces); `reference`
// is the slow classic way, kept to verify `fast` and to debug it.
#pragma once
#include <optional>
#include <string_view>

namespace kva {

enum class ExecMode {
  Fast,       // stubs halt at <name>_done; instructions counted by the guest's budget register
  Reference,  // uc_emu_start stops right after the stub; a block hook counts with Capstone
};

inline constexpr std::string_view to_string(ExecMode m) {
  return m == ExecMode::Fast ? "fast" : "reference";
}

inline std::optional<ExecMode> exec_mode_by_name(std::string_view name) {
  for (ExecMode m : {ExecMode::Fast, ExecMode::Reference})
    if (to_string(m) == name) return m;
  return std::nullopt;
}

}  // namespace kva
