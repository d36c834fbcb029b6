#!/bin/sh
# Runs every test suite (C tests through cmocka, the embedding example, the Lua
# specs through busted on the lask binary), all speaking TAP, and closes with the
# line "N passed, N failed" (after "N skipped" when some were). A suite that crashes or exits non-zero without
# reporting a failure counts as one failure. Exit status: 0 only if all passed.
BUILD=${BUILD:-build}
LASK_BIN=$BUILD/lask
export LASK_BIN BUILD
log=$(mktemp)
trap 'rm -f "$log"' EXIT
crashed=0

run_suite() { # name, command...
  name=$1
  shift
  echo "# suite: $name"
  if "$@" >"$log.out" 2>&1; then status=0; else status=$?; fi
  cat "$log.out"
  cat "$log.out" >>"$log"
  if [ "$status" -ne 0 ] && ! grep -q '^not ok' "$log.out"; then
    echo "not ok - $name exited with status $status"
    echo "not ok - $name exited with status $status" >>"$log"
  fi
  rm -f "$log.out"
}

for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  run_suite "$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done
[ -x "$BUILD/embed-host" ] && run_suite embed-host "$BUILD/embed-host" scripts/embed/example.lua
[ -x "$BUILD/embed-host-cxx" ] && run_suite embed-host-cxx "$BUILD/embed-host-cxx" scripts/embed/example.lua
run_suite layers sh tests/layers.sh
run_suite self-contained sh tests/self_contained.sh
run_suite busted busted --lua="$LASK_BIN" -o TAP tests/spec
# the libFuzzer targets, 20 s each over their seed corpus (tests/fuzz): in the plain
# build only (asan and tsan runs would repeat it), when clang is there; FUZZ_TIME=0 skips
if [ "$BUILD" = build ] && [ "${FUZZ_TIME:-20}" != 0 ] && command -v clang >/dev/null; then
  run_suite fuzz make -s --no-print-directory fuzz FUZZ_TIME="${FUZZ_TIME:-20}"
fi

# a skipped test (cmocka prints "not ok N # SKIP ...") is neither
passed=$(grep '^ok ' "$log" | grep -vc '# SKIP')
failed=$(grep '^not ok' "$log" | grep -vc '# SKIP')
skipped=$(grep -c '^\(not \)\{0,1\}ok .*# SKIP' "$log")
[ "$skipped" -eq 0 ] || echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
