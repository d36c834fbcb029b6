package = "lask"
version = "0.1-1"
source = { url = "git+file:///work/main" }
description = {
  summary = "Parallel task graphs for Lua: a work-stealing engine in C",
  detailed = [[
A task graph is a Lua table ({x = 1, y = {inc, "x"}}); lask.get runs it on a
C work-stealing scheduler. Dask's core, native.]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
build = {
  type = "make",
  build_target = "lib",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
  },
  install_target = "rock-install",
  install_variables = {
    LUADIR = "$(LUADIR)",
    LIBDIR = "$(LIBDIR)",
    BINDIR = "$(BINDIR)",
  },
}
