/* test_embed.c — the Lua half of the C API (lask.h): running scripts in a host's Lua
 * state, with and without arguments, and their errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>

#include "lask.h"

/* A script file holding code, made for the test; its path is in path. */
static void write_script(char *path, size_t size, const char *code) {
  snprintf(path, size, "/tmp/lask-embed-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  fputs(code, f);
  fclose(f);
}

/* The global name of L as a string (tostring), copied into out. */
static void global_string(lua_State *L, const char *name, char *out, size_t size) {
  lua_getglobal(L, name);
  snprintf(out, size, "%s", luaL_tolstring(L, -1, NULL));
  lua_pop(L, 2);
}

/* The script sees its arguments as ... and as arg, with arg[0] its path. */
static void test_dofile_args_passes_arguments(void **state) {
  (void)state;
  char path[64], got[256];
  write_script(path, sizeof path,
               "local n = select('#', ...)\n"
               "dots = n .. ':' .. table.concat({...}, ',')\n"
               "args = #arg .. ':' .. table.concat(arg, ',') .. ':' .. tostring(arg[0] == SCRIPT)\n"
               "result = require('lask').get({x = tonumber(arg[1] or 0), y = {require('lask').kernels.inc, "
               "'x'}}, 'y')\n");
  lua_State *L = lask_lua_new_state(NULL);
  assert_non_null(L);
  lua_pushstring(L, path);
  lua_setglobal(L, "SCRIPT");
  const char *argv[] = {"41", "two words", ""};
  lask_err err;
  assert_int_equal(lask_lua_dofile_args(L, path, 3, argv, &err), LASK_OK);
  global_string(L, "dots", got, sizeof got);
  assert_string_equal(got, "3:41,two words,");
  global_string(L, "args", got, sizeof got);
  assert_string_equal(got, "3:41,two words,:true");
  global_string(L, "result", got, sizeof got);
  assert_string_equal(got, "42");
  /* no arguments: ... empty, arg = {[0] = path} */
  assert_int_equal(lask_lua_dofile_args(L, path, 0, NULL, &err), LASK_OK);
  global_string(L, "dots", got, sizeof got);
  assert_string_equal(got, "0:");
  assert_int_equal(lua_gettop(L), 0); /* nothing left on the host's stack */
  lua_close(L);
  unlink(path);
}

/* lask_lua_dofile keeps its behaviour: no arguments, the global arg untouched. */
static void test_dofile_keeps_arg_untouched(void **state) {
  (void)state;
  char path[64], got[256];
  write_script(path, sizeof path, "dots = select('#', ...) .. ':' .. tostring(arg)\n");
  lua_State *L = lask_lua_new_state(NULL);
  lua_pushliteral(L, "host's");
  lua_setglobal(L, "arg");
  lask_err err;
  assert_int_equal(lask_lua_dofile(L, path, &err), LASK_OK);
  global_string(L, "dots", got, sizeof got);
  assert_string_equal(got, "0:host's");
  lua_close(L);
  unlink(path);
}

/* Errors: the script's (with its traceback), a missing file, argv NULL. */
static void test_dofile_args_errors(void **state) {
  (void)state;
  char path[64];
  write_script(path, sizeof path, "error('bad argument: ' .. tostring(arg[1]))\n");
  lua_State *L = lask_lua_new_state(NULL);
  const char *argv[] = {"seven"};
  lask_err err;
  assert_int_equal(lask_lua_dofile_args(L, path, 1, argv, &err), LASK_EHOST);
  assert_int_equal(err.code, LASK_EHOST);
  assert_non_null(strstr(err.msg, "bad argument: seven"));
  assert_non_null(strstr(err.msg, "stack traceback"));
  assert_int_equal(lua_gettop(L), 0);
  assert_int_equal(lask_lua_dofile_args(L, "/nonexistent/script.lua", 1, argv, &err), LASK_EHOST);
  assert_non_null(strstr(err.msg, "/nonexistent/script.lua"));
  assert_int_equal(lask_lua_dofile_args(L, path, 2, NULL, &err), LASK_EINVAL);
  assert_non_null(strstr(err.msg, "argv NULL"));
  assert_int_equal(lua_gettop(L), 0);
  lua_close(L);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dofile_args_passes_arguments),
      cmocka_unit_test(test_dofile_keeps_arg_untouched),
      cmocka_unit_test(test_dofile_args_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
