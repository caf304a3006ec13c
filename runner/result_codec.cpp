#include "runner/result_codec.h"

#include <yaml-cpp/yaml.h>

namespace kva::runner {

std::string encode_result(const JobResult& r) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "testcase" << YAML::Value << r.testcase;
  out << YAML::Key << "file" << YAML::Value << r.file;
  out << YAML::Key << "arch" << YAML::Value << r.arch;
  out << YAML::Key << "seed" << YAML::Value << r.seed;
  out << YAML::Key << "mode" << YAML::Value << r.mode;
  out << YAML::Key << "passed" << YAML::Value << r.passed;
  out << YAML::Key << "wall_ms" << YAML::Value << r.wall_ms;
  out << YAML::Key << "faults_not_applicable" << YAML::Value << YAML::Flow << r.faults_not_applicable;
  out << YAML::Key << "counters" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : r.counters) out << YAML::Key << k << YAML::Value << v;
  out << YAML::EndMap;
  out << YAML::Key << "failures" << YAML::Value << YAML::BeginSeq;
  for (const auto& f : r.failures) {
    out << YAML::BeginMap;
    out << YAML::Key << "step" << YAML::Value << YAML::DoubleQuoted << f.step;
    out << YAML::Key << "oracle" << YAML::Value << YAML::DoubleQuoted << f.oracle;
    out << YAML::Key << "message" << YAML::Value << YAML::DoubleQuoted << f.message;
    if (f.cpu) out << YAML::Key << "cpu" << YAML::Value << *f.cpu;
    if (f.va) out << YAML::Key << "va" << YAML::Value << *f.va;
    out << YAML::Key << "expected" << YAML::Value << YAML::DoubleQuoted << f.expected;
    out << YAML::Key << "observed" << YAML::Value << YAML::DoubleQuoted << f.observed;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return out.c_str();
}

JobResult decode_result(const std::string& text) {
  YAML::Node n = YAML::Load(text);
  JobResult r;
  r.testcase = n["testcase"].as<std::string>();
  r.file = n["file"].as<std::string>();
  r.arch = n["arch"].as<std::string>();
  r.seed = n["seed"].as<std::uint64_t>();
  r.mode = n["mode"].as<std::string>();
  r.passed = n["passed"].as<bool>();
  r.wall_ms = n["wall_ms"].as<double>();
  for (const auto& f : n["faults_not_applicable"]) r.faults_not_applicable.push_back(f.as<std::string>());
  for (const auto& kv : n["counters"]) r.counters[kv.first.as<std::string>()] = kv.second.as<std::int64_t>();
  for (const auto& f : n["failures"]) {
    Failure x;
    x.step = f["step"].as<std::string>();
    x.oracle = f["oracle"].as<std::string>();
    x.message = f["message"].as<std::string>();
    if (f["cpu"]) x.cpu = f["cpu"].as<int>();
    if (f["va"]) x.va = f["va"].as<std::uint64_t>();
    x.expected = f["expected"].as<std::string>();
    x.observed = f["observed"].as<std::string>();
    r.failures.push_back(std::move(x));
  }
  return r;
}

}  // namespace kva::runner
