#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <vector>

#include "core/vm_page.h"

namespace kva {
namespace {

TEST(PhysicalMemory, BitsAllCoversEveryDevBsizeChunk) {
  EXPECT_EQ(VM_PAGE_BITS_ALL, 0xFFu);
  EXPECT_EQ(PAGE_SIZE / DEV_BSIZE, 8u);
}

TEST(PhysicalMemory, LayoutAndHostBufferIsPageAligned) {
  PhysicalMemory phys(0x100000, 16 * PAGE_SIZE);
  EXPECT_EQ(phys.npages(), 16u);
  EXPECT_EQ(phys.base(), 0x100000u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(phys.host_ptr(0x100000)) % PAGE_SIZE, 0u);
  EXPECT_EQ(phys.page(3).phys_addr, 0x100000u + 3 * PAGE_SIZE);
  EXPECT_EQ(phys.PHYS_TO_VM_PAGE(0x100000 + 3 * PAGE_SIZE + 5), &phys.page(3));
  EXPECT_EQ(phys.PHYS_TO_VM_PAGE(0x100000 + 16 * PAGE_SIZE), nullptr);
  EXPECT_EQ(phys.PHYS_TO_VM_PAGE(0xFF000), nullptr);
  EXPECT_TRUE(phys.contains(0x100000 + 16 * PAGE_SIZE - 4, 4));
  EXPECT_FALSE(phys.contains(0x100000 + 16 * PAGE_SIZE - 4, 5));
}

TEST(PhysicalMemory, RejectsUnalignedOrEmpty) {
  EXPECT_THROW(PhysicalMemory(0x100, PAGE_SIZE), KvaError);
  EXPECT_THROW(PhysicalMemory(0, PAGE_SIZE + 1), KvaError);
  EXPECT_THROW(PhysicalMemory(0, 0), KvaError);
}

TEST(PhysicalMemory, ReadWriteRoundTripAndBoundsChecked) {
  PhysicalMemory phys(0, 2 * PAGE_SIZE);
  const std::uint8_t in[3] = {1, 2, 3};
  phys.write(PAGE_SIZE - 1, in, 3);  // straddles the two pages: one buffer
  std::uint8_t out[3] = {};
  phys.read(PAGE_SIZE - 1, out, 3);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[2], 3);
  EXPECT_EQ(*phys.host_ptr(PAGE_SIZE + 1), 3);
  EXPECT_THROW(phys.read(2 * PAGE_SIZE - 1, out, 2), KvaError);
  EXPECT_THROW(phys.host_ptr(2 * PAGE_SIZE), KvaError);
}

TEST(PhysicalMemory, AllocZeroesRecycledPage) {
  PhysicalMemory phys(0, PAGE_SIZE);
  vm_page* m = phys.vm_page_alloc();
  std::vector<std::uint8_t> junk(PAGE_SIZE, 0xAB);
  phys.write(m->phys_addr, junk.data(), junk.size());
  phys.vm_page_free(m);
  vm_page* again = phys.vm_page_alloc();
  ASSERT_EQ(again, m);  // the only page
  std::vector<std::uint8_t> out(PAGE_SIZE, 0xFF);
  phys.read(again->phys_addr, out.data(), out.size());
  EXPECT_EQ(out, std::vector<std::uint8_t>(PAGE_SIZE, 0));
  EXPECT_TRUE(again->allocated);
  EXPECT_EQ(again->valid, VM_PAGE_BITS_ALL);
}

TEST(PhysicalMemory, ExhaustionAndFreeCount) {
  PhysicalMemory phys(0, 2 * PAGE_SIZE);
  EXPECT_EQ(phys.free_count(), 2u);
  vm_page* a = phys.vm_page_alloc();
  vm_page* b = phys.vm_page_alloc();
  EXPECT_NE(a, b);
  EXPECT_EQ(phys.free_count(), 0u);
  EXPECT_THROW(phys.vm_page_alloc(), KvaError);
  phys.vm_page_free(a);
  EXPECT_EQ(phys.free_count(), 1u);
  EXPECT_THROW(phys.vm_page_free(a), KvaError);  // double free
}

TEST(PhysicalMemory, WiringCountsAndProtectsFromFree) {
  PhysicalMemory phys(0, 2 * PAGE_SIZE);
  vm_page* m = phys.vm_page_alloc();
  phys.vm_page_wire(m);
  phys.vm_page_wire(m);
  EXPECT_EQ(m->wire_count, 2);
  EXPECT_THROW(phys.vm_page_free(m), KvaError);
  phys.vm_page_unwire(m);
  phys.vm_page_unwire(m);
  EXPECT_EQ(m->wire_count, 0);
  EXPECT_THROW(phys.vm_page_unwire(m), KvaError);
  phys.vm_page_free(m);
  EXPECT_THROW(phys.vm_page_wire(m), KvaError);  // not allocated any more
}

TEST(PhysicalMemory, MappedOrBusyPagesAreNotFreed) {
  PhysicalMemory phys(0, 2 * PAGE_SIZE);
  vm_page* m = phys.vm_page_alloc();
  m->kmap_count = 1;  // as the buffer cache or a raw reservation records a mapping
  EXPECT_THROW(phys.vm_page_free(m), KvaError);
  m->kmap_count = 0;
  m->busy = 1;
  EXPECT_THROW(phys.vm_page_free(m), KvaError);
  m->busy = 0;
  EXPECT_NO_THROW(phys.vm_page_free(m));
}

std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

// Guest RAM is an anonymous mapping zero-filled by the kernel on first touch, and vm_page_alloc
// writes only pages that are not zero: allocating all of a large RAM costs next to nothing.
TEST(PhysicalMemory, AllocatingUntouchedRamCostsNoHostMemory) {
  constexpr std::size_t kRam = 64u << 20;
  const std::uint64_t before = resident_bytes();
  PhysicalMemory phys(0, kRam);
  while (phys.free_count()) phys.vm_page_alloc();
  EXPECT_LT(resident_bytes() - before, kRam / 8);
  std::uint8_t probe = 1;
  phys.read(kRam - 1, &probe, 1);
  EXPECT_EQ(probe, 0);
}

// A page someone wrote without allocating it (a stale mapping, the direct map) still comes back
// zeroed: zero is checked, not assumed.
TEST(PhysicalMemory, AllocZeroesAPageWrittenBeforeItsFirstAllocation) {
  PhysicalMemory phys(0, PAGE_SIZE);
  const std::uint8_t junk[2] = {0xAB, 0xCD};
  phys.write(PAGE_SIZE - 2, junk, 2);
  vm_page* m = phys.vm_page_alloc();
  std::vector<std::uint8_t> out(PAGE_SIZE, 0xFF);
  phys.read(m->phys_addr, out.data(), out.size());
  EXPECT_EQ(out, std::vector<std::uint8_t>(PAGE_SIZE, 0));
}

}  // namespace
}  // namespace kva
