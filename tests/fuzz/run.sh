#!/usr/bin/env bash
# make fuzz: runs each libFuzzer target in $1 for $2 seconds, starting from its checked-in
# corpus (tests/fuzz/corpus/<name>, read only) and a working corpus in $1/corpus/<name> that
# keeps what the run discovers. Crashes, leaks, timeouts and out-of-memory inputs land in
# $1/artifacts; copy each into tests/fuzz/corpus/<name>/ (as regression-*) once fixed.
# Prints executions and executions per second per target (docs/reliability.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR SECONDS}
seconds=${2:-60}
mkdir -p "$build/artifacts"
status=0
summary=""
for target in fuzz_testcase_loader fuzz_op_sequence; do
  name=${target#fuzz_}
  work=$build/corpus/$name
  mkdir -p "$work"
  dict=()
  [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
  log=$build/artifacts/$name.log
  echo "fuzz: $target for ${seconds}s (log: $log)"
  "$build/tests/fuzz/$target" "$work" "tests/fuzz/corpus/$name" "${dict[@]}" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  summary+=$(printf '%-18s %8ss %12s execs %8s exec/s  %s  corpus %s files  exit %s' \
    "$name" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$(ls "$work" | wc -l)" "$rc")$'\n'
  if [ $rc != 0 ]; then
    status=1
    echo "fuzz: $target found a problem:" >&2
    grep -E 'ERROR|SUMMARY|fuzz_|Test unit written' "$log" | head -20 >&2
  fi
done
printf '%s' "$summary"
exit $status
