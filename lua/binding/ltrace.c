/* ltrace.c — the engine's event trace as a Lua value, for profilers.
 *
 * A callback object with a `timeline` function turns tracing on for the gets it
 * sees; after the run, timeline(trace) receives a lask.trace userdata:
 *   #trace                      number of tasks recorded
 *   trace:event(i)              key, start, finish, worker, head of the i-th
 *                               (1-based; seconds since the run began; worker 0
 *                               is the calling thread; head: the task's function)
 *   trace.nworkers              workers of the run
 *   trace.zero                  the time the trace's times count from, on lask.clock()
 * The trace keeps the conversion (graph and keys) alive, so it may be read after
 * the get has returned. A state closed during the run (os.exit(code, true) in a
 * task) leaves the trace to the workers still recording into it.
 */
#include <string.h>

#include "binding.h"

#define LASK_TRACE_MT "lask.trace"

typedef struct trace_ud {
  lask_trace *t;
  lask_lconv *c; /* uservalue 1 keeps it alive */
  int nworkers;
} trace_ud;

/* Collected during its own run only when the state is closed from a task
 * (os.exit(code, true)): the workers still record into the trace, and exit
 * follows, so it is left to the process's end rather than freed under them (as
 * the graph is, lconvert.c). */
static int trace_gc(lua_State *L) {
  trace_ud *u = luaL_checkudata(L, 1, LASK_TRACE_MT);
  if (!u->c || !u->c->running) lask_trace_free(u->t);
  u->t = NULL;
  return 0;
}

static int trace_len(lua_State *L) {
  trace_ud *u = luaL_checkudata(L, 1, LASK_TRACE_MT);
  lua_pushinteger(L, u->t ? (lua_Integer)lask_trace_count(u->t) : 0);
  return 1;
}

/* Pushes the head of node id's program (its task's function), or nil for a literal or alias. */
static void push_head(lua_State *L, const lask_graph *g, uint32_t id) {
  const uint32_t *code = g->code + g->code_off[id];
  uint32_t len = g->code_len[id];
  if (len < 2 || LASK_OP(code[len - 1]) != LASK_OP_CALL || LASK_OP(code[0]) != LASK_OP_CONST) {
    lua_pushnil(L);
    return;
  }
  lask_l_pushval(L, g->consts[LASK_OPERAND(code[0])]);
}

static int trace_event(lua_State *L) {
  trace_ud *u = luaL_checkudata(L, 1, LASK_TRACE_MT);
  lua_Integer i = luaL_checkinteger(L, 2);
  const lask_trace_event *ev = u->t && i >= 1 ? lask_trace_event_at(u->t, (size_t)(i - 1)) : NULL;
  if (!ev) return 0;
  lua_getiuservalue(L, 1, 2); /* the keys table */
  lua_rawgeti(L, -1, (lua_Integer)ev->node + 1);
  lua_pushnumber(L, ev->start);
  lua_pushnumber(L, ev->end);
  lua_pushinteger(L, ev->worker);
  push_head(L, u->c->g, ev->node);
  return 5;
}

static int trace_index(lua_State *L) {
  trace_ud *u = luaL_checkudata(L, 1, LASK_TRACE_MT);
  const char *field = luaL_checkstring(L, 2);
  if (strcmp(field, "nworkers") == 0) return lua_pushinteger(L, u->nworkers), 1;
  if (strcmp(field, "zero") == 0) return lua_pushnumber(L, u->t ? lask_trace_zero(u->t) : 0), 1;
  if (strcmp(field, "incomplete") == 0) return lua_pushboolean(L, u->t && lask_trace_incomplete(u->t)), 1;
  if (strcmp(field, "event") == 0) return lua_pushcfunction(L, trace_event), 1;
  return 0;
}

lask_trace *lask_l_newtrace(lua_State *L, int conv, int keys, int nworkers) {
  trace_ud *u = lua_newuserdatauv(L, sizeof *u, 2);
  u->t = NULL, u->c = lua_touserdata(L, conv), u->nworkers = nworkers;
  if (luaL_newmetatable(L, LASK_TRACE_MT)) {
    static const luaL_Reg mt[] = {
        {"__gc", trace_gc}, {"__len", trace_len}, {"__index", trace_index}, {NULL, NULL}};
    luaL_setfuncs(L, mt, 0);
  }
  lua_setmetatable(L, -2);
  lua_pushvalue(L, conv);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, keys);
  lua_setiuservalue(L, -2, 2);
  if (!(u->t = lask_trace_new())) luaL_error(L, "lask: out of memory starting a trace");
  return u->t;
}
