#include "emu/emulated_pmap.h"

namespace kva {

EmulatedPmap::EmulatedPmap(const MachineConfig& cfg, paddr_t ram_base) : Pmap(cfg, ram_base), cfg_(cfg) {}

void EmulatedPmap::start_machine(GuestIsa isa, const StubImage& stubs, paddr_t firmware_base) {
  machine_ = std::make_unique<Machine>(std::move(isa), stubs, cfg_, phys(), firmware_base);
  copy_ = &machine_->routine(stub_abi::kCopy);
  shootdown_handler_ = &machine_->routine(stub_abi::kShootdownHandler);
  machine_->boot();
}

void EmulatedPmap::run(cpuid_t cpu, const StubRoutine& r, std::initializer_list<std::uint64_t> args,
                       AccessType type) {
  RunResult res = machine_->run(cpu, r, std::span<const std::uint64_t>(args.begin(), args.size()));
  stats().emu_calls += res.emu_starts;
  stats().guest_instructions += res.instructions;
  if (!res.trap) return;
  const Trap& t = *res.trap;
  if (t.page_fault) throw PageFault(cpu, t.fault_va, type, describe_walk(t.fault_va));
  throw KvaError(std::string(arch_name()) + " cpu" + std::to_string(cpu) + ": unexpected guest trap " +
                 std::to_string(t.intno) + " in " + r.name);
}

void EmulatedPmap::run_shootdown_handler(cpuid_t target, stub_abi::InvalOp op, vaddr_t va,
                                         std::size_t npages) {
  using M = stub_abi::MailboxOffsets;
  const paddr_t mb = machine_->firmware().mailbox(target);
  std::uint64_t gen = ++shootdown_generation_;
  const std::uint64_t request[] = {static_cast<std::uint64_t>(op), trunc_page(va), npages, gen};
  static_assert(M::op == 0 && M::va == 8 && M::npages == 16 && M::generation == 24);
  machine_->write_firmware(mb, request, sizeof request);
  run(target, *shootdown_handler_, {mb});
  std::uint64_t done = 0;
  machine_->read_firmware(mb + M::done, &done, sizeof done);
  if (machine_->isa().word_bytes < 8) done &= 0xffffffffu, gen &= 0xffffffffu;
  if (done != gen)
    throw KvaError(std::string(arch_name()) + ": cpu" + std::to_string(target) +
                   " did not acknowledge shootdown generation " + std::to_string(gen));
}

void EmulatedPmap::carry_broadcast(cpuid_t issuer, CpuSet reach, stub_abi::InvalOp op, vaddr_t va,
                                   std::size_t npages) {
  reach.clr(issuer);
  reach.for_each([&](cpuid_t t) { run_shootdown_handler(t, op, va, npages); });
}

void EmulatedPmap::do_load(cpuid_t cpu, vaddr_t va, std::span<std::uint8_t> out) {
  const paddr_t scratch = machine_->firmware().scratch_for(cpu, va);  // identity: VA == PA
  run(cpu, *copy_, {scratch, va, out.size()}, AccessType::Read);
  machine_->read_firmware(scratch, out.data(), out.size());
}

void EmulatedPmap::do_store(cpuid_t cpu, vaddr_t va, std::span<const std::uint8_t> in) {
  const paddr_t scratch = machine_->firmware().scratch_for(cpu, va);
  machine_->write_firmware(scratch, in.data(), in.size());
  run(cpu, *copy_, {va, scratch, in.size()}, AccessType::Write);
}

}  // namespace kva
