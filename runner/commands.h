// The kvabench subcommands; each returns the process exit status.
#pragma once
#include "runner/cli_args.h"

namespace kva::runner {

int cmd_run(const CliOptions& o);
int cmd_archs();
int cmd_faults();
// Whole CLI: parses argv, dispatches, maps every error to its exit status (never crashes).
int kvabench_main(int argc, char** argv);

}  // namespace kva::runner
