#include "core/types.h"

#include <cstdio>

namespace kva {

std::string PageFault::describe(cpuid_t cpu, vaddr_t va, AccessType type,
                                const std::string& walk) {
  static const char* const kinds[] = {"read", "write", "execute"};
  char head[96];
  std::snprintf(head, sizeof head, "page fault on cpu %d: %s at va 0x%llx", cpu,
                kinds[static_cast<int>(type)], static_cast<unsigned long long>(va));
  return walk.empty() ? head : std::string(head) + "\n" + walk;
}

}  // namespace kva
