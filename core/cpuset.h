// cpuset_t: a set of up to MAXCPU CPUs.
#pragma once
#include <bit>
#include <cstdint>
#include <string>

#include "core/types.h"

namespace kva {

class CpuSet {
 public:
  constexpr CpuSet() = default;
  static constexpr CpuSet first_n(int n) {
    return CpuSet(n >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1));
  }
  static constexpr CpuSet only(cpuid_t c) { return CpuSet(std::uint64_t{1} << c); }

  constexpr void set(cpuid_t c) { bits_ |= std::uint64_t{1} << c; }        // CPU_SET
  constexpr void clr(cpuid_t c) { bits_ &= ~(std::uint64_t{1} << c); }     // CPU_CLR
  constexpr bool isset(cpuid_t c) const { return (bits_ >> c) & 1; }       // CPU_ISSET
  constexpr bool empty() const { return bits_ == 0; }                      // CPU_EMPTY
  constexpr void zero() { bits_ = 0; }                                     // CPU_ZERO
  constexpr int count() const { return std::popcount(bits_); }
  constexpr CpuSet operator|(CpuSet o) const { return CpuSet(bits_ | o.bits_); }
  constexpr CpuSet operator&(CpuSet o) const { return CpuSet(bits_ & o.bits_); }
  constexpr CpuSet andnot(CpuSet o) const { return CpuSet(bits_ & ~o.bits_); }  // CPU_ANDNOT
  constexpr bool operator==(const CpuSet&) const = default;
  constexpr std::uint64_t bits() const { return bits_; }
  // Highest CPU in the set, or -1.
  constexpr cpuid_t last() const { return bits_ ? 63 - std::countl_zero(bits_) : -1; }

  template <class F>
  void for_each(F&& f) const {
    for (std::uint64_t b = bits_; b; b &= b - 1) f(static_cast<cpuid_t>(std::countr_zero(b)));
  }
  std::string to_string() const;  // "{0,2,3}"

 private:
  constexpr explicit CpuSet(std::uint64_t b) : bits_(b) {}
  std::uint64_t bits_ = 0;
};

}  // namespace kva
