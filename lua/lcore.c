/* lcore.c — luaopen_lask_core: the C half of the lask module. */
#include "binding.h"

int luaopen_lask_core(lua_State *L) {
  lask_l_ctx(L);
  lua_newtable(L);
  lask_l_open_keys(L);
  lask_l_open_get(L);
  lask_l_open_kernels(L);
  lua_setfield(L, -2, "kernels");
  lua_pushliteral(L, LASK_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
