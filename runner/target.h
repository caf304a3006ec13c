// Where an access or a raw pmap step points: through an sf_buf (`sf: s1`), into a KVA
// reservation (`va: v1`), at a page's direct-map address (`dmap: p1`, archs with a direct map
// only), or at a buffer's data (`buf: b1`, b_data); plus a byte `offset`.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "runner/step_op.h"

namespace kva::runner {

struct Target {
  enum class Kind { Sf, Va, Dmap, Buf };
  Kind kind = Kind::Sf;
  std::string name;
  std::uint64_t offset = 0;

  // Parses the target fields from f (prefix: "" for sf/va/dmap, or e.g. "from_" for copy).
  static Target parse(Fields& f, ParseContext& pc, const std::string& prefix = "");
  // The VA, checking that [offset, offset+len) stays inside the mapped object.
  vaddr_t resolve(RunContext& ctx, std::size_t len) const;
  std::string describe() const;
  // For a buffer target: the file offset the access starts at (nullopt otherwise).
  std::optional<std::uint64_t> file_offset(RunContext& ctx) const;
};

}  // namespace kva::runner
