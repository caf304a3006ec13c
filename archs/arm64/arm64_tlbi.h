// The TLBI forms the arm64 pmap and its tests use, and what each one permits a TLB to keep:
// the architectural model's side of Arm ARM D8.13 / C5.5 (TLB maintenance instructions).
//  - by VA (VAE1, VALE1): that VA's entries of one ASID, and global entries for that VA;
//  - by VA, all ASIDs ("aa": VAAE1, VAALE1): that VA's entries whatever the ASID;
//  - "last level" (the "l" forms): leaf entries only, walk-cache entries stay;
//  - by ASID (ASIDE1): every non-global entry of the ASID; global (nG = 0) entries stay;
//  - all (VMALLE1): everything;
//  - inner shareable ("is"): the same on every PE of the domain.
// QEMU ignores ASIDs and flushes far more than this (its arm TLB uses 1 KiB pages), so only
// the model shows the precision.
#pragma once
#include <cstdint>
#include <string>

#include "core/tlb_model.h"

namespace kva::arm64 {

enum class TlbiKind { Va, VaLast, VaAllAsids, VaAllAsidsLast, Asid, All };

struct TlbiOp {
  TlbiKind kind = TlbiKind::VaAllAsidsLast;
  bool inner_shareable = false;

  bool by_va() const { return kind != TlbiKind::Asid && kind != TlbiKind::All; }
  bool last_level() const { return kind == TlbiKind::VaLast || kind == TlbiKind::VaAllAsidsLast; }
  // The mnemonic: "vaale1is", "aside1", ...
  std::string name() const;
};

// Rule texts the model notes on entries a TLBI leaves by its scope, interned once per model.
struct TlbiRules {
  explicit TlbiRules(TlbModel& m);
  RuleId walk_cache_survives;  // last-level forms
  RuleId global_survives;      // ASIDE1
};

// What `op` drops on one PE: [va, va + npages pages) for the by-VA forms; `asid` for the forms
// that take one.
InvalidationScope tlbi_scope(const TlbiOp& op, const TlbiRules& rules, vaddr_t va, std::size_t npages,
                             std::uint16_t asid);

}  // namespace kva::arm64
