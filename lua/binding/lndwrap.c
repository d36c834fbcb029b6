/* lndwrap.c — the lask.ndarray userdata itself: an engine array wrapped as a Lua
 * value, and unwrapped again. The value conversions (lvalue.c, lserial.c) use only
 * this; lndarray.c adds the methods, operators and printing to the metatable made
 * here, when lask.core opens.
 *
 * A lask.ndarray is a full userdata holding one reference to an engine array
 * (ndarray.h): arrays coming back from graphs are wrapped, never copied, and an
 * array passed into a graph is the same engine object. Or it is pending: it holds
 * an elementwise expression over other arrays (array/ewexpr.h, recorded by
 * lndexpr.c) and no array yet. Every way to its data goes through the unwrapping
 * functions here, which evaluate the expression first (one fused pass) and keep
 * the array in its place: from then on it is an ordinary lask.ndarray. Only its
 * layout (dtype, shape) is read without evaluating it.
 */
#include <limits.h>

#include "binding.h"
#include "core/check.h"

enum { LASK_GC_STEP_BYTES = 1 << 20 }; /* arrays from 1 MiB on tell the collector their size */

typedef struct nd_ud {
  lask_ndarray *a; /* one reference, dropped by __gc; NULL while pending */
  lask_ewexpr *e;  /* the pending expression (owned), or NULL */
} nd_ud;

static int nd_gc(lua_State *L) {
  nd_ud *u = luaL_checkudata(L, 1, LASK_NDARRAY_MT);
  if (u->a) lask_release(lask_ndarray_value(u->a));
  lask_ewexpr_free(u->e);
  u->a = NULL, u->e = NULL;
  return 0;
}

void lask_l_ndarray_metatable(lua_State *L) {
  if (!luaL_newmetatable(L, LASK_NDARRAY_MT)) return;
  lua_pushcfunction(L, nd_gc);
  lua_setfield(L, -2, "__gc");
}

static nd_ud *push_ud(lua_State *L) {
  nd_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->a = NULL, u->e = NULL;
  lask_l_ndarray_metatable(L);
  lua_setmetatable(L, -2);
  return u;
}

/* Lua sees a few bytes of userdata, not the array's memory: a big array makes the
 * collector step as if that memory had been allocated in Lua, so that temporaries
 * (x * 2 + y makes two) go back to the buffer cache while they are still warm
 * instead of piling up until a cycle the small userdata alone would not start. */
static void account(lua_State *L, const lask_ndarray *a) {
  size_t nbytes = a->buf ? a->buf->nbytes : 0;
  if (nbytes >= LASK_GC_STEP_BYTES)
    lua_gc(L, LUA_GCSTEP, (int)(nbytes >> 10 < INT_MAX ? nbytes >> 10 : INT_MAX));
}

void lask_l_pushndarray(lua_State *L, lask_ndarray *a) {
  nd_ud *u = push_ud(L);
  lask_retain(lask_ndarray_value(a));
  u->a = a;
  account(L, a);
}

lask_ewexpr **lask_l_pushpending(lua_State *L) { return &push_ud(L)->e; }

/* Evaluates u's pending expression into its array; false (err filled, u still
 * pending) on failure. */
static bool settle(lua_State *L, nd_ud *u, lask_err *err) {
  lask_value v = lask_nil();
  if (lask_ewexpr_eval(u->e, &v, err) != LASK_OK) return false;
  LASK_ASSERT(lask_ndarray_of(v) != NULL);
  lask_ewexpr_free(u->e);
  u->e = NULL, u->a = lask_ndarray_of(v);
  account(L, u->a);
  return true;
}

lask_ndarray *lask_l_tondarray_quiet(lua_State *L, int idx, bool *failed) {
  nd_ud *u = luaL_testudata(L, idx, LASK_NDARRAY_MT);
  lask_err err;
  if (u && u->e && !settle(L, u, &err)) return *failed = true, NULL;
  return u ? u->a : NULL;
}

lask_ndarray *lask_l_tondarray(lua_State *L, int idx) {
  nd_ud *u = luaL_testudata(L, idx, LASK_NDARRAY_MT);
  lask_err err;
  if (u && u->e && !settle(L, u, &err)) luaL_error(L, "lask.ndarray: %s", err.msg);
  return u ? u->a : NULL;
}

lask_ndarray *lask_l_checkndarray(lua_State *L, int idx) {
  nd_ud *u = luaL_checkudata(L, idx, LASK_NDARRAY_MT);
  lask_err err;
  if (u->e && !settle(L, u, &err)) luaL_error(L, "lask.ndarray: %s", err.msg);
  if (!u->a) luaL_error(L, "lask.ndarray: the array was released");
  return u->a;
}

bool lask_l_isndarray(lua_State *L, int idx) { return luaL_testudata(L, idx, LASK_NDARRAY_MT) != NULL; }

const lask_ewexpr *lask_l_topending(lua_State *L, int idx) {
  nd_ud *u = luaL_testudata(L, idx, LASK_NDARRAY_MT);
  return u ? u->e : NULL;
}

bool lask_l_ndarray_layout(lua_State *L, int idx, lask_dtype *dt, int *ndim, const int64_t **shape) {
  nd_ud *u = luaL_testudata(L, idx, LASK_NDARRAY_MT);
  if (u && u->e) return *dt = u->e->dtype, *ndim = u->e->ndim, *shape = u->e->shape, true;
  if (!u || !u->a) return false;
  return *dt = u->a->dtype, *ndim = u->a->ndim, *shape = u->a->shape, true;
}
