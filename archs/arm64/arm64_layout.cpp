#include "archs/arm64/arm64_layout.h"

namespace kva::arm64 {

Descriptor kernel_leaf(int level, paddr_t pa) {
  Descriptor d = level == kLeafLevel ? Descriptor::page(pa) : Descriptor::block(level, pa);
  d.set_access_flag(true);
  d.set_shareability(Shareability::Inner);
  d.set_access_permission(AccessPermission::KernelRw);
  d.set_privileged_execute_never(true);
  d.set_unprivileged_execute_never(true);
  d.set_mem_attr(MemAttr::WriteBack);
  return d;
}

Descriptor firmware_leaf(const FirmwareLayout& fw, paddr_t pa) {
  Descriptor d = kernel_leaf(kLeafLevel, pa);
  d.set_privileged_execute_never(pa >= fw.data());
  return d;
}

void build_kernel_tables(PageTables& tables, const PhysicalMemory& ram, const FirmwareLayout& fw) {
  for (paddr_t pa = fw.base + PAGE_SIZE; pa < fw.end(); pa += PAGE_SIZE)
    tables.map(pa, kLeafLevel, firmware_leaf(fw, pa));
  // The direct map: the largest block whose alignment and size fit, at each step.
  const paddr_t end = ram.base() + ram.size();
  for (paddr_t pa = ram.base(); pa < end;) {
    int level = kLeafLevel;
    for (int l = 1; l < kLeafLevel; ++l)
      if ((pa & (level_bytes(l) - 1)) == 0 && end - pa >= level_bytes(l)) {
        level = l;
        break;
      }
    tables.map(phys_to_dmap(pa), level, kernel_leaf(level, pa));
    pa += level_bytes(level);
  }
  tables.populate(kKva.start, kKva.end);
}

}  // namespace kva::arm64
