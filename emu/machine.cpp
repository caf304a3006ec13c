#include "emu/machine.h"

#include <cstdlib>
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

}  // namespace

Machine::Machine(GuestIsa isa, const StubImage& stubs, const MachineConfig& cfg,
                 PhysicalMemory& ram, paddr_t firmware_base)
    : isa_(std::move(isa)), stubs_(stubs), trace_(cfg.trace),
      disasm_(isa_.cs_arch_id, isa_.cs_mode_id) {
  if (cfg.ncpus < 1 || cfg.ncpus > MAXCPU)
    throw KvaError("machine: ncpus must be 1.." + std::to_string(MAXCPU));
  fw_.base = firmware_base;
  if (firmware_base & PAGE_MASK) throw KvaError("machine: firmware base not page aligned");
  if (fw_.end() > ram.base() && firmware_base < ram.base() + ram.size())
    throw KvaError("machine: firmware region overlaps guest RAM");
  if (stubs_.text.size() > FirmwareLayout::kCodeMax)
    throw KvaError("machine: stub image larger than the firmware code area");

  fw_mem_ = static_cast<std::uint8_t*>(std::aligned_alloc(PAGE_SIZE, FirmwareLayout::kSize));
  if (!fw_mem_) throw KvaError("machine: out of host memory for the firmware region");
  std::memset(fw_mem_, 0, FirmwareLayout::kSize);
  std::memcpy(fw_mem_ + FirmwareLayout::kCodeOffset, stubs_.text.data(), stubs_.text.size());

  try {
    for (int i = 0; i < cfg.ncpus; ++i) {
      auto v = std::make_unique<Vcpu>();
      v->machine = this;
      v->id = i;
      open_engine(*v, ram);
      cpus_.push_back(std::move(v));
    }
  } catch (...) {
    for (auto& v : cpus_) uc_close(v->uc);
    std::free(fw_mem_);
    throw;
  }
}

Machine::~Machine() {
  for (auto& v : cpus_) {
    if (v->booted) uc_context_free(v->booted);
    uc_close(v->uc);
  }
  std::free(fw_mem_);
}

void Machine::open_engine(Vcpu& v, PhysicalMemory& ram) {
  check(uc_open(isa_.uc_arch_id, isa_.uc_mode_id, &v.uc), "uc_open");
  uc_engine* uc = v.uc;
  // Must precede any other use: the default code buffer is sized for whole programs.
  uc_ctl_set_tcg_buffer_size(uc, kTcgBufferBytes);
  check(uc_mem_map_ptr(uc, ram.base(), ram.size(), UC_PROT_ALL, ram.host_ptr(ram.base())),
        "map guest RAM");
  check(uc_mem_map_ptr(uc, fw_.base, FirmwareLayout::kSize, UC_PROT_ALL, fw_mem_),
        "map firmware region");
  uc_hook h;
  check(uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&Machine::on_intr), &v, 1, 0),
        "hook interrupts");
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

StubRoutine Machine::routine(std::string_view name) const {
  auto find = [&](std::string_view n) -> vaddr_t {
    for (const auto& s : stubs_.symbols)
      if (s.name == n) return fw_.code() + s.offset;
    throw KvaError("machine: stub image has no symbol '" + std::string(n) + "'");
  };
  std::string done = std::string(name) + "_done";
  return {std::string(name), find(name), find(done)};
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
  if (args.size() > isa_.arg_regs.size()) fail(v, r, "too many stub arguments");
  for (std::size_t i = 0; i < args.size(); ++i)
    check(uc_reg_write(v.uc, isa_.arg_regs[i], &args[i]), "write stub argument");
  v.trap.reset();
  v.instructions = 0;
  v.blocks = 0;
  v.runaway = false;
  if (trace_) {
    *trace_ << "cpu" << cpu << " emu_start " << r.name << "(";
    for (std::size_t i = 0; i < args.size(); ++i) *trace_ << (i ? ", " : "") << hex(args[i]);
    *trace_ << ")\n";
  }
  ++emu_calls_;
  // No uc_emu_start timeout: it spawns a watchdog thread per call. Runaway code is stopped by
  // the block hook instead (kMaxBlocksPerRun).
  uc_err err = uc_emu_start(v.uc, r.entry, r.done, 0, 0);
  guest_instructions_ += v.instructions;
  RunResult res{v.trap, v.instructions};

  std::uint64_t pc = 0;
  uc_reg_read(v.uc, isa_.pc_reg, &pc);
  bool abnormal = err != UC_ERR_OK || v.trap || v.runaway || pc != r.done;
  if (abnormal) check(uc_context_restore(v.uc, v.booted), "uc_context_restore");
  if (err != UC_ERR_OK) fail(v, r, std::string("emulator error: ") + uc_strerror(err) + " at pc " + hex(pc));
  if (v.runaway) fail(v, r, "runaway guest code (more than " + std::to_string(kMaxBlocksPerRun) + " blocks)");
  if (!v.trap && pc != r.done) fail(v, r, "stopped at pc " + hex(pc) + " before its end");
  if (trace_ && v.trap)
    *trace_ << "cpu" << cpu << " trap " << v.trap->intno << " at pc " << hex(v.trap->pc)
            << (v.trap->page_fault ? " page fault va " + hex(v.trap->fault_va) : std::string()) << "\n";
  return res;
}

void Machine::fail(const Vcpu& v, const StubRoutine& r, const std::string& why) {
  throw KvaError(isa_.name + " cpu" + std::to_string(v.id) + " stub " + r.name + ": " + why);
}

std::uint32_t Machine::block_instructions(std::uint64_t address, std::uint32_t size) {
  std::uint64_t key = (address << 16) ^ size;
  auto it = block_sizes_.find(key);
  if (it != block_sizes_.end()) return it->second;
  // Stub code is identity mapped, so its VA is its firmware PA.
  std::uint32_t n = 1;
  if (address >= fw_.base && address + size <= fw_.end())
    n = disasm_.count({fw_mem_ + (address - fw_.base), size}, address);
  block_sizes_.emplace(key, n);
  return n;
}

void Machine::on_block(uc_engine* uc, std::uint64_t address, std::uint32_t size, void* user) {
  auto& v = *static_cast<Vcpu*>(user);
  v.instructions += v.machine->block_instructions(address, size);
  if (++v.blocks > kMaxBlocksPerRun) {
    v.runaway = true;
    uc_emu_stop(uc);
  }
}

void Machine::on_code(uc_engine* uc, std::uint64_t address, std::uint32_t size, void* user) {
  auto& v = *static_cast<Vcpu*>(user);
  Machine& m = *v.machine;
  std::string text = "(outside firmware)";
  if (address >= m.fw_.base && address + size <= m.fw_.end())
    text = m.disasm_.format_one({m.fw_mem_ + (address - m.fw_.base), size}, address);
  *m.trace_ << "cpu" << v.id << "   " << hex(address) << "  " << text << "\n";
}

void Machine::on_intr(uc_engine* uc, std::uint32_t intno, void* user) {
  auto& v = *static_cast<Vcpu*>(user);
  v.trap = v.machine->isa_.decode_trap(uc, intno);
  uc_emu_stop(uc);
}

}  // namespace kva
