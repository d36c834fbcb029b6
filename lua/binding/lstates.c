/* lstates.c — Lua tasks on every worker: a Lua state per engine worker, for gets
 * with lua = "parallel".
 *
 * Each worker (pool thread or the calling thread, numbered as the engine does)
 * owns a Lua state, made by that worker on its first Lua task with the standard
 * libraries, the lask modules and the caller's package.path/cpath, and kept warm
 * until the caller's state closes (lask_l_states_free, with the engine idle). A
 * worker state is touched by its worker only, during a run; made and closed
 * outside runs or by the worker itself.
 *
 * Before the run, on the calling thread, lask_l_par_prepare freezes the graph's
 * Lua constants (task heads with their upvalues, Lua arguments; lcopy.c) in place
 * and the caller's globals one by one: a snapshot. A task whose constants all froze
 * may run anywhere (lask_worker_hosts.anywhere); the others run on the calling
 * state as without the option, or make the get fail when strict. On its first task
 * of a get, a worker empties its copies of the last get's constants, collects its
 * garbage, and makes the environment copied functions see: a table falling back to
 * the worker's globals that copies a snapshotted global on first read.
 *
 * A worker task's error is kept in its worker's slot (message, traceback) and put
 * in the get's error object after the run (lask_l_par_finish).
 *
 * Ctrl-C stops Lua code inside long tasks too, at no cost until it comes: the SIGINT
 * handler (lsigint.c) calls lask_l_states_sigint (registered for the get), which hooks the worker state its
 * own thread is running (as lua.c hooks its own state from its handler) and, the first time, forwards the
 * signal to the other threads running worker states, whose handlers hook theirs. A hook left on a state all
 * the time would cost Lua code 1.5-3x (Lua traps every instruction while a count hook is set).
 * ThreadSanitizer builds poll instead, with a count hook on every worker state: TSan runs a signal handler
 * only when its thread makes an intercepted call, which a pure-Lua loop never does.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"

typedef struct wstate {
  lua_State *L;     /* NULL until the worker first needs it */
  pthread_t thread; /* the worker's thread, set while busy */
  _Atomic int busy; /* 1 while the worker runs a task on L */
  lask_lctx *lctx;
  lask_host_ops ops;
  uint64_t gen; /* the get it is prepared for */
  uint32_t err_node;
  char *err_msg, *err_tb; /* its last task error (malloc'd), or NULL */
} wstate;

typedef struct lask_lstates {
  int n; /* the engine's workers */
  wstate *w;
  lask_engine *e;
  uint64_t gen; /* counts parallel gets */
  lask_lpar *par;
} lask_lstates;

struct lask_lpar {
  lask_lstates *st;
  char *path, *cpath;
  size_t nglobals;
  char **gnames;
  lask_value *gvals; /* frozen, or nil when gerrs[i] says why not */
  char **gerrs;
  uint8_t *anywhere;
  lask_worker_hosts wh;
};

static void free_errors(wstate *w) {
  free(w->err_msg), free(w->err_tb);
  w->err_msg = w->err_tb = NULL;
}

void lask_l_states_free(lask_lctx *ctx) {
  lask_lstates *st = ctx->states;
  if (!st) return;
  for (int i = 0; i < st->n; i++) {
    if (st->w[i].L) lua_close(st->w[i].L);
    free_errors(&st->w[i]);
  }
  free(st->w), free(st);
  ctx->states = NULL;
}

/* --- Ctrl-C --- */

#if defined(__SANITIZE_THREAD__)
#define POLL_FOR_SIGINT 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define POLL_FOR_SIGINT 1
#endif
#endif
#ifndef POLL_FOR_SIGINT
#define POLL_FOR_SIGINT 0
#endif

enum { POLL_EVERY = 10000 }; /* TSan builds: VM instructions between looks at the flag */

static _Thread_local lua_State *running; /* the worker state this thread runs a task on */
static _Atomic(lask_lstates *) active;   /* the worker states of the running parallel get */

/* The hook a Ctrl-C puts on a worker state (or, polling, a count hook). */
static void poll_interrupt(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (!lask_l_interrupted()) return;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted");
}

void lask_l_states_sigint(int first) {
  lua_State *L = running;
  if (L) lua_sethook(L, poll_interrupt, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  lask_lstates *st = atomic_load(&active);
  if (!first || !st) return;
  for (int i = 0; i < st->n; i++) {
    wstate *w = &st->w[i];
    if (atomic_load(&w->busy) && !pthread_equal(w->thread, pthread_self())) pthread_kill(w->thread, SIGINT);
  }
}

/* --- on the worker --- */

/* __index of the environment of copied functions: a snapshotted global is copied
 * on first read (upvalue 1: the get's lask_lpar, 2: name -> snapshot index). */
static int env_index(lua_State *L) {
  const lask_lpar *p = lua_touserdata(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNUMBER) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
  }
  size_t i = (size_t)lua_tointeger(L, -1);
  if (p->gerrs[i])
    return luaL_error(L, "global '%s' cannot be copied to a worker state: %s", p->gnames[i], p->gerrs[i]);
  lask_l_pushval(L, p->gvals[i]);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

/* Sets L up for get p: new copies of constants and globals, the interrupt hook. */
static int start_get(lua_State *L) {
  lask_lpar *p = lua_touserdata(L, 1);
  if (POLL_FOR_SIGINT)
    lua_sethook(L, poll_interrupt, LUA_MASKCOUNT, POLL_EVERY);
  else
    lua_sethook(L, NULL, 0, 0); /* a Ctrl-C's hook left from the last get */
  lua_getglobal(L, "require");  /* kernels and ndarrays arrive as userdata of lask.core's */
  lua_pushliteral(L, "lask.core");
  lua_call(L, 1, 0);
  lask_l_copy_new_get(L);
  lua_gc(L, LUA_GCCOLLECT); /* the last get's copies: memory stays flat over gets */
  lua_newtable(L);          /* the environment */
  lua_createtable(L, 0, 1);
  lua_pushlightuserdata(L, p);
  lua_createtable(L, 0, (int)p->nglobals);
  for (size_t i = 0; i < p->nglobals; i++)
    lua_pushinteger(L, (lua_Integer)i), lua_setfield(L, -2, p->gnames[i]);
  lua_pushcclosure(L, env_index, 2);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pushliteral(L, "_G");
  lua_pushvalue(L, -2);
  lua_rawset(L, -3); /* _G.x reads the snapshot too */
  lask_l_copy_set_env(L, -1);
  return 0;
}

/* Makes the worker's state: standard libraries, lask, the caller's package paths. */
static lua_State *new_state(lask_lpar *p) {
  lua_State *L = lask_lua_new_state(p->st->e);
  if (!L) return NULL;
  lua_getglobal(L, "package");
  lua_pushstring(L, p->path), lua_setfield(L, -2, "path");
  lua_pushstring(L, p->cpath), lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
  return L;
}

typedef struct task {
  lask_value head;
  const lask_value *args;
  int nargs;
  lask_value *out;
} task;

/* Runs one task on the worker's state (in a protected call): its head and
 * arguments copied in, its result frozen out. */
static int run_task(lua_State *L) {
  task *t = lua_touserdata(L, 1);
  lua_settop(L, 0);
  luaL_checkstack(L, t->nargs + 4, "lask: too many arguments");
  lask_l_pushval(L, t->head);
  for (int i = 0; i < t->nargs; i++) lask_l_pushval(L, t->args[i]);
  lua_call(L, t->nargs, 1);
  const char *why = lask_l_toval_frozen(L, -1, 0, t->out);
  if (why) return luaL_error(L, "its result cannot be copied back: %s", why);
  return 0;
}

static lask_status worker_call(void *ctx, uint32_t node, lask_value head, const lask_value *args, int nargs,
                               lask_value *out, lask_err *err) {
  wstate *w = ctx;
  lua_State *L = w->L;
  lask_l_drain(L, w->lctx);
  lask_l_push_msgh(L);
  int h = lua_gettop(L);
  task t = {head, args, nargs, out};
  lua_pushcfunction(L, run_task);
  lua_pushlightuserdata(L, &t);
  w->thread = pthread_self(), running = L;
  atomic_store(&w->busy, 1);
  int st = lua_pcall(L, 1, 0, h);
  atomic_store(&w->busy, 0);
  running = NULL;
  if (st == LUA_OK) return lua_settop(L, h - 1), LASK_OK;
  free_errors(w);
  w->err_node = node;
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_getfield(L, -1, "message"), lua_getfield(L, -2, "traceback");
    w->err_msg = strdup(lua_tostring(L, -2) ? lua_tostring(L, -2) : "error");
    w->err_tb = lua_tostring(L, -1) ? strdup(lua_tostring(L, -1)) : NULL;
    char *frame = w->err_tb ? strstr(w->err_tb, "\n\t[C]: in ?") : NULL; /* run_task's own */
    if (frame && frame[strlen("\n\t[C]: in ?")] == '\0') *frame = '\0';
  }
  lua_settop(L, h - 1);
  return lask_err_set(err, LASK_EHOST, node, "%s", w->err_msg ? w->err_msg : "out of memory");
}

static lask_status no_state(void *ctx, uint32_t node, lask_value head, const lask_value *args, int nargs,
                            lask_value *out, lask_err *err) {
  (void)ctx, (void)head, (void)args, (void)nargs, (void)out;
  return lask_err_set(err, LASK_ENOMEM, node, "out of memory making a worker's Lua state");
}

/* lask_worker_hosts.ops: worker w's host ops, its state made or readied for this get. */
static const lask_host_ops *worker_ops(void *ctx, int w) {
  lask_lpar *p = ctx;
  wstate *ws = &p->st->w[w];
  if (ws->gen == p->st->gen) return &ws->ops;
  ws->gen = p->st->gen;
  ws->ops = (lask_host_ops){.ctx = ws, .call = no_state};
  lua_State *L = ws->L ? ws->L : new_state(p);
  if (!L) return &ws->ops;
  ws->L = L;
  ws->lctx = lask_l_ctx(L);
  free_errors(ws);
  lua_pushcfunction(L, start_get);
  lua_pushlightuserdata(L, p);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) return lua_pop(L, 1), &ws->ops;
  ws->ops.call = worker_call;
  return &ws->ops;
}

/* --- on the calling thread --- */

static int par_gc(lua_State *L) {
  lask_lpar *p = lua_touserdata(L, 1);
  for (size_t i = 0; i < p->nglobals; i++) {
    free(p->gnames[i]), free(p->gerrs[i]);
    lask_release(p->gvals[i]);
  }
  free(p->gnames), free(p->gerrs), free(p->gvals), free(p->anywhere), free(p->path), free(p->cpath);
  memset(p, 0, sizeof *p);
  return 0;
}

static lask_lstates *states(lua_State *L, lask_lctx *ctx) {
  if (ctx->states) return ctx->states;
  lask_engine *e = lask_l_engine(L);
  lask_lstates *st = calloc(1, sizeof *st);
  int n = lask_engine_workers(e);
  if (!st || !(st->w = calloc((size_t)n, sizeof *st->w)))
    return free(st), luaL_error(L, "lask: out of memory"), NULL;
  st->n = n, st->e = e;
  ctx->close_states = lask_l_states_free;
  return ctx->states = st;
}

static char *dup_field(lua_State *L, const char *name) {
  lua_getglobal(L, "package");
  const char *s = lua_istable(L, -1) && lua_getfield(L, -1, name) == LUA_TSTRING ? lua_tostring(L, -1) : "";
  char *copy = strdup(s);
  lua_settop(L, lua_gettop(L) - (lua_istable(L, -1) ? 1 : 2));
  return copy;
}

/* True when the bytes of name are in the bytecode of a function copied so far (the
 * table at dumps: function -> bytecode): code that reads a global by name keeps the
 * name among its constants. */
static int mentioned(lua_State *L, int dumps, const char *name, size_t len) {
  for (lua_pushnil(L); lua_next(L, dumps); lua_pop(L, 1)) {
    size_t n;
    const char *code = lua_tolstring(L, -1, &n);
    if (code && memmem(code, n, name, len)) return lua_pop(L, 2), 1;
  }
  return 0;
}

/* Freezes the global whose name and value are on top into p's snapshot. */
static void take_global(lua_State *L, lask_lpar *p) {
  size_t n = p->nglobals;
  if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to the next power of two */
    size_t cap = n ? n * 2 : 1;
    char **names = realloc(p->gnames, cap * sizeof *names);
    if (names) p->gnames = names;
    char **errs = realloc(p->gerrs, cap * sizeof *errs);
    if (errs) p->gerrs = errs;
    lask_value *vals = realloc(p->gvals, cap * sizeof *vals);
    if (vals) p->gvals = vals;
    if (!names || !errs || !vals) luaL_error(L, "lask: out of memory");
  }
  const char *why = lask_l_freeze(L, -1, lask_nil(), &p->gvals[n]);
  p->gerrs[n] = why ? strdup(why) : NULL;
  if (why) lua_pop(L, 1);
  p->gnames[n] = strdup(lua_tostring(L, -2));
  p->nglobals = n + 1;
}

/* Freezes into p the caller's globals the copied code may read: those named in the
 * bytecode of a copied function, the task heads' and the taken globals' own, until
 * no new name turns up. A global no function names (a big table, say) costs nothing. */
static void snapshot_globals(lua_State *L, lask_lpar *p) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  int g = lua_gettop(L);
  lask_l_push_dumps(L);
  lua_newtable(L); /* the names taken */
  int dumps = g + 1, taken = g + 2;
  for (int changed = 1; changed;) {
    changed = 0;
    for (lua_pushnil(L); lua_next(L, g); lua_pop(L, 1)) {
      if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "_G") == 0) continue;
      lua_pushvalue(L, -2);
      int seen = lua_rawget(L, taken) != LUA_TNIL;
      lua_pop(L, 1);
      size_t len;
      const char *name = lua_tolstring(L, -2, &len);
      if (seen || !mentioned(L, dumps, name, len)) continue;
      take_global(L, p);
      lua_pushvalue(L, -2);
      lua_pushboolean(L, 1);
      lua_rawset(L, taken);
      changed = 1;
    }
  }
  lua_pop(L, 3);
}

/* True when node i's program uses a Lua constant that did not freeze (its message
 * pushed, from errs). */
static int stuck(const lask_graph *g, uint32_t i, lua_State *L, int errs) {
  const uint32_t *code = g->code + g->code_off[i];
  for (uint32_t k = 0; k < g->code_len[i]; k++)
    if (LASK_OP(code[k]) == LASK_OP_CONST && lask_isa(g->consts[LASK_OPERAND(code[k])], &lask_host_class))
      return lua_rawgeti(L, errs, (lua_Integer)LASK_OPERAND(code[k]) + 1), 1;
  return 0;
}

/* Freezes g's Lua constants in place; their messages when they cannot be, in errs. */
static void freeze_constants(lua_State *L, lask_graph *g, int errs) {
  for (uint32_t c = 0; c < g->nconsts; c++) {
    if (!lask_isa(g->consts[c], &lask_host_class)) continue;
    lask_value frozen;
    lask_l_pushval(L, g->consts[c]);
    const char *why = lask_l_freeze(L, -1, g->consts[c], &frozen);
    if (why) {
      lua_rawseti(L, errs, (lua_Integer)c + 1);
    } else {
      lask_release(g->consts[c]); /* the frozen value keeps it as its origin */
      lask_l_frozen_set_constant(frozen);
      g->consts[c] = frozen;
    }
    lua_pop(L, 1);
  }
}

lask_lpar *lask_l_par_prepare(lask_lrun *r, int opts, lask_run_opts *o) {
  lua_State *L = r->L;
  lask_lstates *st = states(L, r->c->ctx);
  if (st->par) return NULL; /* a get inside a calling-state task: its states are busy */
  int strict = !lua_isnoneornil(L, opts) && (lua_getfield(L, opts, "strict"), lua_toboolean(L, -1));
  if (!lua_isnoneornil(L, opts)) lua_pop(L, 1);
  lask_lpar *p = lua_newuserdatauv(L, sizeof *p, 0);
  memset(p, 0, sizeof *p);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, par_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  p->st = st;
  lask_l_copy_begin(L);
  lask_graph *g = r->c->g;
  lua_newtable(L);
  freeze_constants(L, g, lua_gettop(L));
  if (!(p->anywhere = calloc(g->n ? g->n : 1, 1))) luaL_error(L, "lask: out of memory");
  for (uint32_t i = 0; i < g->n; i++) {
    if (!(g->flags[i] & LASK_NODE_HOST)) continue;
    if (!stuck(g, i, L, lua_gettop(L))) {
      p->anywhere[i] = 1;
      continue;
    }
    if (strict)
      lask_l_raise(L, r->c, "task", i, "cannot run on a worker state (lua = \"parallel\", strict = true): %s",
                   lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  snapshot_globals(L, p);
  p->path = dup_field(L, "path"), p->cpath = dup_field(L, "cpath");
  p->wh = (lask_worker_hosts){.ctx = p, .ops = worker_ops, .anywhere = p->anywhere};
  o->workers = &p->wh;
  r->freeze_results = 1;
  return p;
}

void lask_l_par_arm(lask_lpar *p) {
  p->st->gen++;
  p->st->par = p;
  atomic_store(&active, p->st);
  lask_l_sigint_forward(lask_l_states_sigint);
}

void lask_l_par_finish(lask_lrun *r, lask_lpar *p, const lask_err *err) {
  lua_State *L = r->L;
  lask_lstates *st = p->st;
  for (int i = 0; i < st->n; i++) {
    wstate *w = &st->w[i];
    if (err && err->code == LASK_EHOST && w->err_msg && w->err_node == err->node && lua_isnil(L, r->errobj)) {
      lua_createtable(L, 0, 3);
      lua_pushstring(L, w->err_msg), lua_setfield(L, -2, "message");
      lua_pushstring(L, w->err_msg), lua_setfield(L, -2, "value");
      if (w->err_tb) lua_pushstring(L, w->err_tb), lua_setfield(L, -2, "traceback");
      lua_replace(L, r->errobj);
    }
    free_errors(w);
  }
  st->par = NULL;
  atomic_store(&active, NULL);
  lask_l_sigint_forward(NULL);
}

void lask_l_par_mark(lask_lrun *r, lask_lpar *p) {
  lua_State *L = r->L;
  if (!r->state) return;
  const lask_graph *g = r->c->g;
  lua_newtable(L);
  for (uint32_t i = 0; i < g->n; i++)
    if ((g->flags[i] & LASK_NODE_HOST) && !p->anywhere[i]) {
      lua_rawgeti(L, lask_lconv_keys(L, r->c), (lua_Integer)i + 1);
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
  lua_setfield(L, r->state, "on_caller");
}
