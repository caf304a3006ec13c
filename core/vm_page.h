// struct vm_page and the physical memory that backs every page, data and page table alike.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/types.h"

namespace kva {

class VmObject;

// Valid/dirty bits cover DEV_BSIZE chunks: 8 bits (0xFF) for a 4 KiB page.
inline constexpr std::uint32_t VM_PAGE_BITS_ALL = (std::uint32_t{1} << (PAGE_SIZE / DEV_BSIZE)) - 1;
static_assert(PAGE_SIZE / DEV_BSIZE <= 32, "valid/dirty bits must fit the field");

struct vm_page {
  std::size_t index = 0;      // position in PhysicalMemory
  paddr_t phys_addr = 0;      // VM_PAGE_TO_PHYS
  int wire_count = 0;
  // Kernel mappings held by a consumer that knows them (buffer KVA, raw reservations): the page
  // allocator refuses to free the page while any remain. (sf_buf free-list slots that merely
  // keep an old mapping cached, as FreeBSD's do, are not counted.)
  int kmap_count = 0;
  int busy = 0;               // vm_page_sbusy count: I/Os in progress on the page
  bool allocated = false;
  std::uint32_t valid = 0;    // DEV_BSIZE-granular, VM_PAGE_BITS_ALL when fully valid
  std::uint32_t dirty = 0;
  VmObject* object = nullptr; // the VM object caching this page (m->object), if any
  std::uint64_t pindex = 0;   // its page index in that object
};

// Sees every host write made through PhysicalMemory::write while installed (emu/ records a
// workload this way to replay it on bare engines).
class PhysWriteObserver {
 public:
  virtual ~PhysWriteObserver() = default;
  virtual void on_phys_write(paddr_t pa, const void* bytes, std::size_t n) = 0;
};

// Guest physical memory: one page-aligned host buffer [base, base+size) plus a vm_page per page.
// Emulated machines map this very buffer into every vCPU (uc_mem_map_ptr), so host and guest
// see the same bytes. The buffer is an anonymous mapping: the kernel supplies zero pages on first
// touch, so a machine costs host memory only for the pages it really uses.
class PhysicalMemory {
 public:
  PhysicalMemory(paddr_t base, std::size_t bytes);
  ~PhysicalMemory();
  PhysicalMemory(const PhysicalMemory&) = delete;
  PhysicalMemory& operator=(const PhysicalMemory&) = delete;

  paddr_t base() const { return base_; }
  std::size_t size() const { return size_; }
  std::size_t npages() const { return pages_.size(); }
  bool contains(paddr_t pa, std::size_t n = 1) const;
  std::uint8_t* host_ptr(paddr_t pa);  // throws KvaError when out of range
  const std::uint8_t* host_ptr(paddr_t pa) const;
  void read(paddr_t pa, void* out, std::size_t n) const;
  void write(paddr_t pa, const void* in, std::size_t n);

  vm_page& page(std::size_t index);
  vm_page* PHYS_TO_VM_PAGE(paddr_t pa);  // nullptr when pa is outside RAM

  // Allocate a zeroed page (data or page table). Throws KvaError when memory is exhausted.
  // A page that is already zero is not written, so never-used pages stay untouched.
  vm_page* vm_page_alloc();
  // A zeroed page whose physical address is a multiple of `align` (a power of two, e.g. the
  // first page of a large-page frame). Throws KvaError when no free page is aligned so.
  vm_page* vm_page_alloc_aligned(std::uint64_t align);
  void vm_page_free(vm_page* m);  // throws if wired, mapped, busy or not allocated
  void vm_page_wire(vm_page* m);
  void vm_page_unwire(vm_page* m);  // throws if not wired
  std::size_t free_count() const;

  // nullptr to remove; one observer at a time.
  void set_write_observer(PhysWriteObserver* obs) { observer_ = obs; }

 private:
  paddr_t base_;
  std::size_t size_;
  std::uint8_t* mem_;  // page-aligned anonymous mapping
  PhysWriteObserver* observer_ = nullptr;
  std::vector<vm_page> pages_;
  std::vector<std::size_t> free_list_;
};

}  // namespace kva
