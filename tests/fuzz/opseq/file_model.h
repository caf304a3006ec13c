// The logical model of one file that test generators keep on their own (independent of the
// Vfs's internal oracle): its bytes, and which of them are durable, i.e. covered by an fsync
// that returned 0 and not written since. The op-sequence fuzzer compares reads with it; the
// crash-consistency test checks after every crash that the device still holds every durable byte.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kva::fuzz {

class FileModel {
 public:
  FileModel(std::size_t bsize, std::vector<std::uint8_t> initial, bool durable);

  std::size_t bsize() const { return bsize_; }
  std::uint64_t size() const { return bytes_.size(); }
  std::uint64_t nblocks() const { return (size() + bsize_ - 1) / bsize_; }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }
  std::vector<std::uint8_t> read(std::uint64_t off, std::uint64_t len) const;  // clipped at EOF

  // A write; the file grows (zeros in between) when it ends past EOF.
  void write(std::uint64_t off, const std::vector<std::uint8_t>& data);
  // fsync(off, len) returned 0; len 0 means to EOF.
  void synced(std::uint64_t off, std::uint64_t len);

  // The first durable byte the device contents `dev` (of the whole file) do not hold, with a
  // description; nullopt when every durable byte survived.
  std::optional<std::string> check_durable(const std::vector<std::uint8_t>& dev) const;
  std::uint64_t durable_bytes() const;

 private:
  std::size_t bsize_;
  std::vector<std::uint8_t> bytes_;
  std::vector<bool> durable_;
};

}  // namespace kva::fuzz
