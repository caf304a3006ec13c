#include "runner/bounded_output.h"

#include <algorithm>

namespace kva::runner {

BoundedOutput::BoundedOutput(std::uint64_t limit, std::ostream* sink) : limit_(limit), sink_(sink) {}

void BoundedOutput::emit(const char* s, std::size_t n) {
  if (sink_) sink_->write(s, static_cast<std::streamsize>(n));
  else kept_.append(s, n);
}

std::streamsize BoundedOutput::xsputn(const char* s, std::streamsize n) {
  std::uint64_t room = limit_ > written_ ? limit_ - written_ : 0;
  std::uint64_t now = std::min<std::uint64_t>(room, static_cast<std::uint64_t>(n));
  emit(s, now);
  written_ += now;
  if (now < static_cast<std::uint64_t>(n)) {
    if (!dropped_) {
      std::string note = "\n[kvabench: output of this job truncated at " + std::to_string(limit_) +
                         " bytes (--trace-limit)]\n";
      emit(note.data(), note.size());
    }
    dropped_ += static_cast<std::uint64_t>(n) - now;
  }
  return n;
}

BoundedOutput::int_type BoundedOutput::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  char ch = traits_type::to_char_type(c);
  xsputn(&ch, 1);
  return c;
}

int BoundedOutput::sync() {
  if (sink_) sink_->flush();
  return 0;
}

}  // namespace kva::runner
