#include "emu/replay.h"

#include <sys/mman.h>

#include <cstring>

namespace kva {

namespace {
void check(uc_err err, const char* what) {
  if (err != UC_ERR_OK) throw KvaError(std::string("bare engine: ") + what + ": " + uc_strerror(err));
}
void stop_on_trap(uc_engine* uc, std::uint32_t, void*) { uc_emu_stop(uc); }
}  // namespace

BareEngines::BareEngines(Machine& m, bool private_copy) : regions_(m.memory_regions()), read_buf_(PAGE_SIZE) {
  const GuestIsa& isa = m.isa();
  try {
    if (private_copy)
      for (MemoryRegion& r : regions_) {
        void* p = ::mmap(nullptr, r.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw KvaError("bare engine: out of host memory");
        copies_.emplace_back(p, r.size);
        std::memcpy(p, r.host, r.size);
        r.host = static_cast<std::uint8_t*>(p);
      }
    for (int c = 0; c < m.ncpus(); ++c) {
      uc_engine* uc = nullptr;
      check(uc_open(isa.uc_arch_id, isa.uc_mode_id, &uc), "uc_open");
      engines_.push_back(uc);
      check(uc_ctl_set_tcg_buffer_size(uc, Machine::kTcgBufferBytes), "tcg buffer");
      for (const MemoryRegion& r : regions_) check(uc_mem_map_ptr(uc, r.base, r.size, r.uc_prot, r.host), "map");
      check(uc_ctl_exits_enable(uc), "exits");
      // A firmware call stops the run (guest_isa.h, rule 5); the recording resumes it.
      if (isa.is_firmware_call) {
        uc_hook h;
        check(uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&stop_on_trap), nullptr, 1, 0), "hook");
      }
      isa.boot_cpu(uc, c);
    }
  } catch (...) {
    for (uc_engine* uc : engines_) uc_close(uc);
    for (auto [p, n] : copies_) ::munmap(p, n);
    throw;
  }
}

BareEngines::~BareEngines() {
  for (uc_engine* uc : engines_) uc_close(uc);
  for (auto [p, n] : copies_) ::munmap(p, n);
}

std::uint8_t* BareEngines::host(paddr_t pa, std::size_t n) const {
  for (const MemoryRegion& r : regions_)
    if (pa >= r.base && pa + n <= r.base + r.size) return r.host + (pa - r.base);
  throw KvaError("bare engine: recorded access outside guest memory");
}

BareEngines::Program BareEngines::compile(const EmuRecording& rec) const {
  Program p;
  std::size_t nvalues = 0;
  for (const auto& e : rec.events) nvalues += e.values.size();
  p.value_ptrs.reserve(nvalues);  // stable: ops point into it
  for (const auto& e : rec.events) {
    Op op;
    op.kind = e.kind;
    switch (e.kind) {
      case EmuEvent::Kind::Write:
        op.host = host(e.pa, e.bytes.size());
        op.bytes = e.bytes.data();
        op.n = e.bytes.size();
        break;
      case EmuEvent::Kind::Read:
        if (e.nbytes > PAGE_SIZE) throw KvaError("bare engine: recorded read larger than a page");
        op.host = host(e.pa, e.nbytes);
        op.n = e.nbytes;
        break;
      case EmuEvent::Kind::Run:
        op.uc = engines_.at(static_cast<std::size_t>(e.cpu));
        op.entry = e.entry;
        op.regs = e.regs.data();
        op.nregs = static_cast<int>(e.regs.size());
        op.values = p.value_ptrs.data() + p.value_ptrs.size();
        for (const auto& v : e.values) p.value_ptrs.push_back(const_cast<std::uint64_t*>(&v));
        break;
    }
    p.ops.push_back(op);
  }
  return p;
}

void BareEngines::replay(const Program& p) {
  for (const Op& op : p.ops) {
    switch (op.kind) {
      case EmuEvent::Kind::Write: std::memcpy(op.host, op.bytes, op.n); break;
      case EmuEvent::Kind::Read: std::memcpy(read_buf_.data(), op.host, op.n); break;
      case EmuEvent::Kind::Run:
        uc_reg_write_batch(op.uc, op.regs, op.values, op.nregs);
        check(uc_emu_start(op.uc, op.entry, 0, 0, 0), "uc_emu_start");
        break;
    }
  }
}

}  // namespace kva
