#include "runner/input_error.h"

namespace kva::runner {
namespace {
std::string format(const std::string& file, int line, int column, const std::string& message) {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}
}  // namespace

InputError::InputError(const std::string& file, int line, int column, const std::string& message)
    : std::runtime_error(format(file, line, column, message)) {}

// yaml-cpp marks are 0-based; a null mark (e.g. a node built in memory) has negative fields.
InputError::InputError(const std::string& file, const YAML::Mark& mark, const std::string& message)
    : InputError(file, mark.line < 0 ? 0 : mark.line + 1, mark.column < 0 ? 0 : mark.column + 1,
                 message) {}

}  // namespace kva::runner
