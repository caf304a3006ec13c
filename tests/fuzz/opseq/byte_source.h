// Reads decisions from fuzzer bytes. Past the end every read is 0, so any input decodes to a
// finite, valid sequence; small inputs mean short sequences.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kva::fuzz {

class ByteSource {
 public:
  ByteSource(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool exhausted() const { return pos_ >= size_; }
  std::size_t consumed() const { return pos_; }

  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool flag() { return byte() & 1; }
  // Uniform-ish in [0, n) for n >= 1; two bytes when n > 256.
  std::uint32_t below(std::uint32_t n) {
    if (n <= 1) return 0;
    std::uint32_t v = byte();
    if (n > 256) v = (v << 8) | byte();
    return v % n;
  }
  // A length in [1, max], mostly small (where most bugs show) but sometimes up to max.
  std::uint32_t length(std::uint32_t max) {
    std::uint8_t b = byte();
    std::uint32_t v = (b & 0x80) ? 1 + below(max) : 1 + (b & 0x3f);
    return v > max ? max : v;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace kva::fuzz
