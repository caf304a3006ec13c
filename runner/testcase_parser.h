// Loads and fully validates testcase files (format 1) before anything runs. Every problem is an
// InputError naming file:line:column.
#pragma once
#include <string>
#include <vector>

#include "runner/testcase.h"

namespace kva::runner {

Testcase parse_testcase_file(const std::string& path);
// The same for text already in memory; `path` names it in errors and results.
Testcase parse_testcase_text(const std::string& path, const std::string& text);
// Files and directories (searched recursively for *.yaml / *.yml, in name order).
std::vector<std::string> expand_testcase_paths(const std::vector<std::string>& paths);
// Parses every file; rejects two testcases with the same name.
std::vector<Testcase> load_testcases(const std::vector<std::string>& paths);

}  // namespace kva::runner
