#include "runner/yaml_fields.h"

#include <cctype>
#include <limits>

namespace kva::runner {

InputError YamlReader::error(const YAML::Node& at, const std::string& message) const {
  return InputError(file_, at.Mark(), message);
}

void YamlReader::require_map(const YAML::Node& n, const std::string& what) const {
  if (!n.IsMap()) throw error(n, what + ": expected a mapping");
}

void YamlReader::require_seq(const YAML::Node& n, const std::string& what) const {
  if (!n.IsSequence()) throw error(n, what + ": expected a list");
}

void YamlReader::require_unique_keys(const YAML::Node& map, const std::string& what,
                                     const std::string& noun) const {
  if (!map.IsMap()) return;
  std::set<std::string> keys;
  for (const auto& kv : map)
    if (kv.first.IsScalar() && !keys.insert(kv.first.Scalar()).second)
      throw error(kv.first, what + ": " + noun + " '" + kv.first.Scalar() + "' is given twice");
}

std::string YamlReader::str(const YAML::Node& n, const std::string& what) const {
  if (!n.IsScalar()) throw error(n, what + ": expected a scalar value");
  return n.Scalar();
}

std::int64_t YamlReader::integer(const YAML::Node& n, const std::string& what, std::int64_t min,
                                 std::int64_t max) const {
  std::string s = str(n, what);
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &used, 0);  // base 0: 0x.. hex accepted
  } catch (const std::exception&) {
    throw error(n, what + ": expected an integer, got '" + s + "'");
  }
  if (used != s.size()) throw error(n, what + ": expected an integer, got '" + s + "'");
  if (v < min || v > max)
    throw error(n, what + ": " + s + " is out of range [" + std::to_string(min) + ", " +
                       std::to_string(max) + "]");
  return v;
}

bool YamlReader::boolean(const YAML::Node& n, const std::string& what) const {
  std::string s = str(n, what);
  if (s == "true" || s == "yes") return true;
  if (s == "false" || s == "no") return false;
  throw error(n, what + ": expected true or false, got '" + s + "'");
}

std::optional<std::uint64_t> parse_size(const std::string& s) {
  std::uint64_t mult = 1;
  std::string digits = s;
  if (!s.empty()) {
    switch (std::toupper(static_cast<unsigned char>(s.back()))) {
      case 'K': mult = 1ull << 10; break;
      case 'M': mult = 1ull << 20; break;
      case 'G': mult = 1ull << 30; break;
      default: break;
    }
    if (mult != 1) digits.pop_back();
  }
  if (digits.empty() || digits.size() > 12 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoull(digits) * mult;
}

std::uint64_t YamlReader::size(const YAML::Node& n, const std::string& what,
                               std::uint64_t max) const {
  std::string s = str(n, what);
  std::optional<std::uint64_t> v = parse_size(s);
  if (!v) throw error(n, what + ": expected a size like 4096, 64K, 16M or 1G, got '" + s + "'");
  if (*v > max) throw error(n, what + ": " + s + " exceeds the limit of " + std::to_string(max) + " bytes");
  return *v;
}

std::vector<std::string> YamlReader::str_list(const YAML::Node& n, const std::string& what) const {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) throw error(n, what + ": expected a name or a list of names");
  for (const auto& e : n) out.push_back(str(e, what));
  return out;
}

std::string YamlReader::name(const YAML::Node& n, const std::string& what) const {
  std::string s = str(n, what);
  bool ok = !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_');
  for (char c : s)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
  if (!ok) throw error(n, what + ": '" + s + "' is not a valid name");
  return s;
}

Fields::Fields(const YamlReader& r, const YAML::Node& node, std::string what, const char* primary)
    : r_(r), node_(node), what_(std::move(what)), primary_(primary ? primary : "") {
  // Shorthand: `- op: value` (or a list) stands for `- op: {primary: value}`.
  if ((node.IsScalar() || node.IsSequence()) && primary) {
    scalar_form_ = true;
    return;
  }
  if (!node.IsMap()) {
    if (primary) throw r.error(node, what_ + ": expected a mapping or a value for '" + primary_ + "'");
    throw r.error(node, what_ + ": expected a mapping");
  }
  r.require_unique_keys(node_, what_, "field");
}

bool Fields::has(const std::string& key) const {
  if (scalar_form_) return key == primary_;
  return static_cast<bool>(node_[key]);
}

YAML::Node Fields::get(const std::string& key) {
  used_.insert(key);
  if (scalar_form_) return key == primary_ ? node_ : YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& cn = node_;
  YAML::Node v = cn[key];
  return v ? v : YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node Fields::require(const std::string& key) {
  if (!has(key)) throw r_.error(node_, what_ + ": missing required field '" + key + "'");
  return get(key);
}

void Fields::finish() const {
  if (scalar_form_) return;
  for (const auto& kv : node_) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (!used_.count(key)) throw r_.error(kv.first, what_ + ": unknown field '" + key + "'");
  }
}

}  // namespace kva::runner
