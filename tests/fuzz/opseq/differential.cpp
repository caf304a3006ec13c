#include "tests/fuzz/opseq/differential.h"

#include <memory>
#include <sstream>

#include "tests/fuzz/opseq/ops.h"

namespace kva::fuzz {
namespace {

Outcome run_op(World& w, const Op& op) {
  Outcome o;
  try {
    o = op.apply(w);
    w.sched().run();  // threads the op woke finish their calls now, as in the runner
  } catch (const PageFault&) {
    o.what = "page fault";
  } catch (const KvaError& e) {
    o.what = std::string("error: ") + e.what();
    o.error = true;
  }
  o.what += w.take_completions();
  return o;
}

std::string show(const Outcome& o) {
  std::string s = o.what;
  if (!o.bytes.empty()) {
    s += " bytes";
    for (std::size_t i = 0; i < o.bytes.size() && i < 16; ++i) s += " " + hex(o.bytes[i]).substr(2);
    if (o.bytes.size() > 16) s += " ... (" + std::to_string(o.bytes.size()) + " bytes)";
  }
  return s;
}

// One sf_buf mode: its reference world and the emulated worlds checked against it.
struct Group {
  World* ref = nullptr;
  std::vector<World*> worlds;
};

class Run {
 public:
  Run(const std::uint8_t* data, std::size_t size, const DiffOptions& opts) : opts_(opts) {
    ByteSource head(data, size);
    const std::uint8_t b0 = head.byte();
    shape_.ncpus = 1 + b0 % 4;
    shape_.unmapped_bufs = b0 & 4;
    shape_.nsfbufs = 1 + static_cast<int>(head.below(6));
    body_ = data + head.consumed();
    body_size_ = size - head.consumed();
  }

  DiffResult go() {
    FaultSet faults;
    for (Fault f : opts_.faults) faults.enable(f);
    for (const auto& a : arch_registry()) worlds_.push_back(std::make_unique<World>(a, shape_, a.emulated ? faults : FaultSet{}));
    for (auto& w : worlds_) {
      if (w->arch().emulated) continue;
      Group g;
      g.ref = w.get();
      for (auto& e : worlds_)
        if (e->arch().emulated && e->direct_map() == w->direct_map()) g.worlds.push_back(e.get());
      bool mode_done = false;
      for (const auto& other : groups_) mode_done |= other.ref->direct_map() == w->direct_map();
      if (!mode_done) groups_.push_back(g);
    }
    for (auto& w : worlds_) {
      bool covered = false;
      for (const auto& g : groups_) covered |= g.ref->direct_map() == w->direct_map();
      if (!covered) return fail("no reference arch shares the sf_buf mode of " + w->arch().name);
    }
    for (auto& g : groups_)
      if (!run_group(g)) return result_;
    return result_;
  }

 private:
  DiffResult fail(const std::string& what) {
    std::ostringstream o;
    o << what << "\nmachine: " << shape_.ncpus << " cpus, " << shape_.nsfbufs << " sf_bufs, "
      << shape_.threads_per_cpu << " threads per cpu" << (shape_.unmapped_bufs ? ", unmapped buffers" : "")
      << "\nops:\n";
    for (std::size_t i = 0; i < log_.size(); ++i) o << "  #" << i << " " << log_[i] << "\n";
    result_.ok = false;
    result_.report = (opts_.list_ops ? result_.report : "") + o.str();  // listed outcomes first
    return result_;
  }

  bool check_world(World& w, const Op& op, const Outcome& o) {
    if (o.error) {
      fail(w.arch().name + ": a correct op raised " + o.what + " at #" + std::to_string(log_.size() - 1) +
           " " + op.text);
      return false;
    }
    const auto& stale = w.pmap().stale_log().entries();
    if (!stale.empty()) {
      fail(w.arch().name + ": stale access at #" + std::to_string(log_.size() - 1) + " " + op.text + ": " +
           stale.front().describe());
      return false;
    }
    for (const LostWrite& lw : w.vfs().lost_writes()) {
      fail(w.arch().name + ": lost write at #" + std::to_string(log_.size() - 1) + " " + op.text + ": " + lw.file +
           " offset " + std::to_string(lw.offset) + " (" + std::to_string(lw.length) + " bytes) " + lw.when);
      return false;
    }
    if (!w.bufs().violations().empty()) {
      fail(w.arch().name + ": buffer invariant broken at #" + std::to_string(log_.size() - 1) + " " + op.text + ": " +
           w.bufs().violations().front().message);
      return false;
    }
    return true;
  }

  // The decoder's prediction (its logical model of the files) against the reference's outcome.
  bool check_expected(const World& ref, const Op& op, const Outcome& o) {
    const std::string result = o.what.substr(0, o.what.find(" ["));  // without other calls' returns
    const bool what_ok = !op.expect_what || *op.expect_what == result;
    const bool bytes_ok = !op.expect_bytes || *op.expect_bytes == o.bytes;
    if (what_ok && bytes_ok) return true;
    Outcome want;
    want.what = op.expect_what.value_or(o.what);
    want.bytes = op.expect_bytes.value_or(o.bytes);
    std::string where = "first differing byte: ";
    for (std::size_t i = 0; i < std::max(want.bytes.size(), o.bytes.size()); ++i)
      if (i >= want.bytes.size() || i >= o.bytes.size() || want.bytes[i] != o.bytes[i]) {
        where += std::to_string(i);
        break;
      }
    fail(ref.arch().name + " differs from the logical model at #" + std::to_string(log_.size() - 1) + " " + op.text +
         "\n  model: " + show(want) + "\n  " + ref.arch().name + ": " + show(o) + (bytes_ok ? "" : "\n  " + where));
    return false;
  }

  // Applies ops to the reference and then to each world of the group, comparing as it goes.
  bool apply(Group& g, const std::vector<Op>& batch, std::size_t& ops) {
    for (const auto& op : batch) {
      ++ops;
      log_.push_back(op.text);
      Outcome want = run_op(*g.ref, op);
      if (opts_.list_ops)
        result_.report += g.ref->arch().name + " #" + std::to_string(log_.size() - 1) + " " + op.text + ": " +
                          show(want) + "\n";
      if (!check_world(*g.ref, op, want) || !check_expected(*g.ref, op, want)) return false;
      for (World* w : g.worlds) {
        Outcome got = run_op(*w, op);
        if (!check_world(*w, op, got)) return false;
        if (!(got == want)) {
          fail(w->arch().name + " differs from " + g.ref->arch().name + " at #" + std::to_string(log_.size() - 1) +
               " " + op.text + "\n  " + g.ref->arch().name + ": " + show(want) + "\n  " + w->arch().name + ": " +
               show(got));
          return false;
        }
      }
    }
    return true;
  }

  bool run_group(Group& g) {
    ByteSource src(body_, body_size_);
    Model model(*g.ref);
    const auto& table = op_table();
    std::size_t ops = 0;
    log_.clear();
    while (!src.exhausted() && ops < opts_.max_ops) {
      std::vector<Op> batch;
      table[src.below(static_cast<std::uint32_t>(table.size()))].decode(src, model, batch);
      if (!apply(g, batch, ops)) return false;
    }
    // Held buffers are released (a waiter may get one each time), then the files are checked.
    for (int round = 0; round <= Model::max_buf_handles; ++round) {
      std::vector<Op> batch;
      release_held_buffers(model, batch);
      if (batch.empty()) break;
      if (!apply(g, batch, ops)) return false;
    }
    if (!apply(g, {verify_files_op(model)}, ops)) return false;
    result_.ops += ops;
    return check_end(g);
  }

  // Memory as the host sees it, and sf_buf's own counters, agree at the end.
  bool check_end(Group& g) {
    for (World* w : g.worlds) {
      for (std::size_t p = 0; p < g.ref->pages.size(); ++p) {
        if (!g.ref->pages[p]) continue;
        std::vector<std::uint8_t> a(PAGE_SIZE), b(PAGE_SIZE);
        g.ref->pmap().phys().read(g.ref->pages[p]->phys_addr, a.data(), a.size());
        w->pmap().phys().read(w->pages[p]->phys_addr, b.data(), b.size());
        if (a != b) {
          fail(w->arch().name + ": page#" + std::to_string(p) + " holds other bytes than on " + g.ref->arch().name);
          return false;
        }
      }
      const SfBufStats &x = g.ref->sfbufs().stats(), &y = w->sfbufs().stats();
      auto same = [&](const char* name, std::uint64_t a, std::uint64_t b) {
        if (a == b) return true;
        fail(w->arch().name + ": sf_buf " + name + " is " + std::to_string(b) + ", " + std::to_string(a) +
             " on " + g.ref->arch().name);
        return false;
      };
      if (!same("nsfbufsused", x.nsfbufsused, y.nsfbufsused) || !same("nsfbufspeak", x.nsfbufspeak, y.nsfbufspeak) ||
          !same("sf_allocwait", x.sf_allocwait, y.sf_allocwait) || !same("sf_allocfail", x.sf_allocfail, y.sf_allocfail) ||
          !same("remaps", x.remaps, y.remaps) || !same("hash_hits", x.hash_hits, y.hash_hits) ||
          !same("local_invalidations", x.local_invalidations, y.local_invalidations) ||
          !same("shootdowns", x.shootdowns, y.shootdowns) ||
          !same("invalidations_skipped_unaccessed", x.invalidations_skipped_unaccessed,
                y.invalidations_skipped_unaccessed))
        return false;
    }
    return true;
  }

  DiffOptions opts_;
  MachineShape shape_;
  const std::uint8_t* body_ = nullptr;
  std::size_t body_size_ = 0;
  std::vector<std::unique_ptr<World>> worlds_;
  std::vector<Group> groups_;
  std::vector<std::string> log_;
  DiffResult result_;
};

}  // namespace

DiffResult run_differential(const std::uint8_t* data, std::size_t size, const DiffOptions& opts) {
  return Run(data, size, opts).go();
}

}  // namespace kva::fuzz
