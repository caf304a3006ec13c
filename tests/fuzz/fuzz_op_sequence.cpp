// libFuzzer target: bytes -> op sequences run differentially on every arch (opseq/).
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/opseq/differential.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool list = std::getenv("KVA_FUZZ_LIST_OPS") != nullptr;  // to read what an input does
  kva::fuzz::DiffOptions opts;
  opts.list_ops = list;
  kva::fuzz::DiffResult r = kva::fuzz::run_differential(data, size, opts);
  if (list) std::fprintf(stderr, "%s", r.report.c_str());
  if (!r.ok) {
    std::fprintf(stderr, "fuzz_op_sequence: %s\n", r.report.c_str());
    std::abort();
  }
  return 0;
}
