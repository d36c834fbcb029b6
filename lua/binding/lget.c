/* lget.c — get(): convert the Lua graph, run it, and hand back the results.
 *
 * Lua tasks run on the calling Lua state through lask_host_ops.call. Their
 * errors are caught with a message handler that keeps the Lua traceback; the
 * first one is kept in the run and becomes the lask.error raised at the end.
 * Callbacks are called only when some are given, so a plain get pays nothing
 * for them.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"

/* Replaces the error value on top, which the message handler did not make (Lua
 * skips it for out of memory; or it failed itself), with the handler's table: the
 * task then fails with "not enough memory" on its key rather than with "?". */
static void wrap_bare_error(lua_State *L, int status) {
  lua_createtable(L, 0, 2);
  lua_rotate(L, -2, 1);
  if (status == LUA_ERRMEM)
    lua_pushliteral(L, "not enough memory");
  else
    lua_pushstring(L, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error in the error handler");
  lua_setfield(L, -3, "message");
  lua_setfield(L, -2, "value");
}

lask_status lask_l_host_call(void *ctx, uint32_t node, lask_value head, const lask_value *args, int nargs,
                             lask_value *out, lask_err *err) {
  lask_lrun *r = ctx;
  lua_State *L = r->L;
  lask_l_drain(L, r->c->ctx); /* values released since the last Lua task are collectable in this one */
  luaL_checkstack(L, nargs + 4, "lask: too many arguments");
  lask_l_pushval(L, head);
  for (int i = 0; i < nargs; i++) lask_l_pushval(L, args[i]);
  int st = lua_pcall(L, nargs, 1, r->msgh);
  if (st != LUA_OK) {
    if (lua_type(L, -1) != LUA_TTABLE) wrap_bare_error(L, st);
    lua_getfield(L, -1, "message");
    lask_err_set(err, LASK_EHOST, node, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
    lua_pop(L, 1);
    lua_replace(L, r->errobj);
    return LASK_EHOST;
  }
  int top = lua_gettop(L); /* a failed freeze leaves its message above the result */
  int ok = r->freeze_results ? !lask_l_toval_frozen(L, -1, 1, out) : lask_l_toval(L, r->c->ctx, -1, out);
  lua_settop(L, top - 1);
  lask_l_drain(L, r->c->ctx);
  return ok ? LASK_OK : lask_err_set(err, LASK_ENOMEM, node, "out of memory storing a result");
}

/* Calls field name of every callback object with the n values on top (popped).
 * Returns 0, or 1 when one raised an error: the error is kept in r->errobj and
 * the remaining callbacks are skipped. */
static int call_callbacks(lask_lrun *r, const char *name, int n) {
  lua_State *L = r->L;
  int base = lua_gettop(L) - n;
  lua_Integer ncb = (lua_Integer)lua_rawlen(L, r->cbs);
  for (lua_Integer i = 1; i <= ncb; i++) {
    lua_rawgeti(L, r->cbs, i);
    if (lua_getfield(L, -1, name) == LUA_TNIL) {
      lua_pop(L, 2);
      continue;
    }
    for (int a = 1; a <= n; a++) lua_pushvalue(L, base + a);
    if (lua_pcall(L, n, 0, r->msgh) != LUA_OK) {
      lua_pushstring(L, name);
      lua_setfield(L, -2, "callback");
      lua_replace(L, r->errobj);
      lua_settop(L, base);
      return r->callback_failed = 1;
    }
    lua_pop(L, 1);
  }
  lua_settop(L, base);
  return 0;
}

/* A task, for callbacks: a node that calls something or builds from keys. Data
 * (literals, lists of literals) is not, as in Dask; nor is an alias (a lone key:
 * no work, evaluated in the parent by the multiprocessing scheduler), unlike
 * Dask. Every scheduler calls callbacks for tasks only. */
static int is_task(const lask_graph *g, uint32_t node) {
  const uint32_t *code = g->code + g->code_off[node];
  uint32_t len = g->code_len[node];
  if (len == 1) return LASK_OP(code[0]) == LASK_OP_CALL;
  if (g->dep_off[node + 1] > g->dep_off[node]) return 1;
  for (uint32_t i = 0; i < len; i++)
    if (LASK_OP(code[i]) == LASK_OP_CALL) return 1;
  return 0;
}

static lua_Integer count_tasks(const lask_graph *g) {
  lua_Integer n = 0;
  for (uint32_t i = 0; i < g->n; i++) n += is_task(g, i);
  return n;
}

int lask_l_on_pretask(void *ctx, uint32_t node) {
  lask_lrun *r = ctx;
  if (!is_task(r->c->g, node)) return 0;
  lua_rawgeti(r->L, lask_lconv_keys(r->L, r->c), (lua_Integer)node + 1);
  lua_pushvalue(r->L, r->c->dsk);
  lua_pushvalue(r->L, r->state);
  return call_callbacks(r, "pretask", 3);
}

int lask_l_on_posttask(void *ctx, uint32_t node, lask_value result, int worker) {
  lask_lrun *r = ctx;
  lua_State *L = r->L;
  if (!is_task(r->c->g, node)) return 0;
  lua_pushinteger(L, ++r->done);
  lua_setfield(L, r->state, "done");
  lua_rawgeti(L, lask_lconv_keys(L, r->c), (lua_Integer)node + 1);
  lask_l_pushval(L, result);
  lua_pushvalue(L, r->c->dsk);
  lua_pushvalue(L, r->state);
  lua_pushinteger(L, worker);
  return call_callbacks(r, "posttask", 5);
}

/* True when some callback object has the field name (a callback it wants). */
static int wants(lask_lrun *r, const char *name) {
  lua_State *L = r->L;
  lua_Integer ncb = (lua_Integer)lua_rawlen(L, r->cbs);
  int found = 0;
  for (lua_Integer i = 1; i <= ncb && !found; i++) {
    lua_rawgeti(L, r->cbs, i);
    found = lua_getfield(L, -1, name) != LUA_TNIL;
    lua_pop(L, 2);
  }
  return found;
}

/* Raises the error a callback raised (kept in r->errobj). */
static int raise_callback_error(lask_lrun *r) {
  lua_State *L = r->L;
  lua_getfield(L, r->errobj, "callback");
  lua_getfield(L, r->errobj, "message");
  lua_pushfstring(L, "callback %s failed: %s", lua_tostring(L, -2), lua_tostring(L, -1));
  lua_createtable(L, 0, 4);
  lua_pushliteral(L, "callback"), lua_setfield(L, -2, "kind");
  lua_pushvalue(L, -2), lua_setfield(L, -2, "message");
  lua_getfield(L, r->errobj, "traceback"), lua_setfield(L, -2, "traceback");
  lua_getfield(L, r->errobj, "value"), lua_setfield(L, -2, "value");
  luaL_setmetatable(L, LASK_ERROR_MT);
  return lua_error(L);
}

/* Pushes the results mirroring the structure of the keys at idx; *k walks results. */
static void push_results(lua_State *L, int idx, const lask_value *results, size_t *k) {
  idx = lua_absindex(L, idx);
  int plain_table = lua_type(L, idx) == LUA_TTABLE && !lua_getmetatable(L, idx);
  if (lua_type(L, idx) == LUA_TTABLE && !plain_table) lua_pop(L, 1); /* the metatable */
  if (!plain_table) return lask_l_pushval(L, results[(*k)++]);
  luaL_checkstack(L, 4, "lask: keys nested too deep");
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    push_results(L, -1, results, k);
    lua_rawseti(L, -3, i);
    lua_pop(L, 1);
  }
}

/* Raises the error of a failed run as a lask.error. */
int lask_l_raise_run_error(lask_lrun *r, const lask_err *err) {
  lua_State *L = r->L;
  lask_lconv *c = r->c;
  if (err->code == LASK_ECYCLE) {
    uint32_t *ids;
    size_t len;
    if (lask_graph_cycle(c->g, &ids, &len) != LASK_OK || !ids) return luaL_error(L, "lask: %s", err->msg);
    luaL_Buffer b;
    lua_createtable(L, (int)len, 0);
    int cycle = lua_gettop(L);
    luaL_buffinit(L, &b);
    /* A long cycle shows its first CYCLE_HEAD and last CYCLE_TAIL keys (err.cycle has
     * them all): a 100,000-key cycle made a 1.2 MB message. */
    enum { CYCLE_HEAD = 10, CYCLE_TAIL = 5 };
    int elide = len > CYCLE_HEAD + CYCLE_TAIL + 5;
    for (size_t i = 0; i < len; i++) {
      lua_rawgeti(L, lask_lconv_keys(L, c), (lua_Integer)ids[i] + 1);
      lua_rawseti(L, cycle, (lua_Integer)i + 1);
    }
    for (size_t i = 0; i <= len; i++) { /* the first key again closes the loop */
      if (elide && i == CYCLE_HEAD) {
        lua_pushfstring(L, " -> … (%d more) …", (int)(len - CYCLE_HEAD - CYCLE_TAIL));
        luaL_addvalue(&b);
        i = len - CYCLE_TAIL;
      }
      if (i) luaL_addstring(&b, " -> ");
      lua_rawgeti(L, cycle, (lua_Integer)(i % len) + 1);
      lask_l_pushkeyrepr(L, -1);
      lua_remove(L, -2);
      luaL_addvalue(&b);
    }
    free(ids);
    luaL_pushresult(&b);
    if (elide)
      lua_pushfstring(L, "the graph has a cycle of %d keys: %s", (int)len, lua_tostring(L, -1));
    else
      lua_pushfstring(L, "the graph has a cycle: %s", lua_tostring(L, -1));
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "cycle"), lua_setfield(L, -2, "kind");
    lua_pushvalue(L, -2), lua_setfield(L, -2, "message");
    lua_pushvalue(L, cycle), lua_setfield(L, -2, "cycle");
    luaL_setmetatable(L, LASK_ERROR_MT);
    return lua_error(L);
  }
  if (err->code == LASK_EINTR || lask_l_interrupted())
    return lask_l_raise(L, c, "interrupted", LASK_NO_NODE, "interrupted (SIGINT) while running the graph");
  if (err->code != LASK_EHOST) return lask_l_raise(L, c, "task", err->node, "%s", err->msg);
  lua_createtable(L, 0, 6);
  lua_pushliteral(L, "task"), lua_setfield(L, -2, "kind");
  if (err->node != LASK_NO_NODE)
    lua_rawgeti(L, lask_lconv_keys(L, c), (lua_Integer)err->node + 1), lua_setfield(L, -2, "key");
  const char *fields[] = {"message", "traceback", "value"};
  for (int i = 0; i < 3; i++) lua_getfield(L, r->errobj, fields[i]), lua_setfield(L, -2, fields[i]);
  luaL_setmetatable(L, LASK_ERROR_MT);
  return lua_error(L);
}

/* The scheduler named in opts: SCHED_SYNC, SCHED_THREADED or SCHED_MP (below). */
static int parse_sched(lua_State *L, int opts) {
  static const char *const names[] = {"sync", "threaded", "multiprocessing", NULL};
  if (lua_isnoneornil(L, opts)) return 0;
  lua_getfield(L, opts, "scheduler");
  int which = lua_isnil(L, -1) ? 0 : luaL_checkoption(L, -1, NULL, names);
  lua_pop(L, 1);
  return which;
}

enum { SCHED_SYNC, SCHED_THREADED, SCHED_MP };

/* With callbacks in opts: calls their start; per-task callbacks (o->callbacks)
 * only when one has pretask or posttask, since they take every task through Lua;
 * the trace (o->trace) when one wants the timeline. Returns the stack index of the
 * trace, or 0. */
static int setup_callbacks(lask_lrun *r, int which, lask_run_opts *o, lask_callbacks *cbs) {
  lua_State *L = r->L;
  if (lua_isnil(L, 3) || lua_getfield(L, 3, "callbacks") != LUA_TTABLE || lua_rawlen(L, -1) == 0) return 0;
  r->cbs = lua_gettop(L);
  lua_createtable(L, 0, 2), r->state = lua_gettop(L);
  lua_pushinteger(L, count_tasks(r->c->g)), lua_setfield(L, r->state, "ntasks");
  lua_pushvalue(L, 1);
  if (call_callbacks(r, "start", 1)) raise_callback_error(r);
  *cbs = (lask_callbacks){.ctx = r, .pretask = lask_l_on_pretask, .posttask = lask_l_on_posttask};
  if (wants(r, "pretask") || wants(r, "posttask")) o->callbacks = cbs;
  if (!wants(r, "timeline")) return 0;
  int workers = which == SCHED_MP         ? lask_l_mp_workers(L, o->num_workers)
                : which == SCHED_THREADED ? lask_engine_workers(lask_l_engine(L))
                                          : 1;
  o->trace = lask_l_newtrace(L, r->c_index, lask_lconv_keys(L, r->c), workers);
  return lua_gettop(L);
}

/* Runs the converted graph on the chosen scheduler, with Ctrl-C caught. */
static lask_status run_graph(lask_lrun *r, int which, lask_run_opts *o, lask_value *results, lask_err *err) {
  lua_State *L = r->L;
  lask_engine *engine = which == SCHED_THREADED ? lask_l_engine(L) : NULL;
  struct sigaction old_sigint;
  int installed = lask_l_catch_sigint(L, &old_sigint);
  o->interrupt = lask_l_interrupt_flag();
  r->c->running++;
  lask_buffer_cache_run_begin();
  lask_status st = which == SCHED_MP ? lask_l_run_mp(r, o, results, err)
                                     : lask_run(engine, r->c->g, r->c->outs, r->c->nouts, o, results, err);
  lask_buffer_cache_run_end();
  r->c->running--;
  lask_l_release_sigint(L, installed, &old_sigint);
  lask_l_drain(L, r->c->ctx);
  return st;
}

/* After the run: the timeline (at stack index trace, if any) and finish callbacks.
 * A callback stopped by Ctrl-C is the interrupt, not a failed callback: finish still
 * runs, and the get raises the interrupt. */
static void end_callbacks(lask_lrun *r, int trace, lask_status st) {
  lua_State *L = r->L;
  if (!r->cbs) return;
  if (r->callback_failed && lask_l_interrupted()) r->callback_failed = 0;
  if (st == LASK_OK) lua_getfield(L, r->state, "ntasks"), lua_setfield(L, r->state, "done");
  if (trace && !r->callback_failed) {
    lua_pushvalue(L, trace);
    call_callbacks(r, "timeline", 1);
  }
  if (!r->callback_failed) {
    lua_pushvalue(L, 1), lua_pushvalue(L, r->state), lua_pushboolean(L, st != LASK_OK);
    call_callbacks(r, "finish", 3);
  }
}

/* opts.lua = "parallel" on the threaded scheduler: Lua tasks on worker states
 * (lstates.c); NULL for Lua tasks on the calling state. */
static lask_lpar *parallel_lua(lask_lrun *r, int which, lask_run_opts *o) {
  lua_State *L = r->L;
  static const char *const modes[] = {"caller", "parallel", NULL};
  if (lua_isnil(L, 3) || lua_getfield(L, 3, "lua") == LUA_TNIL)
    return lua_settop(L, lua_gettop(L) - !lua_isnil(L, 3)), NULL;
  int parallel = luaL_checkoption(L, -1, NULL, modes);
  lua_pop(L, 1);
  return parallel && which == SCHED_THREADED ? lask_l_par_prepare(r, 3, o) : NULL;
}

/* core.get(dsk, keys [, opts]), dsk a table or a lask.graph_builder with opts.scheduler ("sync", "threaded",
 * "multiprocessing"), opts.num_workers, opts.callbacks (a list), opts.lua
 * ("caller" or "parallel"), opts.strict, opts.fed (ldist.c: threaded, values fed
 * from and sent to other ranks). */
static int l_get(lua_State *L) {
  if (!lua_istable(L, 1) && !luaL_testudata(L, 1, "lask.graph_builder")) luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  int which = parse_sched(L, 3);
  lask_run_opts o = {.sched = which == SCHED_THREADED ? LASK_SCHED_THREADED : LASK_SCHED_SYNC};
  if (!lua_isnil(L, 3) && lua_getfield(L, 3, "num_workers") != LUA_TNIL)
    o.num_workers = (int)luaL_checkinteger(L, -1);
  lua_settop(L, 3);
  lask_lrun r = {.L = L};
  int built = (r.c = lask_lbuild_get_begin(L, 1)) != NULL; /* a graph builder's, or: */
  if (!built) r.c = lask_lconv_new(L, 1);                  /* 4: keys, 5: values, 6: the conversion */
  r.c_index = lua_gettop(L);
  lask_lconv_outputs(L, r.c, 2);
  size_t nrequested = r.c->nouts;
  lask_l_fed_convert_outputs(L, r.c, 3);
  if (built)
    lask_lbuild_finish(L, r.c);
  else
    lask_lconv_build(L, r.c);
  r.c->nouts = nrequested; /* a fed get's values for other ranks are built, not requested */
  lask_l_push_msgh(L), r.msgh = lua_gettop(L);
  lua_pushnil(L), r.errobj = lua_gettop(L);
  lask_ldist *fed = lask_l_fed_prepare(&r, 3, &o);
  if (fed) which = SCHED_THREADED;
  lask_lpar *par = parallel_lua(&r, which, &o);
  lask_callbacks cbs;
  int trace = setup_callbacks(&r, which, &o, &cbs);
  lask_host_ops host = {.ctx = &r, .call = lask_l_host_call};
  o.host = &host;
  lask_value *results = lua_newuserdatauv(L, (r.c->nouts ? r.c->nouts : 1) * sizeof *results, 0);
  lask_err err;
  if (par) lask_l_par_mark(&r, par), lask_l_par_arm(par);
  lask_status st = run_graph(&r, which, &o, results, &err);
  if (par) lask_l_par_finish(&r, par, st == LASK_OK ? NULL : &err);
  end_callbacks(&r, trace, st);
  if (st == LASK_OK && r.callback_failed)
    for (size_t k = 0; k < r.c->nouts; k++) lask_release(results[k]);
  if (r.callback_failed) return raise_callback_error(&r);
  if (st != LASK_OK && lask_l_fed_remote(fed))
    return lask_l_raise(L, r.c, "remote", LASK_NO_NODE, "%s", err.msg);
  if (st != LASK_OK) return lask_l_raise_run_error(&r, &err);
  lask_lconv_done(L, r.c);
  size_t k = 0;
  push_results(L, 2, results, &k);
  for (k = 0; k < r.c->nouts; k++) lask_release(results[k]);
  return 1;
}

/* core.order(dsk, keys) -> key -> priority (0 runs first) for every key the keys need. */
static int l_order(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  lua_settop(L, 2);
  lask_lconv *c = lask_lconv_new(L, 1);
  lask_lconv_outputs(L, c, 2);
  lask_lconv_build(L, c);
  uint32_t *prio = lua_newuserdatauv(L, (c->g->n ? c->g->n : 1) * sizeof *prio, 0);
  lask_err err;
  if (lask_order(c->g, prio, &err) != LASK_OK) {
    lask_lrun r = {.L = L, .c = c};
    return lask_l_raise_run_error(&r, &err);
  }
  lua_createtable(L, 0, (int)c->g->n);
  for (uint32_t i = 0; i < c->g->n; i++) {
    lua_rawgeti(L, lask_lconv_keys(L, c), (lua_Integer)i + 1);
    lua_pushinteger(L, prio[i]);
    lua_rawset(L, -3);
  }
  return 1;
}

/* A task's error names its key; errors found before running carry it in the message. */
static int error_tostring(lua_State *L) {
  lua_getfield(L, 1, "message");
  lua_getfield(L, 1, "kind");
  if (lua_getfield(L, 1, "key") != LUA_TNIL && strcmp(luaL_optstring(L, 3, ""), "task") == 0) {
    lask_l_pushkeyrepr(L, -1);
    lua_pushfstring(L, "lask: task %s failed: %s", lua_tostring(L, -1), luaL_optstring(L, 2, "?"));
  } else {
    lua_pushfstring(L, "lask: %s", luaL_optstring(L, 2, "?"));
  }
  return 1;
}

void lask_l_open_get(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"get", l_get}, {"order", l_order}, {"mp_stats", lask_l_mp_stats}, {NULL, NULL}};
  if (luaL_newmetatable(L, LASK_ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}
