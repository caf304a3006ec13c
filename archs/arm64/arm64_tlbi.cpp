#include "archs/arm64/arm64_tlbi.h"

namespace kva::arm64 {

std::string TlbiOp::name() const {
  static const char* const kNames[] = {"vae1", "vale1", "vaae1", "vaale1", "aside1", "vmalle1"};
  return std::string(kNames[static_cast<int>(kind)]) + (inner_shareable ? "is" : "");
}

TlbiRules::TlbiRules(TlbModel& m)
    : walk_cache_survives(m.rule("arm64: walk-cache entry survives a last-level TLBI (VALE1/VAALE1)")),
      global_survives(m.rule("arm64: global entry (nG=0) survives TLBI ASIDE1")) {}

InvalidationScope tlbi_scope(const TlbiOp& op, const TlbiRules& rules, vaddr_t va, std::size_t npages,
                             std::uint16_t asid) {
  InvalidationScope s;
  switch (op.kind) {
    case TlbiKind::Va:
    case TlbiKind::VaLast:
    case TlbiKind::VaAllAsids:
    case TlbiKind::VaAllAsidsLast:
      s = InvalidationScope::range(trunc_page(va), trunc_page(va) + npages * PAGE_SIZE);
      if (op.kind == TlbiKind::Va || op.kind == TlbiKind::VaLast) s.asid = asid;  // and globals
      if (op.last_level()) {
        s.tables = InvalidationScope::Tables::None;
        s.table_rule = rules.walk_cache_survives;
      }
      break;
    case TlbiKind::Asid:
      s = InvalidationScope::everything();
      s.asid = asid;
      s.keep_global = true;
      s.global_rule = rules.global_survives;
      break;
    case TlbiKind::All:
      s = InvalidationScope::everything();
      break;
  }
  return s;
}

}  // namespace kva::arm64
