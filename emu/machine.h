// An emulated multiprocessor: one Unicorn engine per vCPU, each with its own TLB, all mapping
// the same host bytes for guest RAM (the core's PhysicalMemory) and for the firmware region
// (stub code, mailboxes, per-CPU scratch and stacks). Every region is mapped once, at
// construction, because uc_mem_map/unmap/protect flush an engine's whole TLB.
//
// The host drives a vCPU by running one stub routine per call (Machine::run). A guest trap
// stops the run, is decoded by the arch, and the vCPU's post-boot context is restored: x86 QEMU
// never clears its "exception in progress" state, so without the restore the second fault on
// an engine would become a double fault. Restoring a context does not flush the TLB.
#pragma once
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/pmap.h"
#include "core/vm_page.h"
#include "emu/disasm.h"
#include "emu/firmware.h"
#include "emu/guest_isa.h"
#include "emu/stub_image.h"

namespace kva {

// A routine inside the stub image: it starts at `entry` and the host stops it at `done`.
struct StubRoutine {
  std::string name;
  vaddr_t entry = 0;
  vaddr_t done = 0;
};

struct RunResult {
  std::optional<Trap> trap;        // the guest trapped (state restored afterwards)
  std::uint64_t instructions = 0;  // guest instructions of this run (blocks entered)
};

class Machine {
 public:
  // A run that enters more translated blocks than this is stopped as runaway guest code.
  static constexpr std::uint64_t kMaxBlocksPerRun = std::uint64_t{1} << 22;
  static constexpr std::uint32_t kTcgBufferBytes = 16u << 20;  // per engine; stubs are tiny

  Machine(GuestIsa isa, const StubImage& stubs, const MachineConfig& cfg, PhysicalMemory& ram,
          paddr_t firmware_base);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  int ncpus() const { return static_cast<int>(cpus_.size()); }
  const GuestIsa& isa() const { return isa_; }
  const FirmwareLayout& firmware() const { return fw_; }
  // Host view of firmware memory at guest physical address pa (throws outside the region).
  std::uint8_t* firmware_ptr(paddr_t pa, std::size_t n = 1);
  StubRoutine routine(std::string_view name) const;  // "name" .. "name_done"; throws if absent

  // Turns paging on in every vCPU (GuestIsa::boot_cpu) and snapshots each context. Call once,
  // after the arch has built page tables that map the firmware region.
  void boot();
  // Runs `r` on `cpu` with the given stub arguments. Throws KvaError on an emulator error or
  // runaway code; returns a trap, if any, for the arch to report.
  RunResult run(cpuid_t cpu, const StubRoutine& r, std::span<const std::uint64_t> args);

  std::uint64_t emu_calls() const { return emu_calls_; }
  std::uint64_t guest_instructions() const { return guest_instructions_; }
  uc_engine* engine(cpuid_t cpu) { return cpus_.at(cpu)->uc; }

 private:
  struct Vcpu {
    Machine* machine = nullptr;
    cpuid_t id = 0;
    uc_engine* uc = nullptr;
    uc_context* booted = nullptr;
    std::optional<Trap> trap;
    std::uint64_t instructions = 0;
    std::uint64_t blocks = 0;
    bool runaway = false;
  };
  static void on_block(uc_engine* uc, std::uint64_t address, std::uint32_t size, void* user);
  static void on_code(uc_engine* uc, std::uint64_t address, std::uint32_t size, void* user);
  static void on_intr(uc_engine* uc, std::uint32_t intno, void* user);
  std::uint32_t block_instructions(std::uint64_t address, std::uint32_t size);
  [[noreturn]] void fail(const Vcpu& v, const StubRoutine& r, const std::string& why);
  void open_engine(Vcpu& v, PhysicalMemory& ram);

  GuestIsa isa_;
  const StubImage& stubs_;
  FirmwareLayout fw_;
  std::uint8_t* fw_mem_ = nullptr;
  std::ostream* trace_ = nullptr;
  Disassembler disasm_;
  std::unordered_map<std::uint64_t, std::uint32_t> block_sizes_;  // (address, bytes) -> insns
  std::vector<std::unique_ptr<Vcpu>> cpus_;
  bool booted_ = false;
  std::uint64_t emu_calls_ = 0;
  std::uint64_t guest_instructions_ = 0;
};

}  // namespace kva
