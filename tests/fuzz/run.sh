#!/bin/sh
# Runs each libFuzzer target for a time over its committed seed corpus and speaks
# TAP: one line per target with its executions and whether it crashed.
# Usage: run.sh BUILD SECONDS TARGET...
build=$1 secs=$2
shift 2
echo "1..$#"
i=0
for t in "$@"; do
  i=$((i + 1))
  scratch=$(mktemp -d)
  log="$build/fuzz/fuzz_$t.log"
  if "$build/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$build/fuzz/crash-$t-" \
    "$scratch" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "ok $i - fuzz_$t: $execs executions in $secs s, no crash"
  else
    echo "not ok $i - fuzz_$t crashed (input in $build/fuzz/crash-$t-*):"
    grep -m 5 -E 'ERROR|runtime error|SUMMARY' "$log" | sed 's/^/# /'
  fi
  rm -rf "$scratch"
done
