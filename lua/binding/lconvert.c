/* lconvert.c — turning a Lua graph into the engine's compact graph, once per get.
 *
 * Node ids are given in the order keys are discovered from the requested ones, and
 * nodes are converted in id order, so the walk is breadth-first with no recursion
 * along dependencies (a chain of millions of tasks is fine) and only what the
 * outputs need is converted: culling comes for free. Only nested tasks and lists,
 * which the user wrote literally, recurse.
 *
 * The argument rules: a string or tuple key present in the graph is a
 * key; a table whose [1] is callable is a task; a non-empty sequence with no
 * metatable is a list of arguments; a quote is its value; anything else is a literal. A tuple key
 * absent from the graph is a missing dependency (strings are literals then).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"

enum { MAX_NESTING = 200 };

/* True when the value at idx is a userdata with metatable mt (a pointer). */
static int metatable_is(lua_State *L, int idx, const void *mt) {
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return 0;
  int is = lua_topointer(L, -1) == mt;
  lua_pop(L, 1);
  return is;
}

/* True when a tuple key's stamp is from the conversion of number serial. */
static int stamp_is(const lask_keystamp *stamp, uint64_t serial) {
  return stamp->conversion_lo == (uint32_t)serial && stamp->conversion_hi == (uint32_t)(serial >> 32);
}

void lask_lconv_free(lua_State *L, lask_lconv *c) {
  lask_gb_free(c->b), c->b = NULL;
  /* Collected during its own run only when the state is closed from a task
   * (os.exit(code, true)): the engine's workers still read g, and exit follows, so
   * g is left to the process's end rather than freed under them. */
  if (!c->running) lask_graph_free(c->g);
  c->g = NULL;
  lask_hmap_free(&c->ids), lask_hmap_free(&c->heads);
  free(c->outs), c->outs = NULL;
  if (c->ctx) lask_l_drain(L, c->ctx);
}

static int lconv_gc(lua_State *L) {
  lask_lconv_free(L, lua_touserdata(L, 1));
  return 0;
}

void lask_lconv_setup(lua_State *L, lask_lconv *c) {
  memset(c, 0, sizeof *c);
  c->ctx = lask_l_ctx(L);
  c->serial = ++c->ctx->conversions;
  if (!(c->b = lask_gb_new())) luaL_error(L, "lask: out of memory");
  c->cur = LASK_NO_NODE;
  lask_l_metatables(L, &c->mts);
}

/* Records in the table at keys the key of every node of conversion c over the graph
 * at dsk, from the keys' stamps (string keys were recorded as they were met). */
static void record_keys(lua_State *L, lask_lconv *c, int dsk, int keys) {
  luaL_checkstack(L, 4, "lask: converting the graph");
  lua_pushnil(L);
  while (lua_next(L, dsk)) {
    lua_pop(L, 1);
    if (metatable_is(L, -1, c->mts.key)) {
      const lask_keystamp *stamp = lua_touserdata(L, -1);
      if (stamp_is(stamp, c->serial))
        lua_pushvalue(L, -1), lua_rawseti(L, keys, (lua_Integer)stamp->node + 1);
    }
  }
  c->keys_complete = 1;
}

/* registry: a weak table whose [1] is the conversion with keys not yet recorded */
static const char pending_key = 'p';

static void push_pending(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &pending_key) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_createtable(L, 1, 0);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &pending_key);
}

/* Records the keys of the pending conversion, if any, and forgets it: a new
 * conversion re-stamps keys, after which the pending one could not tell its own. */
void lask_lconv_complete_pending(lua_State *L) {
  push_pending(L);
  if (lua_rawgeti(L, -1, 1) == LUA_TUSERDATA) {
    lask_lconv *p = lua_touserdata(L, -1);
    if (!p->keys_complete) {
      lua_getiuservalue(L, -1, 1);
      lua_getiuservalue(L, -2, 2);
      record_keys(L, p, lua_absindex(L, -2), lua_absindex(L, -1));
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_rawseti(L, -2, 1);
  lua_pop(L, 1);
}

int lask_lconv_keys(lua_State *L, lask_lconv *c) {
  if (!c->keys_complete) record_keys(L, c, c->dsk, c->keys);
  return c->keys;
}

void lask_lconv_done(lua_State *L, lask_lconv *c) {
  push_pending(L);
  if (lua_rawgeti(L, -1, 1) == LUA_TUSERDATA && lua_touserdata(L, -1) == c)
    lua_pushnil(L), lua_rawseti(L, -3, 1);
  lua_pop(L, 2);
}

lask_lconv *lask_lconv_new(lua_State *L, int dsk) {
  dsk = lua_absindex(L, dsk);
  lask_lconv_complete_pending(L);
  lask_lconv *c = lua_newuserdatauv(L, sizeof *c, 2); /* user values: the graph, the keys */
  memset(c, 0, sizeof *c);
  if (luaL_newmetatable(L, "lask.conversion")) {
    lua_pushcfunction(L, lconv_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lask_lconv_setup(L, c);
  c->dsk = dsk;
  lua_newtable(L);
  lua_newtable(L);
  lua_rotate(L, -3, 2); /* keys, vals, then the userdata on top */
  c->keys = lua_gettop(L) - 2, c->vals = lua_gettop(L) - 1;
  lua_pushvalue(L, dsk);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, c->keys);
  lua_setiuservalue(L, -2, 2);
  push_pending(L);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, 1); /* until lask_lconv_done */
  lua_pop(L, 1);
  return c;
}

/* Pushes the key of node id. */
static void push_key(lua_State *L, lask_lconv *c, uint32_t id) {
  lua_rawgeti(L, lask_lconv_keys(L, c), (lua_Integer)id + 1);
}

int lask_l_raise(lua_State *L, lask_lconv *c, const char *kind, uint32_t node, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *msg = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "message");
  if (c && node != LASK_NO_NODE) push_key(L, c, node), lua_setfield(L, -2, "key");
  luaL_setmetatable(L, LASK_ERROR_MT);
  return lua_error(L);
}

/* Pushes the repr of node id's key: for messages. */
static const char *key_repr(lua_State *L, lask_lconv *c, uint32_t id) {
  push_key(L, c, id);
  lask_l_pushkeyrepr(L, -1);
  lua_remove(L, -2);
  return lua_tostring(L, -1);
}

/* The node id of the key (string or tuple key) at idx, adding a node when the
 * graph has the key and it is new; UINT32_MAX when the graph does not have it.
 * A tuple key seen before in this conversion carries its id in its stamp; a string
 * key costs one probe of c->ids. A new key has its value saved in c->vals, so the
 * walk reads it back sequentially, with no Lua table lookup. */
static uint32_t node_lookup(lua_State *L, lask_lconv *c, int idx) {
  lask_keystamp *stamp = NULL;
  lask_hkey k;
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    k = lask_hmap_bytes_key(s, len);
    uint32_t id = lask_hmap_get(&c->ids, k);
    if (id != UINT32_MAX || c->building) return id; /* a builder's strings are keys once defined */
  } else {
    stamp = lua_touserdata(L, idx);
    if (stamp_is(stamp, c->serial)) return stamp->node;
    if (c->building) return c->ref(L, c, idx);
  }
  lua_pushvalue(L, idx);
  if (lua_rawget(L, c->dsk) == LUA_TNIL) return lua_pop(L, 1), UINT32_MAX;
  uint32_t id = lask_gb_count(c->b);
  int added;
  if (stamp)
    stamp->conversion_lo = (uint32_t)c->serial, stamp->conversion_hi = (uint32_t)(c->serial >> 32),
    stamp->node = id;
  else if (lask_hmap_intern(&c->ids, k, id, &added) == UINT32_MAX)
    luaL_error(L, "lask: out of memory converting the graph");
  lask_gb_node(c->b);
  lua_rawseti(L, c->vals, (lua_Integer)id + 1);
  if (!stamp)
    lua_pushvalue(L, idx), lua_rawseti(L, c->keys, (lua_Integer)id + 1); /* tuple keys: lask_lconv_keys */
  return id;
}

static void emit_const(lua_State *L, lask_lconv *c, int idx) {
  lask_value v;
  if (!lask_l_toval(L, c->ctx, idx, &v)) luaL_error(L, "lask: out of memory converting the graph");
  lask_gb_const(c->b, v);
}

/* Emits a number (the builder shares one constant among the uses of a recent equal
 * one: the 1 of a million "x + 1" tasks). */
static void emit_number(lua_State *L, lask_lconv *c, int idx) {
  lask_gb_const(c->b,
                lua_isinteger(L, idx) ? lask_int(lua_tointeger(L, idx)) : lask_num(lua_tonumber(L, idx)));
}

/* Emits a constant shared by identity (heads: the same function in a million tasks).
 * The value stays alive, and so its address valid, as long as the graph holds it. */
static uint32_t emit_shared(lua_State *L, lask_lconv *c, int idx) {
  const void *p = lua_topointer(L, idx);
  if (p == c->last_shared) return lask_gb_const_ref(c->b, c->last_shared_ci), c->last_shared_ci;
  lask_hkey k = lask_hmap_ptr_key(p);
  uint32_t ci = lask_hmap_get(&c->heads, k);
  if (ci == UINT32_MAX) {
    lask_value v;
    int added;
    if (!lask_l_toval(L, c->ctx, idx, &v)) luaL_error(L, "lask: out of memory converting the graph");
    ci = lask_gb_add_const(c->b, v);
    if (ci != UINT32_MAX && lask_hmap_intern(&c->heads, k, ci, &added) == UINT32_MAX)
      luaL_error(L, "lask: out of memory converting the graph");
  }
  if (ci != UINT32_MAX) c->last_shared = p, c->last_shared_ci = ci;
  lask_gb_const_ref(c->b, ci);
  return ci;
}

static void emit_arg(lua_State *L, lask_lconv *c, int idx, int depth);

static int has_metatable(lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) return 0;
  lua_pop(L, 1);
  return 1;
}

/* The metatable of the value at idx, as a pointer (NULL: none). */
static const void *metatable_of(lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) return NULL;
  const void *mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  return mt;
}

/* True when the value at idx can be called; a kernel is known without asking its
 * metatable for __call. */
static int is_callable(lua_State *L, lask_lconv *c, int idx) {
  int t = lua_type(L, idx);
  if (t == LUA_TFUNCTION) return 1;
  if (t == LUA_TUSERDATA && metatable_of(L, idx) == c->mts.kernel) return 1;
  return t != LUA_TNIL && t != LUA_TNUMBER && t != LUA_TBOOLEAN && lask_l_iscallable(L, idx);
}

/* Emits elements from..n of the table at idx, the top of the stack. */
static void emit_elements(lua_State *L, lask_lconv *c, int idx, lua_Integer from, lua_Integer n, int depth) {
  if (from > n) return;
  if (depth + 1 > MAX_NESTING)
    lask_l_raise(L, c, "type", c->cur, "task %s: arguments nested more than %d deep", key_repr(L, c, c->cur),
                 MAX_NESTING);
  if (depth > 0) luaL_checkstack(L, 8, "lask: nested too deep"); /* depth 0: walk_nodes made room */
  for (lua_Integer i = from; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    emit_arg(L, c, idx + 1, depth + 1);
    lua_settop(L, idx);
  }
}

/* A plain table at idx, the top of the stack: a task, a list, or a literal. */
static void emit_table(lua_State *L, lask_lconv *c, int idx, int depth) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  int top = idx;
  int head_nil = lua_rawgeti(L, idx, 1) == LUA_TNIL;
  const void *head = head_nil ? NULL : lua_topointer(L, top + 1);
  if (head && head == c->last_head) { /* the head of the task before (kept alive by the graph) */
    lask_gb_const_ref(c->b, c->last_head_ci);
    lua_settop(L, top);
    emit_elements(L, c, idx, 2, n, depth);
    return lask_gb_call(c->b, (uint32_t)(n > 1 ? n - 1 : 0));
  }
  if (!head_nil && is_callable(L, c, top + 1)) { /* a task (whatever its metatable): head, args, CALL */
    uint32_t ci = emit_shared(L, c, top + 1);
    if (head && ci != UINT32_MAX) c->last_head = head, c->last_head_ci = ci;
    lua_settop(L, top);
    emit_elements(L, c, idx, 2, n, depth);
    return lask_gb_call(c->b, (uint32_t)(n > 1 ? n - 1 : 0));
  }
  lua_settop(L, top);
  if (has_metatable(L, idx)) return emit_const(L, c, idx); /* objects are literals */
  if (head_nil && lua_rawgeti(L, idx, 2) != LUA_TNIL)
    lask_l_raise(L, c, "type", c->cur,
                 "task %s: its first element is nil, not a function (is the function defined?)",
                 key_repr(L, c, c->cur));
  lua_settop(L, top);
  if (n > 0) {
    lua_pushinteger(L, n);
    int more = lua_next(L, idx); /* anything past 1..n? */
    lua_settop(L, top);
    if (!more) {
      emit_elements(L, c, idx, 1, n, depth);
      return lask_gb_list(c->b, (uint32_t)n);
    }
  }
  emit_const(L, c, idx);
}

static void emit_arg(lua_State *L, lask_lconv *c, int idx, int depth) {
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: {
    uint32_t id = node_lookup(L, c, idx);
    return id != UINT32_MAX ? lask_gb_key(c->b, id) : emit_const(L, c, idx);
  }
  case LUA_TNUMBER: return emit_number(L, c, idx);
  case LUA_TUSERDATA: {
    const void *mt = metatable_of(L, idx);
    if (mt && mt == c->mts.key) {
      uint32_t id = node_lookup(L, c, idx);
      if (id != UINT32_MAX) return lask_gb_key(c->b, id);
      const char *task = key_repr(L, c, c->cur);
      lask_l_pushkeyrepr(L, idx);
      lask_l_raise(L, c, "missing", c->cur,
                   "missing dependency: task %s depends on %s, which is not in the graph", task,
                   lua_tostring(L, -1));
    }
    if (mt && mt == c->mts.quote) {
      lask_l_unquote(L, idx);
      emit_const(L, c, -1);
      return lua_pop(L, 1);
    }
    emit_shared(L, c, idx);
    return;
  }
  case LUA_TTABLE: return emit_table(L, c, idx, depth);
  case LUA_TFUNCTION: emit_shared(L, c, idx); return;
  default: return emit_const(L, c, idx);
  }
}

static int is_key_type(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TSTRING || lask_l_iskey(L, idx);
}

static void add_output(lua_State *L, lask_lconv *c, int idx) {
  if (!is_key_type(L, idx))
    lask_l_raise(L, c, "type", LASK_NO_NODE, "keys are strings or lask.key tuples, not %s%s",
                 luaL_typename(L, idx), lua_type(L, idx) == LUA_TNUMBER ? " (numbers are never keys)" : "");
  uint32_t id = c->building ? c->find(L, c, idx) : node_lookup(L, c, idx);
  if (id == UINT32_MAX) {
    lask_l_pushkeyrepr(L, idx);
    lask_l_raise(L, c, "missing", LASK_NO_NODE, "key %s is not in the graph", lua_tostring(L, -1));
  }
  if (c->nouts == c->capouts) {
    size_t cap = c->capouts ? c->capouts * 2 : 16;
    uint32_t *outs = realloc(c->outs, cap * sizeof *outs);
    if (!outs) luaL_error(L, "lask: out of memory");
    c->outs = outs, c->capouts = cap;
  }
  c->outs[c->nouts++] = id;
}

/* The requested keys at idx, depth lists deep: bounded like arguments, since each
 * level is a C frame here and in lget.c's push_results (140k levels overflowed the
 * C stack). */
static void outputs_at(lua_State *L, lask_lconv *c, int idx, int depth) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || has_metatable(L, idx)) return add_output(L, c, idx);
  if (depth > MAX_NESTING)
    lask_l_raise(L, c, "type", LASK_NO_NODE, "the requested keys are lists nested more than %d deep",
                 MAX_NESTING);
  luaL_checkstack(L, 4, "lask: keys nested too deep");
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    outputs_at(L, c, -1, depth + 1);
    lua_pop(L, 1);
  }
}

void lask_lconv_outputs(lua_State *L, lask_lconv *c, int idx) { outputs_at(L, c, idx, 1); }

/* The walk over the nodes (a protected call: see lask_lconv_build). */
static int walk_nodes(lua_State *L) {
  lask_lconv *c = lua_touserdata(L, 1);
  c->dsk = 2, c->keys = 3, c->vals = 4;                 /* this frame's copies */
  luaL_checkstack(L, 16, "lask: converting the graph"); /* room for a node and its elements */
  int top = lua_gettop(L);
  for (uint32_t id = 0; id < lask_gb_count(c->b); id++) {
    c->cur = id;
    lua_rawgeti(L, c->vals, (lua_Integer)id + 1);
    lask_gb_begin(c->b, id);
    emit_arg(L, c, top + 1, 0);
    lask_gb_end(c->b);
    lua_settop(L, top);
  }
  c->cur = LASK_NO_NODE;
  /* Every value read: emptied, then a new key in its empty hash part makes Lua rehash
   * the table, which frees its array part (16 bytes a node) now rather than at some
   * collection. (Emptying it during the walk made each growth a rehash.) */
  for (uint32_t id = 0; id < lask_gb_count(c->b); id++)
    lua_pushnil(L), lua_rawseti(L, c->vals, (lua_Integer)id + 1);
  lua_pushboolean(L, 1);
  lua_rawsetp(L, c->vals, c);
  return 0;
}

void lask_lconv_build(lua_State *L, lask_lconv *c) {
  /* The walk allocates little Lua memory, but a GC step it triggers would traverse
   * the whole (large) user graph: the collector pauses for the walk, and resumes
   * whether or not the walk raised an error. */
  int gc_was_running = lua_gc(L, LUA_GCISRUNNING);
  lua_gc(L, LUA_GCSTOP);
  int dsk = c->dsk, keys = c->keys, vals = c->vals;
  lua_pushcfunction(L, walk_nodes);
  lua_pushlightuserdata(L, c);
  lua_pushvalue(L, dsk);
  lua_pushvalue(L, keys);
  lua_pushvalue(L, vals);
  int st = lua_pcall(L, 4, 0, 0);
  c->dsk = dsk, c->keys = keys, c->vals = vals;
  if (gc_was_running) lua_gc(L, LUA_GCRESTART);
  if (st != LUA_OK) lua_error(L);
  lask_hmap_free(&c->ids), lask_hmap_free(&c->heads); /* not needed to run: free them before */
  lask_err err;
  lask_graph_builder *b = c->b;
  c->b = NULL;
  if (!(c->g = lask_gb_finish(b, &err))) luaL_error(L, "lask: %s", err.msg);
}

void lask_lconv_emit_arg(lua_State *L, lask_lconv *c, int idx) {
  lua_pushvalue(L, idx); /* emit_table reads a table at the top */
  emit_arg(L, c, lua_gettop(L), 1);
  lua_pop(L, 1);
}

void lask_lconv_emit_head(lua_State *L, lask_lconv *c, int idx) { emit_shared(L, c, lua_absindex(L, idx)); }

void lask_lconv_emit_literal(lua_State *L, lask_lconv *c, int idx) {
  if (lua_type(L, idx) == LUA_TNUMBER) return emit_number(L, c, idx);
  emit_const(L, c, idx);
}

int lask_lconv_is_callable(lua_State *L, lask_lconv *c, int idx) { return is_callable(L, c, idx); }
