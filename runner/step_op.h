// Steps: a table maps each op name to a parser that validates its fields and builds a StepOp.
// New step families (buffer cache, files, ...) add a table section, nothing else.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runner/testcase.h"
#include "runner/yaml_fields.h"

namespace kva::runner {

// What names are defined so far, in step order: validation of references happens at parse time.
// A name is usable by a later step only where its defining step surely ran and defined it: not
// where that step was skipped by `only:`, and never after a step that expects an error (when
// the error happens, the step defines nothing).
class ParseContext {
 public:
  enum class Kind { Page, SfBuf, Kva, Label, Thread, Buffer, File, Op };
  ParseContext(const YamlReader& r, const Testcase& tc);

  const YamlReader& reader() const { return r_; }
  const Testcase& testcase() const { return tc_; }

  // The step being parsed (parse_step brackets each step with these; race steps nest).
  void enter_step(int line, std::vector<std::string> only, bool expects_error);
  void leave_step();

  void define(const YAML::Node& at, const std::string& name, Kind kind);
  // Checks that `name` (at node `at`) is defined with this kind, wherever the current step runs.
  void require(const YAML::Node& at, const std::string& name, Kind kind) const;
  bool defined(const std::string& name, Kind kind) const;

  // Field readers shared by the op parsers.
  std::string page(Fields& f, const std::string& key = "page");
  std::string sf(Fields& f, const std::string& key = "sf");
  std::string buffer(Fields& f, const std::string& key = "buf");
  std::string file(Fields& f, const std::string& key = "file");
  std::string label(Fields& f, const std::string& key);
  // A label that may be defined by a later step (e.g. `woken_by:`); checked by finish().
  std::string forward_label(Fields& f, const std::string& key);
  void finish() const;  // rejects forward labels that no step defined
  // `thread:` or, inside a race, the racing thread.
  std::string thread(Fields& f);
  std::optional<std::string> optional_thread(Fields& f);
  // `cpu:` or the CPU of `thread:` (or of the racing thread).
  int cpu(Fields& f);
  int cpu_value(const YAML::Node& n, const std::string& what) const;
  int thread_cpu(const std::string& thread) const;

  // The racing thread while parsing a race's op list.
  std::optional<std::string> race_thread;
  int next_step_number = 1;

 private:
  // Where a step runs: the `only:` lists of it and of its enclosing steps (all must apply).
  using Where = std::vector<std::vector<std::string>>;
  struct StepScope {
    int line;
    std::vector<std::string> only;
    bool expects_error;
  };
  struct NameInfo {
    Kind kind = Kind::Page;
    int line = 0;            // of the defining step (0: the testcase's threads)
    Where where;             // where the defining step runs
    bool after_error = false;  // the defining step (or an enclosing one) expects an error
  };
  struct ForwardUse {
    YAML::Node at;
    std::string name;
    Where where;
  };
  Where current_where() const;
  void check_defined_where(const YAML::Node& at, const std::string& name, const NameInfo& def,
                           const Where& use) const;
  // An arch in the testcase's scope where `use` runs and `def` does not, if any.
  std::optional<std::string> uncovered_arch(const Where& use, const Where& def) const;

  const YamlReader& r_;
  const Testcase& tc_;
  std::map<std::string, NameInfo> names_;
  std::map<std::string, std::string> race_owner_;  // names defined inside a race list -> thread
  std::vector<StepScope> scopes_;
  std::vector<ForwardUse> forward_labels_;
};

using StepParser = std::function<std::unique_ptr<StepOp>(Fields&, ParseContext&)>;

struct OpDef {
  std::string name;
  const char* primary;  // field that a scalar shorthand fills, or nullptr
  StepParser parse;
};

// Each step family contributes its ops.
std::vector<OpDef> page_ops();
std::vector<OpDef> sf_buf_ops();
std::vector<OpDef> access_ops();
std::vector<OpDef> pmap_ops();
std::vector<OpDef> control_ops();
std::vector<OpDef> race_ops();
std::vector<OpDef> buf_ops();   // steps_buf.cpp: buffer cache, device
std::vector<OpDef> file_ops();  // steps_file.cpp: files, sendfile, crash

const OpDef* find_op(const std::string& name);
std::vector<std::string> op_names();

// Parses one list entry `{op: fields}` into a Step (used for top-level steps and race lists).
Step parse_step(const YAML::Node& entry, ParseContext& pc);

}  // namespace kva::runner
