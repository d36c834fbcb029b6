/* graph.c — building the compact graph: programs, constants, CSR edges.
 *
 * The builder keeps a sticky error (as SQLite's mallocFailed): emit calls return
 * nothing, and lask_gb_finish reports the first failure. Misuse is such a failure
 * too, never a crash: a NULL builder (lask_gb_new out of memory) makes every call a
 * no-op (lask_gb_finish then reports out of memory), and a NULL name, an unknown
 * node or constant, a program that pops what it never pushed, a begin without an
 * end or an end without a begin are reported by lask_gb_finish.
 */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hmap.h"
#include "kernel.h"

/* Names are copied into chunks of at least NAME_CHUNK bytes, newest first: naming a
 * node is a copy into the current chunk, not a malloc of its own. */
#define NAME_CHUNK 65536
struct lask_name_chunk {
  struct lask_name_chunk *prev;
  size_t used, cap;
  char bytes[];
};

/* Copies name[0..len) and its NUL into *chunks; returns the copy, or NULL when out of
 * memory. */
static char *copy_name(struct lask_name_chunk **chunks, const char *name, size_t len) {
  struct lask_name_chunk *c = *chunks;
  if (!c || c->cap - c->used < len + 1) {
    size_t cap = len + 1 > NAME_CHUNK ? len + 1 : NAME_CHUNK;
    struct lask_name_chunk *fresh = malloc(sizeof *fresh + cap);
    if (!fresh) return NULL;
    fresh->prev = c, fresh->used = 0, fresh->cap = cap;
    *chunks = c = fresh;
  }
  char *copy = c->bytes + c->used;
  memcpy(copy, name, len + 1);
  c->used += len + 1;
  return copy;
}

static void free_names(struct lask_name_chunk *c) {
  while (c) {
    struct lask_name_chunk *prev = c->prev;
    free(c);
    c = prev;
  }
}

/* lask_gb_const keeps a small cache of the constants it added lately, so a kernel
 * or a number that every node uses is one constant, not one a node. */
#define RECENT_SET_BITS 4
#define RECENT_CONSTS   (2 << RECENT_SET_BITS) /* sets of two ways */

struct lask_graph_builder {
  uint32_t *code;
  size_t ncode, capcode;
  lask_value *consts;
  size_t nconsts, capconsts;
  uint32_t *code_off, *code_len;
  char **names;
  struct lask_name_chunk *name_chunks;
  size_t nnodes, capnodes;
  lask_hmap by_name;
  struct recent_const {
    lask_value v;
    uint32_t index;        /* UINT32_MAX: empty */
  } recent[RECENT_CONSTS]; /* constants added lately, by a hash of the value */
  uint32_t cur;            /* node being emitted, or LASK_NO_NODE */
  int64_t depth;           /* stack depth of the current program */
  lask_err err;            /* sticky */
};

/* Records the first error of the build, naming the node it concerns ("node 'x': ",
 * "node #3: " without a name) unless node is LASK_NO_NODE. */
static void fail_at(lask_graph_builder *b, lask_status code, uint32_t node, const char *msg) {
  if (b->err.code != LASK_OK) return;
  const char *name = node < b->nnodes && b->names ? b->names[node] : NULL;
  if (node >= b->nnodes)
    lask_err_set(&b->err, code, LASK_NO_NODE, "%s", msg);
  else if (name)
    lask_err_set(&b->err, code, node, "node '%s': %s", name, msg);
  else
    lask_err_set(&b->err, code, node, "node #%u: %s", (unsigned)node, msg);
}

/* Records the first error of the build, at the node being emitted. */
static void fail(lask_graph_builder *b, lask_status code, const char *msg) { fail_at(b, code, b->cur, msg); }

/* Grows *p (elements of size sz) to hold at least need; returns 0 on ENOMEM. */
static int reserve(void **p, size_t *cap, size_t need, size_t sz) {
  if (need <= *cap) return 1;
  size_t cap2 = *cap ? *cap : 16;
  while (cap2 < need) cap2 *= 2;
  void *q = realloc(*p, cap2 * sz);
  if (!q) return 0;
  *p = q;
  *cap = cap2;
  return 1;
}

lask_graph_builder *lask_gb_new(void) {
  lask_graph_builder *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  lask_hmap_init(&b->by_name);
  for (size_t i = 0; i < RECENT_CONSTS; i++) b->recent[i].index = UINT32_MAX;
  lask_err_clear(&b->err);
  b->cur = LASK_NO_NODE;
  return b;
}

void lask_gb_free(lask_graph_builder *b) {
  if (!b) return;
  for (size_t i = 0; i < b->nconsts; i++) lask_release(b->consts[i]);
  free_names(b->name_chunks);
  free(b->code), free(b->consts), free(b->code_off), free(b->code_len), free(b->names);
  lask_hmap_free(&b->by_name);
  free(b);
}

uint32_t lask_gb_count(const lask_graph_builder *b) { return b ? (uint32_t)b->nnodes : 0; }

uint32_t lask_gb_node(lask_graph_builder *b) {
  if (!b) return LASK_NO_NODE;
  size_t cap = b->capnodes, need = b->nnodes + 1;
  if (b->nnodes >= LASK_MAX_OPERAND) {
    fail(b, LASK_EINVAL, "too many nodes");
    return 0;
  }
  if (need > cap) {
    size_t c1 = cap, c2 = cap, c3 = cap;
    if (!reserve((void **)&b->code_off, &c1, need, sizeof(uint32_t)) ||
        !reserve((void **)&b->code_len, &c2, need, sizeof(uint32_t)) ||
        (b->names && !reserve((void **)&b->names, &c3, need, sizeof(char *)))) {
      fail(b, LASK_ENOMEM, "out of memory adding a node");
      return 0;
    }
    b->capnodes = c1;
  }
  b->code_off[b->nnodes] = 0;
  b->code_len[b->nnodes] = 0;
  if (b->names) b->names[b->nnodes] = NULL;
  return (uint32_t)b->nnodes++;
}

uint32_t lask_gb_named(lask_graph_builder *b, const char *name) {
  if (!b) return LASK_NO_NODE;
  if (!name) return fail(b, LASK_EINVAL, "lask_gb_named: the name is NULL"), LASK_NO_NODE;
  if (b->err.code) return LASK_NO_NODE;
  if (!b->names) {
    b->names = calloc(b->capnodes ? b->capnodes : 1, sizeof(char *));
    if (!b->names) return fail(b, LASK_ENOMEM, "out of memory naming a node"), LASK_NO_NODE;
  }
  /* one probe: the name is found, or added under the id its new node will get, and
   * then made to point at the builder's copy */
  size_t len = strlen(name);
  uint32_t fresh = (uint32_t)b->nnodes;
  int added;
  uint32_t id = lask_hmap_intern(&b->by_name, lask_hmap_name_key(name, len), fresh, &added);
  if (id == UINT32_MAX) return fail(b, LASK_ENOMEM, "out of memory naming a node"), LASK_NO_NODE;
  if (!added) return id;
  char *copy = copy_name(&b->name_chunks, name, len);
  if (!copy) return fail(b, LASK_ENOMEM, "out of memory naming a node"), LASK_NO_NODE;
  lask_hmap_rekey(&b->by_name, fresh, copy);
  id = lask_gb_node(b);
  if (b->err.code) return LASK_NO_NODE; /* the map names a node that is not there: the build has failed */
  LASK_ASSERT(id == fresh);
  b->names[id] = copy;
  return id;
}

static void emit(lask_graph_builder *b, uint32_t op, size_t operand, int64_t pops) {
  if (!b || b->err.code) return;
  if (b->cur == LASK_NO_NODE) return fail(b, LASK_EINVAL, "instruction outside a node's program");
  if (operand > LASK_MAX_OPERAND) return fail(b, LASK_EINVAL, "operand too large");
  if (pops > b->depth) return fail(b, LASK_EINVAL, "program pops more values than it pushed");
  if (!reserve((void **)&b->code, &b->capcode, b->ncode + 1, sizeof(uint32_t)))
    return fail(b, LASK_ENOMEM, "out of memory emitting code");
  b->code[b->ncode++] = op | (uint32_t)operand << 3;
  b->depth += 1 - pops;
}

void lask_gb_begin(lask_graph_builder *b, uint32_t id) {
  if (!b || b->err.code) return;
  if (id >= b->nnodes) return fail(b, LASK_EINVAL, "no such node");
  if (b->code_len[id]) return fail_at(b, LASK_EINVAL, id, "node defined twice");
  if (b->cur != LASK_NO_NODE)
    return fail(b, LASK_EINVAL, "lask_gb_begin: the previous node's program was not ended");
  b->cur = id;
  b->depth = 0;
  b->code_off[id] = (uint32_t)b->ncode;
}

void lask_gb_key(lask_graph_builder *b, uint32_t id) {
  if (b && id >= b->nnodes && !b->err.code) return fail(b, LASK_EINVAL, "reference to an unknown node");
  emit(b, LASK_OP_KEY, id, 0);
}

uint32_t lask_gb_add_const(lask_graph_builder *b, lask_value v) {
  if (!b) return lask_release(v), UINT32_MAX;
  if (b->err.code || !reserve((void **)&b->consts, &b->capconsts, b->nconsts + 1, sizeof v)) {
    lask_release(v);
    fail(b, LASK_ENOMEM, "out of memory adding a constant");
    return UINT32_MAX;
  }
  b->consts[b->nconsts] = v;
  return (uint32_t)b->nconsts++;
}

void lask_gb_const_ref(lask_graph_builder *b, uint32_t c) {
  if (b && c >= b->nconsts && !b->err.code) return fail(b, LASK_EINVAL, "reference to an unknown constant");
  emit(b, LASK_OP_CONST, c, 0);
}

/* The bits that tell v from other values of its type; false for types not cached. */
static bool const_bits(lask_value v, uint64_t *bits) {
  switch (v.type) {
  case LASK_TNIL: *bits = 0; return true;
  case LASK_TBOOL: *bits = v.as.b; return true;
  case LASK_TINT: *bits = (uint64_t)v.as.i; return true;
  case LASK_TNUM:
    memcpy(bits, &v.as.n, sizeof *bits);
    return true; /* bit equality: -0.0 and NaNs stay apart */
  case LASK_TOBJ: *bits = (uint64_t)(uintptr_t)v.as.o; return true; /* the very same object */
  default: return false;
  }
}

/* True when the cache entry r holds the value of type t and bits. */
static bool recent_is(const struct recent_const *r, uint8_t t, uint64_t bits) {
  uint64_t had;
  return r->index != UINT32_MAX && r->v.type == t && const_bits(r->v, &had) && had == bits;
}

void lask_gb_const(lask_graph_builder *b, lask_value v) {
  uint64_t bits;
  if (!b || b->err.code || !const_bits(v, &bits)) return lask_gb_const_ref(b, lask_gb_add_const(b, v));
  /* two ways a set: the hash's top bits pick the set */
  uint64_t h = (bits ^ (bits >> 29) ^ (uint64_t)v.type * 0x632be59bd9b4e019ULL) * 0x9e3779b97f4a7c15ULL;
  struct recent_const *set = &b->recent[(h >> (64 - RECENT_SET_BITS)) * 2];
  for (int w = 0; w < 2; w++)
    if (recent_is(&set[w], v.type, bits)) {
      lask_release(v); /* the pool holds a reference already */
      return lask_gb_const_ref(b, set[w].index);
    }
  uint32_t c = lask_gb_add_const(b, v);
  if (c != UINT32_MAX)
    set[1] = set[0], set[0] = (struct recent_const){b->consts[c], c}; /* the older way goes */
  lask_gb_const_ref(b, c);
}

void lask_gb_list(lask_graph_builder *b, uint32_t n) { emit(b, LASK_OP_LIST, n, n); }

void lask_gb_call(lask_graph_builder *b, uint32_t nargs) { emit(b, LASK_OP_CALL, nargs, (int64_t)nargs + 1); }

void lask_gb_end(lask_graph_builder *b) {
  if (!b || b->err.code) return;
  if (b->cur == LASK_NO_NODE) return fail(b, LASK_EINVAL, "lask_gb_end: no node's program was begun");
  if (b->depth != 1) return fail(b, LASK_EINVAL, "a node's program must leave exactly one value");
  b->code_len[b->cur] = (uint32_t)(b->ncode - b->code_off[b->cur]);
  b->cur = LASK_NO_NODE;
}

/* True when node i's program calls a head that is not a native kernel. */
static int needs_host(const lask_graph *g, uint32_t i, uint8_t *scratch) {
  const uint32_t *c = g->code + g->code_off[i];
  size_t sp = 0;
  for (uint32_t k = 0; k < g->code_len[i]; k++) {
    uint32_t op = LASK_OP(c[k]), arg = LASK_OPERAND(c[k]);
    if (op == LASK_OP_CONST)
      scratch[sp++] = lask_isa(g->consts[arg], &lask_kernel_class);
    else if (op == LASK_OP_KEY)
      scratch[sp++] = 0;
    else if (op == LASK_OP_LIST)
      sp -= arg, scratch[sp++] = 0;
    else {
      sp -= arg + 1;
      if (!scratch[sp]) return 1;
      scratch[sp++] = 0;
    }
  }
  return 0;
}

/* Fills deps (distinct KEY operands, first-use order) and dependents, and flags. */
static lask_status link_edges(lask_graph *g, lask_err *err) {
  uint32_t n = g->n, *seen = malloc((size_t)n * sizeof *seen), maxlen = 0;
  size_t nedges = 0;
  g->dep_off = malloc(((size_t)n + 1) * sizeof(uint32_t));
  g->out_off = calloc((size_t)n + 2, sizeof(uint32_t));
  g->flags = calloc(n ? n : 1, 1);
  if (!seen || !g->dep_off || !g->out_off || !g->flags) goto nomem;
  for (uint32_t i = 0; i < n; i++)
    seen[i] = UINT32_MAX, maxlen = g->code_len[i] > maxlen ? g->code_len[i] : maxlen;
  for (int pass = 0; pass < 2; pass++) { /* pass 0 counts, pass 1 fills */
    nedges = 0;
    for (uint32_t i = 0; i < n; i++) {
      g->dep_off[i] = (uint32_t)nedges;
      const uint32_t *c = g->code + g->code_off[i];
      for (uint32_t k = 0; k < g->code_len[i]; k++) {
        uint32_t d = LASK_OPERAND(c[k]);
        if (LASK_OP(c[k]) != LASK_OP_KEY || seen[d] == i + pass * n) continue;
        seen[d] = i + pass * n;
        if (pass)
          g->deps[nedges] = d;
        else
          g->out_off[d + 2]++;
        nedges++;
      }
    }
    g->dep_off[n] = (uint32_t)nedges;
    if (!pass) {
      for (uint32_t i = 0; i < n; i++) seen[i] = UINT32_MAX - 1; /* never equals i + n */
      g->deps = malloc((nedges ? nedges : 1) * sizeof(uint32_t));
      g->outs = malloc((nedges ? nedges : 1) * sizeof(uint32_t));
      if (!g->deps || !g->outs) goto nomem;
    }
  }
  /* out_off[d+2] holds counts; prefix sums then a fill through out_off[d+1]. */
  for (uint32_t i = 0; i < n; i++) g->out_off[i + 2] += g->out_off[i + 1];
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t e = g->dep_off[i]; e < g->dep_off[i + 1]; e++) g->outs[g->out_off[g->deps[e] + 1]++] = i;
  uint8_t *scratch = malloc(maxlen ? maxlen : 1);
  if (!scratch) goto nomem;
  for (uint32_t i = 0; i < n; i++) g->flags[i] = needs_host(g, i, scratch) ? LASK_NODE_HOST : 0;
  free(scratch);
  free(seen);
  return LASK_OK;
nomem:
  free(seen);
  return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory linking the graph");
}

lask_graph *lask_gb_finish(lask_graph_builder *b, lask_err *err) {
  lask_graph *g = NULL;
  if (!b) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory"), NULL;
  if (b->err.code) {
    if (err) *err = b->err;
    goto done;
  }
  if (b->cur != LASK_NO_NODE) {
    lask_err_set(err, LASK_EINVAL, b->cur, "lask_gb_finish: node #%u's program was begun but not ended",
                 b->cur);
    goto done;
  }
  for (size_t i = 0; i < b->nnodes; i++)
    if (!b->code_len[i]) {
      const char *name = b->names && b->names[i] ? b->names[i] : "?";
      lask_err_set(err, LASK_EMISSING, (uint32_t)i, "node #%zu ('%s') is never defined", i, name);
      goto done;
    }
  if (!(g = calloc(1, sizeof *g))) goto nomem;
  g->n = (uint32_t)b->nnodes;
  g->code = b->code, g->consts = b->consts, g->nconsts = (uint32_t)b->nconsts;
  g->code_off = b->code_off, g->code_len = b->code_len, g->names = b->names;
  g->name_chunks = b->name_chunks;
  b->code = NULL, b->consts = NULL, b->nconsts = 0, b->code_off = b->code_len = NULL, b->names = NULL;
  b->name_chunks = NULL;
  b->nnodes = 0;
  if (link_edges(g, err) != LASK_OK) {
    lask_graph_free(g);
    g = NULL;
  }
  LASK_ASSERT(!g || lask_graph_check(g));
  goto done;
nomem:
  lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory building the graph");
done:
  lask_gb_free(b);
  return g;
}

/* Offsets off[0..n] start at 0, never go down, and end at total. */
static bool offsets_ok(const uint32_t *off, uint32_t n, uint32_t total) {
  if (off[0] != 0 || off[n] != total) return false;
  for (uint32_t i = 0; i < n; i++)
    if (off[i] > off[i + 1]) return false;
  return true;
}

/* KEY operands < n, CONST operands < nconsts. */
static bool operands_ok(const lask_graph *g) {
  for (uint32_t i = 0; i < g->n; i++)
    for (uint32_t k = 0; k < g->code_len[i]; k++) {
      uint32_t w = g->code[g->code_off[i] + k];
      if (LASK_OP(w) == LASK_OP_KEY && LASK_OPERAND(w) >= g->n) return false;
      if (LASK_OP(w) == LASK_OP_CONST && LASK_OPERAND(w) >= g->nconsts) return false;
    }
  return true;
}

/* Walks every edge i -> d in order of i; each must be the next of d's dependents
 * (cursor[d] walks them), and d must not repeat among i's dependencies (seen). */
static bool edges_ok(const lask_graph *g, uint32_t *cursor, uint32_t *seen) {
  for (uint32_t d = 0; d < g->n; d++) cursor[d] = g->out_off[d], seen[d] = UINT32_MAX;
  for (uint32_t i = 0; i < g->n; i++)
    for (uint32_t e = g->dep_off[i]; e < g->dep_off[i + 1]; e++) {
      uint32_t d = g->deps[e];
      if (d >= g->n || seen[d] == i || cursor[d] == g->out_off[d + 1] || g->outs[cursor[d]] != i)
        return false;
      seen[d] = i, cursor[d]++;
    }
  for (uint32_t d = 0; d < g->n; d++)
    if (cursor[d] != g->out_off[d + 1]) return false; /* a dependent with no matching dependency */
  return true;
}

bool lask_graph_check(const lask_graph *g) {
  uint32_t n = g->n;
  if (!offsets_ok(g->dep_off, n, g->dep_off[n]) || !offsets_ok(g->out_off, n, g->dep_off[n])) return false;
  if (!operands_ok(g)) return false;
  uint32_t *cursor = malloc((n ? n : 1) * sizeof *cursor), *seen = malloc((n ? n : 1) * sizeof *seen);
  bool ok = !cursor || !seen || edges_ok(g, cursor, seen); /* out of memory: cannot tell, say yes */
  free(cursor), free(seen);
  return ok;
}

void lask_graph_free(lask_graph *g) {
  if (!g) return;
  for (uint32_t i = 0; i < g->nconsts; i++) lask_release(g->consts[i]);
  free_names(g->name_chunks);
  free(g->code_off), free(g->code_len), free(g->code), free(g->consts), free(g->dep_off), free(g->deps);
  free(g->out_off), free(g->outs), free(g->flags), free(g->names);
  free(atomic_load_explicit(&g->plan, memory_order_acquire));
  free(atomic_load_explicit(&g->spare, memory_order_acquire));
  free(g);
}

lask_status lask_graph_cycle(const lask_graph *g, uint32_t **ids, size_t *len) {
  /* Iterative DFS; state 0 = unseen, 1 = on the path, 2 = done. */
  uint8_t *state = calloc(g->n ? g->n : 1, 1);
  uint32_t *path = malloc(((size_t)g->n + 1) * sizeof *path),
           *next = malloc(((size_t)g->n + 1) * sizeof *next);
  *ids = NULL, *len = 0;
  if (!state || !path || !next) return free(state), free(path), free(next), LASK_ENOMEM;
  for (uint32_t root = 0; root < g->n && !*ids; root++) {
    if (state[root]) continue;
    size_t sp = 0;
    path[0] = root, next[0] = g->dep_off[root], state[root] = 1;
    while (sp != SIZE_MAX && !*ids) {
      uint32_t v = path[sp];
      if (next[sp] == g->dep_off[v + 1]) {
        state[v] = 2, sp--;
        continue;
      }
      uint32_t d = g->deps[next[sp]++];
      if (state[d] == 0) {
        sp++, path[sp] = d, next[sp] = g->dep_off[d], state[d] = 1;
      } else if (state[d] == 1) {
        size_t start = 0;
        while (path[start] != d) start++;
        *len = sp - start + 1;
        if (!(*ids = malloc(*len * sizeof **ids))) return free(state), free(path), free(next), LASK_ENOMEM;
        memcpy(*ids, path + start, *len * sizeof **ids);
      }
    }
  }
  free(state), free(path), free(next);
  return LASK_OK;
}

/* Appends the name of node id and sep to the message at *at (of end - *at bytes left). */
static void append_name(const lask_graph *g, uint32_t id, const char *sep, char **at, const char *end) {
  char buf[24];
  int n = snprintf(*at, (size_t)(end - *at), "%s%s", lask_graph_name(g, id, buf, sizeof buf), sep);
  *at += n < 0 ? 0 : n < end - *at ? n : end - *at - 1;
}

lask_status lask_graph_cycle_error(const lask_graph *g, lask_err *err) {
  enum { HEAD = 10, TAIL = 5 }; /* as the Lua binding's messages (lua/binding/lget.c) */
  uint32_t *ids;
  size_t len;
  if (lask_graph_cycle(g, &ids, &len) != LASK_OK || !ids)
    return lask_err_set(err, LASK_ECYCLE, LASK_NO_NODE, "the graph has a cycle");
  char msg[LASK_ERR_MSG_MAX], *at = msg, *end = msg + sizeof msg;
  int elide = len > HEAD + TAIL + 5;
  int n = elide ? snprintf(msg, sizeof msg, "the graph has a cycle of %zu nodes: ", len)
                : snprintf(msg, sizeof msg, "the graph has a cycle: ");
  at += n > 0 && (size_t)n < sizeof msg ? n : 0;
  for (size_t i = 0; i < len; i++) {
    if (elide && i == HEAD) {
      n = snprintf(at, (size_t)(end - at), "… (%zu more) … -> ", len - HEAD - TAIL);
      at += n < 0 ? 0 : n < end - at ? n : end - at - 1;
      i = len - TAIL;
    }
    append_name(g, ids[i], " -> ", &at, end);
  }
  append_name(g, ids[0], "", &at, end); /* the first again closes the loop */
  uint32_t first = ids[0];
  free(ids);
  return lask_err_set(err, LASK_ECYCLE, first, "%s", msg);
}

const char *lask_graph_name(const lask_graph *g, uint32_t i, char *buf, size_t size) {
  if (g->names && i < g->n && g->names[i]) return g->names[i];
  snprintf(buf, size, "#%u", (unsigned)i);
  return buf;
}

uint32_t lask_graph_find(const lask_graph *g, const char *name) {
  if (g->names)
    for (uint32_t i = 0; i < g->n; i++)
      if (g->names[i] && strcmp(g->names[i], name) == 0) return i;
  return LASK_NO_NODE;
}
