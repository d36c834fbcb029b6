/* lkey.c — tuple keys and quotes.
 *
 * A tuple key is a userdata whose bytes are a lask_keystamp (for conversions,
 * binding.h) then its parts, encoded: a tag byte per part, then its payload. Short
 * strings (up to KEY_INLINE_MAX bytes) are inline; numbers take 1, 2, 4 or 8 bytes
 * (integral floats are stored as integers, as Lua does for table keys; 2.5 stays a
 * float); booleans are their tag. A longer string is a user value of the key. So the
 * key ("x", i) is one allocation of 64 bytes with no user value, which the collector
 * marks without traversing it. Keys are interned, so equal parts give the very same
 * object: it works as a table key and compares with ==.
 *
 * The intern table is C's: open addressing (probe_next) over 8-byte slots, each the 32-bit hash
 * of a key's encoding and the index ("ref") of the key in a weak-valued Lua table
 * (Lua can push a userdata back only from a table). A key is encoded once, into a
 * buffer on the C stack, and compared with a candidate by memcmp. A key that
 * dies is cleared from the weak table by the collector: its slot is then found dead
 * when its ref reads nil, and reused by the next key probing through it, or dropped
 * when the table next grows (its ref then goes to a free list; the table is then
 * sized to the live keys, so it shrinks back after a spike). The sweep that finds
 * them runs only when a collection cycle ended since the last one: a sentinel in the
 * weak table, cleared by every cycle's atomic phase, tells.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"

/* The encoding's tags: 0 .. KEY_INLINE_MAX is an inline string of that many bytes. */
enum {
  KEY_INLINE_MAX = 40, /* Lua's short strings */
  TAG_I8 = 0xf0,
  TAG_I16,
  TAG_I32,
  TAG_I64,
  TAG_F64,
  TAG_FALSE,
  TAG_TRUE,
  TAG_LONG, /* a longer string: the key's next user value */
};
enum { KEY_ENCODED_MAX = LASK_KEY_PARTS_MAX * (1 + KEY_INLINE_MAX) };

static uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

/* Folds the bytes p[0..n) into h, a word at a time; reads up to 7 bytes past n,
 * which the caller has zeroed. */
static uint64_t hash_words(uint64_t h, const uint8_t *p, size_t n) {
  h ^= n * 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = mix(h ^ w) * 0x9e3779b97f4a7c15ULL;
  }
  return h;
}

/* The hash of a long string's bytes. */
static uint64_t hash_string(uint64_t h, const char *s, size_t n) {
  for (; n >= 8; s += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = mix(h ^ w) * 0x9e3779b97f4a7c15ULL;
  }
  uint64_t w = 0;
  memcpy(&w, s, n);
  return mix(h ^ w ^ n);
}

/* A key's parts, encoded (from the stack, by encode_parts). */
typedef struct key_enc {
  size_t len;
  int nlong; /* long strings: the stack indices in longs */
  int longs[LASK_KEY_PARTS_MAX];
  uint8_t bytes[KEY_ENCODED_MAX + 8]; /* zeroed past len, for hash_words */
} key_enc;

/* Writes integer k at o in the fewest bytes (tag, then 1, 2, 4 or 8 bytes); gives
 * the end. */
static uint8_t *encode_int(uint8_t *o, lua_Integer k) {
  if (k == (int8_t)k) {
    *o++ = TAG_I8, *o++ = (uint8_t)(int8_t)k;
  } else if (k == (int16_t)k) {
    int16_t v = (int16_t)k;
    *o++ = TAG_I16;
    memcpy(o, &v, 2), o += 2;
  } else if (k == (int32_t)k) {
    int32_t v = (int32_t)k;
    *o++ = TAG_I32;
    memcpy(o, &v, 4), o += 4;
  } else {
    int64_t v = (int64_t)k;
    *o++ = TAG_I64;
    memcpy(o, &v, 8), o += 8;
  }
  return o;
}

/* Encodes the n arguments into e; raises for a part that is not a string, number or
 * boolean. Gives the encoding's hash (long strings hashed by their bytes). A key
 * whose last part is an integer u has the hash H of the rest and u / 8 shifted left
 * by 3, and (u + H) % 8 in the low bits: keys ("x", 0), ("x", 1), ... made in order
 * fill the intern table a cache line (8 slots) at a time, not at a random slot each
 * (probe_next), and keys ("x", 0), ("x", 8), ... do not all take the same place in
 * their lines. */
static uint64_t encode_parts(lua_State *L, int n, key_enc *e) {
  uint8_t *o = e->bytes, *last = NULL;
  uint64_t h = 0;
  lua_Integer u = 0;
  e->nlong = 0;
  for (int i = 1; i <= n; i++) {
    switch (lua_type(L, i)) {
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, i, &len);
      if (len <= KEY_INLINE_MAX) {
        *o++ = (uint8_t)len;
        memcpy(o, s, len), o += len;
      } else {
        *o++ = TAG_LONG;
        e->longs[e->nlong++] = i;
        h = hash_string(h, s, len);
      }
      break;
    }
    case LUA_TNUMBER: {
      int isint;
      lua_Integer k = lua_tointegerx(L, i, &isint); /* integral floats too */
      if (isint && i == n) last = o, u = k;
      if (!isint) {
        lua_Number v = lua_tonumber(L, i);
        *o++ = TAG_F64;
        memcpy(o, &v, 8), o += 8;
      } else {
        o = encode_int(o, k);
      }
      break;
    }
    case LUA_TBOOLEAN: *o++ = lua_toboolean(L, i) ? TAG_TRUE : TAG_FALSE; break;
    default:
      luaL_error(L, "lask.key: part %d is a %s; parts must be strings, numbers or booleans", i,
                 luaL_typename(L, i));
    }
  }
  e->len = (size_t)(o - e->bytes);
  memset(o, 0, 8);
  if (!last) return mix(hash_words(h, e->bytes, e->len));
  size_t head = (size_t)(last - e->bytes);
  uint8_t tag = *last;
  memset(last, 0, 8); /* the head's hash reads zeros past it */
  h = hash_words(h, e->bytes, head);
  encode_int(last, u); /* back as it was */
  h = mix(h ^ tag ^ ((uint64_t)u >> 3) * 0xc2b2ae3d27d4eb4fULL);
  return (h << 3) | (((uint64_t)u + (h >> 40)) & 7);
}

enum { STAMP = sizeof(lask_keystamp) };

/* True when the key at idx has the parts encoded in e (those on the stack). */
static int same_parts(lua_State *L, int idx, const key_enc *e) {
  const uint8_t *p = lua_touserdata(L, idx);
  if (lua_rawlen(L, idx) != STAMP + e->len || memcmp(p + STAMP, e->bytes, e->len) != 0) return 0;
  for (int k = 0; k < e->nlong; k++) {
    lua_getiuservalue(L, idx, k + 1);
    int same = lua_rawequal(L, -1, e->longs[k]);
    lua_pop(L, 1);
    if (!same) return 0;
  }
  return 1;
}

/* The size of the payload after tag t. */
static size_t payload(uint8_t t) {
  switch (t) {
  case TAG_I8: return 1;
  case TAG_I16: return 2;
  case TAG_I32: return 4;
  case TAG_I64:
  case TAG_F64: return 8;
  case TAG_FALSE:
  case TAG_TRUE:
  case TAG_LONG: return 0;
  default: return t; /* an inline string */
  }
}

typedef struct key_slot {
  uint32_t hash; /* the low 32 bits of the parts' hash */
  uint32_t ref;  /* the key's index in the weak table; 0: an empty slot */
} key_slot;

/* The intern table (a userdata, the first upvalue of lask.key). */
typedef struct key_table {
  key_slot *slots; /* cap of them, a power of two (0 before the first key) */
  uint32_t cap, used;
  uint32_t *free_refs; /* refs of dead keys, for new ones */
  uint32_t nfree, capfree;
  uint32_t next_ref; /* refs 1 .. next_ref - 1 were given out */
} key_table;

/* The slot after i in the probe sequence of hash h: slot h, then the slot at the
 * same place in the group (of 8 slots, a cache line) a step of h's away, and so on;
 * the step is an odd number of groups, so after every group the sequence is back at
 * h's own group, where it moves to the next place (cap >= 256, and the table is never
 * full: the sequence ends). Keys that differ only in a last integer's low 3 bits
 * share their groups, at different places (encode_parts): a run of keys made in
 * order fills a cache line, and a run that collides with another moves as a whole
 * to another line rather than lengthening a cluster. */
static uint32_t probe_next(uint32_t i, uint32_t h, uint32_t mask) {
  uint32_t j = (i + ((h >> 16 | 1) << 3)) & mask;
  if ((j ^ h) & mask & ~7u) return j;
  return (j & ~7u) | ((j + 1) & 7); /* back home: the next place */
}

static int key_table_gc(lua_State *L) {
  key_table *t = lua_touserdata(L, 1);
  free(t->slots), free(t->free_refs);
  memset(t, 0, sizeof *t);
  return 0;
}

enum { SENTINEL_REF = 0 }; /* the weak table's sentinel: present until a cycle ends */

/* Rehashes into a table at most half full, leaving out the slots of dead keys (their
 * refs go to the free list) when a collection ended since the last time, which is
 * when keys can have died. Called before an insertion would fill 3/4 of the table.
 * One Lua read a slot, and only then; out of memory raises with the table unchanged. */
static void make_room(lua_State *L, key_table *t, int weak) {
  int ended = !t->cap || lua_rawgeti(L, weak, SENTINEL_REF) == LUA_TNIL;
  if (t->cap) lua_pop(L, 1);
  uint32_t live = t->used;
  uint8_t *dead = NULL; /* by slot: its key was collected */
  if (ended && t->used) {
    if (!(dead = malloc(t->cap))) luaL_error(L, "lask.key: out of memory");
    live = 0;
    for (uint32_t i = 0; i < t->cap; i++) { /* nothing allocates Lua memory from here: no key dies */
      dead[i] = t->slots[i].ref && lua_rawgeti(L, weak, t->slots[i].ref) == LUA_TNIL;
      if (t->slots[i].ref) live += !dead[i], lua_pop(L, 1);
    }
  }
  if (dead && t->capfree - t->nfree < t->used - live) { /* room for every dead key's ref */
    uint32_t fcap = t->nfree + (t->used - live), *f = realloc(t->free_refs, (size_t)fcap * sizeof *f);
    if (!f) free(dead), luaL_error(L, "lask.key: out of memory");
    t->free_refs = f, t->capfree = fcap;
  }
  uint32_t cap =
      t->cap && !dead ? t->cap : 256; /* after a sweep: sized to the live keys (shrinks after a spike) */
  while (((uint64_t)live + 1) * 2 > cap) cap *= 2;
  key_slot *slots = calloc(cap, sizeof *slots);
  if (!slots) free(dead), luaL_error(L, "lask.key: out of memory");
  uint32_t kept = 0;
  for (uint32_t i = 0; i < t->cap; i++) {
    const key_slot *s = &t->slots[i];
    if (!s->ref) continue;
    if (dead && dead[i]) {
      t->free_refs[t->nfree++] = s->ref;
      continue;
    }
    uint32_t j = s->hash & (cap - 1);
    while (slots[j].ref) j = probe_next(j, s->hash, cap - 1);
    slots[j] = *s, kept++;
  }
  free(dead), free(t->slots);
  t->slots = slots, t->cap = cap, t->used = kept;
  if (ended) lua_newtable(L), lua_rawseti(L, weak, SENTINEL_REF);
}

/* lask.key(name, i, j, ...) -> the interned tuple key. Upvalues: the intern table,
 * the weak table (ref -> key), the key metatable. */
static int l_key(lua_State *L) {
  int n = lua_gettop(L);
  if (n == 0) return luaL_error(L, "lask.key needs at least one part");
  if (n > LASK_KEY_PARTS_MAX) return luaL_error(L, "lask.key: %d parts; at most %d", n, LASK_KEY_PARTS_MAX);
  key_enc e;
  uint32_t h = (uint32_t)encode_parts(L, n, &e);
  key_table *t = lua_touserdata(L, lua_upvalueindex(1));
  int weak = lua_upvalueindex(2);
  if (((uint64_t)t->used + 1) * 4 > (uint64_t)t->cap * 3) make_room(L, t, weak); /* 3/4 full */
  uint32_t mask = t->cap - 1, i = h & mask, dead = UINT32_MAX;
  for (; t->slots[i].ref; i = probe_next(i, h, mask)) {
    if (t->slots[i].hash != h) continue;
    if (lua_rawgeti(L, weak, t->slots[i].ref) == LUA_TNIL) {
      if (dead == UINT32_MAX) dead = i; /* a dead key's slot (and ref): reused if the key is new */
    } else if (same_parts(L, n + 1, &e)) {
      return 1;
    }
    lua_pop(L, 1);
  }
  uint8_t *ud = lua_newuserdatauv(L, STAMP + e.len, e.nlong);
  memset(ud, 0, STAMP);
  memcpy(ud + STAMP, e.bytes, e.len);
  for (int k = 0; k < e.nlong; k++) lua_pushvalue(L, e.longs[k]), lua_setiuservalue(L, -2, k + 1);
  lua_pushvalue(L, lua_upvalueindex(3));
  lua_setmetatable(L, -2);
  uint32_t ref;
  if (dead != UINT32_MAX) {
    ref = t->slots[dead].ref;
  } else {
    ref = t->nfree ? t->free_refs[--t->nfree] : t->next_ref++;
    t->slots[i] = (key_slot){h, ref}, t->used++;
  }
  lua_pushvalue(L, -1);
  lua_rawseti(L, weak, ref);
  return 1;
}

static const char keyfunc_key = 'f';                  /* registry: the lask.key closure */
static const char keymt_key = 'm', quotemt_key = 'q'; /* registry: the metatables, by address */

void lask_l_pushkeyfunc(lua_State *L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &keyfunc_key); }

/* True when the value at idx is a userdata whose metatable is registry[regkey]. */
static int has_mt(lua_State *L, int idx, const void *regkey) {
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, regkey);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same;
}

int lask_l_iskey(lua_State *L, int idx) { return has_mt(L, idx, &keymt_key); }

int lask_l_isquote(lua_State *L, int idx) { return has_mt(L, idx, &quotemt_key); }

void lask_l_metatables(lua_State *L, lask_lmts *m) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &keymt_key);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &quotemt_key);
  luaL_getmetatable(L, LASK_KERNEL_MT);
  m->key = lua_topointer(L, -3), m->quote = lua_topointer(L, -2), m->kernel = lua_topointer(L, -1);
  lua_pop(L, 3);
}

int lask_l_keypart(lua_State *L, int idx, int i) {
  const uint8_t *p = lua_touserdata(L, idx), *end = p + lua_rawlen(L, idx);
  int uv = 0;
  for (p += STAMP; p < end && --i > 0; p += 1 + payload(*p)) uv += *p == TAG_LONG;
  if (p >= end || i < 0) return lua_pushnil(L), LUA_TNONE;
  const uint8_t *v = p + 1;
  switch (*p) {
  case TAG_I8: lua_pushinteger(L, (int8_t)*v); break;
  case TAG_I16: {
    int16_t k;
    memcpy(&k, v, 2), lua_pushinteger(L, k);
    break;
  }
  case TAG_I32: {
    int32_t k;
    memcpy(&k, v, 4), lua_pushinteger(L, k);
    break;
  }
  case TAG_I64: {
    int64_t k;
    memcpy(&k, v, 8), lua_pushinteger(L, (lua_Integer)k);
    break;
  }
  case TAG_F64: {
    lua_Number x;
    memcpy(&x, v, 8), lua_pushnumber(L, x);
    break;
  }
  case TAG_FALSE:
  case TAG_TRUE: lua_pushboolean(L, *p == TAG_TRUE); break;
  case TAG_LONG: lua_getiuservalue(L, idx, uv + 1); break;
  default: lua_pushlstring(L, (const char *)v, *p);
  }
  return lua_type(L, -1);
}

int lask_l_keylen(lua_State *L, int idx) {
  const uint8_t *p = lua_touserdata(L, idx), *end = p + lua_rawlen(L, idx);
  int n = 0;
  for (p += STAMP; p < end; p += 1 + payload(*p)) n++;
  return n;
}

static int l_iskey(lua_State *L) {
  lua_pushboolean(L, lask_l_iskey(L, 1));
  return 1;
}

static void check_key(lua_State *L, int idx) {
  if (!lask_l_iskey(L, idx)) luaL_typeerror(L, idx, LASK_KEY_MT);
}

static int key_index(lua_State *L) {
  check_key(L, 1);
  int isint;
  lua_Integer i = lua_tointegerx(L, 2, &isint);
  if (!isint || i < 1 || i > LASK_KEY_PARTS_MAX) return lua_pushnil(L), 1;
  lask_l_keypart(L, 1, (int)i);
  return 1;
}

static int key_len(lua_State *L) {
  check_key(L, 1);
  lua_pushinteger(L, lask_l_keylen(L, 1));
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
  luaL_buffinit(L, &b);
  if (!lask_l_iskey(L, idx)) {
    lua_pushvalue(L, idx);
    add_repr(L, &b);
    luaL_pushresult(&b);
    return;
  }
  int n = lask_l_keylen(L, idx);
  luaL_addchar(&b, '(');
  for (int i = 1; i <= n; i++) {
    if (i > 1) luaL_addstring(&b, ", ");
    lask_l_keypart(L, idx, i);
    add_repr(L, &b);
  }
  luaL_addstring(&b, n == 1 ? ",)" : ")");
  luaL_pushresult(&b);
}

static int key_tostring(lua_State *L) {
  lask_l_pushkeyrepr(L, 1);
  return 1;
}

/* Orders keys part by part: numbers before strings, then by value; shorter first. */
static int key_lt(lua_State *L) {
  check_key(L, 1);
  check_key(L, 2);
  for (int i = 1;; i++) {
    int ta = lask_l_keypart(L, 1, i), tb = lask_l_keypart(L, 2, i);
    if (ta == LUA_TNONE || tb == LUA_TNONE) return lua_pushboolean(L, ta == LUA_TNONE && tb != LUA_TNONE), 1;
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
  lua_rawsetp(L, LUA_REGISTRYINDEX, &keymt_key);
  if (luaL_newmetatable(L, LASK_QUOTE_MT)) {
    lua_pushcfunction(L, quote_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_rawsetp(L, LUA_REGISTRYINDEX, &quotemt_key);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &keyfunc_key) == LUA_TNIL) {
    key_table *t = lua_newuserdatauv(L, sizeof *t, 0);
    memset(t, 0, sizeof *t);
    t->next_ref = 1;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, key_table_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_newtable(L); /* the weak table: ref -> key */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &keymt_key);
    lua_pushcclosure(L, l_key, 3);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &keyfunc_key);
  }
  lua_pop(L, 1);
  lask_l_pushkeyfunc(L);
  lua_setfield(L, -2, "key");
  luaL_setfuncs(L, funcs, 0);
}
