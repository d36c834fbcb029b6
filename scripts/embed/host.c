/* host.c — a host program embedding lask: builds and runs a graph of native
 * kernels from C, then runs a Lua script on the same engine.
 *
 * It speaks TAP (tests/run.sh runs it as `build/embed-host scripts/embed/example.lua`
 * and counts the ok / not ok lines) and exits non-zero when a check fails.
 * Only lask.h is used from lask; lua.h is needed for lua_close.
 * Build it as scripts/embed/README.md shows. */
#include <lua.h>
#include <stdio.h>
#include <string.h>

#include "lask.h"

enum { NCHECKS = 5 };

static int failures;

/* Prints one TAP line and, on failure, err's message (a Lua traceback may span
 * lines) as TAP comments. */
static void check(int n, int ok, const char *what, const lask_err *err) {
  printf("%s %d - %s\n", ok ? "ok" : "not ok", n, what);
  for (const char *line = err && !ok ? err->msg : ""; *line;) {
    size_t len = strcspn(line, "\n");
    printf("# %.*s\n", (int)len, line);
    line += len + (line[len] == '\n');
  }
  failures += !ok;
}

/* Emits a node's program: a native kernel applied to a key and, optionally, an integer. */
static void emit_call(lask_graph_builder *b, const char *kernel, uint32_t arg, int nconst, int64_t c) {
  const lask_kernel *k = lask_kernel_find(kernel);
  lask_gb_const(b, lask_objval((lask_obj *)&k->h));
  lask_gb_key(b, arg);
  if (nconst) lask_gb_const(b, lask_int(c));
  lask_gb_call(b, 1 + (uint32_t)nconst);
}

/* The talk's graph, x = 1, y = inc(x), z = add(y, 10), built from C. */
static lask_graph *talk_graph(lask_err *err) {
  lask_graph_builder *b = lask_gb_new();
  if (!b) return NULL;
  uint32_t x = lask_gb_named(b, "x"), y = lask_gb_named(b, "y"), z = lask_gb_named(b, "z");
  lask_gb_begin(b, x);
  lask_gb_const(b, lask_int(1));
  lask_gb_end(b);
  lask_gb_begin(b, y);
  emit_call(b, "inc", x, 0, 0);
  lask_gb_end(b);
  lask_gb_begin(b, z);
  emit_call(b, "add", y, 1, 10);
  lask_gb_end(b);
  return lask_gb_finish(b, err); /* reports any mistake made while emitting */
}

static void run_native(lask_engine *e) {
  lask_err err;
  lask_value z = lask_nil();
  lask_graph *g = talk_graph(&err);
  const char *names[] = {"z"};
  int ok = g && lask_get(e, g, names, 1, &z, &err) == LASK_OK && z.type == LASK_TINT;
  char what[64];
  snprintf(what, sizeof what, "native graph from C: z = %lld", ok ? (long long)z.as.i : -1LL);
  check(1, ok && z.as.i == 12, what, &err);
  lask_release(z);
  lask_graph_free(g);
}

static void run_lua(lask_engine *e, const char *script) {
  lask_err err;
  struct lua_State *L = lask_lua_new_state(e);
  check(2, L != NULL, "Lua state opened on the engine", NULL);
  if (!L) {
    for (int n = 3; n <= NCHECKS; n++) check(n, 0, "skipped: no Lua state", NULL);
    return;
  }
  check(3, lask_lua_dofile(L, script, &err) == LASK_OK, "Lua script ran", &err);
  lask_status st = lask_lua_dostring(L, "error('expected failure')", &err);
  check(4, st == LASK_EHOST && err.code == LASK_EHOST && strstr(err.msg, "expected failure"),
        "Lua errors come back in lask_err", NULL);
  st = lask_lua_dostring(L,
                         "local lask = require 'lask'\n"
                         "local K = lask.kernels\n"
                         "local v = lask.get({ a = { K.add, 1, 2 }, b = { K.sum, { 'a', 'a', 4 } } }, 'b')\n"
                         "assert(v == 10, 'b is ' .. tostring(v))\n",
                         &err);
  check(5, st == LASK_OK, "the Lua state still runs graphs after an error", &err);
  lua_close(L);
}

int main(int argc, char **argv) {
  const char *script = argc > 1 ? argv[1] : "scripts/embed/example.lua";
  lask_err err;
  printf("1..%d\n", NCHECKS);
  lask_engine *e = lask_engine_new(0, &err); /* one worker per core */
  if (!e) {
    printf("Bail out! %s\n", err.msg);
    return 1;
  }
  printf("# engine with %d workers\n", lask_engine_workers(e));
  run_native(e);
  run_lua(e, script);
  lask_engine_free(e); /* after lua_close: the engine must outlive the state */
  return failures ? 1 : 0;
}
