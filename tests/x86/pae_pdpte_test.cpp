// PAE loads its four PDPTEs into registers at CR3 load and walks through those until the next
// CR3 load (SDM vol. 3, 4.4.1); QEMU re-reads them from memory on every walk. So after a PDPTE
// changes in memory, only the architectural oracle can show a CPU still walking the old one.
// 2-level i386 and 4-level amd64 walks read every level from memory: no report there.
#include <cstring>

#include "archs/amd64/amd64_paging.h"
#include "archs/i386/i386_paging.h"
#include "archs/x86/x86_pmap.h"
#include "archs/x86/x86_stub_abi.h"
#include "x86_test_util.h"

namespace kva::test {
namespace {

// Rebuilds va's path below the root in fresh table pages whose leaf maps new_pa, then points
// the root-level entry at that copy. The old tables stay as they were.
template <class Paging>
void reroute_root_entry(x86::PageTables<Paging>& tables, PhysicalMemory& phys, vaddr_t va,
                        paddr_t new_pa) {
  using Raw = typename Paging::Entry::raw_type;
  auto w = tables.walk(va);
  ASSERT_TRUE(w.mapped);
  ASSERT_EQ(w.depth, Paging::kLevels);
  paddr_t child = 0;
  for (int level = Paging::kLevels - 1; level >= 1; --level) {
    const auto& step = w.steps[level];
    const paddr_t old_table = step.slot - step.index * sizeof(Raw);
    vm_page* copy = phys.vm_page_alloc();
    phys.vm_page_wire(copy);
    std::memcpy(phys.host_ptr(copy->phys_addr), phys.host_ptr(old_table), PAGE_SIZE);
    auto e = step.entry;
    if (level == Paging::kLevels - 1) {
      e.set_physical_address(new_pa);
      e.set_accessed(false);
      e.set_dirty(false);
    } else {
      e.set_physical_address(child);
    }
    tables.write(copy->phys_addr + step.index * sizeof(Raw), e);
    child = copy->phys_addr;
  }
  auto root = w.steps[0].entry;
  root.set_physical_address(child);
  tables.write(w.steps[0].slot, root);
}

struct Amd64 { using Paging = amd64::Paging; static constexpr const char* name = "amd64"; static constexpr bool caches_root = false; };
struct I386 { using Paging = i386::Paging; static constexpr const char* name = "i386"; static constexpr bool caches_root = false; };
struct I386Pae { using Paging = i386::PaePaging; static constexpr const char* name = "i386-pae"; static constexpr bool caches_root = true; };

template <class T>
class RootEntryCaching : public testing::Test {};
using Variants = testing::Types<Amd64, I386, I386Pae>;
TYPED_TEST_SUITE(RootEntryCaching, Variants);

TYPED_TEST(RootEntryCaching, RootEntryChangedInMemoryIsReportedOnlyWhereTheIsaCachesIt) {
  auto pmap = make_x86(TypeParam::name, 2);
  auto* x86pmap = dynamic_cast<x86::X86Pmap<typename TypeParam::Paging>*>(pmap.get());
  ASSERT_NE(x86pmap, nullptr);
  PhysicalMemory& phys = pmap->phys();
  const vaddr_t va = pmap->kva_space().start;
  vm_page* a = pattern_page(phys, 0x11);
  vm_page* b = pattern_page(phys, 0x77);
  pmap->kenter(va, a->phys_addr);
  // cpu 0 loads CR3 at boot, before this change; it never touched va.
  reroute_root_entry(x86pmap->tables(), phys, va, b->phys_addr);
  ASSERT_EQ(pmap->extract(va), b->phys_addr);

  const auto got = pmap->load(1, va, 16);
  EXPECT_EQ(got, phys_bytes(phys, b->phys_addr, 16)) << "the emulator re-reads every level";
  EXPECT_EQ(pmap->stale_log().count(Oracle::Observed), 0u);
  if (!TypeParam::caches_root) {
    EXPECT_EQ(pmap->stale_log().size(), 0u) << "no false alarm where walks read memory";
    return;
  }
  ASSERT_EQ(pmap->stale_log().count(Oracle::Architectural), 1u);
  const StaleAccess& r = pmap->stale_log().entries()[0];
  EXPECT_EQ(r.cpu, 1);
  EXPECT_EQ(r.cached_pa, a->phys_addr) << "the walk through the old PDPTE reaches page a";
  EXPECT_EQ(r.expected_pa, b->phys_addr);

  // A CR3 load on cpu 1 (a full flush) reloads its PDPTE registers; the report stops.
  pmap->stale_log().clear();
  pmap->invalidate_local(1, va, x86::kInvlpgThresholdPages);
  EXPECT_EQ(pmap->stats().full_flushes, 1u);
  pmap->load(1, va, 16);
  EXPECT_EQ(pmap->stale_log().size(), 0u);
  // cpu 0 has not loaded CR3 since the change: its walk still uses the old PDPTE.
  pmap->load(0, va, 16);
  EXPECT_EQ(pmap->stale_log().count(Oracle::Architectural), 1u);
}

}  // namespace
}  // namespace kva::test
