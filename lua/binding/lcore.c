/* lcore.c — luaopen_lask_core: the C half of the lask module. */
#include "binding.h"
#include "larrayops.h"

#include <time.h>

/* core.clock() -> seconds on a monotonic clock (wall time, unlike os.clock). */
static int l_clock(lua_State *L) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  lua_pushnumber(L, (lua_Number)t.tv_sec + (lua_Number)t.tv_nsec * 1e-9);
  return 1;
}

int luaopen_lask_core(lua_State *L) {
  lask_l_ctx(L);
  lask_l_register_push(&lask_frozen_class); /* copied Lua values (lua = "parallel") */
  lua_newtable(L);
  lask_l_open_keys(L);
  lask_l_open_get(L);
  lask_l_open_builder(L);
  lask_l_open_plan(L);
  lask_l_open_sampler(L);
  lask_l_open_kernels(L);
  lua_setfield(L, -2, "kernels");
  lask_l_open_ndarray(L);
  lask_l_open_arrayops(L);
  lua_pushcfunction(L, l_clock);
  lua_setfield(L, -2, "clock");
  lua_pushliteral(L, LASK_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
