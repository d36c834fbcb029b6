/* lsampler.c — the C helpers of lask.diagnostics, in lask.core:
 *   core.sampler(dt)    starts a resource sampling thread (sampler.h); gives a
 *                       lask.sampler userdata: s:stop(), then s:samples() -> list
 *                       of {time=, cpu=, mem=} (mem in bytes), s.incomplete
 *   core.isatty(f)      true when f (a file handle or a descriptor number) is a
 *                       terminal, for the progress bar
 * The thread is stopped by s:stop(), by __close and by __gc, whichever comes first.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "binding.h"
#include "core/sampler.h"

#define LASK_SAMPLER_MT "lask.sampler"

static lask_sampler *check_sampler(lua_State *L) { return luaL_checkudata(L, 1, LASK_SAMPLER_MT); }

static int sampler_stop(lua_State *L) {
  lask_sampler_stop(check_sampler(L));
  lua_settop(L, 1);
  return 1;
}

static int sampler_gc(lua_State *L) {
  lask_sampler_free(check_sampler(L));
  return 0;
}

/* s:samples(): the samples so far as a list of {time=, cpu=, mem=}; stops s first. */
static int sampler_samples(lua_State *L) {
  lask_sampler *s = check_sampler(L);
  lask_sampler_stop(s);
  lua_createtable(L, (int)s->n, 0);
  for (size_t i = 0; i < s->n; i++) {
    lua_createtable(L, 0, 3);
    lua_pushnumber(L, s->samples[i].time), lua_setfield(L, -2, "time");
    lua_pushnumber(L, s->samples[i].cpu), lua_setfield(L, -2, "cpu");
    lua_pushnumber(L, s->samples[i].mem), lua_setfield(L, -2, "mem");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int sampler_index(lua_State *L) {
  lask_sampler *s = check_sampler(L);
  const char *field = luaL_checkstring(L, 2);
  if (strcmp(field, "incomplete") == 0) return lua_pushboolean(L, !s->running && s->incomplete), 1;
  if (strcmp(field, "running") == 0) return lua_pushboolean(L, s->running), 1;
  if (strcmp(field, "stop") == 0) return lua_pushcfunction(L, sampler_stop), 1;
  if (strcmp(field, "samples") == 0) return lua_pushcfunction(L, sampler_samples), 1;
  return 0;
}

/* core.sampler(dt): a running sampler taking a sample every dt seconds. */
static int l_sampler(lua_State *L) {
  double dt = luaL_checknumber(L, 1);
  luaL_argcheck(L, dt > 0, 1, "dt must be positive");
  lask_sampler *s = lua_newuserdatauv(L, sizeof *s, 0);
  memset(s, 0, sizeof *s);
  if (luaL_newmetatable(L, LASK_SAMPLER_MT)) {
    static const luaL_Reg mt[] = {
        {"__gc", sampler_gc}, {"__close", sampler_gc}, {"__index", sampler_index}, {NULL, NULL}};
    luaL_setfuncs(L, mt, 0);
  }
  lua_setmetatable(L, -2);
  int rc = lask_sampler_start(s, dt);
  if (rc) return luaL_error(L, "lask: cannot start the resource sampler thread: %s", strerror(rc));
  return 1;
}

/* core.isatty(f): f is a Lua file handle or a file descriptor number. */
static int l_isatty(lua_State *L) {
  int fd = -1;
  if (lua_isinteger(L, 1)) {
    fd = (int)lua_tointeger(L, 1);
  } else {
    luaL_Stream *stream = luaL_checkudata(L, 1, LUA_FILEHANDLE);
    if (stream->closef && stream->f) fd = fileno(stream->f);
  }
  lua_pushboolean(L, fd >= 0 && isatty(fd));
  return 1;
}

void lask_l_open_sampler(lua_State *L) {
  static const luaL_Reg funcs[] = {{"sampler", l_sampler}, {"isatty", l_isatty}, {NULL, NULL}};
  luaL_setfuncs(L, funcs, 0);
}
