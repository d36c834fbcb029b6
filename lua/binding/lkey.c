/* lkey.c — tuple keys and quotes.
 *
 * A tuple key is a userdata whose user value is the list of its parts. Keys are
 * interned in a weak-valued cache indexed by an encoding of the parts, so equal
 * parts give the very same object: it works as a table key and compares with ==.
 * Integral floats are stored as integers, as Lua does for table keys.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "binding.h"

/* Appends an unambiguous encoding of part i (at stack index idx) to the buffer
 * buf[0..cap) at *len: a tag byte, then 8 raw bytes for numbers or a 4-byte length
 * and the bytes for strings. Returns 0 when it does not fit. Integral floats were
 * made integers before (normalize_parts). */
static int encode_part(lua_State *L, char *buf, size_t cap, size_t *len, int idx) {
  size_t n, at = *len;
  const char *s;
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: {
    s = lua_tolstring(L, idx, &n);
    uint32_t n32 = (uint32_t)n;
    if (at + 5 + n > cap) return 0;
    buf[at] = 's', memcpy(buf + at + 1, &n32, 4), memcpy(buf + at + 5, s, n);
    *len = at + 5 + n;
    return 1;
  }
  case LUA_TNUMBER: {
    if (at + 9 > cap) return 0;
    if (lua_isinteger(L, idx)) {
      lua_Integer v = lua_tointeger(L, idx);
      buf[at] = 'i', memcpy(buf + at + 1, &v, 8);
    } else {
      lua_Number v = lua_tonumber(L, idx);
      buf[at] = 'f', memcpy(buf + at + 1, &v, 8);
    }
    *len = at + 9;
    return 1;
  }
  case LUA_TBOOLEAN:
    if (at + 1 > cap) return 0;
    buf[at] = lua_toboolean(L, idx) ? 'T' : 'F';
    *len = at + 1;
    return 1;
  default:
    return luaL_error(L, "lask.key: part %d is a %s; parts must be strings, numbers or booleans", idx,
                      luaL_typename(L, idx));
  }
}

/* Replaces integral floats among the n arguments by integers (as Lua does for
 * table keys: 1.0 and 1 are one key); 2.5 stays a float. */
static void normalize_parts(lua_State *L, int n) {
  for (int i = 1; i <= n; i++) {
    if (lua_type(L, i) != LUA_TNUMBER || lua_isinteger(L, i)) continue;
    lua_Number v = lua_tonumber(L, i);
    lua_Integer k;
    if (v == floor(v) && lua_numbertointeger(v, &k)) {
      lua_pushinteger(L, k);
      lua_replace(L, i);
    }
  }
}

enum { KEY_ENCODING_MAX = 4096 };

/* lask.key(name, i, j, ...) -> the interned tuple key. Upvalues: the cache
 * (encoding -> key, weak values) and the key metatable. */
static int l_key(lua_State *L) {
  int n = lua_gettop(L);
  if (n == 0) return luaL_error(L, "lask.key needs at least one part");
  normalize_parts(L, n);
  char buf[KEY_ENCODING_MAX];
  size_t len = 0;
  for (int i = 1; i <= n; i++)
    if (!encode_part(L, buf, sizeof buf, &len, i)) return luaL_error(L, "lask.key: the parts are too long");
  lua_pushlstring(L, buf, len);
  lua_pushvalue(L, -1);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  lua_newuserdatauv(L, 0, 1);
  lua_createtable(L, n, 0);
  for (int i = 1; i <= n; i++) lua_pushvalue(L, i), lua_rawseti(L, -2, i);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_setmetatable(L, -2);
  lua_pushvalue(L, n + 1); /* encoding */
  lua_pushvalue(L, -2);
  lua_rawset(L, lua_upvalueindex(1)); /* cache[encoding] = key */
  return 1;
}

static const char keyfunc_key = 'f'; /* registry: the lask.key closure */

void lask_l_pushkeyfunc(lua_State *L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &keyfunc_key); }

int lask_l_iskey(lua_State *L, int idx) { return luaL_testudata(L, idx, LASK_KEY_MT) != NULL; }

int lask_l_isquote(lua_State *L, int idx) { return luaL_testudata(L, idx, LASK_QUOTE_MT) != NULL; }

static int l_iskey(lua_State *L) {
  lua_pushboolean(L, lask_l_iskey(L, 1));
  return 1;
}

static int key_index(lua_State *L) {
  luaL_checkudata(L, 1, LASK_KEY_MT);
  lua_getiuservalue(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static int key_len(lua_State *L) {
  luaL_checkudata(L, 1, LASK_KEY_MT);
  lua_getiuservalue(L, 1, 1);
  lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
  return 1;
}

static int key_newindex(lua_State *L) { return luaL_error(L, "lask.key tuples are immutable"); }

/* Appends part (at top) as a Python-like repr: strings in single quotes. */
static void add_repr(lua_State *L, luaL_Buffer *b) {
  if (lua_type(L, -1) == LUA_TSTRING) {
    luaL_addchar(b, '\'');
    luaL_addvalue(b);
    luaL_addchar(b, '\'');
  } else {
    luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    luaL_addvalue(b);
  }
}

void lask_l_pushkeyrepr(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  luaL_Buffer b;
  if (!lask_l_iskey(L, idx)) {
    luaL_buffinit(L, &b);
    lua_pushvalue(L, idx);
    add_repr(L, &b);
    luaL_pushresult(&b);
    return;
  }
  lua_getiuservalue(L, idx, 1);
  int parts = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, parts);
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '(');
  for (lua_Integer i = 1; i <= n; i++) {
    if (i > 1) luaL_addstring(&b, ", ");
    lua_rawgeti(L, parts, i);
    add_repr(L, &b);
  }
  luaL_addstring(&b, n == 1 ? ",)" : ")");
  luaL_pushresult(&b);
  lua_remove(L, parts);
}

static int key_tostring(lua_State *L) {
  lask_l_pushkeyrepr(L, 1);
  return 1;
}

/* Orders keys part by part: numbers before strings, then by value; shorter first. */
static int key_lt(lua_State *L) {
  luaL_checkudata(L, 1, LASK_KEY_MT);
  luaL_checkudata(L, 2, LASK_KEY_MT);
  lua_getiuservalue(L, 1, 1);
  lua_getiuservalue(L, 2, 1);
  lua_Integer na = (lua_Integer)lua_rawlen(L, 3), nb = (lua_Integer)lua_rawlen(L, 4);
  for (lua_Integer i = 1; i <= na && i <= nb; i++) {
    int ta = lua_rawgeti(L, 3, i), tb = lua_rawgeti(L, 4, i);
    int less = 0, more = 0;
    if (ta != tb)
      less = ta < tb, more = !less;
    else if (ta == LUA_TNUMBER || ta == LUA_TSTRING)
      less = lua_compare(L, -2, -1, LUA_OPLT), more = lua_compare(L, -1, -2, LUA_OPLT);
    else
      less = !lua_toboolean(L, -2) && lua_toboolean(L, -1),
      more = lua_toboolean(L, -2) && !lua_toboolean(L, -1);
    lua_pop(L, 2);
    if (less || more) return lua_pushboolean(L, less), 1;
  }
  lua_pushboolean(L, na < nb);
  return 1;
}

/* lask.quote(v): a value that is never interpreted as a key, task or list. */
static int l_quote(lua_State *L) {
  luaL_checkany(L, 1);
  lua_newuserdatauv(L, 0, 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, LASK_QUOTE_MT);
  return 1;
}

void lask_l_unquote(lua_State *L, int idx) { lua_getiuservalue(L, idx, 1); }

static int l_isquote(lua_State *L) {
  lua_pushboolean(L, lask_l_isquote(L, 1));
  return 1;
}

static int l_unquote(lua_State *L) {
  luaL_checkudata(L, 1, LASK_QUOTE_MT);
  lask_l_unquote(L, 1);
  return 1;
}

static int quote_tostring(lua_State *L) {
  lask_l_unquote(L, 1);
  lua_pushfstring(L, "quote(%s)", luaL_tolstring(L, -1, NULL));
  return 1;
}

int lask_l_iscallable(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TFUNCTION) return 1;
  if (luaL_getmetafield(L, idx, "__call") == LUA_TNIL) return 0;
  lua_pop(L, 1);
  return 1;
}

static int l_keyrepr(lua_State *L) {
  luaL_checkany(L, 1);
  lask_l_pushkeyrepr(L, 1);
  return 1;
}

void lask_l_open_keys(lua_State *L) {
  static const luaL_Reg key_mt[] = {
      {"__index", key_index},       {"__len", key_len}, {"__newindex", key_newindex},
      {"__tostring", key_tostring}, {"__lt", key_lt},   {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"iskey", l_iskey},     {"quote", l_quote},     {"isquote", l_isquote},
                                   {"unquote", l_unquote}, {"keyrepr", l_keyrepr}, {NULL, NULL}};
  if (luaL_newmetatable(L, LASK_KEY_MT)) luaL_setfuncs(L, key_mt, 0);
  lua_pop(L, 1);
  if (luaL_newmetatable(L, LASK_QUOTE_MT)) {
    lua_pushcfunction(L, quote_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &keyfunc_key) == LUA_TNIL) {
    lua_newtable(L); /* the cache */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    luaL_getmetatable(L, LASK_KEY_MT);
    lua_pushcclosure(L, l_key, 2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &keyfunc_key);
  }
  lua_pop(L, 1);
  lask_l_pushkeyfunc(L);
  lua_setfield(L, -2, "key");
  luaL_setfuncs(L, funcs, 0);
}
