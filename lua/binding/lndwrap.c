/* lndwrap.c — the lask.ndarray userdata itself: an engine array wrapped as a Lua
 * value, and unwrapped again. The value conversions (lvalue.c, lserial.c) use only
 * this; lndarray.c adds the methods, operators and printing to the metatable made
 * here, when lask.core opens.
 *
 * A lask.ndarray is a full userdata holding one reference to an engine array
 * (ndarray.h): arrays coming back from graphs are wrapped, never copied, and an
 * array passed into a graph is the same engine object.
 */
#include <limits.h>

#include "binding.h"

enum { LASK_GC_STEP_BYTES = 1 << 20 }; /* arrays from 1 MiB on tell the collector their size */

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
  /* Lua sees a few bytes of userdata, not the array's memory: a big array makes the
   * collector step as if that memory had been allocated in Lua, so that temporaries
   * (x * 2 + y makes two) go back to the buffer cache while they are still warm
   * instead of piling up until a cycle the small userdata alone would not start. */
  size_t nbytes = a->buf ? a->buf->nbytes : 0;
  if (nbytes >= LASK_GC_STEP_BYTES)
    lua_gc(L, LUA_GCSTEP, (int)(nbytes >> 10 < INT_MAX ? nbytes >> 10 : INT_MAX));
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
