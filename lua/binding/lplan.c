/* lplan.c — core.fed_plan: who owns what in a graph spread over ranks (lask.mpi).
 *
 * core.fed_plan(dsk, keys, rank, size [, rule [, held [, keep]]]) converts the graph (culled to the
 * keys; a bad graph raises here, the same on every rank, before anything is sent),
 * then decides, identically on every rank:
 *   - the order of the keys: sorted by their text (strings, then tuple keys), since
 *     Lua's table order differs between processes; a key's place is its tag;
 *   - data: a node with no dependencies and no call (every rank has it, none sends it);
 *   - every task's owner: rule(key) -> rank when rule is a function; a hash of the
 *     key's text for "hash"; for "blocks" (the default) tuple keys (name, i, ...) with
 *     an integer i are split in contiguous ranges of i per name, and another task
 *     goes, in dependency order, to the owner of its dependency of lowest tag that
 *     has one, unless that rank has more than its share (then to the least loaded),
 *     or is hashed when none has;
 *   - a key in held (key -> rank: a value already on that rank, a persisted block)
 *     is owned by that rank;
 *   - which values go where: to each other rank that owns a reader, and the
 *     requested keys to every rank (unless keep: they then stay on their owners).
 * It returns this rank's part: {owned = {keys}, data = {keys}, inputs = {key = tag},
 * outputs = {key = {tag, rank...}}, sent = the number of values it sends, where =
 * {requested key = its owner, -1 for data}}, from
 * which lask.distributed builds the rank's graph for a fed get (ldist.c).
 */
#include <stdlib.h>
#include <string.h>

#include "binding.h"

typedef struct plan {
  lua_State *L;
  const lask_graph *g;
  uint32_t n;
  int size;
  const char **text; /* per node: its key's text (anchored in a Lua table) */
  size_t *textlen;
  uint32_t *order; /* node ids in key order */
  uint32_t *tag;   /* per node: 1 + its place in order */
  uint8_t *data;
  int *owner; /* -1: none (data) */
} plan;

static const plan *sort_plan; /* qsort has no context argument; set around the call */

static int text_cmp(uint32_t a, uint32_t b, const plan *p) {
  size_t la = p->textlen[a], lb = p->textlen[b];
  int c = memcmp(p->text[a], p->text[b], la < lb ? la : lb);
  return c ? c : (la > lb) - (la < lb);
}

static int by_text(const void *x, const void *y) {
  return text_cmp(*(const uint32_t *)x, *(const uint32_t *)y, sort_plan);
}

static uint32_t fnv32(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

/* True when node v computes nothing: no dependency and no call anywhere in it. */
static int is_data(const lask_graph *g, uint32_t v) {
  if (g->dep_off[v + 1] > g->dep_off[v]) return 0;
  for (uint32_t i = 0; i < g->code_len[v]; i++)
    if (LASK_OP(g->code[g->code_off[v] + i]) == LASK_OP_CALL) return 0;
  return 1;
}

enum { TEXT_MAX = 4096 };

/* Appends the text of the tuple key part at the top of the stack to buf (at *len);
 * integers big-endian with the sign flipped, so texts sort as the numbers do. */
static void add_part(lua_State *L, char *buf, size_t *len) {
  if (*len + 10 > TEXT_MAX) return;
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    if (n > TEXT_MAX - *len - 2) n = TEXT_MAX - *len - 2;
    buf[(*len)++] = 's';
    memcpy(buf + *len, s, n), *len += n;
    buf[(*len)++] = 0;
    return;
  }
  uint64_t u;
  if (lua_isinteger(L, -1)) {
    buf[(*len)++] = 'i';
    u = (uint64_t)lua_tointeger(L, -1) ^ (1ull << 63);
  } else {
    double d = lua_tonumber(L, -1);
    buf[(*len)++] = 'd';
    memcpy(&u, &d, sizeof u);
  }
  for (int b = 7; b >= 0; b--) buf[(*len)++] = (char)(u >> (8 * b));
}

/* Pushes the text of the key at the top of the stack: "s" and a string key, or "t"
 * and the parts of a tuple key. */
static void push_text(lua_State *L) {
  if (lua_type(L, -1) == LUA_TSTRING) {
    lua_pushliteral(L, "s");
    lua_pushvalue(L, -2);
    lua_concat(L, 2);
    return;
  }
  char buf[TEXT_MAX];
  size_t len = 0;
  buf[len++] = 't';
  int key = lua_gettop(L);
  for (int i = 1; lask_l_keypart(L, key, i) != LUA_TNONE; i++) {
    add_part(L, buf, &len);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushlstring(L, buf, len);
}

/* The texts of the keys (in a table at the top of the stack), their order and tags. */
static void order_keys(plan *p, int keys) {
  lua_State *L = p->L;
  lua_createtable(L, (int)p->n, 0);
  int texts = lua_gettop(L);
  for (uint32_t v = 0; v < p->n; v++) {
    lua_rawgeti(L, keys, (lua_Integer)v + 1);
    push_text(L);
    p->text[v] = lua_tolstring(L, -1, &p->textlen[v]);
    lua_rawseti(L, texts, (lua_Integer)v + 1); /* anchors the text */
    lua_pop(L, 1);
    p->order[v] = v;
  }
  sort_plan = p;
  qsort(p->order, p->n, sizeof *p->order, by_text);
  sort_plan = NULL;
  for (uint32_t k = 0; k < p->n; k++) p->tag[p->order[k]] = k + 1;
}

/* Values already held by one rank (held: key -> rank, at stack index held; a persisted
 * block): owned there, never replicated, sent from there to the ranks that read them. */
static void hold(plan *p, int keys, int held, uint32_t *load) {
  lua_State *L = p->L;
  for (uint32_t v = 0; v < p->n; v++) {
    lua_rawgeti(L, keys, (lua_Integer)v + 1);
    if (lua_rawget(L, held) != LUA_TNIL) {
      lua_Integer r = lua_tointeger(L, -1);
      if (r < 0 || r >= p->size)
        luaL_error(L, "mpi.get: a value held by rank %d, not a rank 0..%d", (int)r, p->size - 1);
      p->data[v] = 0, p->owner[v] = (int)r, load[r]++;
    }
    lua_pop(L, 1);
  }
}

/* rule(key) for every task, in key order. */
static void owners_by_function(plan *p, int keys, int rule) {
  lua_State *L = p->L;
  for (uint32_t k = 0; k < p->n; k++) {
    uint32_t v = p->order[k];
    if (p->data[v] || p->owner[v] >= 0) continue;
    lua_pushvalue(L, rule);
    lua_rawgeti(L, keys, (lua_Integer)v + 1);
    lua_call(L, 1, 1);
    int isint;
    lua_Integer r = lua_tointegerx(L, -1, &isint);
    if (!isint || r < 0 || r >= p->size) {
      lua_rawgeti(L, keys, (lua_Integer)v + 1);
      lask_l_pushkeyrepr(L, -1);
      luaL_error(L, "mpi.get: owner(%s) gave %s, not a rank 0..%d", lua_tostring(L, -1),
                 luaL_tolstring(L, -3, NULL), p->size - 1);
    }
    p->owner[v] = (int)r;
    lua_pop(L, 1);
  }
}

/* The block owners: tuple keys (name, i, ...) with an integer i, contiguous ranges of i
 * per name. Counts them in load. */
static void block_owners(plan *p, int keys, uint32_t *load) {
  lua_State *L = p->L;
  lua_newtable(L); /* name -> {lo, hi} */
  int ranges = lua_gettop(L);
  for (int pass = 0; pass < 2; pass++)
    for (uint32_t v = 0; v < p->n; v++) {
      if (p->data[v] || (pass == 1 && p->owner[v] >= 0)) continue;
      lua_rawgeti(L, keys, (lua_Integer)v + 1);
      if (!lask_l_iskey(L, -1)) {
        lua_pop(L, 1);
        continue;
      }
      lask_l_keypart(L, -1, 1); /* name */
      lask_l_keypart(L, -2, 2); /* i */
      int isint;
      lua_Integer i = lua_tointegerx(L, -1, &isint);
      if (isint && lua_type(L, -1) == LUA_TNUMBER) {
        lua_pushvalue(L, -2);
        if (lua_rawget(L, ranges) != LUA_TTABLE) {
          lua_pop(L, 1);
          lua_createtable(L, 2, 0);
          lua_pushinteger(L, i), lua_rawseti(L, -2, 1);
          lua_pushinteger(L, i), lua_rawseti(L, -2, 2);
          lua_pushvalue(L, -3), lua_pushvalue(L, -2), lua_rawset(L, ranges);
        }
        lua_rawgeti(L, -1, 1), lua_rawgeti(L, -2, 2);
        lua_Integer lo = lua_tointeger(L, -2), hi = lua_tointeger(L, -1);
        lua_pop(L, 2);
        if (pass == 0) {
          if (i < lo) lua_pushinteger(L, i), lua_rawseti(L, -2, 1);
          if (i > hi) lua_pushinteger(L, i), lua_rawseti(L, -2, 2);
        } else {
          int r = (int)((i - lo) * p->size / (hi - lo + 1));
          p->owner[v] = r, load[r]++;
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 3);
    }
  lua_pop(L, 1);
}

static int by_tag(const void *x, const void *y) {
  uint32_t a = sort_plan->tag[*(const uint32_t *)x], b = sort_plan->tag[*(const uint32_t *)y];
  return (a > b) - (a < b);
}

/* The other tasks, dependencies first (depth-first from the keys in order, each
 * node's dependencies by tag): a dependency's owner, within the cap, else hashed. */
static int follow_owners(plan *p, uint32_t *load) {
  const lask_graph *g = p->g;
  uint32_t cap = p->n / (uint32_t)p->size + p->n / (4u * (uint32_t)p->size) + 1;
  uint8_t *state = calloc(p->n ? p->n : 1, 1);
  uint32_t *stack = malloc(((size_t)g->dep_off[p->n] + p->n + 1) * sizeof *stack);
  uint32_t *deps = malloc(((size_t)g->dep_off[p->n] + 1) * sizeof *deps);
  if (!state || !stack || !deps) return free(state), free(stack), free(deps), 0;
  memcpy(deps, g->deps, (size_t)g->dep_off[p->n] * sizeof *deps);
  sort_plan = p;
  for (uint32_t v = 0; v < p->n; v++)
    qsort(deps + g->dep_off[v], g->dep_off[v + 1] - g->dep_off[v], sizeof *deps, by_tag);
  sort_plan = NULL;
  for (uint32_t k = 0; k < p->n; k++) {
    uint32_t root = p->order[k];
    if (state[root] || p->data[root] || p->owner[root] >= 0) continue;
    size_t top = 0;
    stack[top++] = root;
    while (top) {
      uint32_t v = stack[top - 1];
      if (!state[v]) {
        state[v] = 1;
        for (uint32_t e = g->dep_off[v + 1]; e-- > g->dep_off[v];) { /* lowest tag on top */
          uint32_t d = deps[e];
          if (!state[d] && !p->data[d] && p->owner[d] < 0) stack[top++] = d;
        }
        continue;
      }
      top--;
      if (state[v] != 1) continue;
      state[v] = 2;
      if (p->owner[v] >= 0) continue;
      int r = -1;
      for (uint32_t e = g->dep_off[v]; e < g->dep_off[v + 1] && r < 0; e++) r = p->owner[deps[e]];
      if (r < 0) r = (int)(fnv32(p->text[v], p->textlen[v]) % (uint32_t)p->size);
      if (load[r] >= cap) {
        r = 0;
        for (int q = 1; q < p->size; q++)
          if (load[q] < load[r]) r = q;
      }
      p->owner[v] = r, load[r]++;
    }
  }
  free(state), free(stack), free(deps);
  return 1;
}

static int by_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return (a > b) - (a < b);
}

/* Pushes this rank's part (the table core.fed_plan returns). pairs[0..npairs): sorted,
 * unique (node << 32 | rank): rank needs node's value. */
static void push_part(plan *p, int keys, int rank, const uint64_t *pairs, size_t npairs) {
  lua_State *L = p->L;
  lua_createtable(L, 0, 5);
  int t = lua_gettop(L);
  lua_newtable(L); /* owned */
  lua_newtable(L); /* data */
  lua_Integer nowned = 0, ndata = 0;
  for (uint32_t k = 0; k < p->n; k++) {
    uint32_t v = p->order[k];
    if (!p->data[v] && p->owner[v] != rank) continue;
    lua_rawgeti(L, keys, (lua_Integer)v + 1);
    lua_rawseti(L, p->data[v] ? t + 2 : t + 1, p->data[v] ? ++ndata : ++nowned);
  }
  lua_setfield(L, t, "data");
  lua_setfield(L, t, "owned");
  lua_newtable(L); /* inputs */
  lua_newtable(L); /* outputs */
  lua_Integer sent = 0;
  for (size_t i = 0; i < npairs;) {
    uint32_t v = (uint32_t)(pairs[i] >> 32);
    size_t j = i;
    while (j < npairs && (uint32_t)(pairs[j] >> 32) == v) j++;
    if (p->owner[v] == rank) {
      lua_rawgeti(L, keys, (lua_Integer)v + 1);
      lua_createtable(L, (int)(j - i + 1), 0);
      lua_pushinteger(L, p->tag[v]), lua_rawseti(L, -2, 1);
      for (size_t k = i; k < j; k++)
        lua_pushinteger(L, (lua_Integer)(uint32_t)pairs[k]), lua_rawseti(L, -2, (lua_Integer)(k - i + 2));
      lua_rawset(L, t + 2);
      sent += (lua_Integer)(j - i);
    }
    for (size_t k = i; k < j; k++)
      if ((int)(uint32_t)pairs[k] == rank) {
        lua_rawgeti(L, keys, (lua_Integer)v + 1);
        lua_pushinteger(L, p->tag[v]);
        lua_rawset(L, t + 1);
      }
    i = j;
  }
  lua_setfield(L, t, "outputs");
  lua_setfield(L, t, "inputs");
  lua_pushinteger(L, sent), lua_setfield(L, t, "sent");
}

/* The buffers of a plan: a userdata, so a Lua error half-way frees them (__gc). */
typedef struct planbufs {
  void *p[7];
} planbufs;

static int planbufs_gc(lua_State *L) {
  planbufs *b = lua_touserdata(L, 1);
  for (int i = 0; i < 7; i++) free(b->p[i]), b->p[i] = NULL;
  return 0;
}

/* core.fed_plan(dsk, keys, rank, size [, rule [, held [, keep]]]) (see the top of the file). */
static int l_fed_plan(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  int rank = (int)luaL_checkinteger(L, 3), size = (int)luaL_checkinteger(L, 4);
  luaL_argcheck(L, size >= 1 && rank >= 0 && rank < size, 3, "rank must be in 0..size-1");
  lua_settop(L, 7);
  int rule = 5, byfn = lua_type(L, rule) == LUA_TFUNCTION, held = 6, keep = lua_toboolean(L, 7);
  if (!lua_isnil(L, held)) luaL_checktype(L, held, LUA_TTABLE);
  const char *rname = byfn || lua_isnil(L, rule) ? "blocks" : luaL_checkstring(L, rule);
  if (strcmp(rname, "blocks") && strcmp(rname, "hash"))
    return luaL_error(L, "mpi.get: owner must be a function(key) -> rank, \"blocks\" or \"hash\", got '%s'",
                      rname);
  lask_lconv *c = lask_lconv_new(L, 1); /* 8: keys, 9: values, 10: the conversion */
  lask_lconv_outputs(L, c, 2);
  lask_lconv_build(L, c);
  plan p = {.L = L, .g = c->g, .n = c->g->n, .size = size};
  planbufs *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, planbufs_gc), lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  size_t n = p.n ? p.n : 1;
  b->p[0] = p.text = malloc(n * sizeof *p.text), b->p[1] = p.textlen = malloc(n * sizeof *p.textlen);
  b->p[2] = p.order = malloc(n * sizeof *p.order), b->p[3] = p.tag = malloc(n * sizeof *p.tag);
  b->p[4] = p.data = malloc(n), b->p[5] = p.owner = malloc(n * sizeof *p.owner);
  uint32_t *load = b->p[6] = calloc((size_t)size, sizeof *load);
  if (!p.text || !p.textlen || !p.order || !p.tag || !p.data || !p.owner || !load)
    return luaL_error(L, "mpi.get: out of memory");
  for (uint32_t v = 0; v < p.n; v++) p.data[v] = (uint8_t)is_data(p.g, v), p.owner[v] = -1;
  if (!lua_isnil(L, held)) hold(&p, c->keys, held, load);
  order_keys(&p, c->keys); /* pushes the texts' anchor */
  if (byfn) {
    owners_by_function(&p, c->keys, rule);
  } else if (!strcmp(rname, "hash")) {
    for (uint32_t v = 0; v < p.n; v++)
      if (!p.data[v] && p.owner[v] < 0) p.owner[v] = (int)(fnv32(p.text[v], p.textlen[v]) % (uint32_t)size);
  } else {
    block_owners(&p, c->keys, load);
    if (!follow_owners(&p, load)) return luaL_error(L, "mpi.get: out of memory");
  }
  /* who needs what: (node, rank) for each reader on another rank, and the outputs everywhere */
  const lask_graph *g = p.g;
  size_t cap = (size_t)g->dep_off[p.n] + c->nouts * (size_t)size + 1, npairs = 0;
  uint64_t *pairs = malloc(cap * sizeof *pairs);
  if (!pairs) return luaL_error(L, "mpi.get: out of memory");
  for (uint32_t v = 0; v < p.n; v++)
    for (uint32_t e = g->dep_off[v]; e < g->dep_off[v + 1]; e++) {
      uint32_t d = g->deps[e];
      if (!p.data[d] && !p.data[v] && p.owner[d] != p.owner[v])
        pairs[npairs++] = (uint64_t)d << 32 | (uint32_t)p.owner[v];
    }
  for (size_t k = 0; k < c->nouts && !keep; k++)
    for (int r = 0; r < size; r++)
      if (!p.data[c->outs[k]] && p.owner[c->outs[k]] != r)
        pairs[npairs++] = (uint64_t)c->outs[k] << 32 | (uint32_t)r;
  qsort(pairs, npairs, sizeof *pairs, by_u64);
  size_t u = 0;
  for (size_t i = 0; i < npairs; i++)
    if (!u || pairs[i] != pairs[u - 1]) pairs[u++] = pairs[i];
  push_part(&p, c->keys, rank, pairs, u);
  free(pairs);
  lua_createtable(L, 0, (int)c->nouts); /* where: requested key -> its owner (-1: data) */
  for (size_t k = 0; k < c->nouts; k++) {
    lua_rawgeti(L, c->keys, (lua_Integer)c->outs[k] + 1);
    lua_pushinteger(L, p.owner[c->outs[k]]);
    lua_rawset(L, -3);
  }
  lua_setfield(L, -2, "where");
  return 1;
}

void lask_l_open_plan(lua_State *L) {
  lua_pushcfunction(L, l_fed_plan);
  lua_setfield(L, -2, "fed_plan");
}
