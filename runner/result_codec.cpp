#include "runner/result_codec.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace kva::runner {
namespace {

// Length-prefixed binary: integers as 8 little-endian bytes, strings as length + bytes, so
// every byte comes back unchanged (a report made with -j N equals one made in process) and
// decoding costs a copy, not a parse. Both ends are the same binary, so there is no versioning.
class Writer {
 public:
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
  }
  void str(const std::string& s) {
    u64(s.size());
    out_ += s;
  }
  template <class T>
  void opt(const std::optional<T>& v) {
    u64(v ? 1 : 0);
    if (v) u64(static_cast<std::uint64_t>(*v));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  std::uint64_t u64() {
    need(8);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(in_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return v;
  }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64() {
    std::uint64_t bits = u64();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  std::string str() {
    std::uint64_t n = u64();
    need(n);
    std::string s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  template <class T>
  std::optional<T> opt() {
    if (!u64()) return std::nullopt;
    return static_cast<T>(u64());
  }
  void done() const {
    if (pos_ != in_.size()) throw std::runtime_error("result codec: trailing bytes");
  }

 private:
  void need(std::uint64_t n) const {
    if (n > in_.size() - pos_) throw std::runtime_error("result codec: truncated result");
  }
  const std::string& in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string encode_result(const JobResult& r) {
  Writer w;
  w.str(r.testcase);
  w.str(r.file);
  w.str(r.arch);
  w.u64(r.seed);
  w.str(r.mode);
  w.u64(r.passed);
  w.f64(r.wall_ms);
  w.u64(r.faults_not_applicable.size());
  for (const auto& f : r.faults_not_applicable) w.str(f);
  w.str(r.output);
  w.u64(r.counters.size());
  for (const auto& [k, v] : r.counters) {
    w.str(k);
    w.i64(v);
  }
  w.u64(r.failures.size());
  for (const auto& f : r.failures) {
    w.str(f.step);
    w.str(f.oracle);
    w.str(f.message);
    w.opt(f.cpu);
    w.opt(f.va);
    w.str(f.expected);
    w.str(f.observed);
  }
  return w.take();
}

JobResult decode_result(const std::string& text) {
  Reader in(text);
  JobResult r;
  r.testcase = in.str();
  r.file = in.str();
  r.arch = in.str();
  r.seed = in.u64();
  r.mode = in.str();
  r.passed = in.u64() != 0;
  r.wall_ms = in.f64();
  for (std::uint64_t n = in.u64(); n; --n) r.faults_not_applicable.push_back(in.str());
  r.output = in.str();
  for (std::uint64_t n = in.u64(); n; --n) {
    std::string k = in.str();
    r.counters[k] = in.i64();
  }
  for (std::uint64_t n = in.u64(); n; --n) {
    Failure x;
    x.step = in.str();
    x.oracle = in.str();
    x.message = in.str();
    x.cpu = in.opt<int>();
    x.va = in.opt<std::uint64_t>();
    x.expected = in.str();
    x.observed = in.str();
    r.failures.push_back(std::move(x));
  }
  in.done();
  return r;
}

}  // namespace kva::runner
