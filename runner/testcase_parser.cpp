#include "runner/testcase_parser.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

#include "archs/registry.h"
#include "runner/machine_spec.h"
#include "runner/step_op.h"
#include "runner/utf8.h"

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
  if (f.has("bbm")) m.bbm = r.boolean(f.get("bbm"), "machine.bbm");
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
  tc.nsteps = pc.next_step_number - 1;

  if (f.has("expect"))
    tc.expect = parse_counter_expectations(r, f.get("expect"), "expect", counter_groups());
  if (f.has("expect_stale")) tc.expect_stale = parse_expect_stale(r, f.get("expect_stale"));
  f.finish();
  return tc;
}

// Start marks of the first `max` documents. yaml-cpp 0.7 yields empty documents forever at
// one position for some invalid inputs (e.g. a leading ','), so LoadAll would never return:
// documents are counted up to a bound, and one that starts where the previous did is none.
std::vector<YAML::Mark> document_starts(const std::string& text, std::size_t max) {
  struct Starts : YAML::EventHandler {
    std::vector<YAML::Mark> marks;
    void OnDocumentStart(const YAML::Mark& m) override { marks.push_back(m); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
  } h;
  std::istringstream in(text);
  YAML::Parser parser(in);
  while (h.marks.size() < max && parser.HandleNextDocument(h)) {
    std::size_t n = h.marks.size();
    if (n >= 2 && h.marks[n - 1].pos == h.marks[n - 2].pos) {
      h.marks.pop_back();
      break;
    }
  }
  return h.marks;
}

// 1-based line and column of the first character that is neither blank nor in a comment;
// {0, 0} when there is none.
std::pair<int, int> first_content(const std::string& text) {
  int line = 1, column = 1;
  bool comment = false;
  std::size_t bom = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  for (std::size_t i = bom; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      column = 1;
      comment = false;
      continue;
    }
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column;
    if (comment || c == ' ' || c == '\t' || c == '\r') continue;
    if (c == '#') {
      comment = true;
      continue;
    }
    return {line, column - 1};
  }
  return {0, 0};
}

}  // namespace

Testcase parse_testcase_text(const std::string& path, const std::string& text) {
  if (std::size_t bad = first_invalid_utf8(text); bad != std::string::npos) {
    // Everything before `bad` is valid UTF-8: count characters, not bytes, for the column.
    std::size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    line_start = line_start == std::string::npos || bad == 0 ? 0 : line_start + 1;
    int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + bad, '\n'));
    int column = 1;
    for (std::size_t i = line_start; i < bad; ++i)
      column += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    throw InputError(path, line, column, "invalid UTF-8 (testcase files are UTF-8 text)");
  }
  YAML::Node doc;
  std::vector<YAML::Mark> starts;
  try {
    doc = YAML::Load(text);
    starts = document_starts(text, 2);
  } catch (const YAML::Exception& e) {
    throw InputError(path, e.mark, e.msg);
  }
  if (starts.size() > 1)
    throw InputError(path, starts[1].line + 1, starts[1].column + 1,
                     "a testcase file holds one YAML document, not several");
  if (doc.IsNull()) {
    auto [line, column] = first_content(text);
    if (line == 0)
      throw InputError(path, 1, 1, "empty testcase (no YAML content): a testcase is a mapping with "
                                   "format, name, description and steps");
    throw InputError(path, line, column, "a testcase file is a mapping (format, name, steps, ...)");
  }
  try {
    return parse_document(path, doc);
  } catch (const InputError&) {
    throw;
  } catch (const YAML::Exception& e) {
    throw InputError(path, e.mark, e.msg);
  }
}

Testcase parse_testcase_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, 0, "cannot open file");
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > Limits::max_file_bytes)
      throw InputError(path, 0, 0, "file is larger than " + std::to_string(Limits::max_file_bytes) +
                                       " bytes (the limit for a testcase file)");
  }
  if (in.bad()) throw InputError(path, 0, 0, "cannot read file");
  return parse_testcase_text(path, text);
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
  long total_steps = 0;
  for (const auto& file : expand_testcase_paths(paths)) {
    Testcase tc = parse_testcase_file(file);
    total_steps += tc.nsteps;
    if (total_steps > Limits::max_total_steps)
      throw InputError(file, 0, 0, "too many steps in this run: the testcases up to this one have " +
                                       std::to_string(total_steps) + " (the limit is " +
                                       std::to_string(Limits::max_total_steps) + ")");
    auto [it, fresh] = seen.emplace(tc.name, file);
    if (!fresh) throw InputError(file, 0, 0, "testcase name '" + tc.name + "' is also used by " + it->second);
    out.push_back(std::move(tc));
  }
  return out;
}

}  // namespace kva::runner
