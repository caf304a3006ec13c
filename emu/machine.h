// An emulated multiprocessor: one Unicorn engine per vCPU, each with its own TLB, all mapping
// the same host bytes for guest RAM (the core's PhysicalMemory) and for the firmware region
// (stub code, mailboxes, per-CPU scratch and stacks). Every region is mapped once, at
// construction, because uc_mem_map/unmap/protect flush an engine's whole TLB.
//
// The host drives a vCPU by running one stub routine per call (Machine::run); how stubs are
// written is in emu/guest_isa.h. Two execution modes run the same stubs with identical results:
//  - Fast (default): the routine halts at <name>_done and uc_emu_start returns on its own
//    (Unicorn's exit list is enabled and empty, so nothing is invalidated or re-translated per
//    call); retired instructions are read from the guest's budget register; no block hook.
//  - Reference: the classic way. uc_emu_start stops at <name>_done (which Unicorn re-translates
//    around on every call), and a block hook counts the instructions of each translated block
//    with Capstone. It also checks that count against the budget register on every run.
// A guest trap stops the run, is decoded by the arch, and the vCPU's post-boot context is
// restored: x86 QEMU never clears its "exception in progress" state, so without the restore
// the second fault on an engine would become a double fault. Restoring does not flush the TLB.
#pragma once
#include <functional>
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
#include "emu/recording.h"
#include "emu/stub_code.h"
#include "emu/stub_image.h"

namespace kva {

struct RunResult {
  std::optional<Trap> trap;        // the guest trapped (state restored afterwards)
  std::uint64_t instructions = 0;  // guest instructions retired by this run (guest_isa.h, rule 3)
  std::uint32_t emu_starts = 1;    // uc_emu_start calls: one, plus one per firmware call resumed
};

// Plays the firmware for a call `cpu` made (guest_isa.h, rule 5): reads the call's arguments
// from engine(cpu), does the work (it may run routines on other vCPUs, never on `cpu`), writes
// the results back. Throwing abandons the caller's run (its context is restored).
using FirmwareHandler = std::function<void(cpuid_t cpu, const Trap& call)>;

// How an engine maps guest physical memory: what a replay on bare engines must map too.
struct MemoryRegion {
  paddr_t base = 0;
  std::size_t size = 0;
  std::uint32_t uc_prot = 0;
  std::uint8_t* host = nullptr;
};

class Machine : private PhysWriteObserver {
 public:
  // Written into GuestIsa::budget_reg before every run: runaway code halts after this many.
  static constexpr std::uint64_t kInstructionBudget = std::uint64_t{1} << 24;
  // Reference mode only: a run entering more translated blocks is stopped as runaway too.
  static constexpr std::uint64_t kMaxBlocksPerRun = std::uint64_t{1} << 22;
  // Per engine. QEMU's minimum; the stubs translate to a few KiB, and nothing is re-translated
  // in fast mode, so the buffer never fills (docs/performance.md has the RSS figures).
  static constexpr std::size_t kTcgBufferBytes = 1u << 20;

  Machine(GuestIsa isa, const StubImage& stubs, const MachineConfig& cfg, PhysicalMemory& ram,
          paddr_t firmware_base);
  ~Machine() override;
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  int ncpus() const { return static_cast<int>(cpus_.size()); }
  ExecMode exec_mode() const { return mode_; }
  const GuestIsa& isa() const { return isa_; }
  const FirmwareLayout& firmware() const { return fw_; }
  const StubCode& code() const { return *code_; }
  const StubRoutine& routine(std::string_view name) const { return code_->routine(name); }
  std::vector<MemoryRegion> memory_regions() const;

  // Host access to firmware memory (mailboxes, scratch); recorded while a recording is on.
  void write_firmware(paddr_t pa, const void* bytes, std::size_t n);
  void read_firmware(paddr_t pa, void* out, std::size_t n);
  // Raw host view of firmware memory at pa (throws outside the region); not recorded.
  std::uint8_t* firmware_ptr(paddr_t pa, std::size_t n = 1);

  // Turns paging on in every vCPU (GuestIsa::boot_cpu) and snapshots each context. Call once,
  // after the arch has built page tables that map the firmware region.
  void boot();
  // Runs `r` on `cpu` with the given stub arguments. Throws KvaError on an emulator error or
  // runaway code; returns a trap, if any, for the arch to report.
  RunResult run(cpuid_t cpu, const StubRoutine& r, std::span<const std::uint64_t> args);
  // Who answers firmware calls; without one, a firmware call is an error.
  void set_firmware_handler(FirmwareHandler h) { firmware_ = std::move(h); }

  std::uint64_t emu_calls() const { return emu_calls_; }
  std::uint64_t guest_instructions() const { return guest_instructions_; }
  uc_engine* engine(cpuid_t cpu) { return cpus_.at(cpu)->uc; }

  // Records host memory accesses (RAM writes through PhysicalMemory::write, firmware writes and
  // reads) and runs into `rec` until stop_recording().
  void start_recording(EmuRecording& rec);
  void stop_recording();

 private:
  struct Vcpu {
    Machine* machine = nullptr;
    cpuid_t id = 0;
    uc_engine* uc = nullptr;
    uc_context* booted = nullptr;
    std::optional<Trap> trap;
    vaddr_t done = 0;                // of the routine running, for the trace
    // Reference mode: instructions of the blocks entered, the last block, blocks entered.
    std::uint64_t counted = 0;
    std::uint64_t block_address = 0;
    std::uint32_t block_size = 0;
    std::uint64_t blocks = 0;
    bool runaway = false;
    bool running = false;            // inside run(): a firmware call must not run it again
  };
  static void on_block(uc_engine* uc, std::uint64_t address, std::uint32_t size, void* user);
  static void on_code(uc_engine* uc, std::uint64_t address, std::uint32_t size, void* user);
  static void on_intr(uc_engine* uc, std::uint32_t intno, void* user);
  // Instructions of [address, address+size) at or after `from`, instrumentation left out.
  std::uint64_t block_instructions(std::uint64_t address, std::uint32_t size, std::uint64_t from);
  std::uint64_t retired(Vcpu& v, std::uint64_t budget_left, const StubRoutine& r);
  // Serves the firmware calls v stops at, resuming it after each; returns the last start's error.
  uc_err serve_firmware_calls(Vcpu& v, const StubRoutine& r, uc_err err, std::uint32_t& starts);
  [[noreturn]] void fail(const Vcpu& v, const StubRoutine& r, const std::string& why);
  void open_engine(Vcpu& v);
  void on_phys_write(paddr_t pa, const void* bytes, std::size_t n) override;

  GuestIsa isa_;
  ExecMode mode_;
  PhysicalMemory& ram_;
  FirmwareLayout fw_;
  std::uint8_t* fw_mem_ = nullptr;  // anonymous mapping of FirmwareLayout::kSize
  std::ostream* trace_ = nullptr;
  std::unique_ptr<Disassembler> disasm_;  // reference mode and traces only
  std::shared_ptr<const StubCode> code_;
  std::unordered_map<std::uint64_t, std::uint64_t> block_sizes_;  // reference mode cache
  std::vector<std::unique_ptr<Vcpu>> cpus_;
  bool booted_ = false;
  std::uint64_t emu_calls_ = 0;
  std::uint64_t guest_instructions_ = 0;
  EmuRecording* recording_ = nullptr;
  FirmwareHandler firmware_;
};

}  // namespace kva
