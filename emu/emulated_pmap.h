// The mechanics every emulated pmap shares, whatever its ISA: it owns the Machine, runs stub
// routines and turns guest traps into PageFault, counts emu_calls and guest_instructions, runs
// loads and stores through the standard kva_copy stub and the vCPU's scratch pages
// (emu/stub_abi.h), and delivers shootdown requests through the per-CPU mailboxes.
//
// An arch derives from it, keeps its page tables and its TLB model rules, and decides its
// invalidation protocol (which routine, which counters). Its constructor builds the page
// tables first (they must map the firmware region identity) and then calls start_machine().
#pragma once
#include <initializer_list>
#include <memory>

#include "core/pmap.h"
#include "emu/machine.h"
#include "emu/stub_abi.h"

namespace kva {

class EmulatedPmap : public Pmap {
 public:
  Machine& machine() { return *machine_; }

 protected:
  EmulatedPmap(const MachineConfig& cfg, paddr_t ram_base);

  // Opens the engines, checks the stubs and boots every vCPU.
  void start_machine(GuestIsa isa, const StubImage& stubs, paddr_t firmware_base);

  // Runs `r` on `cpu`. A guest page fault becomes PageFault (an access of `type`, with the
  // walk described by describe_walk); any other trap is a KvaError.
  void run(cpuid_t cpu, const StubRoutine& r, std::initializer_list<std::uint64_t> args,
           AccessType type = AccessType::Read);

  // smp_targeted_tlb_shootdown's part for one target: publish the request in its mailbox, run
  // the shootdown handler there, check its acknowledgement. The caller counts IPIs (or
  // whatever its protocol delivers) and updates the TLB model.
  void run_shootdown_handler(cpuid_t target, stub_abi::InvalOp op, vaddr_t va, std::size_t npages);
  // The remote half of a broadcast invalidation (Pmap::do_broadcast): the issuer's engine ran
  // the broadcast instruction, but Unicorn engines share no TLB, so the request is performed
  // by the shootdown handler on every other CPU of `reach`, in CPU order. No IPI is counted.
  void carry_broadcast(cpuid_t issuer, CpuSet reach, stub_abi::InvalOp op, vaddr_t va, std::size_t npages);

  // One access within a page: kva_copy between its VA and the vCPU's scratch page.
  void do_load(cpuid_t cpu, vaddr_t va, std::span<std::uint8_t> out) override;
  void do_store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> in) override;

 private:
  MachineConfig cfg_;
  std::unique_ptr<Machine> machine_;
  const StubRoutine* copy_ = nullptr;
  const StubRoutine* shootdown_handler_ = nullptr;
  std::uint64_t shootdown_generation_ = 0;  // smp_tlb_generation
};

}  // namespace kva
