// A bare riscv64 machine for the probe suites: FreeBSD's kernel map (riscv_kernel_map.h) built
// in guest RAM for one paging format, harts booted into S-mode, and the stub routines run
// directly on emu::Machine, so these tests see exactly what the emulated harts do.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "archs/riscv64/riscv_cpu.h"
#include "archs/riscv64/riscv_insn.h"
#include "archs/riscv64/riscv_kernel_map.h"
#include "archs/riscv64/riscv_pmap.h"
#include "archs/riscv64/riscv_stub_abi.h"
#include "emu/stub_abi.h"
#include "stubs/riscv64_stubs.h"
#include "tests/test_util.h"

namespace kva::test {

using riscv::Pte;

template <class Format>
struct RiscvRig {
  using Tables = riscv::PageTables<Format>;

  struct Load {
    std::optional<Trap> trap;
    std::vector<std::uint8_t> bytes;
  };

  explicit RiscvRig(int ncpus = 2, std::size_t mem = 8u << 20, ExecMode mode = ExecMode::Fast)
      : ram(riscv::kRamBase, mem), tables(ram), fw{riscv::kFirmwareBase},
        km(riscv::build_kernel_map(tables, ram, fw)),
        machine(std::make_unique<Machine>(riscv::stub_guest_isa(tables.satp(), fw.base), stubs::riscv64_stubs,
                                          MachineConfig{ncpus, mem, nullptr, mode}, ram, fw.base)),
        copy(machine->routine(stub_abi::kCopy)),
        sfence_all(machine->routine(stub_abi::kInvalidateAll)),
        sfence_pages(machine->routine(stub_abi::kInvalidateRange)),
        sfence_asid(machine->routine(riscv::kStubSfenceVmaAsid)),
        ecall(machine->routine(riscv::kStubEcall)) {
    machine->boot();
  }

  Load load(cpuid_t cpu, vaddr_t va, std::size_t n) {
    const paddr_t scratch = fw.scratch_for(cpu, va);  // identity mapped
    const std::uint64_t args[] = {scratch, va, n};
    Load r;
    r.trap = machine->run(cpu, copy, args).trap;
    if (!r.trap) r.bytes.assign(machine->firmware_ptr(scratch, n), machine->firmware_ptr(scratch, n) + n);
    return r;
  }
  std::optional<Trap> store(cpuid_t cpu, vaddr_t va, const std::vector<std::uint8_t>& data) {
    const paddr_t scratch = fw.scratch_for(cpu, va);
    std::memcpy(machine->firmware_ptr(scratch, data.size()), data.data(), data.size());
    const std::uint64_t args[] = {va, scratch, data.size()};
    return machine->run(cpu, copy, args).trap;
  }
  void run_ok(cpuid_t cpu, const StubRoutine& r, std::initializer_list<std::uint64_t> args = {}) {
    RunResult res = machine->run(cpu, r, std::span<const std::uint64_t>(args.begin(), args.size()));
    ASSERT_FALSE(res.trap) << r.name << " trapped " << res.trap->intno;
  }

  // Whether the stub instruction at pc is a load (or a store).
  bool is_memory_insn(vaddr_t pc, bool store) {
    std::uint32_t insn = 0;
    std::memcpy(&insn, machine->firmware_ptr(pc, 4), 4);
    auto op = riscv::memory_operand(insn);
    return op && op->store == store;
  }

  // A kernel leaf (PTE_KERN) for one 4 KiB page of the KVA.
  void kenter(vaddr_t va, paddr_t pa) { tables.write(*tables.leaf_slot(va), riscv::kernel_pte(pa)); }
  riscv::Pte pte(vaddr_t va) const { return tables.walk(va).last().entry; }
  std::vector<std::uint8_t> ram_bytes(paddr_t pa, std::size_t n) const { return phys_bytes(ram, pa, n); }

  PhysicalMemory ram;
  Tables tables;
  FirmwareLayout fw;
  riscv::KernelMap km;
  std::unique_ptr<Machine> machine;
  StubRoutine copy, sfence_all, sfence_pages, sfence_asid, ecall;  // copies: routine() refs
};

using RiscvFormats = testing::Types<riscv::Sv39, riscv::Sv48>;

// The registry's riscv64 variants: Sv39 and Sv48.
inline const std::vector<std::string>& riscv_archs() {
  static const std::vector<std::string> names = {"riscv64", "riscv64-sv48"};
  return names;
}

// A riscv64 pmap built directly, for what the registry does not choose (A/D handling).
template <class Format>
std::unique_ptr<riscv::RiscvPmap<Format>> make_riscv(int ncpus, riscv::AdUpdate ad,
                                                     std::size_t mem = 8u << 20) {
  return std::make_unique<riscv::RiscvPmap<Format>>(MachineConfig{ncpus, mem, nullptr},
                                                    riscv::Platform{Format::kName, ad});
}

struct FormatName {
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};

}  // namespace kva::test
