// UTF-8 checks. Testcase files must be UTF-8 (checked when loading); text that reaches the
// JSON and JUnit reports from elsewhere (file names) is sanitised there, so a report is always
// valid UTF-8 and does not depend on how results travelled (in process or over -j pipes).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace kva::runner {

// Byte offset of the first byte that does not start a well-formed UTF-8 sequence (overlong
// forms, surrogates and code points above U+10FFFF are ill-formed), or npos.
std::size_t first_invalid_utf8(std::string_view s);
// s with every ill-formed byte replaced by U+FFFD.
std::string sanitize_utf8(std::string_view s);

}  // namespace kva::runner
