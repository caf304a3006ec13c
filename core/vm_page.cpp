#include "core/vm_page.h"

#include <sys/mman.h>

#include <cstring>

namespace kva {

namespace {
// Whole-page scan; stops at the first non-zero word. Reading a never-touched page of the
// anonymous mapping maps the kernel's shared zero page and allocates nothing.
bool page_is_zero(const std::uint8_t* p) {
  const auto* w = reinterpret_cast<const std::uint64_t*>(p);
  for (std::size_t i = 0; i < PAGE_SIZE / sizeof *w; i += 4)
    if (w[i] | w[i + 1] | w[i + 2] | w[i + 3]) return false;
  return true;
}
}  // namespace

PhysicalMemory::PhysicalMemory(paddr_t base, std::size_t bytes) : base_(base), size_(bytes) {
  if (base % PAGE_SIZE != 0 || bytes == 0 || bytes % PAGE_SIZE != 0)
    throw KvaError("PhysicalMemory: base and size must be non-zero multiples of PAGE_SIZE");
  // Page-aligned so emulators can map this very buffer (uc_mem_map_ptr requires alignment), and
  // zero-filled lazily by the kernel: zeroing it here dominated short runs.
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw KvaError("PhysicalMemory: out of host memory");
  mem_ = static_cast<std::uint8_t*>(p);
  const std::size_t n = bytes / PAGE_SIZE;
  pages_.resize(n);
  free_list_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    pages_[i].index = i;
    pages_[i].phys_addr = base + i * PAGE_SIZE;
  }
  // Hand out low addresses first: the free list is popped from the back.
  for (std::size_t i = n; i-- > 0;) free_list_.push_back(i);
}

PhysicalMemory::~PhysicalMemory() { ::munmap(mem_, size_); }

bool PhysicalMemory::contains(paddr_t pa, std::size_t n) const {
  return pa >= base_ && n <= size_ && pa - base_ <= size_ - n;
}

std::uint8_t* PhysicalMemory::host_ptr(paddr_t pa) {
  if (!contains(pa)) throw KvaError("physical address outside RAM");
  return mem_ + (pa - base_);
}

const std::uint8_t* PhysicalMemory::host_ptr(paddr_t pa) const {
  if (!contains(pa)) throw KvaError("physical address outside RAM");
  return mem_ + (pa - base_);
}

void PhysicalMemory::read(paddr_t pa, void* out, std::size_t n) const {
  if (!contains(pa, n)) throw KvaError("physical read outside RAM");
  std::memcpy(out, mem_ + (pa - base_), n);
}

void PhysicalMemory::write(paddr_t pa, const void* in, std::size_t n) {
  if (!contains(pa, n)) throw KvaError("physical write outside RAM");
  if (observer_) observer_->on_phys_write(pa, in, n);
  std::memcpy(mem_ + (pa - base_), in, n);
}

vm_page& PhysicalMemory::page(std::size_t index) {
  if (index >= pages_.size()) throw KvaError("vm_page index out of range");
  return pages_[index];
}

vm_page* PhysicalMemory::PHYS_TO_VM_PAGE(paddr_t pa) {
  if (!contains(pa)) return nullptr;
  return &pages_[(pa - base_) / PAGE_SIZE];
}

vm_page* PhysicalMemory::vm_page_alloc() {
  if (free_list_.empty()) throw KvaError("vm_page_alloc: physical memory exhausted");
  vm_page& m = pages_[free_list_.back()];
  free_list_.pop_back();
  // VM_ALLOC_ZERO. Checked rather than remembered: a stale mapping or the direct map may have
  // written a page nobody allocated.
  std::uint8_t* bytes = mem_ + (m.phys_addr - base_);
  if (!page_is_zero(bytes)) {
    static const std::uint8_t kZeros[PAGE_SIZE] = {};
    write(m.phys_addr, kZeros, PAGE_SIZE);
  }
  m.allocated = true;
  m.busy = 0;
  m.wire_count = 0;
  m.valid = VM_PAGE_BITS_ALL;  // zero-filled contents are valid
  m.dirty = 0;
  m.object = nullptr;
  m.pindex = 0;
  return &m;
}

vm_page* PhysicalMemory::vm_page_alloc_aligned(std::uint64_t align) {
  if (align < PAGE_SIZE || (align & (align - 1)) != 0)
    throw KvaError("vm_page_alloc_aligned: alignment must be a power of two of at least a page");
  for (std::size_t k = free_list_.size(); k-- > 0;) {
    if ((pages_[free_list_[k]].phys_addr & (align - 1)) != 0) continue;
    std::swap(free_list_[k], free_list_.back());
    return vm_page_alloc();
  }
  throw KvaError("vm_page_alloc_aligned: no free page at a multiple of " + std::to_string(align) +
                 " bytes (more memory?)");
}

void PhysicalMemory::vm_page_free(vm_page* m) {
  if (m == nullptr || m->index >= pages_.size() || &pages_[m->index] != m)
    throw KvaError("vm_page_free: not a page of this memory");
  if (!m->allocated) throw KvaError("vm_page_free: page is not allocated (double free?)");
  if (m->wire_count > 0) throw KvaError("vm_page_free: page is still wired");
  if (m->kmap_count > 0)
    throw KvaError("vm_page_free: page is still mapped in kernel VA (" +
                   std::to_string(m->kmap_count) + " mapping(s)); unmap it first");
  if (m->busy) throw KvaError("vm_page_free: page is busy (I/O in progress)");
  if (m->object != nullptr)
    throw KvaError("vm_page_free: page still belongs to a VM object (remove it from the object)");
  m->allocated = false;
  m->valid = 0;
  m->dirty = 0;
  free_list_.push_back(m->index);
}

void PhysicalMemory::vm_page_wire(vm_page* m) {
  if (m == nullptr || !m->allocated) throw KvaError("vm_page_wire: page is not allocated");
  ++m->wire_count;
}

void PhysicalMemory::vm_page_unwire(vm_page* m) {
  if (m == nullptr || m->wire_count <= 0) throw KvaError("vm_page_unwire: page is not wired");
  --m->wire_count;
}

std::size_t PhysicalMemory::free_count() const { return free_list_.size(); }

}  // namespace kva
