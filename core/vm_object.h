// VM objects (a vnode's page cache) and the kernel's page supply for them, with a tiny
// vm_pageout: when physical memory runs out, clean pages nobody references are reclaimed.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/vm_page.h"

namespace kva {

class VmObjects;

// The pages of one object by page index (vm_page_lookup / vm_page_grab). Pages know their
// object (m->object, m->pindex).
class VmObject {
 public:
  VmObject(VmObjects& owner, std::string name) : owner_(owner), name_(std::move(name)) {}
  VmObject(const VmObject&) = delete;
  VmObject& operator=(const VmObject&) = delete;

  const std::string& name() const { return name_; }
  vm_page* lookup(std::uint64_t pindex) const;
  // The page at pindex; when absent, a new page with nothing valid (valid = dirty = 0).
  vm_page* grab(std::uint64_t pindex);
  // Removes and frees the page (vm_page_free's refusals apply: wired, mapped, busy).
  void free_page(vm_page* m);
  const std::map<std::uint64_t, vm_page*>& pages() const { return pages_; }

 private:
  VmObjects& owner_;
  std::string name_;
  std::map<std::uint64_t, vm_page*> pages_;
};

class VmObjects {
 public:
  explicit VmObjects(PhysicalMemory& phys) : phys_(phys) {}
  ~VmObjects();
  PhysicalMemory& phys() { return phys_; }

  VmObject& create(std::string name);
  // Frees every page (each must be unreferenced) and the object.
  void destroy(VmObject& obj);

  // vm_page_alloc for object pages: on exhaustion, reclaims clean unreferenced pages (and asks
  // `on_shortage`, e.g. the buffer cache, to drop its wirings) before giving up with KvaError.
  vm_page* alloc_page();
  // A page can be reclaimed when it is clean, unwired, unmapped and not busy.
  static bool reclaimable(const vm_page* m);
  // vm_pageout: frees up to `target` reclaimable object pages, oldest object and lowest index
  // first. Returns how many were freed.
  std::size_t pageout(std::size_t target = SIZE_MAX);
  std::uint64_t pages_reclaimed() const { return reclaimed_; }

  // Called when memory runs out and nothing is reclaimable; returns true if it released
  // something (e.g. recycled buffers whose wiring kept pages). Set by the buffer cache.
  std::function<bool()> on_shortage;

 private:
  PhysicalMemory& phys_;
  std::vector<std::unique_ptr<VmObject>> objects_;
  std::uint64_t reclaimed_ = 0;
};

}  // namespace kva
