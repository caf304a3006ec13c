#include "tests/crash/crash_workload.h"

#include <memory>
#include <random>
#include <stdexcept>

#include "archs/registry.h"
#include "core/kernel.h"
#include "tests/fuzz/opseq/file_model.h"
#include "tests/fuzz/opseq/ops.h"  // pattern()

namespace kva::crash {
namespace {

using fuzz::FileModel;

struct Step {
  enum class Kind { Write, MappedWrite, Fsync, Sync, Flush, Pageout } kind = Kind::Write;
  int file = 0, td = 0;
  std::uint64_t off = 0, len = 0;
  std::uint8_t seed = 0;
  WriteMode mode = WriteMode::Delayed;
  std::size_t release_after = 0;  // bios completed after the op (some stay in flight)

  std::string text() const {
    const std::string f = " f" + std::to_string(file) + "+" + std::to_string(off) + " len " + std::to_string(len);
    static const char* modes[] = {"bdwrite", "bawrite", "bwrite"};
    switch (kind) {
      case Kind::Write: return "write td" + std::to_string(td) + f + " " + modes[static_cast<int>(mode)];
      case Kind::MappedWrite: return "write_mapped td" + std::to_string(td) + f;
      case Kind::Fsync: return "fsync td" + std::to_string(td) + " f" + std::to_string(file) + "+" + std::to_string(off) +
                               " len " + (len ? std::to_string(len) : "EOF");
      case Kind::Sync: return "sync td" + std::to_string(td);
      case Kind::Flush: return "buffer daemon flush";
      case Kind::Pageout: return "pageout";
    }
    return "?";
  }
};

std::vector<Step> generate(const WorkloadSpec& spec, const std::vector<std::uint64_t>& sizes) {
  std::mt19937_64 rng(spec.seed);
  auto below = [&rng](std::uint64_t n) { return n ? rng() % n : 0; };
  std::vector<Step> steps;
  for (int i = 0; i < spec.nops; ++i) {
    Step s;
    const std::uint64_t r = below(100);
    s.kind = r < 40 ? Step::Kind::Write : r < 55 ? Step::Kind::MappedWrite : r < 80 ? Step::Kind::Fsync
           : r < 85 ? Step::Kind::Sync : r < 95 ? Step::Kind::Flush : Step::Kind::Pageout;
    s.file = static_cast<int>(below(sizes.size()));
    s.td = static_cast<int>(below(2));
    const std::uint64_t size = sizes[static_cast<std::size_t>(s.file)];
    s.off = below(size);
    switch (s.kind) {
      case Step::Kind::Write: s.len = 1 + below(std::min<std::uint64_t>(size - s.off, 3 * spec.bsize)); break;
      case Step::Kind::MappedWrite: s.len = 1 + below(std::min<std::uint64_t>(size - s.off, 2 * PAGE_SIZE)); break;
      case Step::Kind::Fsync:
        if (below(2)) s.off = 0;  // whole file, else a range
        else s.len = 1 + below(size - s.off);
        break;
      default: break;
    }
    s.seed = static_cast<std::uint8_t>(rng());
    s.mode = static_cast<WriteMode>(below(3));
    s.release_after = below(4);
    steps.push_back(s);
  }
  return steps;
}

class Run {
 public:
  Run(const WorkloadSpec& spec, std::optional<std::size_t> target) : spec_(spec), target_(target) {
    const ArchInfo* arch = find_arch(spec.arch);
    if (!arch) throw std::runtime_error("no arch " + spec.arch);
    KernelConfig kc;
    kc.nsfbufs = 8;
    kc.faults = spec.faults;
    kc.buf.nbuf = 16;
    kc.buf.maxbufspace = 256u << 10;
    kc.buf.check_invariants = true;
    kc.device.size = 1u << 20;
    k_ = std::make_unique<Kernel>(arch->create(MachineConfig{2, 8u << 20, nullptr}), kc);
    for (int c = 0; c < 2; ++c) tds_.push_back(&k_->sched().thread_create("td" + std::to_string(c), c));
    const std::vector<std::uint64_t> sizes = {spec.file_size, spec.file_size / 2 + 1};
    for (std::size_t f = 0; f < sizes.size(); ++f) {
      auto bytes = fuzz::pattern(static_cast<std::uint8_t>(spec.seed + f), 0, sizes[f]);
      files_.push_back(&k_->vfs().create("f" + std::to_string(f), spec.bsize, sizes[f],
                                         [&bytes](std::uint64_t at) { return bytes[at]; }));
      models_.emplace_back(spec.bsize, bytes, true);
    }
    steps_ = generate(spec, sizes);
    k_->device().hold();
  }

  RunResult go() {
    RunResult r;
    for (const Step& s : steps_) r.ops.push_back(s.text());
    try {
      for (const Step& s : steps_) {
        op_ = s.text();
        if (point()) break;
        start(s);
        while (busy()) {
          if (k_->device().queued() == 0) throw std::runtime_error(op_ + ": sleeps with no I/O to complete");
          if (point()) break;
          complete_one();
        }
        if (check_) break;
        for (std::size_t i = 0; i < s.release_after && k_->device().queued() > 0 && !check_; ++i)
          if (!point()) complete_one();
        if (check_) break;
      }
      op_ = "(end: the remaining writes complete)";
      while (!check_ && k_->device().queued() > 0)
        if (!point()) complete_one();
      if (!check_) point();
    } catch (const std::exception& e) {
      throw std::runtime_error(spec_.arch + " seed " + std::to_string(spec_.seed) + " at " + op_ + ": " + e.what());
    }
    r.points = points_;
    r.check = check_;
    return r;
  }

 private:
  bool busy() const {
    for (const Thread* td : tds_)
      if (td->state() != Thread::State::Idle) return true;
    return false;
  }

  // The oldest write (or read) completes; the device stays held (a release that empties its
  // queue stops holding, see BlockDevice::release).
  void complete_one() {
    k_->device().release(1);
    k_->device().hold();
    k_->sched().run();
  }

  // The next crash point; at the target, crash and check (true: stop the run).
  bool point() {
    const std::size_t here = points_++;
    if (!target_ || *target_ != here) return false;
    CrashCheck c;
    c.point = here;
    c.op = op_;
    const bool idle = !busy();
    k_->vfs().crash(0);
    for (std::size_t f = 0; f < files_.size(); ++f) {
      vnode& vp = *files_[f];
      const auto dev = k_->vfs().on_device(vp, 0, vp.size());
      if (!c.durable_lost)
        if (auto lost = models_[f].check_durable(dev)) c.durable_lost = vp.name() + ": " + *lost;
      // After the reboot, a read goes to the device (a sleeping op's state is gone, so only when
      // no op was interrupted).
      if (idle && !c.reread) {
        std::vector<std::uint8_t> got;
        int err = -1;
        k_->vfs().read(*tds_[0], vp, 0, vp.size(), [&](std::vector<std::uint8_t> d, int e) {
          got = std::move(d);
          err = e;
        });
        k_->sched().run();
        if (err != 0 || got != dev) c.reread = vp.name() + ": a read after the crash does not return the device contents";
      }
    }
    c.vfs_lost_writes = k_->vfs().lost_writes().size();
    check_ = c;
    return true;
  }

  void start(const Step& s) {
    Thread& td = *tds_[static_cast<std::size_t>(s.td)];
    vnode& vp = *files_[static_cast<std::size_t>(s.file)];
    FileModel& fm = models_[static_cast<std::size_t>(s.file)];
    auto failed = [this](int err) {
      if (err) throw std::runtime_error(op_ + " returned error " + std::to_string(err));
    };
    switch (s.kind) {
      case Step::Kind::Write: {
        auto data = fuzz::pattern(s.seed, s.off, s.len);
        fm.write(s.off, data);
        k_->vfs().write(td, vp, s.off, data, s.mode, failed);
        break;
      }
      case Step::Kind::MappedWrite: {
        auto data = fuzz::pattern(s.seed, s.off, s.len);
        fm.write(s.off, data);
        k_->vfs().write_mapped(td, vp, s.off, data, failed);
        break;
      }
      case Step::Kind::Fsync:
        // Durable once fsync returns 0: marked in the model at its return, not its start.
        k_->vfs().fsync(td, vp, s.off, s.len, [this, &fm, s](int err) {
          if (err) throw std::runtime_error(op_ + " returned error " + std::to_string(err));
          fm.synced(s.off, s.len);
        });
        break;
      case Step::Kind::Sync:
        k_->vfs().sync(td, [this](int err) {
          if (err) throw std::runtime_error(op_ + " returned error " + std::to_string(err));
          for (auto& m : models_) m.synced(0, 0);
        });
        break;
      case Step::Kind::Flush: k_->bufs().flush_dirty(static_cast<cpuid_t>(s.td), s.seed & 1); break;
      case Step::Kind::Pageout:
        k_->bufs().release_clean(0);
        k_->vfs().pageout();
        break;
    }
    k_->sched().run();
  }

  WorkloadSpec spec_;
  std::optional<std::size_t> target_;
  std::unique_ptr<Kernel> k_;
  std::vector<Thread*> tds_;
  std::vector<vnode*> files_;
  std::vector<FileModel> models_;
  std::vector<Step> steps_;
  std::string op_;
  std::size_t points_ = 0;
  std::optional<CrashCheck> check_;
};

}  // namespace

std::string CrashCheck::describe() const {
  std::string s = "crash point " + std::to_string(point) + " (at " + op + "):";
  if (durable_lost) s += " " + *durable_lost + ";";
  if (vfs_lost_writes) s += " the Vfs oracle reported " + std::to_string(vfs_lost_writes) + " lost write(s);";
  if (reread) s += " " + *reread + ";";
  return s;
}

RunResult run_to(const WorkloadSpec& spec, std::optional<std::size_t> point) { return Run(spec, point).go(); }

Sweep crash_everywhere(const WorkloadSpec& spec) {
  Sweep sw;
  const RunResult full = run_to(spec, std::nullopt);
  sw.points = full.points;
  sw.ops = full.ops;
  for (std::size_t p = 0; p < full.points; ++p) {
    const RunResult r = run_to(spec, p);
    if (!r.check) throw std::runtime_error("crash point " + std::to_string(p) + " was not reached on replay");
    if (!r.check->ok()) sw.failures.push_back(*r.check);
  }
  return sw;
}

}  // namespace kva::crash
