#!/bin/sh
# The layering rules, checked against the tree and the build's own flags (TAP):
# the engine never includes Lua, and engine/core (the task engine a host embeds
# without arrays) includes nothing of engine/array. Usage: tests/layers.sh
# (ENGINE_CFLAGS, CC: as the Makefile passes them).
cd "$(dirname "$0")/.." || exit 1
CC=${CC:-cc}
# run alone (not from make test): the engine's flags as the Makefile makes them
ENGINE_CFLAGS=${ENGINE_CFLAGS:-"-std=c11 -D_GNU_SOURCE -Iengine $(pkg-config --cflags openblas lapacke)"}
n=0
check() { # description, command...
  n=$((n + 1))
  desc=$1
  shift
  if "$@" >/dev/null 2>&1; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; fi
}
not() { ! "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <lua.h>\nint x;\n' >"$tmp/uses_lua.c"
printf '#include "lask.h"\nint x;\n' >"$tmp/uses_engine.c"
# shellcheck disable=SC2086 # ENGINE_CFLAGS is a list of flags
check "an engine file that includes lua.h does not build" not $CC $ENGINE_CFLAGS -c "$tmp/uses_lua.c" -o "$tmp/a.o"
# shellcheck disable=SC2086
check "an engine file that includes lask.h builds with the engine's flags" $CC $ENGINE_CFLAGS -c "$tmp/uses_engine.c" -o "$tmp/b.o"
check "no file under engine/ includes a Lua header" not grep -rlE '#include [<"](lua|lauxlib|lualib)\.h' engine
check "engine/core includes nothing from engine/array" not grep -rlE '#include "(array/|\.\./array/)' engine/core
echo "1..$n"
