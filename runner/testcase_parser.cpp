#include "runner/testcase_parser.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "archs/registry.h"
#include "runner/machine_spec.h"
#include "runner/step_op.h"

namespace kva::runner {
namespace fs = std::filesystem;
namespace {

MachineSpec parse_machine(const YamlReader& r, const YAML::Node& n) {
  Fields f(r, n, "machine");
  MachineSpec m;
  if (f.has("cpus")) m.cpus = r.integer(f.get("cpus"), "machine.cpus", 1, Limits::max_cpus);
  if (f.has("memory")) {
    YAML::Node mem = f.get("memory");
    m.mem_bytes = r.size(mem, "machine.memory", Limits::max_memory);
    if (m.mem_bytes < Limits::min_memory || m.mem_bytes % PAGE_SIZE)
      throw r.error(mem, "machine.memory: must be a multiple of 4K and at least 1M");
  }
  if (f.has("nsfbufs"))
    m.nsfbufs = r.integer(f.get("nsfbufs"), "machine.nsfbufs", 1, Limits::max_nsfbufs);
  if (f.has("ad")) {
    YAML::Node v = f.get("ad");
    m.ad = ad_bits_by_name(r.str(v, "machine.ad"));
    if (!m.ad) throw r.error(v, "machine.ad: expected hardware or software");
  }
  if (f.has("buf")) m.buf = parse_buf_spec(r, f.get("buf"), m.cpus);
  if (f.has("device")) m.device = parse_device_spec(r, f.get("device"), m.cpus);
  f.finish();
  return m;
}

std::vector<ThreadSpec> parse_threads(const YamlReader& r, const YAML::Node& n, const MachineSpec& m) {
  r.require_seq(n, "threads");
  if (n.size() > static_cast<std::size_t>(Limits::max_threads))
    throw r.error(n, "threads: at most " + std::to_string(Limits::max_threads) + " threads");
  std::vector<ThreadSpec> out;
  for (const auto& t : n) {
    Fields f(r, t, "thread");
    ThreadSpec s;
    YAML::Node name = f.require("name");
    s.name = r.name(name, "thread.name");
    for (const auto& o : out)
      if (o.name == s.name) throw r.error(name, "thread '" + s.name + "' is defined twice");
    s.cpu = r.integer(f.require("cpu"), "thread.cpu", 0, m.cpus - 1);
    if (f.has("pinned")) s.pinned = r.boolean(f.get("pinned"), "thread.pinned");
    f.finish();
    out.push_back(s);
  }
  return out;
}

std::vector<CounterExpectation> parse_expect_stale(const YamlReader& r, const YAML::Node& n) {
  r.require_map(n, "expect_stale");
  YAML::Node wrapped(YAML::NodeType::Map);
  wrapped["stale"] = n;
  return parse_counter_expectations(r, wrapped, "expect_stale", {"stale"});
}

Testcase parse_document(const std::string& path, const YAML::Node& doc) {
  YamlReader r(path);
  if (!doc.IsMap()) throw r.error(doc, "a testcase file is a mapping (format, name, steps, ...)");
  Fields f(r, doc, "testcase");
  Testcase tc;
  tc.file = path;
  YAML::Node format = f.require("format");
  if (r.integer(format, "format", 0, 1 << 20) != kFormatVersion)
    throw r.error(format, "format: only format 1 is supported");
  tc.name = r.name(f.require("name"), "name");
  tc.description = r.str(f.require("description"), "description");
  if (f.has("archs")) {
    YAML::Node archs = f.get("archs");
    r.require_seq(archs, "archs");
    for (const auto& a : archs) {
      std::string name = r.str(a, "archs");
      if (!find_arch(name)) throw r.error(a, "archs: unknown arch '" + name + "' (see `kvabench archs`)");
      tc.archs.push_back(name);
    }
  }
  if (f.has("requires")) {
    YAML::Node req = f.get("requires");
    tc.requires_features = r.str_list(req, "requires");
    for (const auto& feat : tc.requires_features)
      if (!is_feature_name(feat))
        throw r.error(req, "requires: unknown feature '" + feat + "' (see docs/testcases.md)");
  }
  if (f.has("machine")) tc.machine = parse_machine(r, f.get("machine"));
  if (f.has("threads")) tc.threads = parse_threads(r, f.get("threads"), tc.machine);
  if (f.has("seeds")) tc.seeds = r.integer(f.get("seeds"), "seeds", 1, Limits::max_seeds);

  ParseContext pc(r, tc);
  YAML::Node steps = f.require("steps");
  r.require_seq(steps, "steps");
  for (const auto& entry : steps) tc.steps.push_back(parse_step(entry, pc));
  pc.finish();

  if (f.has("expect"))
    tc.expect = parse_counter_expectations(r, f.get("expect"), "expect", counter_groups());
  if (f.has("expect_stale")) tc.expect_stale = parse_expect_stale(r, f.get("expect_stale"));
  f.finish();
  return tc;
}

}  // namespace

Testcase parse_testcase_file(const std::string& path) {
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw InputError(path, 0, 0, "cannot open file");
  } catch (const YAML::Exception& e) {
    throw InputError(path, e.mark, e.msg);
  }
  try {
    return parse_document(path, doc);
  } catch (const InputError&) {
    throw;
  } catch (const YAML::Exception& e) {
    throw InputError(path, e.mark, e.msg);
  }
}

std::vector<std::string> expand_testcase_paths(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
        auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) found.push_back(e.path().string());
      }
      if (ec) throw InputError(p, 0, 0, "cannot read directory: " + ec.message());
      std::sort(found.begin(), found.end());
      if (found.empty()) throw InputError(p, 0, 0, "no testcase files (*.yaml) in this directory");
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      throw InputError(p, 0, 0, "no such file or directory");
    }
  }
  return files;
}

std::vector<Testcase> load_testcases(const std::vector<std::string>& paths) {
  std::vector<Testcase> out;
  std::map<std::string, std::string> seen;
  for (const auto& file : expand_testcase_paths(paths)) {
    Testcase tc = parse_testcase_file(file);
    auto [it, fresh] = seen.emplace(tc.name, file);
    if (!fresh) throw InputError(file, 0, 0, "testcase name '" + tc.name + "' is also used by " + it->second);
    out.push_back(std::move(tc));
  }
  return out;
}

}  // namespace kva::runner
