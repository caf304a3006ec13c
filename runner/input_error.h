// Errors in testcase files or command-line input: reported as `file:line:column: message` and
// exit status 2. Raised only while loading and validating, never while running a testcase.
#pragma once
#include <stdexcept>
#include <string>

#include <yaml-cpp/yaml.h>

namespace kva::runner {

class InputError : public std::runtime_error {
 public:
  // line and column are 1-based; 0 means unknown (then only the file is named).
  InputError(const std::string& file, int line, int column, const std::string& message);
  InputError(const std::string& file, const YAML::Mark& mark, const std::string& message);
};

}  // namespace kva::runner
