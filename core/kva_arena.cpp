#include "core/kva_arena.h"

namespace kva {

KvaArena::KvaArena(VaRange range) : range_(range) {
  if (range.start % PAGE_SIZE || range.end % PAGE_SIZE || range.end <= range.start)
    throw KvaError("KvaArena: range must be a non-empty, page-aligned interval");
  holes_[range.start] = range.size();
}

std::optional<vaddr_t> KvaArena::alloc(std::size_t bytes, std::uint64_t align) {
  if (bytes == 0) throw KvaError("KvaArena::alloc: zero-sized allocation");
  if (align < PAGE_SIZE || (align & (align - 1)))
    throw KvaError("KvaArena::alloc: alignment must be a power of two of at least a page");
  const std::size_t size = round_page(bytes);
  for (auto it = holes_.begin(); it != holes_.end(); ++it) {
    const vaddr_t hole = it->first, hole_end = it->first + it->second;
    const vaddr_t va = (hole + align - 1) & ~(align - 1);
    if (va < hole || va >= hole_end || hole_end - va < size) continue;
    holes_.erase(it);
    if (va > hole) holes_[hole] = va - hole;  // the part skipped for alignment stays free
    if (hole_end > va + size) holes_[va + size] = hole_end - (va + size);
    allocated_[va] = size;
    return va;
  }
  return std::nullopt;
}

// Like vmem_xfree, the range must be exactly one live allocation; anything else is a double
// or partial free.
void KvaArena::free(vaddr_t va, std::size_t bytes) {
  const std::size_t size = round_page(bytes);
  auto live = allocated_.find(va);
  if (live == allocated_.end())
    throw KvaError("KvaArena::free: no live allocation at this address (double free?)");
  if (live->second != size) throw KvaError("KvaArena::free: size differs from the allocation");
  allocated_.erase(live);
  vaddr_t start = va;
  std::size_t len = size;
  // Coalesce with neighbouring holes so large allocations stay possible.
  auto next = holes_.lower_bound(va);
  if (next != holes_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == va) {
      start = prev->first;
      len += prev->second;
      holes_.erase(prev);
    }
  }
  if (next != holes_.end() && next->first == va + size) {
    len += next->second;
    holes_.erase(next);
  }
  holes_[start] = len;
}

std::size_t KvaArena::free_bytes() const {
  std::size_t total = 0;
  for (const auto& [start, size] : holes_) total += size;
  return total;
}

}  // namespace kva
