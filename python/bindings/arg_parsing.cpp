// The friendly argument forms: memory sizes ("16M") and sf_buf flags ("NOWAIT|CPUPRIVATE").
// Parsed here rather than in a Python subclass so that every Machine object Python sees,
// including one reached through a handle, accepts the same arguments.
#include <cctype>
#include <limits>
#include <regex>

#include "python/bindings/bindings.h"

namespace kva::pyapi {

namespace {
struct NamedFlag {
  const char* name;
  int value;
};
constexpr NamedFlag kSfBufFlags[] = {
    {"DEFAULT", SFB_DEFAULT}, {"CATCH", SFB_CATCH}, {"CPUPRIVATE", SFB_CPUPRIVATE}, {"NOWAIT", SFB_NOWAIT}};

std::string type_name(const py::handle& obj) {
  return py::str(py::type::of(obj).attr("__name__"));
}

// An int of any size, clamped to the long long range (overflow then fails the range checks).
long long clamped_int(const py::handle& value) {
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow) return overflow > 0 ? std::numeric_limits<long long>::max() : std::numeric_limits<long long>::min();
  return v;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string flag_names() {
  std::string names;
  for (const NamedFlag& f : kSfBufFlags) names += (names.empty() ? "" : ", ") + std::string(f.name);
  return names;
}

int flag_value(const py::handle& flag) {
  if (py::isinstance<py::bool_>(flag)) throw py::type_error("sf_buf flags must be names or ints, not bool");
  if (py::isinstance<py::int_>(flag)) {
    const long long value = clamped_int(flag);
    if (value < 0 || value > 0xffff)
      throw py::value_error("sf_buf flags out of range: " + std::string(py::str(flag)));
    return static_cast<int>(value);
  }
  if (!py::isinstance<py::str>(flag))
    throw py::type_error("sf_buf flags must be names or ints, not " + type_name(flag));
  const std::string given = flag.cast<std::string>();
  std::string name = upper(given);
  if (name.rfind("SFB_", 0) == 0) name.erase(0, 4);
  for (const NamedFlag& f : kSfBufFlags)
    if (name == f.name) return f.value;
  throw py::value_error("unknown sf_buf flag '" + given + "'; valid flags: " + flag_names());
}
}  // namespace

std::size_t parse_size(const py::handle& size) {
  if (py::isinstance<py::bool_>(size) ||
      !(py::isinstance<py::int_>(size) || py::isinstance<py::str>(size)))
    throw py::type_error("memory must be an int or a size string such as '16M', not " + type_name(size));
  if (py::isinstance<py::int_>(size)) {
    const long long bytes = clamped_int(size);
    if (bytes <= 0) throw py::value_error("memory must be positive, got " + std::string(py::str(size)));
    if (bytes == std::numeric_limits<long long>::max())
      throw py::value_error("size " + std::string(py::str(size)) + " does not fit in 63 bits");
    return static_cast<std::size_t>(bytes);
  }
  static const std::regex size_re(R"(\s*(\d{1,12})\s*([kKmMgG]?)(?:[iI]?[bB])?\s*)");
  const std::string text = size.cast<std::string>();
  std::smatch match;
  if (!std::regex_match(text, match, size_re))
    throw py::value_error("memory '" + text + "' is not a size: use bytes or a K/M/G suffix, e.g. '16M'");
  const std::string unit = upper(match[2].str());
  const int shift = unit == "K" ? 10 : unit == "M" ? 20 : unit == "G" ? 30 : 0;
  const std::uint64_t count = std::stoull(match[1].str());
  if (count > (std::numeric_limits<std::uint64_t>::max() >> shift))
    throw py::value_error("size '" + text + "' does not fit in 64 bits");
  const std::size_t bytes = count << shift;
  if (bytes == 0) throw py::value_error("memory must be positive, got '" + text + "'");
  return bytes;
}

int parse_sf_buf_flags(const py::handle& flags) {
  if (py::isinstance<py::str>(flags)) {
    static const std::regex separators(R"([|,\s]+)");
    const std::string text = flags.cast<std::string>();
    int value = 0;
    for (std::sregex_token_iterator it(text.begin(), text.end(), separators, -1), end; it != end; ++it)
      if (it->length()) value |= flag_value(py::str(it->str()));
    return value;
  }
  if (py::isinstance<py::list>(flags) || py::isinstance<py::tuple>(flags) ||
      py::isinstance<py::set>(flags) || py::isinstance<py::frozenset>(flags)) {
    int value = 0;
    for (const py::handle& flag : flags) value |= flag_value(flag);
    return value;
  }
  return flag_value(flags);
}

void bind_arg_parsing(py::module_& m) {
  py::dict names;
  for (const NamedFlag& f : kSfBufFlags) names[f.name] = f.value;
  m.attr("SF_BUF_FLAGS") = names;
  m.def("parse_size", [](const py::object& size) { return parse_size(size); }, py::arg("size"),
        "Bytes from an int or a string such as '16M', '512K', '1G', '16MiB' or '4096'.");
  m.def("parse_sf_buf_flags", [](const py::object& flags) { return parse_sf_buf_flags(flags); },
        py::arg("flags"),
        "sf_buf_alloc flags from an int, 'NOWAIT|CPUPRIVATE' (SFB_ prefix optional) or a list.");
}

}  // namespace kva::pyapi
