#include <sstream>

#include "runner/report_files.h"
#include "runner/summary.h"
#include "runner/utf8.h"

namespace kva::runner {
namespace {

std::string xml(const std::string& text) {
  std::string o;
  for (unsigned char c : sanitize_utf8(text)) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t') o += '?';
        else o += static_cast<char>(c);
    }
  }
  return o;
}

}  // namespace

// One <testsuite> per arch, one <testcase> per job.
std::string junit_report(const RunInfo& info, const std::vector<JobResult>& results) {
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kvabench\">\n";
  for (const auto& s : summarize(results)) {
    o << "  <testsuite name=\"" << xml(s.arch) << "\" tests=\"" << s.jobs << "\" failures=\""
      << s.failed << "\" errors=\"0\" time=\"" << s.wall_ms / 1000.0 << "\">\n";
    for (const auto& r : results) {
      if (r.arch != s.arch) continue;
      o << "    <testcase classname=\"" << xml(r.arch) << "\" name=\"" << xml(r.testcase)
        << (r.seed != info.seed ? " seed=" + std::to_string(r.seed) : "") << "\" file=\"" << xml(r.file)
        << "\" time=\"" << r.wall_ms / 1000.0 << "\"";
      if (r.passed) {
        o << "/>\n";
        continue;
      }
      o << ">\n";
      for (const auto& f : r.failures)
        o << "      <failure type=\"" << xml(f.oracle) << "\" message=\"" << xml(f.step + ": " + f.message)
          << "\">" << xml(describe_failure(r, f)) << "</failure>\n";
      o << "    </testcase>\n";
    }
    o << "  </testsuite>\n";
  }
  o << "</testsuites>\n";
  return o.str();
}

}  // namespace kva::runner
