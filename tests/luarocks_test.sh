#!/bin/sh
# `luarocks test` (lask-*.rockspec's test command): the Lua specs, run by the lask
# program that `luarocks make` built in build/. Arguments: spec files or folders
# (tests/spec by default), as busted takes them.
cd "$(dirname "$0")/.." || exit 1
[ -x build/lask ] || { echo "build/lask is missing: run luarocks make first" >&2; exit 1; }
[ $# -eq 0 ] && set -- tests/spec
LASK_BIN=build/lask BUILD=build exec busted --lua=build/lask "$@"
