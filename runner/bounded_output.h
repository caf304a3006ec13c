// The -v / --trace output of one job, capped: past `limit` bytes one note is written and the
// rest is dropped, so a long trace cannot fill memory or a disk. It either goes straight to a
// sink (in-process runs) or is kept for the parent of -j workers to print in job order, so the
// output does not depend on -j.
#pragma once
#include <cstdint>
#include <ostream>
#include <streambuf>
#include <string>

namespace kva::runner {

class BoundedOutput : public std::streambuf {
 public:
  // sink nullptr: keep the text in memory for take().
  BoundedOutput(std::uint64_t limit, std::ostream* sink);
  std::string take() { return std::move(kept_); }
  std::uint64_t dropped() const { return dropped_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  void emit(const char* s, std::size_t n);
  std::uint64_t limit_;
  std::ostream* sink_;
  std::uint64_t written_ = 0;
  std::uint64_t dropped_ = 0;
  std::string kept_;
};

}  // namespace kva::runner
