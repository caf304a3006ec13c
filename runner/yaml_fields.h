// Strict, typed reading of YAML nodes for testcase files: every error names file:line:column,
// and a map's unknown keys are rejected (a misspelt field must not be silently ignored).
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "runner/input_error.h"

namespace kva::runner {

// "16M", "1G", "4096", "64K" in bytes; nullopt when not of that form.
std::optional<std::uint64_t> parse_size(const std::string& s);

// Typed conversions of single nodes; `what` names the value in error messages.
class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }
  InputError error(const YAML::Node& at, const std::string& message) const;

  std::string str(const YAML::Node& n, const std::string& what) const;
  std::int64_t integer(const YAML::Node& n, const std::string& what, std::int64_t min,
                       std::int64_t max) const;
  bool boolean(const YAML::Node& n, const std::string& what) const;
  // "16M", "1G", "4096", "64K": bytes, at most max.
  std::uint64_t size(const YAML::Node& n, const std::string& what, std::uint64_t max) const;
  // A scalar or a sequence of scalars.
  std::vector<std::string> str_list(const YAML::Node& n, const std::string& what) const;
  // An identifier: [A-Za-z_][A-Za-z0-9_.-]*
  std::string name(const YAML::Node& n, const std::string& what) const;
  void require_map(const YAML::Node& n, const std::string& what) const;
  void require_seq(const YAML::Node& n, const std::string& what) const;
  // Rejects a mapping that gives a key twice (yaml-cpp keeps both; the second would be ignored
  // or, for name-keyed maps such as race.threads, make two entries of one name).
  void require_unique_keys(const YAML::Node& map, const std::string& what,
                           const std::string& noun = "key") const;

 private:
  std::string file_;
};

// The fields of one mapping. Reads record which keys were used; finish() rejects the rest.
// A scalar (or list) node is accepted for maps that have a primary field (`- signal: t1`
// means `- signal: {thread: t1}`).
class Fields {
 public:
  Fields(const YamlReader& r, const YAML::Node& node, std::string what,
         const char* primary = nullptr);
  bool has(const std::string& key) const;
  YAML::Node get(const std::string& key);      // an undefined node when absent
  YAML::Node require(const std::string& key);  // throws when absent
  void finish() const;
  const YAML::Node& node() const { return node_; }
  const YamlReader& reader() const { return r_; }
  const std::string& what() const { return what_; }

 private:
  const YamlReader& r_;
  YAML::Node node_;
  std::string what_;
  std::string primary_;
  bool scalar_form_ = false;
  std::set<std::string> used_;
};

}  // namespace kva::runner
