// One translation a CPU may cache, in machine-independent terms: a leaf (a page of any size),
// an upper-level entry kept in a paging-structure / walk cache, an upper-level entry held in a
// register loaded at the last root switch (PAE PDPTEs), or a cached *invalid* entry (negative
// caching). The TLB model stores these; each arch produces them from its own table format.
#pragma once
#include <cstdint>

#include "core/types.h"

namespace kva {

enum class EntryKind : std::uint8_t {
  Leaf,          // maps `span` bytes of VA to a frame
  Table,         // an upper-level entry: points at the next-level table page
  RootRegister,  // an upper-level entry held in a register until the next root reload
  Invalid,       // a walk found no valid translation and the result may be cached
};

// How a CPU came to hold a retired translation: it walked it (and has not invalidated it
// since), or the ISA permits it to hold it without having used it (speculation, prefetch).
enum class Holding : std::uint8_t { Demand, Speculative };

const char* to_string(EntryKind);
const char* to_string(Holding);

struct Translation {
  vaddr_t va = 0;                  // first VA covered, aligned to span
  std::uint64_t span = PAGE_SIZE;  // VA bytes covered (page size; for a table entry, its reach)
  paddr_t pa = 0;                  // Leaf: frame base; Table/RootRegister: next table page
  EntryKind kind = EntryKind::Leaf;
  std::uint8_t level = 0;          // the arch's walk level of the entry (0 = root)
  bool writable = true;            // writes permitted through every level down to this entry
  bool global = false;             // matches every ASID; survives non-global flushes
  std::uint16_t asid = 0;
  const char* name = "PTE";        // the arch's name for the entry ("PTE", "PDE", "L2", ...)

  bool covers(vaddr_t a) const { return a - va < span; }
  bool overlaps(vaddr_t start, vaddr_t end) const { return va < end && start < va + span; }
  // Leaf: the 4 KiB frame that VA `a` (inside the leaf) translates to.
  paddr_t frame_of(vaddr_t a) const { return pa + (trunc_page(a) - va); }
  // Same translation (the name is descriptive only).
  bool same(const Translation& o) const {
    return va == o.va && span == o.span && pa == o.pa && kind == o.kind && level == o.level &&
           writable == o.writable && global == o.global && asid == o.asid;
  }
};

}  // namespace kva
