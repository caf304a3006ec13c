#include <gtest/gtest.h>

#include "core/kernel.h"
#include "core/ref_pmap.h"

namespace kva {
namespace {

std::unique_ptr<Kernel> ref_kernel(KernelConfig cfg = {}, bool direct_map = false) {
  return std::make_unique<Kernel>(
      std::make_unique<RefPmap>(MachineConfig{2, 4u << 20, nullptr}, RefPmapConfig{direct_map}), cfg);
}

TEST(Kernel, RawReservationsNeverOverlapTheSfBufPool) {
  KernelConfig cfg;
  cfg.nsfbufs = 8;
  auto k = ref_kernel(cfg);
  const vaddr_t a = k->kva_alloc(3), b = k->kva_alloc(1);
  for (const auto& sf : k->sfbufs().pool()) {
    EXPECT_FALSE(sf->kva >= a && sf->kva < a + 3 * PAGE_SIZE);
    EXPECT_NE(sf->kva, b);
  }
  EXPECT_NE(a, b);
  EXPECT_TRUE(k->pmap().kva_space().contains(a));
  k->kva_free(a, 3);
  EXPECT_THROW(k->kva_free(a, 3), KvaError);  // double free
  EXPECT_THROW(k->kva_free(b, 2), KvaError);  // wrong size
  EXPECT_EQ(k->kva_alloc(3), a);              // first fit reuses the hole
}

TEST(Kernel, KvaAllocExhaustionIsAClearError) {
  auto k = ref_kernel();
  const std::size_t all = k->kva_free_pages();
  EXPECT_THROW(k->kva_alloc(all + 1), KvaError);
  EXPECT_THROW(k->kva_alloc(0), KvaError);
  EXPECT_NO_THROW(k->kva_alloc(all));
  try {
    k->kva_alloc(1);
    FAIL();
  } catch (const KvaError& e) {
    EXPECT_NE(std::string(e.what()).find("no hole of 1 pages"), std::string::npos);
  }
}

TEST(Kernel, PageMappedInARawReservationCannotBeFreed) {
  auto k = ref_kernel();
  vm_page* m = k->phys().vm_page_alloc();
  const vaddr_t va = k->kva_alloc(2);
  const paddr_t pas[] = {m->phys_addr, m->phys_addr};
  k->qenter(0, va, pas);  // mapped twice
  EXPECT_EQ(m->kmap_count, 2);
  try {
    k->phys().vm_page_free(m);
    FAIL() << "freed a mapped page";
  } catch (const KvaError& e) {
    EXPECT_NE(std::string(e.what()).find("still mapped"), std::string::npos);
  }
  EXPECT_THROW(k->kva_free(va, 2), KvaError);  // a reservation that still maps pages
  k->kremove(va);
  EXPECT_EQ(m->kmap_count, 1);
  k->qremove(1, va + PAGE_SIZE, 1);
  EXPECT_EQ(m->kmap_count, 0);
  EXPECT_NO_THROW(k->phys().vm_page_free(m));
  EXPECT_NO_THROW(k->kva_free(va, 2));
}

TEST(Kernel, RemappingAReservationMovesTheCount) {
  auto k = ref_kernel();
  vm_page* a = k->phys().vm_page_alloc();
  vm_page* b = k->phys().vm_page_alloc();
  const vaddr_t va = k->kva_alloc(1);
  k->kenter(va, a->phys_addr);
  k->kenter(va, b->phys_addr);  // replaces a's mapping
  EXPECT_EQ(a->kmap_count, 0);
  EXPECT_EQ(b->kmap_count, 1);
  EXPECT_NO_THROW(k->phys().vm_page_free(a));
  EXPECT_THROW(k->phys().vm_page_free(b), KvaError);
}

TEST(Kernel, MappingsOutsideReservationsAreNotCounted) {
  KernelConfig cfg;
  cfg.nsfbufs = 2;
  auto k = ref_kernel(cfg);
  vm_page* m = k->phys().vm_page_alloc();
  const vaddr_t slot = k->sfbufs().pool()[0]->kva;  // belongs to sf_buf, not to a reservation
  k->kenter(slot, m->phys_addr);
  EXPECT_EQ(m->kmap_count, 0);
  EXPECT_EQ(k->pmap().extract(slot), m->phys_addr);
}

TEST(Kernel, ConfigReachesEverySubsystem) {
  KernelConfig cfg;
  cfg.nsfbufs = 5;
  cfg.seed = 42;
  cfg.faults.enable(Fault::DropShootdownIpi);
  auto k = ref_kernel(cfg);
  EXPECT_EQ(k->sfbufs().stats().nsfbufs, 5);
  EXPECT_EQ(k->sched().seed(), 42u);
  EXPECT_TRUE(k->pmap().faults().enabled(Fault::DropShootdownIpi));
  EXPECT_FALSE(k->faults().enabled(Fault::SkipLocalInvalidation));
  auto dmap = ref_kernel(cfg, /*direct_map=*/true);
  EXPECT_TRUE(dmap->sfbufs().direct_map_mode());
}

TEST(Kernel, TooManySfBufsForTheKvaIsRefused) {
  KernelConfig cfg;
  cfg.nsfbufs = 1 << 20;  // 4 GiB of slots in a 256 MiB kva_space
  EXPECT_THROW(ref_kernel(cfg), KvaError);
}

}  // namespace
}  // namespace kva
