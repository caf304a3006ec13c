// A page-granular allocator of kernel virtual address space (a tiny vmem(9) arena):
// carves the sf_buf pool and buffer maps out of the pmap's kva_space().
#pragma once
#include <map>
#include <optional>

#include "core/pmap.h"

namespace kva {

class KvaArena {
 public:
  explicit KvaArena(VaRange range);  // range must be page aligned
  // First-fit allocation of round_page(bytes) starting at a multiple of `align` (a power of
  // two, at least a page); nullopt when no hole is large enough.
  std::optional<vaddr_t> alloc(std::size_t bytes, std::uint64_t align = PAGE_SIZE);
  void free(vaddr_t va, std::size_t bytes);  // throws KvaError unless exactly a live allocation
  std::size_t free_bytes() const;
  VaRange range() const { return range_; }

 private:
  VaRange range_;
  std::map<vaddr_t, std::size_t> holes_;  // start -> size, coalesced
  std::map<vaddr_t, std::size_t> allocated_;  // start -> size of each live allocation
};

}  // namespace kva
