#include <cstdio>
#include <sstream>

#include "runner/report_files.h"
#include "runner/summary.h"
#include "runner/utf8.h"

namespace kva::runner {
namespace {

std::string quote(const std::string& text) {
  std::string o = "\"";
  for (unsigned char c : sanitize_utf8(text)) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o + "\"";
}

template <class C>
std::string string_array(const C& items) {
  std::string s = "[";
  for (const auto& i : items) s += (s.size() > 1 ? ", " : "") + quote(i);
  return s + "]";
}

}  // namespace

std::string json_report(const RunInfo& info, const std::vector<JobResult>& results) {
  std::ostringstream o;
  o << "{\n  \"format\": 1,\n  \"seed\": " << info.seed << ",\n  \"injected\": " << string_array(info.injected)
    << ",\n  \"results\": [";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const JobResult& r = results[i];
    o << (i ? "," : "") << "\n    {\"testcase\": " << quote(r.testcase) << ", \"file\": " << quote(r.file)
      << ", \"arch\": " << quote(r.arch) << ", \"mode\": " << quote(r.mode)
      << ", \"seed\": " << r.seed << ", \"status\": " << quote(r.passed ? "pass" : "fail")
      << ", \"wall_ms\": " << r.wall_ms
      << ", \"faults_not_applicable\": " << string_array(r.faults_not_applicable) << ",\n     \"counters\": {";
    bool first = true;
    for (const auto& [k, v] : r.counters) {
      o << (first ? "" : ", ") << quote(k) << ": " << v;
      first = false;
    }
    o << "},\n     \"failures\": [";
    for (std::size_t k = 0; k < r.failures.size(); ++k) {
      const Failure& f = r.failures[k];
      o << (k ? "," : "") << "\n       {\"step\": " << quote(f.step) << ", \"oracle\": " << quote(f.oracle)
        << ", \"message\": " << quote(f.message);
      if (f.cpu) o << ", \"cpu\": " << *f.cpu;
      if (f.va) o << ", \"va\": " << *f.va;
      o << ", \"expected\": " << quote(f.expected) << ", \"observed\": " << quote(f.observed) << "}";
    }
    o << "]}";
  }
  o << "\n  ],\n  \"summary\": [";
  auto rows = summarize(results);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ArchSummary& s = rows[i];
    o << (i ? "," : "") << "\n    {\"arch\": " << quote(s.arch) << ", \"mode\": " << quote(s.mode)
      << ", \"passed\": " << s.passed << ", \"failed\": " << s.failed << ", \"jobs\": " << s.jobs
      << ", \"stale_observed\": " << s.stale_observed << ", \"stale_architectural\": " << s.stale_architectural
      << ", \"stale_model\": " << s.stale_model
      << ", \"local_invalidations\": " << s.local_invalidations << ", \"ipis\": " << s.ipis
      << ", \"broadcasts\": " << s.broadcasts << ", \"guest_instructions\": " << s.guest_instructions
      << ", \"buf_ios\": " << s.buf_ios << ", \"kva_maps\": " << s.kva_maps
      << ", \"kva_lazy_unmaps\": " << s.kva_lazy_unmaps << ", \"bogus_pages\": " << s.bogus_pages
      << ", \"lost_writes\": " << s.lost_writes << ", \"wall_ms\": " << s.wall_ms << ", \"faults_not_applicable\": " << string_array(s.faults_not_applicable)
      << "}";
  }
  o << "\n  ]\n}\n";
  return o.str();
}

}  // namespace kva::runner
