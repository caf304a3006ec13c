// Guest code assembled at build time (see GuestStubs.cmake): the bytes of .text and the offsets
// of its global labels. Arch stubs end each routine at a "<name>_done" label, where the host
// stops emulation.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace kva {

struct StubSymbol {
  std::string_view name;
  std::uint64_t offset;  // from the start of .text
};

struct StubImage {
  std::span<const unsigned char> text;
  std::span<const StubSymbol> symbols;

  // Offset of the global label `name` from the start of .text, if the image has it.
  std::optional<std::uint64_t> offset_of(std::string_view name) const {
    for (const auto& s : symbols)
      if (s.name == name) return s.offset;
    return std::nullopt;
  }
};

}  // namespace kva
