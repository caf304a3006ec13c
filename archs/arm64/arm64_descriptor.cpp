#include "archs/arm64/arm64_descriptor.h"

namespace kva::arm64 {

const char* to_string(DescriptorKind k) {
  switch (k) {
    case DescriptorKind::Invalid: return "INVALID";
    case DescriptorKind::Table: return "TABLE";
    case DescriptorKind::Block: return "BLOCK";
    case DescriptorKind::Page: return "PAGE";
    case DescriptorKind::Reserved: return "RESERVED";
  }
  return "?";
}

DescriptorKind Descriptor::kind(int level) const {
  if (!valid()) return DescriptorKind::Invalid;
  if (get(kTypeBit)) return level == kLeafLevel ? DescriptorKind::Page : DescriptorKind::Table;
  // 4 KiB granule without FEAT_LPA2: blocks exist at levels 1 and 2 only.
  return (level == 1 || level == 2) ? DescriptorKind::Block : DescriptorKind::Reserved;
}

Descriptor Descriptor::table(paddr_t next_table) {
  Descriptor d(kValid | kTypeBit);
  d.set_output_address(next_table);
  return d;
}

Descriptor Descriptor::page(paddr_t pa) {
  Descriptor d(kValid | kTypeBit);
  d.set_output_address(pa);
  return d;
}

Descriptor Descriptor::block(int level, paddr_t pa) {
  if (level != 1 && level != 2) throw KvaError("arm64 descriptor: blocks exist at levels 1 and 2 only");
  if (pa & (level_bytes(level) - 1)) throw KvaError("arm64 descriptor: block output address not aligned");
  Descriptor d(kValid);
  d.set_output_address(pa);
  return d;
}

void Descriptor::set_attr_index(unsigned idx) {
  if (idx > 7) throw KvaError("arm64 descriptor: AttrIndx is 3 bits");
  put_field(kAttrIndxShift, 7, idx);
}

void Descriptor::set_access_permission(AccessPermission ap) {
  put_field(kApShift, 3, static_cast<unsigned>(ap));
}

void Descriptor::set_shareability(Shareability sh) { put_field(kShShift, 3, static_cast<unsigned>(sh)); }

void Descriptor::set_ap_table(unsigned ap) {
  if (ap > 3) throw KvaError("arm64 descriptor: APTable is 2 bits");
  put_field(kApTableShift, 3, ap);
}

paddr_t Descriptor::output_address(int level) const {
  std::uint64_t oa = raw_ & kOaMask;
  if (is_leaf(level)) oa &= ~(level_bytes(level) - 1);
  return oa;
}

void Descriptor::set_output_address(paddr_t pa) {
  if (pa & ~kOaMask)
    throw KvaError("arm64 descriptor: output address must be page aligned and below 2^48");
  raw_ = (raw_ & ~kOaMask) | pa;
}

std::string Descriptor::describe(int level) const {
  DescriptorKind k = kind(level);
  std::string s = to_string(k);
  if (k == DescriptorKind::Table) {
    if (pxn_table()) s += " PXNTable";
    if (uxn_table()) s += " UXNTable";
    if (ap_table()) s += " APTable=" + std::to_string(ap_table());
    return s;
  }
  if (k != DescriptorKind::Block && k != DescriptorKind::Page) return s;
  static const char* const kAp[] = {"RW-EL1", "RW-EL0", "RO-EL1", "RO-EL0"};
  static const char* const kSh[] = {"NS", "?", "OS", "IS"};
  s += " AttrIndx=" + std::to_string(attr_index());
  s += std::string(" AP=") + kAp[static_cast<unsigned>(access_permission())];
  s += std::string(" SH=") + kSh[static_cast<unsigned>(shareability())];
  if (access_flag()) s += " AF";
  if (not_global()) s += " nG";
  if (dirty_bit_modifier()) s += " DBM";
  if (contiguous()) s += " Contig";
  if (privileged_execute_never()) s += " PXN";
  if (unprivileged_execute_never()) s += " UXN";
  return s;
}

}  // namespace kva::arm64
