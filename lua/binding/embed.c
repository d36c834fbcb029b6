/* embed.c — the Lua half of the C API in lask.h: opening lask in a host's Lua state. */
#include <lualib.h>
#include <string.h>

#include "binding.h"

int luaopen_lask_core(lua_State *L);
void lask_preload_lua_modules(lua_State *L);

int lask_lua_open(lask_engine *e, lua_State *L) {
  lask_lctx *ctx = lask_l_ctx(L);
  if (e) {
    if (ctx->owns_engine) lask_engine_free(ctx->engine);
    ctx->engine = e, ctx->owns_engine = 0;
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_lask_core);
  lua_setfield(L, -2, "lask.core");
  lua_pop(L, 1);
  lask_preload_lua_modules(L);
  return 0;
}

lua_State *lask_lua_new_state(lask_engine *e) {
  lua_State *L = luaL_newstate();
  if (!L) return NULL;
  luaL_openlibs(L);
  lask_lua_open(e, L);
  return L;
}

static int traceback(lua_State *L) {
  luaL_traceback(L, L, luaL_tolstring(L, 1, NULL), 1);
  return 1;
}

/* Runs the chunk on top (or the load error there) with a traceback. */
static lask_status run_chunk(lua_State *L, int loaded, lask_err *err) {
  lask_err_clear(err);
  if (loaded == LUA_OK) {
    lua_pushcfunction(L, traceback);
    lua_insert(L, -2);
    loaded = lua_pcall(L, 0, 0, -2);
    lua_remove(L, loaded == LUA_OK ? -1 : -2);
  }
  if (loaded == LUA_OK) return LASK_OK;
  lask_err_set(err, LASK_EHOST, LASK_NO_NODE, "%s", luaL_tolstring(L, -1, NULL));
  lua_pop(L, 2);
  return LASK_EHOST;
}

lask_status lask_lua_dofile(lua_State *L, const char *path, lask_err *err) {
  return run_chunk(L, luaL_loadfile(L, path), err);
}

lask_status lask_lua_dostring(lua_State *L, const char *src, lask_err *err) {
  return run_chunk(L, luaL_loadbuffer(L, src, strlen(src), "=lask"), err);
}
