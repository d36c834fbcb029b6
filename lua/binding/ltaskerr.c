/* ltaskerr.c — the message handler Lua tasks run under (on the calling state and on
 * worker states): it keeps the error value, its text and the task's own traceback. */
#include <stdio.h>
#include <string.h>

#include "binding.h"

/* Number of stack levels of L from level 0 up. lua_getstack(L, n) walks n frames,
 * so counting level by level costs the square of the depth (minutes for a stack
 * overflow's 200k frames); doubling then bisecting, as luaL_traceback does, costs
 * depth × log(depth). */
int lask_l_stack_depth(lua_State *L) {
  lua_Debug ar;
  int lo = 0, hi = 1; /* level lo exists or lo == 0; level hi may not */
  while (lua_getstack(L, hi, &ar)) lo = hi, hi *= 2;
  while (lo + 1 < hi) {
    int mid = lo + (hi - lo) / 2;
    if (lua_getstack(L, mid, &ar))
      lo = mid;
    else
      hi = mid;
  }
  return lua_getstack(L, 0, &ar) ? lo + 1 : 0;
}

/* Where the traceback tb (luaL_traceback's, from level 1) leaves the task's first
 * task_levels levels for the frames of get and its callers, or NULL when it does
 * not. A line is a level, except a tail-call note; luaL_traceback elides the middle
 * of a deep stack with a line saying how many levels it skipped. */
static const char *task_traceback_end(const char *tb, int task_levels) {
  int level = 0;
  for (const char *line = strchr(tb, '\n'); line; line = strchr(line + 1, '\n')) {
    int skipped;
    if (sscanf(line, "\n\t...\t(skipping %d levels)", &skipped) == 1)
      level += skipped;
    else if (strncmp(line, "\n\t(...tail calls...)", 20) != 0 && ++level > task_levels)
      return line;
  }
  return NULL;
}

/* Message handler: keeps the error value, its text and the traceback of the task
 * alone (upvalue 1: the depth of the stack at get, whose frames are cut off). */
static int msgh(lua_State *L) {
  int task_levels = lask_l_stack_depth(L) - (int)lua_tointeger(L, lua_upvalueindex(1)) - 1;
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "value");
  luaL_tolstring(L, 1, NULL); /* strings as they are; objects through __tostring or __name */
  lua_setfield(L, -2, "message");
  luaL_traceback(L, L, NULL, 1);
  const char *tb = lua_tostring(L, -1);
  const char *end = task_traceback_end(tb, task_levels);
  if (end) lua_pushlstring(L, tb, (size_t)(end - tb)), lua_remove(L, -2);
  lua_setfield(L, -2, "traceback");
  return 1;
}

void lask_l_push_msgh(lua_State *L) {
  lua_pushinteger(L, lask_l_stack_depth(L));
  lua_pushcclosure(L, msgh, 1);
}
