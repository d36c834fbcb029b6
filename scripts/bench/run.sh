#!/bin/sh
# Runs every benchmark of scripts/bench in turn (make bench). Each prints its own
# tables: our time against the peer's, measured in the same run. See README.md.
# Add a benchmark: one line at the end, `bench NAME.lua` (or any command).
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.." || exit 1

# The interpreter: build/lask when built, else stock lua5.4 with the modules from the tree.
if [ -x "$BUILD/lask" ]; then
  LASK="$BUILD/lask"
else
  LASK=lua5.4
  LUA_PATH="lua/?.lua;lua/?/init.lua;;"
  LUA_CPATH="$BUILD/lib/?.so;;"
  export LUA_PATH LUA_CPATH
fi
# The peer: Debian's python3-dask lives in the system Python, not in a pyenv on PATH.
PEER_PYTHON=${PEER_PYTHON:-/usr/bin/python3}
export LASK PEER_PYTHON

failed=0
bench() { # script.lua [args...]
  echo "== $1"
  script=$1
  shift
  $LASK "scripts/bench/$script" "$@" || failed=$((failed + 1))
  echo
}
finish() { [ "$failed" -eq 0 ] || { echo "$failed benchmark(s) failed"; exit 1; }; }
trap finish EXIT

# The benchmarks, in turn.
bench native.lua
bench overhead.lua
bench lua_path.lua
bench array_graphs.lua
bench profiler.lua
bench multiprocessing.lua
bench array.lua
bench linalg.lua
bench random.lua
bench outofcore.lua
bench lua_tasks.lua
bench reductions.lua
bench indexing.lua
bench map_overlap.lua
bench mpi.lua
