#include "runner/result_codec.h"

#include <stdexcept>

#include <yaml-cpp/yaml.h>

namespace kva::runner {
namespace {

// Strings travel percent-escaped (every byte outside printable ASCII, and '%'), so they come
// back byte for byte: yaml-cpp would otherwise replace ill-formed UTF-8, and a report made
// with -j N would differ from one made in process.
std::string esc(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '%') {
      o += '%';
      o += hex[c >> 4];
      o += hex[c & 15];
    } else {
      o += static_cast<char>(c);
    }
  }
  return o;
}

std::string unesc(const std::string& s) {
  std::string o;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      o += s[i];
      continue;
    }
    if (i + 2 >= s.size()) throw std::runtime_error("result codec: truncated escape");
    o += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return o;
}

std::string str(const YAML::Node& n) { return unesc(n.as<std::string>()); }

}  // namespace

std::string encode_result(const JobResult& r) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "testcase" << YAML::Value << esc(r.testcase);
  out << YAML::Key << "file" << YAML::Value << esc(r.file);
  out << YAML::Key << "arch" << YAML::Value << esc(r.arch);
  out << YAML::Key << "seed" << YAML::Value << r.seed;
  out << YAML::Key << "mode" << YAML::Value << esc(r.mode);
  out << YAML::Key << "passed" << YAML::Value << r.passed;
  out << YAML::Key << "wall_ms" << YAML::Value << r.wall_ms;
  out << YAML::Key << "faults_not_applicable" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& f : r.faults_not_applicable) out << esc(f);
  out << YAML::EndSeq;
  out << YAML::Key << "output" << YAML::Value << YAML::DoubleQuoted << esc(r.output);
  out << YAML::Key << "counters" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : r.counters) out << YAML::Key << esc(k) << YAML::Value << v;
  out << YAML::EndMap;
  out << YAML::Key << "failures" << YAML::Value << YAML::BeginSeq;
  for (const auto& f : r.failures) {
    out << YAML::BeginMap;
    out << YAML::Key << "step" << YAML::Value << YAML::DoubleQuoted << esc(f.step);
    out << YAML::Key << "oracle" << YAML::Value << YAML::DoubleQuoted << esc(f.oracle);
    out << YAML::Key << "message" << YAML::Value << YAML::DoubleQuoted << esc(f.message);
    if (f.cpu) out << YAML::Key << "cpu" << YAML::Value << *f.cpu;
    if (f.va) out << YAML::Key << "va" << YAML::Value << *f.va;
    out << YAML::Key << "expected" << YAML::Value << YAML::DoubleQuoted << esc(f.expected);
    out << YAML::Key << "observed" << YAML::Value << YAML::DoubleQuoted << esc(f.observed);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return out.c_str();
}

JobResult decode_result(const std::string& text) {
  YAML::Node n = YAML::Load(text);
  JobResult r;
  r.testcase = str(n["testcase"]);
  r.file = str(n["file"]);
  r.arch = str(n["arch"]);
  r.seed = n["seed"].as<std::uint64_t>();
  r.mode = str(n["mode"]);
  r.passed = n["passed"].as<bool>();
  r.wall_ms = n["wall_ms"].as<double>();
  for (const auto& f : n["faults_not_applicable"]) r.faults_not_applicable.push_back(str(f));
  r.output = str(n["output"]);
  for (const auto& kv : n["counters"]) r.counters[str(kv.first)] = kv.second.as<std::int64_t>();
  for (const auto& f : n["failures"]) {
    Failure x;
    x.step = str(f["step"]);
    x.oracle = str(f["oracle"]);
    x.message = str(f["message"]);
    if (f["cpu"]) x.cpu = f["cpu"].as<int>();
    if (f["va"]) x.va = f["va"].as<std::uint64_t>();
    x.expected = str(f["expected"]);
    x.observed = str(f["observed"]);
    r.failures.push_back(std::move(x));
  }
  return r;
}

}  // namespace kva::runner
