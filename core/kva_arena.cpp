#include "core/kva_arena.h"

namespace kva {

KvaArena::KvaArena(VaRange range) : range_(range) {
  if (range.start % PAGE_SIZE || range.end % PAGE_SIZE || range.end <= range.start)
    throw KvaError("KvaArena: range must be a non-empty, page-aligned interval");
  holes_[range.start] = range.size();
}

std::optional<vaddr_t> KvaArena::alloc(std::size_t bytes) {
  if (bytes == 0) throw KvaError("KvaArena::alloc: zero-sized allocation");
  const std::size_t size = round_page(bytes);
  for (auto it = holes_.begin(); it != holes_.end(); ++it) {
    if (it->second < size) continue;
    const vaddr_t va = it->first;
    const std::size_t rest = it->second - size;
    holes_.erase(it);
    if (rest) holes_[va + size] = rest;
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
