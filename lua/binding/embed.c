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

/* Runs the chunk below nargs arguments on top (or the load error on top) with a
 * traceback; on error fills err (LASK_EHOST) with the message. */
static lask_status run_chunk_args(lua_State *L, int loaded, int nargs, lask_err *err) {
  lask_err_clear(err);
  if (loaded == LUA_OK) {
    int base = lua_gettop(L) - nargs; /* the chunk */
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    loaded = lua_pcall(L, nargs, 0, base);
    lua_remove(L, loaded == LUA_OK ? -1 : -2);
  }
  if (loaded == LUA_OK) return LASK_OK;
  lask_err_set(err, LASK_EHOST, LASK_NO_NODE, "%s", luaL_tolstring(L, -1, NULL));
  lua_pop(L, 2);
  return LASK_EHOST;
}

lask_status lask_lua_dofile(lua_State *L, const char *path, lask_err *err) {
  return run_chunk_args(L, luaL_loadfile(L, path), 0, err);
}

lask_status lask_lua_dofile_args(lua_State *L, const char *path, int argc, const char *const *argv,
                                 lask_err *err) {
  if (argc < 0 || (argc > 0 && !argv))
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "lask_lua_dofile_args: argc %d with argv NULL", argc);
  if (!lua_checkstack(L, argc + 4))
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "lask_lua_dofile_args: too many arguments (%d)",
                        argc);
  lua_createtable(L, argc, 1); /* arg, as lua5.4 makes it: arg[0] the script */
  lua_pushstring(L, path);
  lua_rawseti(L, -2, 0);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setglobal(L, "arg");
  int loaded = luaL_loadfile(L, path);
  if (loaded != LUA_OK) return run_chunk_args(L, loaded, 0, err);
  for (int i = 0; i < argc; i++) lua_pushstring(L, argv[i]);
  return run_chunk_args(L, LUA_OK, argc, err);
}

lask_status lask_lua_dostring(lua_State *L, const char *src, lask_err *err) {
  return run_chunk_args(L, luaL_loadbuffer(L, src, strlen(src), "=lask"), 0, err);
}
