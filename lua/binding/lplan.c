/* lplan.c — core.fed_plan: who owns what in a graph spread over ranks (lask.mpi).
 *
 * core.fed_plan(dsk, keys, rank, size [, rule [, held [, keep [, root]]]]) converts the graph (culled to the
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
 *     requested keys to every rank (to rank root only when root is given; none
 *     when keep: they then stay on their owners).
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
  const char **text; /* per node: its key's text (a string key's own bytes, a tuple key's in arena) */
  size_t *textlen;
  uint8_t *tuple;    /* per node: 1 for a tuple key (its text sorts after every string key's) */
  char *arena;       /* the tuple keys' texts */
  void **arena_slot; /* where the plan's buffers (freed on an error) keep arena */
  uint32_t *order;   /* node ids in key order */
  uint32_t *tag;     /* per node: 1 + its place in order */
  uint8_t *data;
  int *owner; /* -1: none (data) */
} plan;

static const plan *sort_plan; /* qsort has no context argument; set around the call */

static int text_cmp(uint32_t a, uint32_t b, const plan *p) {
  if (p->tuple[a] != p->tuple[b]) return p->tuple[a] - p->tuple[b];
  size_t la = p->textlen[a], lb = p->textlen[b];
  int c = memcmp(p->text[a], p->text[b], la < lb ? la : lb);
  return c ? c : (la > lb) - (la < lb);
}

static int by_text(const void *x, const void *y) {
  return text_cmp(*(const uint32_t *)x, *(const uint32_t *)y, sort_plan);
}

static uint32_t fnv32(uint32_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

/* The hash of node v's key: FNV-1a of its text ("s" and a string key's bytes). */
static uint32_t key_hash(const plan *p, uint32_t v) {
  uint32_t h = p->tuple[v] ? 2166136261u : fnv32(2166136261u, "s", 1);
  return fnv32(h, p->text[v], p->textlen[v]);
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

/* The texts of the keys (in a table at the top of the stack), their order and tags:
 * a string key's own bytes (a string key sorts before every tuple key), a tuple
 * key's parts (add_part) in p->arena. Returns 0 when out of memory. */
static int order_keys(plan *p, int keys) {
  lua_State *L = p->L;
  size_t used = 0, cap = 0; /* a tuple key's text is first its offset in the arena (which moves) */
  for (uint32_t v = 0; v < p->n; v++) {
    lua_rawgeti(L, keys, (lua_Integer)v + 1);
    p->order[v] = v;
    if (lua_type(L, -1) == LUA_TSTRING) { /* anchored in the conversion's keys */
      p->text[v] = lua_tolstring(L, -1, &p->textlen[v]), p->tuple[v] = 0;
      lua_pop(L, 1);
      continue;
    }
    if (cap - used < TEXT_MAX) {
      cap = cap ? 2 * cap : 64 * (size_t)TEXT_MAX;
      char *a = realloc(p->arena, cap);
      if (!a) return lua_pop(L, 1), 0;
      p->arena = a, *p->arena_slot = a;
    }
    char *buf = p->arena + used;
    size_t len = 0;
    buf[len++] = 't';
    int key = lua_gettop(L);
    for (int i = 1; lask_l_keypart(L, key, i) != LUA_TNONE; i++) {
      add_part(L, buf, &len);
      lua_pop(L, 1);
    }
    lua_pop(L, 2); /* the none after the last part, the key */
    p->tuple[v] = 1, p->textlen[v] = len;
    p->text[v] = (const char *)(uintptr_t)used;
    used += len;
  }
  for (uint32_t v = 0; v < p->n; v++)
    if (p->tuple[v]) p->text[v] = p->arena + (uintptr_t)p->text[v];
  sort_plan = p;
  qsort(p->order, p->n, sizeof *p->order, by_text);
  sort_plan = NULL;
  for (uint32_t k = 0; k < p->n; k++) p->tag[p->order[k]] = k + 1;
  return 1;
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

/* The integer i of a tuple key (name, i, ...) from its text ("t", "s" name NUL, "i"
 * and i big-endian with its sign flipped): its name's text is text[0..*namelen).
 * Returns 0 when the key has no such form. */
static int block_index(const char *text, size_t len, size_t *namelen, int64_t *i) {
  if (len < 3 || text[0] != 't' || text[1] != 's') return 0;
  const char *nul = memchr(text + 2, 0, len - 2);
  if (!nul || (size_t)(nul - text) + 10 > len || nul[1] != 'i') return 0;
  uint64_t u = 0;
  for (int b = 0; b < 8; b++) u = u << 8 | (unsigned char)nul[2 + b];
  *namelen = (size_t)(nul - text), *i = (int64_t)(u ^ (1ull << 63));
  return 1;
}

/* The block owners: tuple keys (name, i, ...) with an integer i, contiguous ranges of i
 * per name. In key order a name's keys are together, by i: one pass over each run
 * (its lowest and highest i, among the tasks), one to give the owners. Counts them in load. */
static void block_owners(plan *p, uint32_t *load) {
  for (uint32_t k = 0; k < p->n;) {
    size_t nlen;
    int64_t i, lo = 0, hi = 0;
    uint32_t v = p->order[k];
    if (!block_index(p->text[v], p->textlen[v], &nlen, &i)) {
      k++;
      continue;
    }
    const char *name = p->text[v];
    uint32_t end = k;
    int any = 0;
    for (; end < p->n; end++) { /* the run of this name's keys with an integer i */
      uint32_t u = p->order[end];
      size_t ulen;
      if (!block_index(p->text[u], p->textlen[u], &ulen, &i) || ulen != nlen ||
          memcmp(p->text[u], name, nlen))
        break;
      if (p->data[u]) continue;
      if (!any || i < lo) lo = i;
      if (!any || i > hi) hi = i;
      any = 1;
    }
    for (; k < end; k++) {
      uint32_t u = p->order[k];
      if (p->data[u] || p->owner[u] >= 0) continue;
      block_index(p->text[u], p->textlen[u], &nlen, &i);
      int r = (int)((uint64_t)(i - lo) * (uint64_t)p->size / (uint64_t)(hi - lo + 1));
      p->owner[u] = r, load[r]++;
    }
  }
}

static int by_tag(const void *x, const void *y) {
  uint32_t a = sort_plan->tag[*(const uint32_t *)x], b = sort_plan->tag[*(const uint32_t *)y];
  return (a > b) - (a < b);
}

/* Sorts deps (n of them) by tag: insertion sort for the few most tasks have. */
static void sort_deps(const plan *p, uint32_t *deps, uint32_t n) {
  if (n > 16) {
    sort_plan = p;
    qsort(deps, n, sizeof *deps, by_tag);
    sort_plan = NULL;
    return;
  }
  for (uint32_t a = 1; a < n; a++) {
    uint32_t d = deps[a], b = a;
    for (; b > 0 && p->tag[deps[b - 1]] > p->tag[d]; b--) deps[b] = deps[b - 1];
    deps[b] = d;
  }
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
  for (uint32_t v = 0; v < p->n; v++) sort_deps(p, deps + g->dep_off[v], g->dep_off[v + 1] - g->dep_off[v]);
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
      if (r < 0) r = (int)(key_hash(p, v) % (uint32_t)p->size);
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
  void *p[9];
} planbufs;

static int planbufs_gc(lua_State *L) {
  planbufs *b = lua_touserdata(L, 1);
  for (int i = 0; i < 9; i++) free(b->p[i]), b->p[i] = NULL;
  return 0;
}

/* core.fed_plan(dsk, keys, rank, size [, rule [, held [, keep [, root]]]]) (see the top of the file). */
static int l_fed_plan(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  int rank = (int)luaL_checkinteger(L, 3), size = (int)luaL_checkinteger(L, 4);
  luaL_argcheck(L, size >= 1 && rank >= 0 && rank < size, 3, "rank must be in 0..size-1");
  lua_settop(L, 8);
  int rule = 5, byfn = lua_type(L, rule) == LUA_TFUNCTION, held = 6, keep = lua_toboolean(L, 7);
  int root = lua_isnil(L, 8) ? -1 : (int)luaL_checkinteger(L, 8);
  luaL_argcheck(L, root < size, 8, "root must be a rank 0..size-1");
  lua_settop(L, 7); /* the conversion's slots follow */
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
  b->p[7] = p.tuple = malloc(n), p.arena_slot = &b->p[8];
  if (!p.text || !p.textlen || !p.order || !p.tag || !p.data || !p.owner || !load || !p.tuple)
    return luaL_error(L, "mpi.get: out of memory");
  for (uint32_t v = 0; v < p.n; v++) p.data[v] = (uint8_t)is_data(p.g, v), p.owner[v] = -1;
  if (!lua_isnil(L, held)) hold(&p, lask_lconv_keys(L, c), held, load);
  if (!order_keys(&p, lask_lconv_keys(L, c))) return luaL_error(L, "mpi.get: out of memory");
  if (byfn) {
    owners_by_function(&p, lask_lconv_keys(L, c), rule);
  } else if (!strcmp(rname, "hash")) {
    for (uint32_t v = 0; v < p.n; v++)
      if (!p.data[v] && p.owner[v] < 0) p.owner[v] = (int)(key_hash(&p, v) % (uint32_t)size);
  } else {
    block_owners(&p, load);
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
      if ((root < 0 || r == root) && !p.data[c->outs[k]] && p.owner[c->outs[k]] != r)
        pairs[npairs++] = (uint64_t)c->outs[k] << 32 | (uint32_t)r;
  qsort(pairs, npairs, sizeof *pairs, by_u64);
  size_t u = 0;
  for (size_t i = 0; i < npairs; i++)
    if (!u || pairs[i] != pairs[u - 1]) pairs[u++] = pairs[i];
  push_part(&p, lask_lconv_keys(L, c), rank, pairs, u);
  free(pairs);
  lua_createtable(L, 0, (int)c->nouts); /* where: requested key -> its owner (-1: data) */
  for (size_t k = 0; k < c->nouts; k++) {
    lua_rawgeti(L, lask_lconv_keys(L, c), (lua_Integer)c->outs[k] + 1);
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
