/* lndwrap.c — the lask.ndarray userdata itself: an engine array wrapped as a Lua
 * value, and unwrapped again. The value conversions (lvalue.c, lserial.c) use only
 * this; lndarray.c adds the methods, operators and printing to the metatable made
 * here, when lask.core opens.
 *
 * A lask.ndarray is a full userdata holding one reference to an engine array
 * (ndarray.h): arrays coming back from graphs are wrapped, never copied, and an
 * array passed into a graph is the same engine object.
 */
#include "binding.h"

typedef struct nd_ud {
  lask_ndarray *a; /* one reference, dropped by __gc */
} nd_ud;

static int nd_gc(lua_State *L) {
  nd_ud *u = luaL_checkudata(L, 1, LASK_NDARRAY_MT);
  if (u->a) lask_release(lask_ndarray_value(u->a));
  u->a = NULL;
  return 0;
}

void lask_l_ndarray_metatable(lua_State *L) {
  if (!luaL_newmetatable(L, LASK_NDARRAY_MT)) return;
  lua_pushcfunction(L, nd_gc);
  lua_setfield(L, -2, "__gc");
}

void lask_l_pushndarray(lua_State *L, lask_ndarray *a) {
  nd_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->a = NULL;
  lask_l_ndarray_metatable(L);
  lua_setmetatable(L, -2);
  lask_retain(lask_ndarray_value(a));
  u->a = a;
}

lask_ndarray *lask_l_tondarray(lua_State *L, int idx) {
  nd_ud *u = luaL_testudata(L, idx, LASK_NDARRAY_MT);
  return u ? u->a : NULL;
}

lask_ndarray *lask_l_checkndarray(lua_State *L, int idx) {
  nd_ud *u = luaL_checkudata(L, idx, LASK_NDARRAY_MT);
  if (!u->a) luaL_error(L, "lask.ndarray: the array was released");
  return u->a;
}
