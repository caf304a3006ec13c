#!/usr/bin/env bash
# make test-sanitize, after the ASan + UBSan build in $1: runs the C++ tests (ctest, which also
# replays the fuzz corpora), then the CLI test suites against the sanitized kvabench: the
# testcase library clean and with every fault switch, malformed input, limits, determinism.
# Every error is fatal (-fno-sanitize-recover) and every report is also written under
# $1/sanitizer-logs, so a report from a -j worker or a subprocess fails the run too.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: tests/sanitize.sh BUILD_DIR}
logs=$build/sanitizer-logs
rm -rf "$logs" && mkdir -p "$logs"
export ASAN_OPTIONS="log_path=$PWD/$logs/asan:exitcode=86:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="log_path=$PWD/$logs/ubsan:halt_on_error=1:exitcode=87:print_stacktrace=1"
status=0

(cd "$build" && ctest --output-on-failure -j "${JOBS:-2}") || status=1

# The CLI suites (those that do not import the Python module, which is not sanitized).
KVABENCH_BIN=$PWD/$build/runner/kvabench .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/python/test_library.py tests/python/test_fault_injection.py tests/python/test_cli.py \
  tests/python/test_malformed_input.py tests/python/test_limits.py tests/python/test_determinism.py \
  || status=1

if compgen -G "$logs/*" >/dev/null; then
  echo "test-sanitize: sanitizer reports:" >&2
  head -n 60 "$logs"/* >&2
  status=1
fi
[ $status = 0 ] && echo "test-sanitize: passed (no sanitizer report)"
exit $status
