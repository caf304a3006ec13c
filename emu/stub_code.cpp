#include "emu/stub_code.h"

#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "emu/stub_abi.h"

namespace kva {

namespace {

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

struct Insn {
  vaddr_t address = 0;
  InsnRole role;
  bool budget_check = false;  // the conditional branch to kva_budget_exhausted after a charge
};

// Decodes [entry, end) into instructions; the bytes must decode exactly up to `end`.
std::vector<Insn> decode(const GuestIsa& isa, Disassembler& dis, const std::uint8_t* bytes,
                         vaddr_t entry, vaddr_t end, const std::string& what) {
  std::vector<Insn> out;
  std::size_t n = dis.for_each({bytes, static_cast<std::size_t>(end - entry)}, entry,
                               [&](const cs_insn& i) {
                                 out.push_back({i.address, isa.classify(i)});
                                 return true;
                               });
  if (n != end - entry)
    throw KvaError(what + ": undecodable bytes at " + hex(entry + n));
  return out;
}

}  // namespace

StubCode::StubCode(const GuestIsa& isa, const StubImage& image, vaddr_t base, Disassembler& dis) {
  std::unordered_map<std::string_view, vaddr_t> syms;
  for (const auto& s : image.symbols) syms[s.name] = base + s.offset;
  const vaddr_t image_end = base + image.text.size();
  auto bytes_at = [&](vaddr_t a) { return image.text.data() + (a - base); };
  auto where = [&](const std::string& routine, vaddr_t a) {
    return isa.name + " stub " + routine + "+" + hex(a - syms.at(routine));
  };

  auto trap = syms.find(stub_abi::kBudgetExhausted);
  if (trap == syms.end())
    throw KvaError(isa.name + " stubs: no global '" + stub_abi::kBudgetExhausted +
                   "' label (the halt that budget checks jump to)");
  budget_exhausted_ = trap->second;
  auto is_halt_at = [&](vaddr_t a) {
    if (a >= image_end) return false;
    bool halt = false;
    dis.for_each({bytes_at(a), static_cast<std::size_t>(image_end - a)}, a, [&](const cs_insn& i) {
      halt = isa.classify(i).kind == InsnRole::Halt;
      return false;
    });
    return halt;
  };
  if (!is_halt_at(budget_exhausted_))
    throw KvaError(isa.name + " stubs: " + stub_abi::kBudgetExhausted + " must hold a halt");

  for (const auto& s : image.symbols) {
    auto done = syms.find(std::string(s.name) + "_done");
    if (done == syms.end()) continue;
    const std::string name(s.name);
    const vaddr_t entry = base + s.offset;
    if (done->second < entry) throw KvaError(isa.name + " stub " + name + ": _done precedes the entry");
    if (!is_halt_at(done->second))
      throw KvaError(isa.name + " stub " + name + "_done: must hold the ISA's halt instruction");
    std::vector<Insn> code = decode(isa, dis, bytes_at(entry), entry, done->second, isa.name + " stub " + name);
    if (code.empty() || code.front().role.kind != InsnRole::Charge)
      throw KvaError(where(name, entry) + ": a routine must start with a charge of the instruction budget");

    // Mark budget checks; collect the region starts (charges) and which of them check.
    std::unordered_map<vaddr_t, bool> region_checks;  // charge address -> followed by a check
    for (std::size_t k = 0; k < code.size(); ++k) {
      Insn& i = code[k];
      if (i.role.kind == InsnRole::Halt)
        throw KvaError(where(name, i.address) + ": a halt inside a routine (only at _done)");
      if (i.role.kind == InsnRole::Charge) region_checks[i.address] = false;
      if (i.role.kind != InsnRole::Branch) continue;
      if (i.role.call_or_return) throw KvaError(where(name, i.address) + ": calls and returns are not allowed");
      if (!i.role.target) throw KvaError(where(name, i.address) + ": indirect branches are not allowed");
      if (*i.role.target != budget_exhausted_) continue;
      if (!i.role.conditional || k == 0 || code[k - 1].role.kind != InsnRole::Charge)
        throw KvaError(where(name, i.address) +
                       ": a branch to the budget trap must be a conditional check right after a charge");
      i.budget_check = true;
      region_checks[code[k - 1].address] = true;
    }

    // Regions: from a charge to the next charge (or _done).
    for (std::size_t k = 0; k < code.size();) {
      const Insn& charge = code[k];
      std::size_t end = k + 1;
      while (end < code.size() && code[end].role.kind != InsnRole::Charge) ++end;
      std::uint64_t counted = 0;
      for (std::size_t j = k + 1; j < end; ++j) counted += code[j].budget_check ? 0 : 1;
      if (charge.role.charge != counted)
        throw KvaError(where(name, charge.address) + ": this region charges " +
                       std::to_string(charge.role.charge) + " instructions but holds " +
                       std::to_string(counted));
      std::uint64_t left = counted;
      unretired_[charge.address] = 0;  // the charge itself has not run
      for (std::size_t j = k + 1; j < end; ++j) {
        const Insn& i = code[j];
        unretired_[i.address] = static_cast<std::uint32_t>(left);
        if (i.budget_check) continue;
        --left;
        if (i.role.kind != InsnRole::Branch) continue;
        if (j + 1 != end)
          throw KvaError(where(name, i.address) + ": a branch must end its region (start a new one after it)");
        const vaddr_t t = *i.role.target;
        if (t != done->second && !region_checks.count(t))
          throw KvaError(where(name, i.address) + ": branch target " + hex(t) +
                         " is neither a region start of this routine nor its _done");
        if (t <= i.address && t != done->second && !region_checks.at(t))
          throw KvaError(where(name, i.address) + ": backward branch to " + hex(t) +
                         ", whose region start has no budget check");
      }
      k = end;
    }
    routines_.push_back({name, entry, done->second});
  }
}

std::shared_ptr<const StubCode> StubCode::shared(const GuestIsa& isa, const StubImage& image, vaddr_t base) {
  using Key = std::tuple<std::string, const unsigned char*, std::size_t, vaddr_t>;
  static std::mutex mu;
  static std::map<Key, std::shared_ptr<const StubCode>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& entry = cache[Key{isa.name, image.text.data(), image.text.size(), base}];
  if (!entry) {
    Disassembler dis(isa.cs_arch_id, isa.cs_mode_id);
    entry = std::make_shared<const StubCode>(isa, image, base, dis);
  }
  return entry;
}

const StubRoutine& StubCode::routine(std::string_view name) const {
  for (const auto& r : routines_)
    if (r.name == name) return r;
  throw KvaError("machine: stub image has no routine '" + std::string(name) + "' (with " +
                 std::string(name) + "_done)");
}

std::uint64_t StubCode::unretired_from(vaddr_t pc) const {
  auto it = unretired_.find(pc);
  return it == unretired_.end() ? 0 : it->second;
}

bool StubCode::is_instrumentation(const InsnRole& role) const {
  return role.kind == InsnRole::Charge ||
         (role.kind == InsnRole::Branch && role.conditional && role.target == budget_exhausted_);
}

}  // namespace kva
