/* lcopy.c — Lua values copied between Lua states of one process, for Lua tasks
 * run on worker states (lstates.c).
 *
 * A value is frozen on the state that made it into a lask_frozen, an engine
 * object no Lua state owns (so any thread may hold or release it), and thawed on
 * another state into a fresh copy. Frozen bytes: one tag byte then the payload:
 *   n | f t | i int64 | d double | s len bytes
 *   { id (key value)... } metatable-value : a table, numbered when first met
 *   F id len bytecode nups upvalue-values... : a Lua function (lua_dump / load),
 *                       numbered too, so shared references and cycles survive
 *   r id : a table or function met before      o index : an engine object
 *   C len "module\0field" : a C function found by its path in package.loaded
 *   M len module : a module table (package.loaded[module]), required on arrival
 *   G : the global environment (the thawing state's, see lask_l_copy_env)
 *   k n parts... : a tuple key, re-interned on arrival
 * Engine objects (kernels, ndarrays) are retained in objs[], never copied: an
 * ndarray's buffer is shared. Coroutines, unknown userdata and C functions that
 * package.loaded does not reach cannot be frozen; the message names the upvalue.
 */
#include <stdlib.h>
#include <string.h>

#include "binding.h"

enum { MAX_DEPTH = 200 };

static const char paths_key = 'p', dumps_key = 'd', cache_key = 'c', env_key = 'e';
/* On a thawing state, kept across gets: bytecode -> the closures loaded from it
 * (protos_key; CLOSURES_KEPT of them at most in all), and how many of each this
 * get has taken (taken_key). */
static const char protos_key = 'P', taken_key = 'T';

enum { CLOSURES_KEPT = 1 << 16 };

typedef struct lask_frozen {
  lask_obj h;
  char *data;
  size_t len;
  lask_value *objs; /* retained */
  size_t nobjs, capobjs;
  lask_value origin; /* a host object (retained) pushed as it is in the state that owns it, or nil */
  int constant;      /* lives through the get: its thawed copy is cached per state */
} lask_frozen;

static void frozen_destroy(lask_obj *o) {
  lask_frozen *f = (lask_frozen *)o;
  for (size_t i = 0; i < f->nobjs; i++) lask_release(f->objs[i]);
  lask_release(f->origin);
  free(f->objs), free(f->data), free(f);
}

const lask_lclass lask_frozen_class = {{"copied Lua value", frozen_destroy}, lask_l_thaw};

/* --- the paths of C functions and modules --- */

/* Rebuilds L's map from C functions and module tables to their paths in
 * package.loaded (kept in the registry, used by every freeze until the next call). */
void lask_l_copy_begin(lua_State *L) {
  lua_newtable(L);
  int map = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE) continue;
    const char *mod = lua_tostring(L, -2);
    lua_pushvalue(L, -1);
    lua_pushfstring(L, "M%s", mod);
    lua_rawset(L, map);
    for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
      if (lua_type(L, -2) != LUA_TSTRING || !lua_iscfunction(L, -1)) continue;
      lua_pushvalue(L, -1);
      lua_rawget(L, map);
      int known = !lua_isnil(L, -1);
      lua_pop(L, 1);
      if (known) continue; /* the first path found wins, whatever it is */
      lua_pushvalue(L, -1);
      lua_pushfstring(L, "C%s", mod);
      lua_pushlstring(L, "", 1);
      lua_pushvalue(L, -5);
      lua_concat(L, 3);
      lua_rawset(L, map);
    }
  }
  lua_pop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &paths_key);
}

/* --- freezing --- */

typedef struct wctx {
  lua_State *L;
  lask_frozen *f;
  lask_sbuf b;
  int seen, paths, dumps, errslot;
  int nseen, depth;
  const char *upname; /* the innermost upvalue being frozen, for messages */
  int updepth;
  const char *err;
} wctx;

static int put(wctx *w, const void *p, size_t n) { return lask_sbuf_put(&w->b, p, n); }
static int tag(wctx *w, char t) { return put(w, &t, 1); }
static int u64(wctx *w, uint64_t v) { return put(w, &v, sizeof v); }
static int bytes(wctx *w, const char *s, size_t n) { return u64(w, n) && put(w, s, n); }

static int fail(wctx *w, int idx) {
  if (w->err) return 0;
  const char *type = luaL_typename(w->L, idx);
  if (w->upname)
    lua_pushfstring(w->L, "upvalue '%s' %s a %s", w->upname, w->depth == w->updepth ? "is" : "holds", type);
  else
    lua_pushfstring(w->L, "a %s", type);
  lua_replace(w->L, w->errslot);
  w->err = lua_tostring(w->L, w->errslot);
  return 0;
}

/* As fail, with the message what. */
static int fail_msg(wctx *w, const char *what) {
  if (w->err) return 0;
  lua_pushstring(w->L, what);
  lua_replace(w->L, w->errslot);
  w->err = lua_tostring(w->L, w->errslot);
  return 0;
}

static int put_obj(wctx *w, lask_value v) {
  lask_frozen *f = w->f;
  if (f->nobjs == f->capobjs) {
    size_t cap = f->capobjs ? f->capobjs * 2 : 4;
    lask_value *objs = realloc(f->objs, cap * sizeof *objs);
    if (!objs) return 0;
    f->objs = objs, f->capobjs = cap;
  }
  f->objs[f->nobjs++] = lask_retain(v);
  return tag(w, 'o') && u64(w, f->nobjs - 1);
}

/* Writes 'r' for a table or function met before; else numbers it and returns 0. */
static int seen_before(wctx *w, int idx, int *done) {
  lua_State *L = w->L;
  lua_pushvalue(L, idx);
  if (lua_rawget(L, w->seen) != LUA_TNIL) {
    uint64_t id = (uint64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    *done = tag(w, 'r') && u64(w, id);
    return 1;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  lua_pushinteger(L, ++w->nseen);
  lua_rawset(L, w->seen);
  return 0;
}

static int write(wctx *w, int idx);

/* True when the value at idx is the global environment (or the get's copy of it). */
static int is_env(lua_State *L, int idx) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &env_key);
  int is = lua_rawequal(L, idx, -2) || lua_rawequal(L, idx, -1);
  lua_pop(L, 2);
  return is;
}

/* The path of the value at idx (a module or C function), pushed; 0 when it has none. */
static int path_of(wctx *w, int idx) {
  lua_pushvalue(w->L, idx);
  if (lua_rawget(w->L, w->paths) == LUA_TSTRING) return 1;
  lua_pop(w->L, 1);
  return 0;
}

static int write_path(wctx *w) {
  size_t len;
  const char *p = lua_tolstring(w->L, -1, &len);
  int ok = tag(w, p[0]) && bytes(w, p + 1, len - 1);
  lua_pop(w->L, 1);
  return ok;
}

static int write_table(wctx *w, int idx) {
  lua_State *L = w->L;
  int done;
  if (is_env(L, idx)) return tag(w, 'G');
  if (path_of(w, idx)) return write_path(w);
  if (seen_before(w, idx, &done)) return done;
  if (!tag(w, '{') || !u64(w, (uint64_t)w->nseen)) return 0;
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
    int top = lua_gettop(L);
    if (!write(w, top - 1) || !write(w, top)) return lua_settop(L, top - 2), 0;
  }
  if (!tag(w, '}')) return 0;
  if (!lua_getmetatable(L, idx)) return tag(w, 'n');
  int ok = write(w, lua_gettop(L));
  lua_pop(L, 1);
  return ok;
}

static int dump_writer(lua_State *L, const void *p, size_t n, void *ud) {
  (void)L;
  return !lask_sbuf_put(ud, p, n);
}

/* Pushes the bytecode of the Lua function at idx, cached per function. */
static void push_bytecode(wctx *w, int idx) {
  lua_State *L = w->L;
  lua_pushvalue(L, idx);
  if (lua_rawget(L, w->dumps) == LUA_TSTRING) return;
  lua_pop(L, 1);
  lask_sbuf code = {0};
  lua_pushvalue(L, idx);
  int bad = lua_dump(L, dump_writer, &code, 0);
  lua_pop(L, 1);
  if (bad)
    lua_pushnil(L);
  else
    lua_pushlstring(L, code.data ? code.data : "", code.len);
  lask_sbuf_free(&code);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -2);
  lua_rawset(L, w->dumps);
}

static int write_function(wctx *w, int idx) {
  lua_State *L = w->L;
  int done;
  if (lua_iscfunction(L, idx)) return path_of(w, idx) ? write_path(w) : fail(w, idx);
  if (seen_before(w, idx, &done)) return done;
  push_bytecode(w, idx);
  size_t len;
  const char *code = lua_tolstring(L, -1, &len);
  int ok = code && tag(w, 'F') && u64(w, (uint64_t)w->nseen) && bytes(w, code, len);
  lua_pop(L, 1);
  int nups = 0;
  while (lua_getupvalue(L, idx, nups + 1)) lua_pop(L, 1), nups++;
  ok = ok && u64(w, (uint64_t)nups);
  const char *outer = w->upname;
  int outer_depth = w->updepth;
  for (int i = 1; i <= nups && ok; i++) {
    w->upname = lua_getupvalue(L, idx, i), w->updepth = w->depth + 1;
    ok = write(w, lua_gettop(L));
    lua_pop(L, 1);
  }
  if (ok) w->upname = outer, w->updepth = outer_depth; /* on failure the innermost name stays */
  return ok;
}

static int write_userdata(wctx *w, int idx) {
  lua_State *L = w->L;
  const lask_kernel *k = lask_l_tokernel(L, idx);
  bool failed = false;
  lask_ndarray *a = lask_l_tondarray_quiet(L, idx, &failed); /* a pending one evaluated */
  if (failed) return fail_msg(w, "a lask.ndarray that could not be evaluated (out of memory)");
  if (k) return put_obj(w, lask_objval((lask_obj *)&k->h));
  if (a) return put_obj(w, lask_ndarray_value(a));
  if (!lask_l_iskey(L, idx)) return fail(w, idx);
  int n = lask_l_keylen(L, idx);
  if (!tag(w, 'k') || !u64(w, (uint64_t)n)) return 0;
  for (int i = 1; i <= n; i++) {
    lask_l_keypart(L, idx, i);
    int ok = write(w, lua_gettop(L));
    lua_pop(L, 1);
    if (!ok) return 0;
  }
  return 1;
}

static int write(wctx *w, int idx) {
  lua_State *L = w->L;
  idx = lua_absindex(L, idx);
  if (++w->depth > MAX_DEPTH) {
    if (!w->err) lua_pushliteral(L, "values nested too deep"), lua_replace(L, w->errslot);
    w->err = lua_tostring(L, w->errslot);
    return 0;
  }
  luaL_checkstack(L, 8, "lask: copying a value");
  int ok = 0;
  switch (lua_type(L, idx)) {
  case LUA_TNIL: ok = tag(w, 'n'); break;
  case LUA_TBOOLEAN: ok = tag(w, lua_toboolean(L, idx) ? 't' : 'f'); break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      int64_t v = lua_tointeger(L, idx);
      ok = tag(w, 'i') && put(w, &v, sizeof v);
    } else {
      double v = lua_tonumber(L, idx);
      ok = tag(w, 'd') && put(w, &v, sizeof v);
    }
    break;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    ok = tag(w, 's') && bytes(w, s, len);
    break;
  }
  case LUA_TTABLE: ok = write_table(w, idx); break;
  case LUA_TFUNCTION: ok = write_function(w, idx); break;
  case LUA_TUSERDATA: ok = write_userdata(w, idx); break;
  default: ok = fail(w, idx);
  }
  w->depth--;
  return ok;
}

/* Pushes the registry table at key, making it (weak keys when weak) on first use. */
static void registry_table(lua_State *L, const char *key, int weak) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_newtable(L);
  if (weak) {
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
  }
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void lask_l_push_dumps(lua_State *L) { registry_table(L, &dumps_key, 1); }

const char *lask_l_freeze(lua_State *L, int idx, lask_value origin, lask_value *out) {
  idx = lua_absindex(L, idx);
  *out = lask_nil();
  lask_frozen *f = calloc(1, sizeof *f);
  if (!f) return lua_pushliteral(L, "out of memory"), lua_tostring(L, -1);
  lask_obj_init(&f->h, &lask_frozen_class.cls);
  f->origin = lask_nil();
  lua_pushnil(L); /* the error slot */
  int base = lua_gettop(L);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &paths_key) == LUA_TNIL) {
    lua_pop(L, 1);
    lask_l_copy_begin(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &paths_key);
  }
  registry_table(L, &dumps_key, 1);
  lua_newtable(L);
  wctx w = {.L = L, .f = f, .errslot = base, .paths = base + 1, .dumps = base + 2, .seen = base + 3};
  int ok = write(&w, idx);
  f->data = w.b.data, f->len = w.b.len;
  w.b.data = NULL;
  lask_sbuf_free(&w.b);
  lua_settop(L, base);
  if (!ok) {
    lask_release(lask_objval(&f->h));
    if (!w.err) lua_pushliteral(L, "out of memory"), lua_replace(L, base);
    return lua_tostring(L, base); /* the message stays on top */
  }
  lua_pop(L, 1);
  f->origin = lask_retain(origin);
  *out = lask_objval(&f->h);
  return NULL;
}

void lask_l_frozen_set_constant(lask_value v) {
  if (lask_isa(v, &lask_frozen_class.cls)) ((lask_frozen *)v.as.o)->constant = 1;
}

/* --- thawing --- */

typedef struct rctx {
  lua_State *L;
  const lask_frozen *f;
  const char *p, *end;
  int made, depth;
} rctx;

static void need(rctx *r, size_t n) {
  if ((size_t)(r->end - r->p) < n) luaL_error(r->L, "lask: a copied value is malformed");
}

static uint64_t get_u64(rctx *r) {
  uint64_t v;
  need(r, sizeof v);
  memcpy(&v, r->p, sizeof v);
  r->p += sizeof v;
  return v;
}

static const char *get_bytes(rctx *r, size_t *len) {
  *len = (size_t)get_u64(r);
  need(r, *len);
  const char *s = r->p;
  r->p += *len;
  return s;
}

static void read(rctx *r);

static void read_table(rctx *r) {
  lua_State *L = r->L;
  lua_Integer id = (lua_Integer)get_u64(r);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_rawseti(L, r->made, id);
  int t = lua_gettop(L);
  for (need(r, 1); *r->p != '}'; need(r, 1)) {
    read(r), read(r);
    lua_rawset(L, t);
  }
  r->p++;
  read(r);
  if (lua_istable(L, -1))
    lua_setmetatable(L, t);
  else
    lua_pop(L, 1);
}

/* Pushes a closure of the function whose bytecode is code[0..len): one this state
 * loaded in an earlier get and this get has not taken yet (the caller sets all its
 * upvalues afresh), else a new one, kept for later gets. So a function — or the
 * closures of one function made in a loop — is loaded once per worker state while
 * its bytecode stays the same, not once per get. A state where no get began
 * (lask_l_copy_new_get) loads each time. */
static void push_closure(lua_State *L, const char *code, size_t len) {
  int kept = lua_rawgetp(L, LUA_REGISTRYINDEX, &protos_key) == LUA_TTABLE;
  kept = lua_rawgetp(L, LUA_REGISTRYINDEX, &taken_key) == LUA_TTABLE && kept;
  int protos = lua_gettop(L) - 1, taken = protos + 1;
  if (!kept) {
    lua_settop(L, protos - 1);
    if (luaL_loadbufferx(L, code, len, "=copied function", "b") != LUA_OK) lua_error(L);
    return;
  }
  lua_pushlstring(L, code, len);
  int bytes = lua_gettop(L);
  lua_pushvalue(L, bytes);
  if (lua_rawget(L, protos) != LUA_TTABLE) { /* the first closure of this bytecode */
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, bytes);
    lua_pushvalue(L, -2);
    lua_rawset(L, protos);
  }
  int pool = lua_gettop(L);
  lua_pushvalue(L, bytes);
  lua_Integer n = (lua_rawget(L, taken) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0) + 1;
  lua_pop(L, 1);
  lua_pushvalue(L, bytes);
  lua_pushinteger(L, n);
  lua_rawset(L, taken);
  if (lua_rawgeti(L, pool, n) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    if (luaL_loadbufferx(L, code, len, "=copied function", "b") != LUA_OK) lua_error(L);
    lua_rawgeti(L, taken, 0); /* closures kept in all */
    lua_Integer all = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    if (all < CLOSURES_KEPT) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, pool, n);
      lua_pushinteger(L, all + 1);
      lua_rawseti(L, taken, 0);
    }
  }
  lua_replace(L, protos);
  lua_settop(L, protos);
}

/* Sets every upvalue of the closure at the top to nil. */
static void drop_upvalues(lua_State *L) {
  for (int i = 1; lua_pushnil(L), lua_setupvalue(L, -2, i); i++) continue;
  lua_pop(L, 1); /* the nil no upvalue took */
}

/* A new get on L: every kept closure free again, its upvalues dropped (so that the
 * last get's copies can be collected). */
static void free_closures(lua_State *L) {
  lua_Integer all = 0;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &protos_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &protos_key);
  }
  for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) { /* bytecode, its closures */
    lua_Integer i = 1;
    for (; lua_rawgeti(L, -1, i) == LUA_TFUNCTION; i++) drop_upvalues(L), lua_pop(L, 1);
    lua_pop(L, 1); /* what ended the list */
    all += i - 1;
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushinteger(L, all);
  lua_rawseti(L, -2, 0);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &taken_key);
}

static void read_function(rctx *r) {
  lua_State *L = r->L;
  lua_Integer id = (lua_Integer)get_u64(r);
  size_t len;
  const char *code = get_bytes(r, &len);
  push_closure(L, code, len);
  int fn = lua_gettop(L);
  lua_pushvalue(L, fn);
  lua_rawseti(L, r->made, id);
  uint64_t nups = get_u64(r);
  for (uint64_t i = 1; i <= nups; i++) {
    read(r);
    if (!lua_setupvalue(L, fn, (int)i)) lua_pop(L, 1);
  }
}

/* Pushes package.loaded[name], requiring it when this state has not loaded it. */
static void push_module(lua_State *L, const char *name, size_t len) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushlstring(L, name, len);
  if (lua_rawget(L, -2) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushlstring(L, name, len);
    lua_call(L, 1, 1);
  }
  lua_remove(L, -2);
}

static void read_path(rctx *r, char t) {
  lua_State *L = r->L;
  size_t len;
  const char *p = get_bytes(r, &len);
  if (t == 'M') return push_module(L, p, len);
  size_t mod = strnlen(p, len);
  if (mod == len) luaL_error(L, "lask: a copied value is malformed");
  push_module(L, p, mod);
  lua_pushlstring(L, p + mod + 1, len - mod - 1);
  if (!lua_istable(L, -2) || lua_rawget(L, -2) != LUA_TFUNCTION)
    luaL_error(L, "lask: a function of module '%s' is missing in this Lua state", lua_tostring(L, -1));
  lua_remove(L, -2);
}

static void read(rctx *r) {
  lua_State *L = r->L;
  if (++r->depth > MAX_DEPTH + 2) luaL_error(L, "lask: a copied value is nested too deep");
  luaL_checkstack(L, 8, "lask: copying a value");
  need(r, 1);
  char t = *r->p++;
  switch (t) {
  case 'n': lua_pushnil(L); break;
  case 'f': lua_pushboolean(L, 0); break;
  case 't': lua_pushboolean(L, 1); break;
  case 'i': lua_pushinteger(L, (lua_Integer)get_u64(r)); break;
  case 'd': {
    uint64_t bits = get_u64(r);
    double v;
    memcpy(&v, &bits, sizeof v);
    lua_pushnumber(L, v);
    break;
  }
  case 's': {
    size_t len;
    const char *s = get_bytes(r, &len);
    lua_pushlstring(L, s, len);
    break;
  }
  case '{': read_table(r); break;
  case 'F': read_function(r); break;
  case 'r': lua_rawgeti(L, r->made, (lua_Integer)get_u64(r)); break;
  case 'o': {
    uint64_t i = get_u64(r);
    if (i >= r->f->nobjs) luaL_error(L, "lask: a copied value is malformed");
    lask_l_pushval(L, r->f->objs[i]);
    break;
  }
  case 'C':
  case 'M': read_path(r, t); break;
  case 'G': lask_l_copy_env(L); break;
  case 'k': {
    uint64_t n = get_u64(r);
    lask_l_pushkeyfunc(L);
    for (uint64_t i = 0; i < n; i++) read(r);
    lua_call(L, (int)n, 1);
    break;
  }
  default: luaL_error(L, "lask: a copied value is malformed");
  }
  r->depth--;
}

void lask_l_copy_env(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &env_key) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
}

void lask_l_copy_set_env(lua_State *L, int idx) {
  lua_pushvalue(L, idx);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &env_key);
}

void lask_l_copy_new_get(lua_State *L) {
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &cache_key);
  free_closures(L);
  lask_l_copy_begin(L);
}

void lask_l_thaw(lua_State *L, lask_value v) {
  const lask_frozen *f = (const lask_frozen *)v.as.o;
  if (f->origin.type == LASK_TOBJ && ((lask_hostobj *)f->origin.as.o)->ctx == lask_l_ctx(L))
    return lask_l_pushval(L, f->origin);
  int cache = 0;
  if (f->constant && lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_key) == LUA_TTABLE) {
    if (lua_rawgetp(L, -1, f) != LUA_TNIL) return lua_remove(L, -2);
    lua_pop(L, 1);
    cache = lua_gettop(L);
  } else if (f->constant) {
    lua_pop(L, 1);
  }
  lua_newtable(L);
  rctx r = {.L = L, .f = f, .p = f->data, .end = f->data + f->len, .made = lua_gettop(L)};
  read(&r);
  lua_remove(L, r.made);
  if (!cache) return;
  lua_pushvalue(L, -1);
  lua_rawsetp(L, cache, f);
  lua_remove(L, cache);
}

const char *lask_l_toval_frozen(lua_State *L, int idx, int keep_origin, lask_value *out) {
  idx = lua_absindex(L, idx);
  int t = lua_type(L, idx);
  if (!keep_origin && (t == LUA_TTABLE || t == LUA_TFUNCTION || t == LUA_TTHREAD))
    return lask_l_freeze(L, idx, lask_nil(), out);
  lask_value v;
  if (!lask_l_toval(L, lask_l_ctx(L), idx, &v))
    return lua_pushliteral(L, "out of memory"), lua_tostring(L, -1);
  if (!lask_isa(v, &lask_host_class)) return *out = v, NULL;
  const char *why = lask_l_freeze(L, idx, keep_origin ? v : lask_nil(), out);
  if (why && keep_origin) return lua_pop(L, 1), *out = v, NULL; /* stays the caller's own */
  lask_release(v);
  return why;
}
