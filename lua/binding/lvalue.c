/* lvalue.c — the binding context, host objects, kernels as Lua values, and the
 * conversions between Lua values and engine values. */
#include <stdlib.h>
#include <string.h>

#include "binding.h"

static const char ctx_key = 'c', refs_key = 'r', kernels_key = 'k';

/* The context lives in malloc'd memory the state's userdata points to: a state
 * closed during a run (os.exit(code, true) in a task) leaves it, and the engine,
 * to the workers still running, which release host objects into it; exit follows. */
static int ctx_gc(lua_State *L) {
  lask_lctx **slot = lua_touserdata(L, 1), *ctx = *slot;
  if (!ctx) return 0;
  *slot = NULL;
  int running = lask_engine_runs(ctx->engine) > 0;
  if (!running && ctx->close_states) ctx->close_states(ctx); /* before the engine: its threads are idle */
  if (ctx->owns_engine) lask_engine_free(ctx->engine);       /* deferred to the run's end if running */
  if (running) return 0;
  pthread_mutex_destroy(&ctx->dead_mu);
  free(ctx->dead);
  free(ctx);
  return 0;
}

lask_lctx *lask_l_ctx(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ctx_key) != LUA_TNIL) {
    lask_lctx *ctx = *(lask_lctx **)lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!ctx) luaL_error(L, "lask: the binding context is closed");
    return ctx;
  }
  lua_pop(L, 1);
  lask_lctx **slot = lua_newuserdatauv(L, sizeof *slot, 0);
  *slot = NULL;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, ctx_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lask_lctx *ctx = *slot = calloc(1, sizeof *ctx);
  if (!ctx) luaL_error(L, "lask: out of memory");
  pthread_mutex_init(&ctx->dead_mu, NULL);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &ctx_key);
  lua_pop(L, 1);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &refs_key);
  return ctx;
}

lask_engine *lask_l_engine(lua_State *L) {
  lask_lctx *ctx = lask_l_ctx(L);
  if (!ctx->engine) {
    lask_err err;
    if (!(ctx->engine = lask_engine_new(0, &err))) luaL_error(L, "lask: %s", err.msg);
    ctx->owns_engine = 1;
  }
  return ctx->engine;
}

/* Host objects die on any thread: queue the ref for the host thread to free. */
static void host_destroy(lask_obj *o) {
  lask_hostobj *h = (lask_hostobj *)o;
  lask_lctx *ctx = h->ctx;
  pthread_mutex_lock(&ctx->dead_mu);
  if (ctx->ndead == ctx->capdead) {
    size_t cap = ctx->capdead ? ctx->capdead * 2 : 64;
    int *dead = realloc(ctx->dead, cap * sizeof *dead);
    if (dead) ctx->dead = dead, ctx->capdead = cap;
  }
  if (ctx->ndead < ctx->capdead) ctx->dead[ctx->ndead++] = h->ref; /* else: leaked until the state closes */
  atomic_store_explicit(&ctx->ndead_hint, ctx->ndead, memory_order_relaxed);
  pthread_mutex_unlock(&ctx->dead_mu);
  free(h);
}

const lask_class lask_host_class = {"Lua value", host_destroy};

void lask_l_drain(lua_State *L, lask_lctx *ctx) {
  if (atomic_load_explicit(&ctx->ndead_hint, memory_order_relaxed) == 0) return;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &refs_key);
  pthread_mutex_lock(&ctx->dead_mu);
  for (size_t i = 0; i < ctx->ndead; i++) luaL_unref(L, -1, ctx->dead[i]);
  ctx->ndead = 0;
  atomic_store_explicit(&ctx->ndead_hint, 0, memory_order_relaxed);
  pthread_mutex_unlock(&ctx->dead_mu);
  lua_pop(L, 1);
}

static int new_host(lua_State *L, lask_lctx *ctx, int idx, lask_value *out) {
  lask_hostobj *h = malloc(sizeof *h);
  if (!h) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &refs_key);
  lua_pushvalue(L, idx);
  h->ref = luaL_ref(L, -2);
  lua_pop(L, 1);
  h->ctx = ctx;
  lask_obj_init(&h->h, &lask_host_class);
  *out = lask_objval(&h->h);
  return 1;
}

int lask_l_toval(lua_State *L, lask_lctx *ctx, int idx, lask_value *out) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
  case LUA_TNIL: *out = lask_nil(); return 1;
  case LUA_TBOOLEAN: *out = lask_bool(lua_toboolean(L, idx)); return 1;
  case LUA_TNUMBER:
    *out = lua_isinteger(L, idx) ? lask_int(lua_tointeger(L, idx)) : lask_num(lua_tonumber(L, idx));
    return 1;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    lask_str *str = lask_str_new(s, len);
    if (!str) return 0;
    *out = lask_objval(&str->h);
    return 1;
  }
  case LUA_TUSERDATA: {
    const lask_kernel *k = lask_l_tokernel(L, idx);
    if (k) {
      *out = lask_retain(lask_objval((lask_obj *)&k->h));
      return 1;
    }
    bool failed = false;
    lask_ndarray *a = lask_l_tondarray_quiet(L, idx, &failed); /* a pending one evaluated */
    if (failed) return 0;
    if (a) {
      *out = lask_retain(lask_ndarray_value(a));
      return 1;
    }
    break;
  }
  }
  return new_host(L, ctx, idx, out);
}

enum { MAX_PUSH_CLASSES = 4 };
static const lask_lclass *push_classes[MAX_PUSH_CLASSES]; /* written by registration only */
static _Atomic int npush_classes;

void lask_l_register_push(const lask_lclass *c) {
  static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&mu);
  int n = atomic_load(&npush_classes), known = 0;
  for (int i = 0; i < n; i++) known |= push_classes[i] == c;
  if (!known && n < MAX_PUSH_CLASSES) push_classes[n] = c, atomic_store(&npush_classes, n + 1);
  pthread_mutex_unlock(&mu);
}

/* Pushes v with its registered class's push; 0 when its class is not registered. */
static int push_registered(lua_State *L, lask_value v) {
  int n = atomic_load(&npush_classes);
  for (int i = 0; i < n; i++)
    if (v.as.o->cls == &push_classes[i]->cls) return push_classes[i]->push(L, v), 1;
  return 0;
}

void lask_l_pushval(lua_State *L, lask_value v) {
  switch ((lask_type)v.type) {
  case LASK_TNIL: lua_pushnil(L); return;
  case LASK_TBOOL: lua_pushboolean(L, v.as.b); return;
  case LASK_TINT: lua_pushinteger(L, v.as.i); return;
  case LASK_TNUM: lua_pushnumber(L, v.as.n); return;
  case LASK_TOBJ: break;
  }
  const lask_class *cls = v.as.o->cls;
  if (cls == &lask_host_class) {
    if (((lask_hostobj *)v.as.o)->ctx != lask_l_ctx(L)) /* another state's: see lask_l_freeze */
      luaL_error(L, "lask: a Lua value of another Lua state cannot be used here (it could not be copied)");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &refs_key);
    lua_rawgeti(L, -1, ((lask_hostobj *)v.as.o)->ref);
    lua_remove(L, -2);
  } else if (cls == &lask_str_class) {
    const lask_str *s = (const lask_str *)v.as.o;
    lua_pushlstring(L, s->data, s->len);
  } else if (cls == &lask_list_class) {
    const lask_list *l = (const lask_list *)v.as.o;
    lua_createtable(L, (int)l->n, 0);
    for (size_t i = 0; i < l->n; i++) lask_l_pushval(L, l->items[i]), lua_rawseti(L, -2, (lua_Integer)i + 1);
  } else if (cls == &lask_kernel_class) {
    lask_l_pushkernel(L, (const lask_kernel *)v.as.o);
  } else if (cls == &lask_ndarray_class) {
    lask_l_pushndarray(L, (lask_ndarray *)v.as.o);
  } else if (!push_registered(L, v)) {
    lua_pushfstring(L, "<lask %s>", cls->name);
  }
}

/* --- kernels as callable userdata --- */

typedef struct kernel_ud {
  lask_value k; /* a retained kernel object */
} kernel_ud;

const lask_kernel *lask_l_tokernel(lua_State *L, int idx) {
  kernel_ud *u = luaL_testudata(L, idx, LASK_KERNEL_MT);
  return u ? (const lask_kernel *)u->k.as.o : NULL;
}

void lask_l_pushkernel(lua_State *L, const lask_kernel *k) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kernels_key); /* weak cache: kernel address -> userdata */
  if (lua_rawgetp(L, -1, k) != LUA_TNIL) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  kernel_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->k = lask_retain(lask_objval((lask_obj *)&k->h));
  luaL_setmetatable(L, LASK_KERNEL_MT);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, -3, k);
  lua_remove(L, -2);
}

static int kernel_gc(lua_State *L) {
  kernel_ud *u = luaL_checkudata(L, 1, LASK_KERNEL_MT);
  lask_release(u->k);
  u->k = lask_nil();
  return 0;
}

static int kernel_tostring(lua_State *L) {
  lua_pushstring(L, lask_l_tokernel(L, 1)->name);
  return 1;
}

/* Like lask_l_toval, but a plain sequence table becomes an engine list (recursively),
 * as a list argument in a graph does. */
static int toval_lists(lua_State *L, lask_lctx *ctx, int idx, lask_value *out) {
  idx = lua_absindex(L, idx);
  lua_Integer n = lua_type(L, idx) == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, idx) : 0;
  if (n > 0 && lua_getmetatable(L, idx)) lua_pop(L, 1), n = 0; /* objects stay Lua values */
  if (n == 0) return lask_l_toval(L, ctx, idx, out);
  lask_list *l = lask_list_new((size_t)n);
  if (!l) return 0;
  *out = lask_objval(&l->h);
  luaL_checkstack(L, 4, "lask: list nested too deep");
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    int ok = toval_lists(L, ctx, -1, &l->items[i - 1]);
    lua_pop(L, 1);
    if (!ok) return lask_release(*out), 0;
  }
  return 1;
}

/* Calling a kernel from Lua: convert, run on this thread, convert back. */
static int kernel_call(lua_State *L) {
  const lask_kernel *k = lask_l_tokernel(L, 1);
  lask_lctx *ctx = lask_l_ctx(L);
  int n = lua_gettop(L) - 1;
  if (lask_l_ndarray_apply(L, k, 2, n)) return 1; /* an elementwise operator on ndarrays: recorded */
  lask_value *args = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *args, 0), out = lask_nil();
  int made = 0;
  while (made < n && toval_lists(L, ctx, made + 2, &args[made])) made++;
  lask_err err;
  lask_err_clear(&err);
  lask_status st = made < n ? lask_err_set(&err, LASK_ENOMEM, LASK_NO_NODE, "out of memory")
                            : k->fn(k, args, n, &out, &err);
  for (int i = 0; i < made; i++) lask_release(args[i]);
  if (st != LASK_OK) return luaL_error(L, "%s", err.msg);
  lask_l_pushval(L, out);
  lask_release(out);
  lask_l_drain(L, ctx);
  return 1;
}

void lask_l_open_kernels(lua_State *L) {
  static const luaL_Reg mt[] = {
      {"__gc", kernel_gc}, {"__tostring", kernel_tostring}, {"__call", kernel_call}, {NULL, NULL}};
  if (luaL_newmetatable(L, LASK_KERNEL_MT)) luaL_setfuncs(L, mt, 0);
  lua_pop(L, 1);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kernels_key) == LUA_TNIL) {
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kernels_key);
  }
  lua_pop(L, 1);
  lua_newtable(L);
  for (int i = 0; lask_kernel_builtin(i); i++) {
    lask_l_pushkernel(L, lask_kernel_builtin(i));
    lua_setfield(L, -2, lask_kernel_builtin(i)->name);
  }
}
