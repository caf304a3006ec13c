// JobResult <-> text, for sending results from -j worker processes to the parent over pipes.
#pragma once
#include <string>

#include "runner/job.h"

namespace kva::runner {

std::string encode_result(const JobResult& r);
JobResult decode_result(const std::string& text);  // throws on malformed text

}  // namespace kva::runner
