// kvabench: runs YAML testcases of buf(9)/sf_buf(9) behaviour on every arch variant.
#include "runner/commands.h"

int main(int argc, char** argv) { return kva::runner::kvabench_main(argc, argv); }
