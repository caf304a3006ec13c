#include "core/vm_object.h"

#include <algorithm>

namespace kva {

vm_page* VmObject::lookup(std::uint64_t pindex) const {
  auto it = pages_.find(pindex);
  return it == pages_.end() ? nullptr : it->second;
}

vm_page* VmObject::grab(std::uint64_t pindex) {
  if (vm_page* m = lookup(pindex)) return m;
  vm_page* m = owner_.alloc_page();
  m->valid = 0;  // nothing read from backing store yet
  m->dirty = 0;
  m->object = this;
  m->pindex = pindex;
  pages_[pindex] = m;
  return m;
}

void VmObject::free_page(vm_page* m) {
  if (m == nullptr || m->object != this) throw KvaError("vm_object: page is not in object " + name_);
  m->object = nullptr;
  try {
    owner_.phys().vm_page_free(m);  // refuses wired, mapped or busy pages
  } catch (...) {
    m->object = this;  // a refused free leaves the page in the object
    throw;
  }
  pages_.erase(m->pindex);
}

VmObjects::~VmObjects() = default;

VmObject& VmObjects::create(std::string name) {
  objects_.push_back(std::make_unique<VmObject>(*this, std::move(name)));
  return *objects_.back();
}

void VmObjects::destroy(VmObject& obj) {
  while (!obj.pages().empty()) obj.free_page(obj.pages().begin()->second);
  objects_.erase(std::remove_if(objects_.begin(), objects_.end(),
                                [&](const auto& o) { return o.get() == &obj; }),
                 objects_.end());
}

bool VmObjects::reclaimable(const vm_page* m) {
  return m->wire_count == 0 && m->kmap_count == 0 && !m->busy && m->dirty == 0;
}

std::size_t VmObjects::pageout(std::size_t target) {
  std::size_t freed = 0;
  for (auto& obj : objects_) {
    std::vector<vm_page*> victims;
    for (const auto& [pindex, m] : obj->pages()) {
      if (freed + victims.size() >= target) break;
      if (reclaimable(m)) victims.push_back(m);
    }
    for (vm_page* m : victims) obj->free_page(m);
    freed += victims.size();
    if (freed >= target) break;
  }
  reclaimed_ += freed;
  return freed;
}

vm_page* VmObjects::alloc_page() {
  if (phys_.free_count() == 0 && pageout(16) == 0 && on_shortage && on_shortage()) pageout(16);
  if (phys_.free_count() == 0)
    throw KvaError("vm_page_alloc: physical memory exhausted (every cached page is wired, "
                   "mapped, busy or dirty)");
  return phys_.vm_page_alloc();
}

}  // namespace kva
