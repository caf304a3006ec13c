#include "tests/fuzz/opseq/file_model.h"

#include <algorithm>
#include <cstdio>

namespace kva::fuzz {

FileModel::FileModel(std::size_t bsize, std::vector<std::uint8_t> initial, bool durable)
    : bsize_(bsize), bytes_(std::move(initial)), durable_(bytes_.size(), durable) {}

std::vector<std::uint8_t> FileModel::read(std::uint64_t off, std::uint64_t len) const {
  if (off >= size()) return {};
  const std::uint64_t end = std::min(size(), off + len);
  return {bytes_.begin() + static_cast<std::ptrdiff_t>(off), bytes_.begin() + static_cast<std::ptrdiff_t>(end)};
}

void FileModel::write(std::uint64_t off, const std::vector<std::uint8_t>& data) {
  // Growing the file makes the zeros between the old and the new EOF new data too: they are
  // not durable until synced (a crash may keep the old, shorter contents there).
  if (off + data.size() > size()) {
    bytes_.resize(off + data.size(), 0);
    durable_.resize(off + data.size(), false);
  }
  std::copy(data.begin(), data.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(off));
  std::fill(durable_.begin() + static_cast<std::ptrdiff_t>(off),
            durable_.begin() + static_cast<std::ptrdiff_t>(off + data.size()), false);
}

void FileModel::synced(std::uint64_t off, std::uint64_t len) {
  const std::uint64_t end = len == 0 ? size() : std::min(size(), off + len);
  for (std::uint64_t b = off; b < end; ++b) durable_[b] = true;
}

std::optional<std::string> FileModel::check_durable(const std::vector<std::uint8_t>& dev) const {
  for (std::uint64_t b = 0; b < size(); ++b) {
    if (!durable_[b]) continue;
    const int got = b < dev.size() ? dev[b] : -1;
    if (got == bytes_[b]) continue;
    char msg[160];
    std::snprintf(msg, sizeof msg, "durable byte at offset %llu (block %llu) is 0x%02x, the device holds %s0x%02x",
                  static_cast<unsigned long long>(b), static_cast<unsigned long long>(b / bsize_), bytes_[b],
                  got < 0 ? "nothing, past its end " : "", got < 0 ? 0 : got);
    return std::string(msg);
  }
  return std::nullopt;
}

std::uint64_t FileModel::durable_bytes() const {
  return static_cast<std::uint64_t>(std::count(durable_.begin(), durable_.end(), true));
}

}  // namespace kva::fuzz
