#include "archs/arm64/arm64_page_tables.h"

#include <iomanip>
#include <sstream>

namespace kva::arm64 {

AddressHalf address_half(vaddr_t va) {
  std::uint64_t top = va >> 48;
  if (top == 0) return AddressHalf::Lower;
  if (top == 0xffff) return AddressHalf::Upper;
  return AddressHalf::Neither;
}

const char* to_string(FaultKind k) {
  switch (k) {
    case FaultKind::None: return "no fault";
    case FaultKind::Translation: return "translation fault";
    case FaultKind::AccessFlag: return "access flag fault";
    case FaultKind::Permission: return "permission fault";
  }
  return "?";
}

FaultKind Walk::fault_for(AccessType type) const {
  if (fault != FaultKind::None) return fault;
  if (type == AccessType::Write && !writable) return FaultKind::Permission;
  return FaultKind::None;
}

PageTables::PageTables(PhysicalMemory& ram)
    : ram_(ram), ttbr0_root_(alloc_table()), ttbr1_root_(alloc_table()) {}

paddr_t PageTables::alloc_table() {
  vm_page* m = ram_.vm_page_alloc();  // zeroed: every descriptor invalid
  ram_.vm_page_wire(m);
  return m->phys_addr;
}

Descriptor PageTables::read(paddr_t slot) const {
  std::uint64_t raw = 0;
  ram_.read(slot, &raw, sizeof raw);
  return Descriptor(raw);
}

void PageTables::write(paddr_t slot, Descriptor d) {
  std::uint64_t raw = d.raw();
  ram_.write(slot, &raw, sizeof raw);
}

Walk PageTables::walk(vaddr_t va) const {
  const AddressHalf half = address_half(va);
  if (half == AddressHalf::Neither) {  // outside both VA ranges: level 0 translation fault
    Walk w;
    w.fault = FaultKind::Translation;
    return w;
  }
  return walk_from(va, root_for(half), 0, true);
}

Walk PageTables::walk_from(vaddr_t va, paddr_t table, int level, bool writable) const {
  Walk w;
  w.half = address_half(va);
  w.writable = writable;
  for (; level < kLevels; ++level) {
    WalkStep& s = w.steps[w.depth++];
    s.level = level;
    s.index = index_of(va, level);
    s.slot = table + s.index * sizeof(std::uint64_t);
    s.desc = read(s.slot);
    DescriptorKind k = s.desc.kind(level);
    if (k == DescriptorKind::Invalid || k == DescriptorKind::Reserved) {
      w.fault = FaultKind::Translation;
      w.fault_level = level;
      return w;
    }
    if (k == DescriptorKind::Table) {
      if (s.desc.ap_table_read_only()) w.writable = false;
      table = s.desc.output_address(level);
      continue;
    }
    w.leaf_level = level;
    w.pa = s.desc.output_address(level) + (va & (level_bytes(level) - 1) & ~PAGE_MASK);
    w.writable = w.writable && !s.desc.read_only();
    w.global = !s.desc.not_global();
    if (!s.desc.access_flag()) {  // checked before permissions (fault priority)
      w.fault = FaultKind::AccessFlag;
      w.fault_level = level;
    }
    return w;
  }
  return w;  // not reached: level 3 descriptors are pages or invalid
}

paddr_t PageTables::ensure_slot(vaddr_t va, int level, std::size_t* allocated) {
  AddressHalf h = address_half(va);
  if (h == AddressHalf::Neither) throw KvaError("arm64 page tables: va outside both TTBR ranges");
  paddr_t table = root_for(h);
  for (int l = 0; l < level; ++l) {
    paddr_t slot = table + index_of(va, l) * sizeof(std::uint64_t);
    Descriptor d = read(slot);
    DescriptorKind k = d.kind(l);
    if (k == DescriptorKind::Invalid) {
      d = Descriptor::table(alloc_table());
      write(slot, d);
      if (allocated) ++*allocated;
    } else if (k != DescriptorKind::Table) {
      throw KvaError("arm64 page tables: a block already maps this range");
    }
    table = d.output_address(l);
  }
  return table + index_of(va, level) * sizeof(std::uint64_t);
}

std::optional<paddr_t> PageTables::slot_at(vaddr_t va, int level) const {
  AddressHalf h = address_half(va);
  if (h == AddressHalf::Neither) return std::nullopt;
  paddr_t table = root_for(h);
  for (int l = 0; l < level; ++l) {
    Descriptor d = read(table + index_of(va, l) * sizeof(std::uint64_t));
    if (!d.is_table(l)) return std::nullopt;  // no table below (invalid, or a block)
    table = d.output_address(l);
  }
  return table + index_of(va, level) * sizeof(std::uint64_t);
}

void PageTables::map(vaddr_t va, int level, Descriptor leaf) {
  if (!leaf.is_leaf(level)) throw KvaError("arm64 page tables: map() takes a block or page descriptor");
  if (va & (level_bytes(level) - 1)) throw KvaError("arm64 page tables: va not aligned to the mapping size");
  write(ensure_slot(va, level), leaf);
}

void PageTables::populate(vaddr_t start, vaddr_t end) {
  for (vaddr_t va = start; va < end; va += level_bytes(kLeafLevel - 1)) ensure_slot(va, kLeafLevel);
}

std::string PageTables::describe(vaddr_t va) const {
  Walk w = walk(va);
  std::ostringstream o;
  o << std::hex;
  if (w.half == AddressHalf::Neither)
    return "-> not mapped (va outside the TTBR0 and TTBR1 ranges): translation fault, level 0";
  o << (w.half == AddressHalf::Upper ? "TTBR1" : "TTBR0") << "\n";
  for (int i = 0; i < w.depth; ++i) {
    const WalkStep& s = w.steps[i];
    o << "L" << s.level << "[" << std::dec << s.index << std::hex << "] @0x" << s.slot << " = 0x"
      << std::setw(16) << std::setfill('0') << s.desc.raw() << std::setfill(' ') << " "
      << s.desc.describe(s.level) << "\n";
  }
  if (w.fault == FaultKind::Translation) {
    o << "-> not mapped (L" << w.fault_level << " invalid): translation fault, level " << w.fault_level;
    return o.str();
  }
  o << "-> pa 0x" << (w.pa | (va & PAGE_MASK)) << " ("
    << (w.leaf_level == kLeafLevel ? std::string("page") : "L" + std::to_string(w.leaf_level) + " block")
    << (w.writable ? ", writable" : ", read-only") << (w.global ? ", global" : ", nG") << ")";
  if (w.fault == FaultKind::AccessFlag) o << ": access flag fault, level " << w.fault_level;
  return o.str();
}

}  // namespace kva::arm64
