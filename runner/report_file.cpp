#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "runner/cli_args.h"
#include "runner/report_files.h"

namespace kva::runner {

ReportFile::ReportFile(const std::string& option, const std::string& path) : path_(path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw UsageError(option + ": '" + path + "' is a directory");
  out_.open(path, std::ios::binary | std::ios::trunc);
  if (!out_) throw UsageError(option + ": cannot write '" + path + "': " + std::strerror(errno));
}

void ReportFile::write(const std::string& text) {
  out_ << text;
  out_.flush();
  if (!out_) throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
}

}  // namespace kva::runner
