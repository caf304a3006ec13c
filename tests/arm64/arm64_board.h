// A bare arm64 board for the probe suites: guest RAM, the kernel tables of arm64_layout.h, and
// an emu::Machine booted on them, with helpers that run the stubs directly (no Pmap).
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "archs/arm64/arm64_cpu.h"
#include "archs/arm64/arm64_layout.h"
#include "archs/arm64/arm64_stub_abi.h"
#include "emu/machine.h"
#include "emu/stub_abi.h"
#include "stubs/arm64_stubs.h"
#include "tests/test_pages.h"

namespace kva::test {

struct Arm64Board {
  explicit Arm64Board(int ncpus = 2, std::size_t mem = 8u << 20, std::ostream* trace = nullptr,
                      ExecMode mode = ExecMode::Fast)
      : ram(arm64::kRamBase, mem), tables(ram) {
    FirmwareLayout fw{arm64::kFirmwareBase};
    arm64::build_kernel_tables(tables, ram, fw);
    auto boot = arm64::boot_params(stubs::arm64_stubs, fw, arm64::ttbr(tables.ttbr0_root(), 0),
                                   arm64::ttbr(tables.ttbr1_root(), 0));
    machine = std::make_unique<Machine>(arm64::guest_isa(boot), stubs::arm64_stubs,
                                        MachineConfig{ncpus, mem, trace, mode}, ram, arm64::kFirmwareBase);
    machine->boot();
  }

  // Copies n bytes at va into cpu's scratch page with guest loads; returns the trap, if any.
  RunResult load(cpuid_t cpu, vaddr_t va, std::size_t n, std::vector<std::uint8_t>* out = nullptr) {
    paddr_t scratch = machine->firmware().scratch_for(cpu, va);
    std::uint64_t args[] = {scratch, va, n};
    RunResult r = machine->run(cpu, machine->routine(stub_abi::kCopy), args);
    if (out && !r.trap) out->assign(machine->firmware_ptr(scratch, n), machine->firmware_ptr(scratch, n) + n);
    return r;
  }
  std::vector<std::uint8_t> read(cpuid_t cpu, vaddr_t va, std::size_t n) {
    std::vector<std::uint8_t> v;
    RunResult r = load(cpu, va, n, &v);
    EXPECT_FALSE(r.trap) << "load of 0x" << std::hex << va << " trapped\n" << tables.describe(va);
    return v;
  }
  RunResult store(cpuid_t cpu, vaddr_t va, const std::vector<std::uint8_t>& data) {
    paddr_t scratch = machine->firmware().scratch_for(cpu, va);
    std::memcpy(machine->firmware_ptr(scratch, data.size()), data.data(), data.size());
    std::uint64_t args[] = {va, scratch, data.size()};
    return machine->run(cpu, machine->routine(stub_abi::kCopy), args);
  }
  RunResult tlbi(cpuid_t cpu, const char* op, std::initializer_list<std::uint64_t> args) {
    return machine->run(cpu, machine->routine(arm64::tlbi_stub(op)),
                        std::span<const std::uint64_t>(args.begin(), args.size()));
  }

  vm_page* pattern_page(std::uint8_t pattern) { return test::pattern_page(ram, pattern); }
  std::vector<std::uint8_t> phys_bytes(paddr_t pa, std::size_t n) { return test::phys_bytes(ram, pa, n); }
  // A kernel page mapping as pmap_kenter makes it (AF set), written without TLB maintenance.
  void kenter(vaddr_t va, paddr_t pa) { tables.write(*tables.leaf_slot(va), arm64::kernel_leaf(3, pa)); }

  PhysicalMemory ram;
  arm64::PageTables tables;
  std::unique_ptr<Machine> machine;
};

}  // namespace kva::test
