// Physical pages: allocate (filled with a pattern), fill (host write, like DMA), wire, unwire,
// free. Unwiring and freeing are only generated for pages nothing maps any more.
#include "tests/fuzz/opseq/ops.h"

namespace kva::fuzz {
std::vector<OpDef> page_ops() {
  return {
      {"page_alloc",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         if (static_cast<int>(m.live_pages().size()) >= Model::max_pages ||
             m.ref.pages.size() >= 2 * Model::max_pages)
           return;
         std::uint8_t seed = src.byte();
         bool wired = src.below(4) != 0;
         out.push_back({"page_alloc seed " + std::to_string(seed) + (wired ? " wired" : ""),
                        [=](World& w) {
                          vm_page* pg = w.pmap().phys().vm_page_alloc();
                          auto bytes = pattern(seed, 0, PAGE_SIZE);
                          w.pmap().phys().write(pg->phys_addr, bytes.data(), bytes.size());
                          if (wired) w.pmap().phys().vm_page_wire(pg);
                          w.pages.push_back(pg);
                          return Outcome{"page#" + std::to_string(w.pages.size() - 1)};
                        }});
       }},
      {"page_fill",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int p = pick(src, m.live_pages());
         if (p < 0) return;
         std::uint32_t offset = src.below(PAGE_SIZE);
         std::uint32_t len = src.length(PAGE_SIZE - offset);
         std::uint8_t seed = src.byte();
         out.push_back({"page_fill page#" + std::to_string(p) + "+" + std::to_string(offset) + " len " +
                            std::to_string(len) + " seed " + std::to_string(seed),
                        [=](World& w) {
                          auto bytes = pattern(seed, offset, len);
                          w.pmap().phys().write(w.pages[static_cast<std::size_t>(p)]->phys_addr + offset,
                                                bytes.data(), bytes.size());
                          return Outcome{};
                        }});
       }},
      {"page_wire",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         int p = pick(src, m.live_pages());
         if (p < 0) return;
         out.push_back({"page_wire page#" + std::to_string(p), [=](World& w) {
                          w.pmap().phys().vm_page_wire(w.pages[static_cast<std::size_t>(p)]);
                          return Outcome{};
                        }});
       }},
      {"page_unwire",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         std::vector<int> ok;
         for (int p : m.live_pages()) {
           int wired = m.ref.pages[static_cast<std::size_t>(p)]->wire_count;
           if (wired > 1 || (wired == 1 && !m.page_in_use(p))) ok.push_back(p);
         }
         int p = pick(src, ok);
         if (p < 0) return;
         out.push_back({"page_unwire page#" + std::to_string(p), [=](World& w) {
                          w.pmap().phys().vm_page_unwire(w.pages[static_cast<std::size_t>(p)]);
                          return Outcome{};
                        }});
       }},
      {"page_free",
       [](ByteSource& src, Model& m, std::vector<Op>& out) {
         std::vector<int> ok;
         for (int p : m.live_pages())
           if (m.ref.pages[static_cast<std::size_t>(p)]->wire_count == 0 && !m.page_in_use(p)) ok.push_back(p);
         int p = pick(src, ok);
         if (p < 0) return;
         out.push_back({"page_free page#" + std::to_string(p), [=](World& w) {
                          w.pmap().phys().vm_page_free(w.pages[static_cast<std::size_t>(p)]);
                          w.pages[static_cast<std::size_t>(p)] = nullptr;
                          return Outcome{};
                        }});
       }},
  };
}

}  // namespace kva::fuzz
