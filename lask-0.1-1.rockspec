-- LuaRocks package of lask. Debian's luarocks defaults to Lua 5.1: name the Lua,
--   luarocks --lua-version 5.4 make lask-0.1-1.rockspec
-- (make builds with Debian's packages: vendor/packages.txt lists them).
rockspec_format = "3.0"
package = "lask"
version = "0.1-1"
-- The project's public home is not published yet: source and homepage name the
-- address chosen for it (update both here if it is published elsewhere).
-- `luarocks make` builds the checked-out tree and does not fetch source.
source = {
  url = "git+https://github.com/lask-lua/lask.git",
  tag = "v0.1.0",
}
description = {
  summary = "Parallel task graphs for Lua: a work-stealing engine in C",
  detailed = [[
A task graph is a Lua table ({x = 1, y = {inc, "x"}}); lask.get runs it on a
C work-stealing scheduler. Dask's core, native: chunked arrays, linear algebra
on OpenBLAS/LAPACKE, profilers.]],
  homepage = "https://github.com/lask-lua/lask",
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
-- Checked by luarocks before building (Debian: libopenblas-dev, liblapacke-dev).
external_dependencies = {
  OPENBLAS = { library = "openblas" },
  LAPACKE = { header = "lapacke.h", library = "lapacke" },
}
build = {
  type = "make",
  build_target = "lib",
  -- WERROR empty: users' compilers may warn where ours do not; that is no reason to fail.
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    WERROR = "",
  },
  install_target = "rock-install",
  install_variables = {
    LUADIR = "$(LUADIR)",
    LIBDIR = "$(LIBDIR)",
    BINDIR = "$(BINDIR)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    WERROR = "",
  },
}
-- luarocks test: the Lua specs, through the lask program the build made.
test = {
  type = "command",
  command = "sh tests/luarocks_test.sh",
}
