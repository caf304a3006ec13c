#include "emu/machine.h"

#include <sys/mman.h>

#include <cstring>
#include <sstream>

namespace kva {

namespace {

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

void check(uc_err err, const char* what) {
  if (err != UC_ERR_OK) throw KvaError(std::string("unicorn: ") + what + ": " + uc_strerror(err));
}

std::uint64_t word_mask(unsigned bytes) { return bytes >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * bytes)) - 1; }

// Stub arguments plus the budget register: the most registers one run writes.
constexpr std::size_t kMaxRunRegs = 8;

}  // namespace

Machine::Machine(GuestIsa isa, const StubImage& stubs, const MachineConfig& cfg,
                 PhysicalMemory& ram, paddr_t firmware_base)
    : isa_(std::move(isa)), mode_(cfg.exec_mode), ram_(ram), trace_(cfg.trace) {
  if (cfg.ncpus < 1 || cfg.ncpus > MAXCPU)
    throw KvaError("machine: ncpus must be 1.." + std::to_string(MAXCPU));
  fw_.base = firmware_base;
  if (firmware_base & PAGE_MASK) throw KvaError("machine: firmware base not page aligned");
  if (fw_.end() > ram.base() && firmware_base < ram.base() + ram.size())
    throw KvaError("machine: firmware region overlaps guest RAM");
  if (stubs.text.size() > FirmwareLayout::kCodeMax)
    throw KvaError("machine: stub image larger than the firmware code page (" +
                   std::to_string(stubs.text.size()) + " bytes)");
  if (isa_.arg_regs.size() + 1 > kMaxRunRegs) throw KvaError("machine: too many argument registers");
  code_ = StubCode::shared(isa_, stubs, fw_.code());
  if (mode_ == ExecMode::Reference || trace_)
    disasm_ = std::make_unique<Disassembler>(isa_.cs_arch_id, isa_.cs_mode_id);

  // Anonymous: zero pages come from the kernel on first touch.
  void* p = ::mmap(nullptr, FirmwareLayout::kSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw KvaError("machine: out of host memory for the firmware region");
  fw_mem_ = static_cast<std::uint8_t*>(p);
  std::memcpy(fw_mem_ + FirmwareLayout::kCodeOffset, stubs.text.data(), stubs.text.size());

  try {
    for (int i = 0; i < cfg.ncpus; ++i) {
      auto v = std::make_unique<Vcpu>();
      v->machine = this;
      v->id = i;
      open_engine(*v);
      cpus_.push_back(std::move(v));
    }
  } catch (...) {
    for (auto& v : cpus_) uc_close(v->uc);
    ::munmap(fw_mem_, FirmwareLayout::kSize);
    throw;
  }
}

Machine::~Machine() {
  stop_recording();
  for (auto& v : cpus_) {
    if (v->booted) uc_context_free(v->booted);
    uc_close(v->uc);
  }
  ::munmap(fw_mem_, FirmwareLayout::kSize);
}

std::vector<MemoryRegion> Machine::memory_regions() const {
  // The guest never executes RAM or firmware data: without UC_PROT_EXEC, Unicorn's store slow
  // path skips looking for translated code to invalidate there.
  const std::size_t data = FirmwareLayout::kDataOffset;
  return {{ram_.base(), ram_.size(), UC_PROT_READ | UC_PROT_WRITE, ram_.host_ptr(ram_.base())},
          {fw_.base, data, UC_PROT_READ | UC_PROT_EXEC, fw_mem_},
          {fw_.base + data, FirmwareLayout::kSize - data, UC_PROT_READ | UC_PROT_WRITE, fw_mem_ + data}};
}

void Machine::open_engine(Vcpu& v) {
  check(uc_open(isa_.uc_arch_id, isa_.uc_mode_id, &v.uc), "uc_open");
  uc_engine* uc = v.uc;
  // Must precede any other use: the default code buffer is sized for whole programs.
  check(uc_ctl_set_tcg_buffer_size(uc, kTcgBufferBytes), "set the translation buffer size");
  for (const MemoryRegion& r : memory_regions())
    check(uc_mem_map_ptr(uc, r.base, r.size, r.uc_prot, r.host), "map guest memory");
  uc_hook h;
  check(uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&Machine::on_intr), &v, 1, 0),
        "hook interrupts");
  if (mode_ == ExecMode::Fast)
    check(uc_ctl_exits_enable(uc), "enable the exit list");  // empty: only the halt stops a run
  else
    check(uc_hook_add(uc, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&Machine::on_block), &v, 1, 0),
          "hook blocks");
  if (trace_)
    check(uc_hook_add(uc, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&Machine::on_code), &v, 1, 0),
          "hook code");
}

std::uint8_t* Machine::firmware_ptr(paddr_t pa, std::size_t n) {
  if (pa < fw_.base || pa + n > fw_.end() || pa + n < pa)
    throw KvaError("machine: " + hex(pa) + " is outside the firmware region");
  return fw_mem_ + (pa - fw_.base);
}

void Machine::write_firmware(paddr_t pa, const void* bytes, std::size_t n) {
  std::uint8_t* dst = firmware_ptr(pa, n);
  if (recording_) on_phys_write(pa, bytes, n);
  std::memcpy(dst, bytes, n);
}

void Machine::read_firmware(paddr_t pa, void* out, std::size_t n) {
  const std::uint8_t* src = firmware_ptr(pa, n);
  if (recording_) {
    EmuEvent e;
    e.kind = EmuEvent::Kind::Read;
    e.pa = pa;
    e.nbytes = n;
    recording_->events.push_back(std::move(e));
  }
  std::memcpy(out, src, n);
}

// Host writes to RAM (as PhysicalMemory's observer) and to firmware memory, while recording.
void Machine::on_phys_write(paddr_t pa, const void* bytes, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(bytes);
  EmuEvent e;
  e.kind = EmuEvent::Kind::Write;
  e.pa = pa;
  e.bytes.assign(b, b + n);
  recording_->events.push_back(std::move(e));
}

void Machine::start_recording(EmuRecording& rec) {
  recording_ = &rec;
  ram_.set_write_observer(this);
}

void Machine::stop_recording() {
  if (!recording_) return;
  recording_ = nullptr;
  ram_.set_write_observer(nullptr);
}

void Machine::boot() {
  for (auto& v : cpus_) {
    isa_.boot_cpu(v->uc, v->id);
    std::uint64_t sp = fw_.stack_top(v->id);
    check(uc_reg_write(v->uc, isa_.sp_reg, &sp), "write stack pointer");
    check(uc_context_alloc(v->uc, &v->booted), "uc_context_alloc");
    check(uc_context_save(v->uc, v->booted), "uc_context_save");
  }
  booted_ = true;
}

RunResult Machine::run(cpuid_t cpu, const StubRoutine& r, std::span<const std::uint64_t> args) {
  if (!booted_) throw KvaError("machine: run before boot");
  Vcpu& v = *cpus_.at(cpu);
  if (v.running) fail(v, r, "the vCPU is already running a stub (a firmware call may not run its caller)");
  struct Running {
    bool& flag;
    explicit Running(bool& f) : flag(f) { flag = true; }
    ~Running() { flag = false; }
  } running(v.running);
  if (args.size() > isa_.arg_regs.size()) fail(v, r, "too many stub arguments");
  // The arguments and the budget, in one call.
  int regs[kMaxRunRegs];
  std::uint64_t values[kMaxRunRegs];
  void* ptrs[kMaxRunRegs];
  const std::size_t nregs = args.size() + 1;
  for (std::size_t i = 0; i < args.size(); ++i) regs[i] = isa_.arg_regs[i], values[i] = args[i];
  regs[args.size()] = isa_.budget_reg;
  values[args.size()] = kInstructionBudget;
  for (std::size_t i = 0; i < nregs; ++i) ptrs[i] = &values[i];
  check(uc_reg_write_batch(v.uc, regs, ptrs, static_cast<int>(nregs)), "write stub arguments");
  if (recording_) {
    EmuEvent e;
    e.kind = EmuEvent::Kind::Run;
    e.cpu = cpu;
    e.entry = r.entry;
    e.regs.assign(regs, regs + nregs);
    e.values.assign(values, values + nregs);
    recording_->events.push_back(std::move(e));
  }
  v.trap.reset();
  v.done = r.done;
  v.counted = 0;
  v.block_size = 0;
  v.blocks = 0;
  v.runaway = false;
  if (trace_) {
    *trace_ << "cpu" << cpu << " emu_start " << r.name << "(";
    for (std::size_t i = 0; i < args.size(); ++i) *trace_ << (i ? ", " : "") << hex(args[i]);
    *trace_ << ")\n";
  }
  ++emu_calls_;
  // Fast mode: the exit list is on and empty, so `until` is ignored and the halt at r.done
  // ends the run. No uc_emu_start timeout: it spawns a watchdog thread per call.
  uc_err err = uc_emu_start(v.uc, r.entry, mode_ == ExecMode::Reference ? r.done : 0, 0, 0);
  std::uint32_t starts = 1;
  if (isa_.is_firmware_call) err = serve_firmware_calls(v, r, err, starts);

  std::uint64_t pc = 0, left = 0;
  int out_regs[2] = {isa_.pc_reg, isa_.budget_reg};
  void* outs[2] = {&pc, &left};
  check(uc_reg_read_batch(v.uc, out_regs, outs, 2), "read pc and budget");
  left &= word_mask(isa_.word_bytes);
  const vaddr_t end_pc = mode_ == ExecMode::Fast ? r.done + isa_.halt_bytes : r.done;
  if (err == UC_ERR_OK && !v.trap && !v.runaway && pc == end_pc) {
    RunResult res{std::nullopt, retired(v, left, r), starts};
    guest_instructions_ += res.instructions;
    return res;
  }

  // Anything but a clean stop leaves the vCPU in a state the next run must not inherit.
  std::uint64_t n = (err == UC_ERR_OK && v.trap && !v.runaway) ? retired(v, left, r) : 0;
  check(uc_context_restore(v.uc, v.booted), "uc_context_restore");
  if (err != UC_ERR_OK) fail(v, r, std::string("emulator error: ") + uc_strerror(err) + " at pc " + hex(pc));
  if (v.runaway) fail(v, r, "runaway guest code (more than " + std::to_string(kMaxBlocksPerRun) + " blocks)");
  if (!v.trap && pc == code_->budget_exhausted() + isa_.halt_bytes)
    fail(v, r, "runaway guest code (instruction budget of " + std::to_string(kInstructionBudget) + " exhausted)");
  if (!v.trap) fail(v, r, "stopped at pc " + hex(pc) + " before its end");
  guest_instructions_ += n;
  if (trace_)
    *trace_ << "cpu" << cpu << " trap " << v.trap->intno << " at pc " << hex(v.trap->pc)
            << (v.trap->page_fault ? " page fault va " + hex(v.trap->fault_va) : std::string()) << "\n";
  return {v.trap, n, starts};
}

uc_err Machine::serve_firmware_calls(Vcpu& v, const StubRoutine& r, uc_err err, std::uint32_t& starts) {
  while (err == UC_ERR_OK && v.trap && !v.runaway && isa_.is_firmware_call(*v.trap)) {
    const Trap call = *v.trap;
    v.trap.reset();
    if (trace_) *trace_ << "cpu" << v.id << " firmware call (trap " << call.intno << ") at pc " << hex(call.pc) << "\n";
    try {
      if (!firmware_) fail(v, r, "firmware call (trap " + std::to_string(call.intno) + ") with no firmware handler");
      firmware_(v.id, call);
    } catch (...) {
      uc_context_restore(v.uc, v.booted);
      throw;
    }
    std::uint64_t pc = 0;  // past the call: Unicorn moved it before the interrupt hook
    check(uc_reg_read(v.uc, isa_.pc_reg, &pc), "read pc");
    if (recording_) {
      EmuEvent e;
      e.kind = EmuEvent::Kind::Run;
      e.cpu = v.id;
      e.entry = pc;
      recording_->events.push_back(std::move(e));
    }
    ++emu_calls_;
    ++starts;
    err = uc_emu_start(v.uc, pc, mode_ == ExecMode::Reference ? r.done : 0, 0, 0);
  }
  return err;
}

// Fast: the budget the guest charged, less what a fault left unretired in its region.
// Reference: the block hook's count, less what a fault left unretired in its block; it must
// agree with the budget register, which checks the stubs' charges and the fast-mode count.
std::uint64_t Machine::retired(Vcpu& v, std::uint64_t budget_left, const StubRoutine& r) {
  const std::uint64_t consumed = (kInstructionBudget - budget_left) & word_mask(isa_.word_bytes);
  const std::uint64_t by_budget = consumed - (v.trap ? code_->unretired_from(v.trap->pc) : 0);
  if (mode_ == ExecMode::Fast) return by_budget;
  std::uint64_t by_blocks = v.counted;
  if (v.trap && v.trap->pc >= v.block_address && v.trap->pc < v.block_address + v.block_size)
    by_blocks -= block_instructions(v.block_address, v.block_size, v.trap->pc);
  if (by_blocks != by_budget)
    fail(v, r, "instruction counts disagree: " + std::to_string(by_blocks) + " by translated blocks, " +
                   std::to_string(by_budget) + " by the budget register (check the stub's charges)");
  return by_blocks;
}

void Machine::fail(const Vcpu& v, const StubRoutine& r, const std::string& why) {
  throw KvaError(isa_.name + " cpu" + std::to_string(v.id) + " stub " + r.name + ": " + why);
}

std::uint64_t Machine::block_instructions(std::uint64_t address, std::uint32_t size, std::uint64_t from) {
  const bool whole = from == address;
  const std::uint64_t key = (address << 16) ^ size;
  if (whole) {
    auto it = block_sizes_.find(key);
    if (it != block_sizes_.end()) return it->second;
  }
  // Stub code is identity mapped, so its VA is its firmware PA.
  std::uint64_t n = 0;
  if (address >= fw_.base && address + size <= fw_.end())
    disasm_->for_each({fw_mem_ + (address - fw_.base), size}, address, [&](const cs_insn& i) {
      if (i.address >= from && !code_->is_instrumentation(isa_.classify(i))) ++n;
      return true;
    });
  if (whole) block_sizes_.emplace(key, n);
  return n;
}

void Machine::on_block(uc_engine* uc, std::uint64_t address, std::uint32_t size, void* user) {
  auto& v = *static_cast<Vcpu*>(user);
  v.counted += v.machine->block_instructions(address, size, address);
  v.block_address = address;
  v.block_size = size;
  if (++v.blocks > kMaxBlocksPerRun) {
    v.runaway = true;
    uc_emu_stop(uc);
  }
}

void Machine::on_code(uc_engine* uc, std::uint64_t address, std::uint32_t size, void* user) {
  auto& v = *static_cast<Vcpu*>(user);
  Machine& m = *v.machine;
  if (address == v.done) return;  // the halt: fast mode runs it, reference mode stops before it
  std::string text = "(outside firmware)";
  if (address >= m.fw_.base && address + size <= m.fw_.end())
    text = m.disasm_->format_one({m.fw_mem_ + (address - m.fw_.base), size}, address);
  *m.trace_ << "cpu" << v.id << "   " << hex(address) << "  " << text << "\n";
}

void Machine::on_intr(uc_engine* uc, std::uint32_t intno, void* user) {
  auto& v = *static_cast<Vcpu*>(user);
  v.trap = v.machine->isa_.decode_trap(uc, intno);
  uc_emu_stop(uc);
}

}  // namespace kva
