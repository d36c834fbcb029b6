/* lbuilder.c — lask.graph_builder: a graph made by calls, a node at a time, straight
 * into the engine's graph builder, with no Lua table a task.
 *
 * A builder is a conversion (lask_lconv, building mode) that stays alive between
 * calls: b:task(key, f, ...) gives key a node id and emits its program at once, by
 * the table path's argument rules (lconvert.c). A tuple key met before carries its
 * id in its stamp, as in a conversion; a string key's id is in the conversion's map,
 * so a string argument is a key once the builder has a node of that name (before
 * that, a string). A tuple key may be used before it is defined; a get then checks
 * that every such key was defined. The first get makes the engine's graph, and later
 * gets reuse it (the builder then takes no more nodes).
 *
 * Another conversion in between (a get, a task of one) stamps keys with its own ids:
 * the builder then records key -> id in a Lua table (its second user value) and
 * looks up there the keys whose stamps are not its own.
 */
#include <stdlib.h>
#include <string.h>

#include "binding.h"

#define LASK_BUILDER_MT "lask.graph_builder"

typedef struct lbuild {
  lask_lconv c;     /* first: a lask_lconv * is a lbuild * */
  uint8_t *defined; /* by node id */
  size_t capdefined;
  uint32_t *refs; /* pairs (node, the node that used it first) for nodes used before defined */
  size_t nrefs, caprefs;
  uint64_t seen; /* conversions made in the state when the builder last looked */
  int mapped;    /* user value 2 maps key -> node id (stamps may be others') */
} lbuild;

enum { UV_KEYS = 1, UV_MAP = 2 };

static int builder_gc(lua_State *L) {
  lbuild *b = lua_touserdata(L, 1);
  lask_lconv_free(L, &b->c);
  free(b->defined), b->defined = NULL;
  free(b->refs), b->refs = NULL;
  return 0;
}

static lbuild *check_builder(lua_State *L, int idx) { return luaL_checkudata(L, idx, LASK_BUILDER_MT); }

/* Records key -> id for every node so far in the builder's map. */
static void make_map(lua_State *L, lbuild *b) {
  lua_Integer n = (lua_Integer)lask_gb_count(b->c.b);
  lua_createtable(L, 0, (int)(n < 1 << 30 ? n : 0));
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, b->c.keys, i);
    lua_pushinteger(L, i - 1);
    lua_rawset(L, -3);
  }
  lua_setiuservalue(L, b->c.dsk, UV_MAP);
  b->mapped = 1;
}

/* Makes the builder at index 1 the conversion of this call: pushes its keys table.
 * The methods have the builder metatable as upvalue 1 (cheaper than by name). */
static lbuild *enter(lua_State *L) {
  lbuild *b = lua_touserdata(L, 1);
  int ok = 0;
  if (b && lua_getmetatable(L, 1)) ok = lua_rawequal(L, -1, lua_upvalueindex(1)), lua_pop(L, 1);
  if (!ok) b = check_builder(L, 1); /* raises */
  if (b->c.g) luaL_error(L, "lask.graph_builder: a get has made the graph; it takes no more nodes");
  if (b->c.cur != LASK_NO_NODE)
    luaL_error(L, "lask.graph_builder: a call on it failed half-way; make a new one");
  lua_getiuservalue(L, 1, UV_KEYS);
  b->c.dsk = 1, b->c.keys = lua_gettop(L), b->c.vals = 0;
  if (b->c.ctx->conversions != b->seen) { /* another conversion stamped keys since */
    lask_lconv_complete_pending(L);
    if (!b->mapped) make_map(L, b);
    b->seen = b->c.ctx->conversions;
  }
  return b;
}

/* A new node for the key at idx (not defined yet). */
static uint32_t new_node(lua_State *L, lbuild *b, int idx) {
  lask_lconv *c = &b->c;
  uint32_t id = lask_gb_count(c->b);
  if (id >= b->capdefined) {
    size_t cap = b->capdefined ? 2 * b->capdefined : 1024;
    uint8_t *d = realloc(b->defined, cap);
    if (!d) luaL_error(L, "lask: out of memory building the graph");
    b->defined = d, b->capdefined = cap;
  }
  b->defined[id] = 0;
  lask_gb_node(c->b);
  lua_pushvalue(L, idx);
  lua_rawseti(L, c->keys, (lua_Integer)id + 1);
  if (b->mapped) {
    lua_getiuservalue(L, c->dsk, UV_MAP);
    lua_pushvalue(L, idx);
    lua_pushinteger(L, id);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  return id;
}

static void stamp(lua_State *L, lask_lconv *c, int idx, uint32_t id) {
  lask_keystamp *s = lua_touserdata(L, idx);
  s->conversion_lo = (uint32_t)c->serial, s->conversion_hi = (uint32_t)(c->serial >> 32), s->node = id;
}

/* The id of the tuple key at idx in the map, or UINT32_MAX. */
static uint32_t mapped_id(lua_State *L, lbuild *b, int idx) {
  if (!b->mapped) return UINT32_MAX;
  lua_getiuservalue(L, b->c.dsk, UV_MAP);
  lua_pushvalue(L, idx);
  int found = lua_rawget(L, -2) == LUA_TNUMBER;
  uint32_t id = found ? (uint32_t)lua_tointeger(L, -1) : UINT32_MAX;
  lua_pop(L, 2);
  return id;
}

/* lask_lconv.ref */
static uint32_t lbuild_ref(lua_State *L, lask_lconv *c, int idx) {
  lbuild *b = (lbuild *)c;
  uint32_t id = mapped_id(L, b, idx);
  if (id == UINT32_MAX) {
    id = new_node(L, b, idx);
    if (b->nrefs == b->caprefs) {
      size_t cap = b->caprefs ? 2 * b->caprefs : 64;
      uint32_t *r = realloc(b->refs, cap * 2 * sizeof *r);
      if (!r) luaL_error(L, "lask: out of memory building the graph");
      b->refs = r, b->caprefs = cap;
    }
    b->refs[2 * b->nrefs] = id, b->refs[2 * b->nrefs + 1] = c->cur, b->nrefs++;
  }
  stamp(L, c, idx, id);
  return id;
}

/* lask_lconv.find */
static uint32_t lbuild_find(lua_State *L, lask_lconv *c, int idx) {
  lbuild *b = (lbuild *)c;
  uint32_t id;
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    id = lask_hmap_get(&c->ids, lask_hmap_bytes_key(s, len));
  } else {
    const lask_keystamp *s = lua_touserdata(L, idx);
    id = s->conversion_lo == (uint32_t)c->serial && s->conversion_hi == (uint32_t)(c->serial >> 32)
             ? s->node
             : mapped_id(L, b, idx);
  }
  return id != UINT32_MAX && b->defined[id] ? id : UINT32_MAX;
}

/* True when the value at idx is a tuple key (its metatable by pointer). */
static int is_key(lua_State *L, const lask_lconv *c, int idx) {
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return 0;
  int is = lua_topointer(L, -1) == c->mts.key;
  lua_pop(L, 1);
  return is;
}

/* Starts the definition of the key at idx (a string or a tuple key): gives its node
 * id, now the node being defined. Raises for another value or a key defined before. */
static uint32_t define(lua_State *L, lbuild *b, int idx, const char *what) {
  lask_lconv *c = &b->c;
  uint32_t id;
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    lask_hkey k = lask_hmap_bytes_key(s, len);
    id = lask_hmap_get(&c->ids, k);
    if (id == UINT32_MAX) {
      int added;
      if (lask_hmap_intern(&c->ids, k, lask_gb_count(c->b), &added) == UINT32_MAX)
        luaL_error(L, "lask: out of memory building the graph");
      id = new_node(L, b, idx);
    }
  } else if (is_key(L, c, idx)) {
    const lask_keystamp *s = lua_touserdata(L, idx);
    int own = s->conversion_lo == (uint32_t)c->serial && s->conversion_hi == (uint32_t)(c->serial >> 32);
    id = own ? s->node : mapped_id(L, b, idx);
    if (id == UINT32_MAX) id = new_node(L, b, idx);
    stamp(L, c, idx, id);
  } else {
    return (uint32_t)luaL_error(L, "lask.graph_builder: %s: keys are strings or lask.key tuples, not %s",
                                what, luaL_typename(L, idx));
  }
  if (b->defined[id]) {
    lask_l_pushkeyrepr(L, idx);
    lask_l_raise(L, c, "type", id, "lask.graph_builder: %s: key %s is defined already", what,
                 lua_tostring(L, -1));
  }
  b->defined[id] = 1;
  c->cur = id;
  lask_gb_begin(c->b, id);
  return id;
}

static void end_node(lua_State *L, lbuild *b) {
  lask_gb_end(b->c.b);
  b->c.cur = LASK_NO_NODE;
  lua_settop(L, 2);
}

/* b:task(key, f, ...): the node key = f(...), the arguments by get's rules. */
static int b_task(lua_State *L) {
  int n = lua_gettop(L);
  lbuild *b = enter(L);
  lask_lconv *c = &b->c;
  luaL_checkany(L, 3);
  if (!lask_lconv_is_callable(L, c, 3))
    return luaL_error(L, "lask.graph_builder: task: its function is a %s, not something to call",
                      luaL_typename(L, 3));
  define(L, b, 2, "task");
  luaL_checkstack(L, 16, "lask: building the graph");
  lask_lconv_emit_head(L, c, 3);
  for (int i = 4; i <= n; i++) lask_lconv_emit_arg(L, c, i);
  lask_gb_call(c->b, (uint32_t)(n - 3));
  end_node(L, b);
  return 1;
}

/* Defines the key at 2 as the value at 3 emitted by emit (what: the method, for
 * messages); gives the key. */
static int define_as(lua_State *L, lbuild *b, const char *what,
                     void (*emit)(lua_State *, lask_lconv *, int)) {
  luaL_checkany(L, 3);
  define(L, b, 2, what);
  luaL_checkstack(L, 16, "lask: building the graph");
  emit(L, &b->c, 3);
  end_node(L, b);
  return 1;
}

/* b:value(key, v): the node key = v, a literal (never a task, list or key). */
static int b_value(lua_State *L) { return define_as(L, enter(L), "value", lask_lconv_emit_literal); }

/* b:set(key, v), also b[key] = v: the node key = v, as dsk[key] = v makes it in a
 * table graph (a task, a list, a key: an alias, or a literal). */
static int b_set(lua_State *L) { return define_as(L, enter(L), "set", lask_lconv_emit_arg); }

/* b:alias(key, other): the node key = the value of the key other. */
static int b_alias(lua_State *L) {
  lbuild *b = enter(L);
  int tuple = is_key(L, &b->c, 3);
  if (!tuple && lua_type(L, 3) != LUA_TSTRING)
    return luaL_error(L, "lask.graph_builder: alias: the target is a %s, not a key", luaL_typename(L, 3));
  if (!tuple && lbuild_find(L, &b->c, 3) == UINT32_MAX) {
    lask_l_pushkeyrepr(L, 3);
    return luaL_error(L, "lask.graph_builder: alias: no node %s yet (define a string key before its uses)",
                      lua_tostring(L, -1));
  }
  return define_as(L, b, "alias", lask_lconv_emit_arg);
}

static int b_newindex(lua_State *L) {
  b_set(L);
  return 0;
}

/* b:get(keys [, opts]): lask.get(b, keys, opts). */
static int b_get(lua_State *L) {
  check_builder(L, 1);
  lua_settop(L, 3);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lask");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "get");
  lua_insert(L, 1);
  lua_settop(L, 4);
  lua_call(L, 3, 1);
  return 1;
}

/* b:count(): the number of nodes (defined or used). */
static int b_count(lua_State *L) {
  lbuild *b = check_builder(L, 1);
  lua_pushinteger(L, b->c.g ? (lua_Integer)b->c.g->n : (lua_Integer)lask_gb_count(b->c.b));
  return 1;
}

static int b_tostring(lua_State *L) {
  lbuild *b = check_builder(L, 1);
  lua_pushfstring(L, "lask.graph_builder (%d nodes%s)", (int)(b->c.g ? b->c.g->n : lask_gb_count(b->c.b)),
                  b->c.g ? ", built" : "");
  return 1;
}

lask_lconv *lask_lbuild_get_begin(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lbuild *b = luaL_testudata(L, idx, LASK_BUILDER_MT);
  if (!b) return NULL;
  lua_getiuservalue(L, idx, UV_KEYS);
  lua_pushnil(L);
  lua_pushvalue(L, idx);
  b->c.dsk = idx, b->c.keys = lua_gettop(L) - 2, b->c.vals = 0;
  b->c.nouts = 0;
  if (!b->c.g && b->c.ctx->conversions != b->seen) { /* as enter: the outputs are looked up next */
    lask_lconv_complete_pending(L);
    if (!b->mapped) make_map(L, b);
    b->seen = b->c.ctx->conversions;
  }
  return &b->c;
}

void lask_lbuild_finish(lua_State *L, lask_lconv *c) {
  lbuild *b = (lbuild *)c;
  if (c->g) return;
  for (size_t i = 0; i < b->nrefs; i++) {
    uint32_t id = b->refs[2 * i], user = b->refs[2 * i + 1];
    if (b->defined[id]) continue;
    lua_rawgeti(L, c->keys, (lua_Integer)user + 1);
    lask_l_pushkeyrepr(L, -1);
    lua_rawgeti(L, c->keys, (lua_Integer)id + 1);
    lask_l_pushkeyrepr(L, -1);
    lask_l_raise(L, c, "missing", user,
                 "missing dependency: task %s depends on %s, which is not in the graph", lua_tostring(L, -3),
                 lua_tostring(L, -1));
  }
  free(b->refs), b->refs = NULL, b->nrefs = b->caprefs = 0;
  lask_hmap_free(&c->heads);
  lask_err err;
  lask_graph_builder *gb = c->b;
  c->b = NULL;
  if (!(c->g = lask_gb_finish(gb, &err))) luaL_error(L, "lask: %s", err.msg);
}

/* lask.graph_builder() -> a new, empty builder. */
static int l_graph_builder(lua_State *L) {
  lask_lconv_complete_pending(L); /* its keys get stamped from now on */
  lbuild *b = lua_newuserdatauv(L, sizeof *b, 2);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, LASK_BUILDER_MT);
  lask_lconv_setup(L, &b->c);
  b->c.building = 1, b->c.keys_complete = 1;
  b->c.ref = lbuild_ref, b->c.find = lbuild_find;
  b->seen = b->c.ctx->conversions;
  lua_newtable(L);
  lua_setiuservalue(L, -2, UV_KEYS);
  return 1;
}

static int l_isbuilder(lua_State *L) {
  lua_pushboolean(L, luaL_testudata(L, 1, LASK_BUILDER_MT) != NULL);
  return 1;
}

void lask_l_open_builder(lua_State *L) {
  static const luaL_Reg methods[] = {{"task", b_task}, {"value", b_value}, {"alias", b_alias}, {"set", b_set},
                                     {"get", b_get},   {"count", b_count}, {NULL, NULL}};
  if (luaL_newmetatable(L, LASK_BUILDER_MT)) {
    luaL_newlibtable(L, methods);
    lua_pushvalue(L, -2);
    luaL_setfuncs(L, methods, 1); /* upvalue: the metatable, for enter */
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, b_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, builder_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, b_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_graph_builder);
  lua_setfield(L, -2, "graph_builder");
  lua_pushcfunction(L, l_isbuilder);
  lua_setfield(L, -2, "isbuilder");
}
