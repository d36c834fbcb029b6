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
#define RECENT_EMPTY    UINT8_MAX              /* no value has this type */

/* The emit calls' fast paths are inlined into each of them. */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* A program with more distinct dependencies than this finds repeats with a bitmap by
 * node id (the builder's mark), a smaller one by looking through its own. */
#define FEW_DEPS 8

/* The builder makes the graph's arrays as it goes: the programs (code, consts), and
 * by node id code_off, code_len, flags and, while the nodes' programs are begun in
 * increasing id order (linked: the usual way, and always so from lask.key graphs), the
 * dependencies in CSR form (dep_off, deps) and the dependents' counts (out_off[d + 2]).
 * lask_gb_finish then only lays out the dependents; a build that begins programs out of
 * order has its edges made there from the code instead (link_edges). */
struct lask_graph_builder {
  uint32_t *code;
  size_t ncode, capcode;
  size_t limit; /* emit's fast path while ncode < limit: capcode in a program, else 0 */
  lask_value *consts;
  size_t nconsts, capconsts;
  /* by node id, capnodes of each (dep_off and out_off: capnodes + 2) */
  uint32_t *code_off, *code_len, *dep_off, *out_off;
  uint8_t *flags;
  char **names; /* NULL until a node is named */
  size_t nnodes, capnodes, ndefined;
  struct lask_name_chunk *name_chunks;
  lask_hmap by_name;
  size_t hint_nodes; /* lask_gb_reserve's node count, to size the name map */
  /* dependencies made while emitting (linked) */
  uint32_t *deps;
  size_t ndeps, capdeps;
  uint64_t *mark; /* bit d: d is a dependency of the current program (marking) */
  size_t capmark; /* in bits, a multiple of 64 */
  bool linked, marking;
  uint32_t last_begun; /* the last node begun, 0 before the first */
  /* the current program */
  uint32_t cur;      /* node being emitted, or LASK_NO_NODE */
  int64_t depth;     /* its stack depth */
  uint32_t *kernels; /* the stack positions holding native kernels, increasing */
  size_t nkernels, capkernels;
  uint8_t host; /* LASK_NODE_HOST once it calls a head that is not a native kernel */
  struct recent_const {
    uint64_t bits;         /* const_bits of the value */
    uint32_t index;        /* in consts */
    uint8_t type;          /* RECENT_EMPTY: an empty entry */
  } recent[RECENT_CONSTS]; /* constants added lately, by a hash of the value */
  lask_err err;            /* sticky */
};

/* Records the first error of the build, naming the node it concerns ("node 'x': ",
 * "node #3: " without a name) unless node is LASK_NO_NODE. */
static void fail_at(lask_graph_builder *b, lask_status code, uint32_t node, const char *msg) {
  b->limit = 0; /* every emit takes the checked path, which sees the error */
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

/* Grows *p (elements of size sz) to hold at least need, doubling; returns 0 on ENOMEM. */
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
  lask_hmap_init_names(&b->by_name, &b->names);
  for (size_t i = 0; i < RECENT_CONSTS; i++) b->recent[i].type = RECENT_EMPTY;
  lask_err_clear(&b->err);
  b->cur = LASK_NO_NODE;
  b->linked = true;
  return b;
}

void lask_gb_free(lask_graph_builder *b) {
  if (!b) return;
  for (size_t i = 0; i < b->nconsts; i++) lask_release(b->consts[i]);
  free_names(b->name_chunks);
  free(b->code), free(b->consts), free(b->code_off), free(b->code_len), free(b->names);
  free(b->dep_off), free(b->out_off), free(b->flags), free(b->deps), free(b->mark), free(b->kernels);
  lask_hmap_free(&b->by_name);
  free(b);
}

uint32_t lask_gb_count(const lask_graph_builder *b) { return b ? (uint32_t)b->nnodes : 0; }

/* Gives every by-node array room for need nodes; 0 on ENOMEM. */
static int reserve_nodes(lask_graph_builder *b, size_t need) {
  if (need <= b->capnodes) return 1;
  size_t cap = b->capnodes ? b->capnodes : 16;
  while (cap < need) cap *= 2;
  uint32_t *off = realloc(b->code_off, cap * sizeof *off);
  if (off) b->code_off = off;
  uint32_t *len = realloc(b->code_len, cap * sizeof *len);
  if (len) b->code_len = len;
  uint32_t *doff = realloc(b->dep_off, (cap + 2) * sizeof *doff);
  if (doff) b->dep_off = doff;
  uint32_t *ooff = realloc(b->out_off, (cap + 2) * sizeof *ooff);
  if (ooff) b->out_off = ooff;
  uint8_t *flags = realloc(b->flags, cap);
  if (flags) b->flags = flags;
  char **names = b->names ? realloc(b->names, cap * sizeof *names) : NULL;
  if (names) b->names = names;
  if (!off || !len || !doff || !ooff || !flags || (b->names && !names)) return 0;
  if (!b->capnodes) b->out_off[0] = b->out_off[1] = 0;
  b->capnodes = cap;
  return 1;
}

void lask_gb_reserve(lask_graph_builder *b, size_t nodes, size_t code) {
  if (!b || b->err.code) return;
  if (nodes > LASK_MAX_OPERAND) nodes = LASK_MAX_OPERAND;
  /* a hint: when there is no room for it the arrays grow as they would without it */
  if (!reserve_nodes(b, nodes)) return;
  if (code > (size_t)LASK_MAX_OPERAND * 64 ||
      !reserve((void **)&b->code, &b->capcode, code, sizeof(uint32_t)))
    return;
  if (b->limit) b->limit = b->capcode;
  if (nodes > b->hint_nodes) b->hint_nodes = nodes;
}

uint32_t lask_gb_node(lask_graph_builder *b) {
  if (!b) return LASK_NO_NODE;
  if (b->nnodes >= LASK_MAX_OPERAND) {
    fail(b, LASK_EINVAL, "too many nodes");
    return 0;
  }
  if (b->nnodes == b->capnodes && !reserve_nodes(b, b->nnodes + 1)) {
    fail(b, LASK_ENOMEM, "out of memory adding a node");
    return 0;
  }
  size_t id = b->nnodes++;
  b->code_len[id] = 0; /* not defined yet; code_off is set by lask_gb_begin */
  b->out_off[id + 2] = 0;
  if (b->names) b->names[id] = NULL;
  return (uint32_t)id;
}

uint32_t lask_gb_named(lask_graph_builder *b, const char *name) {
  if (!b) return LASK_NO_NODE;
  if (!name) return fail(b, LASK_EINVAL, "lask_gb_named: the name is NULL"), LASK_NO_NODE;
  if (b->err.code) return LASK_NO_NODE;
  if (!b->names) {
    b->names = calloc(b->capnodes ? b->capnodes : 1, sizeof(char *));
    if (!b->names) return fail(b, LASK_ENOMEM, "out of memory naming a node"), LASK_NO_NODE;
    lask_hmap_reserve(&b->by_name, b->hint_nodes); /* a hint: without room the map grows as it goes */
  }
  /* The name is copied first: one probe finds it (the copy is taken back) or adds it
   * under the id its new node will get, whose name is the copy (the map reads the keys
   * from names). */
  size_t len = strlen(name);
  struct lask_name_chunk *c = b->name_chunks;
  char *copy = c && c->cap - c->used > len ? c->bytes + c->used : NULL;
  if (copy)
    memcpy(copy, name, len + 1), c->used += len + 1;
  else if (!(copy = copy_name(&b->name_chunks, name, len)))
    return fail(b, LASK_ENOMEM, "out of memory naming a node"), LASK_NO_NODE;
  uint32_t fresh = (uint32_t)b->nnodes;
  int added;
  lask_hkey key = lask_hmap_name_key(name, len); /* (not the copy: its stores are in flight) */
  uint32_t id = lask_hmap_intern(&b->by_name, key, fresh, &added);
  if (!added || id == UINT32_MAX) {
    b->name_chunks->used -= len + 1; /* the copy, last in the newest chunk */
    if (id == UINT32_MAX) fail(b, LASK_ENOMEM, "out of memory naming a node");
    return id == UINT32_MAX ? LASK_NO_NODE : id;
  }
  id = lask_gb_node(b);
  if (b->err.code) return LASK_NO_NODE; /* the map names a node that is not there: the build has failed */
  LASK_ASSERT(id == fresh);
  b->names[id] = copy;
  return id;
}

/* The checks of emit, off its fast path: true (the code has room for one more word)
 * when op operand may be emitted, else false with the build failed. */
static bool emit_checked(lask_graph_builder *b, size_t operand, int64_t pops) {
  if (!b || b->err.code) return false;
  if (b->cur == LASK_NO_NODE) return fail(b, LASK_EINVAL, "instruction outside a node's program"), false;
  if (operand > LASK_MAX_OPERAND) return fail(b, LASK_EINVAL, "operand too large"), false;
  if (pops > b->depth) return fail(b, LASK_EINVAL, "program pops more values than it pushed"), false;
  if (!reserve((void **)&b->code, &b->capcode, b->ncode + 1, sizeof(uint32_t)))
    return fail(b, LASK_ENOMEM, "out of memory emitting code"), false;
  b->limit = b->capcode;
  return true;
}

/* Pushes stack position at on the kernels of the current program; false on ENOMEM. */
static bool push_kernel(lask_graph_builder *b, uint32_t at) {
  if (b->nkernels == b->capkernels &&
      !reserve((void **)&b->kernels, &b->capkernels, b->nkernels + 1, sizeof(uint32_t)))
    return fail(b, LASK_ENOMEM, "out of memory emitting code"), false;
  b->kernels[b->nkernels++] = at;
  return true;
}

/* Appends op operand to the current program, which pops `pops` values and pushes one;
 * false (the build failed) when it cannot. The stack positions of native kernels are
 * kept (kernels) to tell the calls of other heads (host). */
static ALWAYS_INLINE bool emit_op(lask_graph_builder *b, uint32_t op, size_t operand, int64_t pops,
                                  bool kernel) {
  if (__builtin_expect(!b || b->ncode >= b->limit || operand > LASK_MAX_OPERAND || pops > b->depth, 0) &&
      !emit_checked(b, operand, pops))
    return false;
  b->code[b->ncode++] = op | (uint32_t)operand << 3;
  uint32_t at = (uint32_t)(b->depth - pops); /* where the pushed value goes */
  b->depth = (int64_t)at + 1;
  if (op == LASK_OP_CONST) {
    if (!kernel) return true;
    if (b->nkernels == b->capkernels) return push_kernel(b, at);
    b->kernels[b->nkernels++] = at;
    return true;
  }
  if (pops) {
    size_t nk = b->nkernels;
    while (nk && b->kernels[nk - 1] > at) nk--; /* the popped arguments */
    if (nk && b->kernels[nk - 1] == at)
      nk--; /* a CALL's head, a native kernel, or a list's first element */
    else if (op == LASK_OP_CALL)
      b->host = LASK_NODE_HOST;
    b->nkernels = nk;
  }
  return true;
}

/* emit for every op but CONST. */
static ALWAYS_INLINE bool emit(lask_graph_builder *b, uint32_t op, size_t operand, int64_t pops) {
  return emit_op(b, op, operand, pops, false);
}

/* Emits CONST c, c a constant of the pool. */
static ALWAYS_INLINE void emit_const(lask_graph_builder *b, uint32_t c) {
  emit_op(b, LASK_OP_CONST, c, 0, b && c < b->nconsts && lask_isa(b->consts[c], &lask_kernel_class));
}

void lask_gb_begin(lask_graph_builder *b, uint32_t id) {
  if (!b || b->err.code) return;
  if (id >= b->nnodes) return fail(b, LASK_EINVAL, "no such node");
  if (b->code_len[id]) return fail_at(b, LASK_EINVAL, id, "node defined twice");
  if (b->cur != LASK_NO_NODE)
    return fail(b, LASK_EINVAL, "lask_gb_begin: the previous node's program was not ended");
  if (id < b->last_begun) b->linked = false;
  b->last_begun = id;
  b->cur = id;
  b->limit = b->capcode;
  b->depth = 0;
  b->host = 0;
  b->nkernels = 0;
  b->code_off[id] = (uint32_t)b->ncode;
  b->dep_off[id] = (uint32_t)b->ndeps;
}

/* Sets the mark bits of the current program's dependencies; 0 on ENOMEM. */
static int start_marking(lask_graph_builder *b) {
  if (b->nnodes > b->capmark) {
    size_t words = b->capmark / 64, need = (b->nnodes + 63) / 64;
    if (!reserve((void **)&b->mark, &words, need, sizeof(uint64_t))) return 0;
    memset(b->mark + b->capmark / 64, 0, (words - b->capmark / 64) * sizeof(uint64_t));
    b->capmark = words * 64;
  }
  for (size_t e = b->dep_off[b->cur]; e < b->ndeps; e++)
    b->mark[b->deps[e] / 64] |= 1ull << (b->deps[e] % 64);
  b->marking = true;
  return 1;
}

/* add_dep off its fast path: a program with many dependencies (the mark bitmap finds
 * repeats), or deps full. */
static void add_dep_slow(lask_graph_builder *b, uint32_t d) {
  size_t first = b->dep_off[b->cur];
  if (!b->marking && b->ndeps - first < FEW_DEPS) {
    for (size_t e = first; e < b->ndeps; e++)
      if (b->deps[e] == d) return;
  } else {
    if ((!b->marking || d >= b->capmark) && !start_marking(b))
      return fail(b, LASK_ENOMEM, "out of memory emitting code");
    uint64_t *w = &b->mark[d / 64], bit = 1ull << (d % 64);
    if (*w & bit) return;
    *w |= bit;
  }
  if (b->ndeps == b->capdeps && !reserve((void **)&b->deps, &b->capdeps, b->ndeps + 1, sizeof(uint32_t)))
    return fail(b, LASK_ENOMEM, "out of memory emitting code");
  b->deps[b->ndeps++] = d;
  b->out_off[d + 2]++;
}

/* Adds d to the current program's dependencies unless it is one already. */
static ALWAYS_INLINE void add_dep(lask_graph_builder *b, uint32_t d) {
  if (b->marking && d < b->capmark && b->ndeps < b->capdeps) {
    uint64_t *w = &b->mark[d / 64], bit = 1ull << (d % 64);
    if (*w & bit) return;
    *w |= bit;
    b->deps[b->ndeps++] = d;
    b->out_off[d + 2]++;
    return;
  }
  size_t first = b->dep_off[b->cur];
  if (b->marking || b->ndeps - first >= FEW_DEPS || b->ndeps == b->capdeps) return add_dep_slow(b, d);
  for (size_t e = first; e < b->ndeps; e++)
    if (b->deps[e] == d) return;
  b->deps[b->ndeps++] = d;
  b->out_off[d + 2]++;
}

void lask_gb_key(lask_graph_builder *b, uint32_t id) {
  if (b && id >= b->nnodes && !b->err.code) return fail(b, LASK_EINVAL, "reference to an unknown node");
  if (emit(b, LASK_OP_KEY, id, 0) && b->linked) add_dep(b, id);
}

uint32_t lask_gb_add_const(lask_graph_builder *b, lask_value v) {
  if (!b) return lask_release(v), UINT32_MAX;
  if (b->err.code || (b->nconsts == b->capconsts &&
                      !reserve((void **)&b->consts, &b->capconsts, b->nconsts + 1, sizeof v))) {
    lask_release(v);
    fail(b, LASK_ENOMEM, "out of memory adding a constant");
    return UINT32_MAX;
  }
  b->consts[b->nconsts] = v;
  return (uint32_t)b->nconsts++;
}

void lask_gb_const_ref(lask_graph_builder *b, uint32_t c) {
  if (b && c >= b->nconsts && !b->err.code) return fail(b, LASK_EINVAL, "reference to an unknown constant");
  emit_const(b, c);
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

void lask_gb_const(lask_graph_builder *b, lask_value v) {
  uint64_t bits;
  if (v.type == LASK_TINT && v.as.i >= LASK_INT_MIN && v.as.i <= LASK_INT_MAX) {
    emit(b, LASK_OP_INT, (uint32_t)v.as.i & LASK_MAX_OPERAND, 0); /* in the code itself */
    return;
  }
  if (v.type == LASK_TINT)
    bits = (uint64_t)v.as.i;
  else if (v.type == LASK_TOBJ)
    bits = (uint64_t)(uintptr_t)v.as.o; /* the very same object */
  else if (!const_bits(v, &bits))
    return lask_gb_const_ref(b, lask_gb_add_const(b, v));
  if (!b || b->err.code) return lask_gb_const_ref(b, lask_gb_add_const(b, v));
  /* two ways a set: the hash's top bits pick the set */
  uint64_t h = (bits ^ (bits >> 29) ^ (uint64_t)v.type * 0x632be59bd9b4e019ULL) * 0x9e3779b97f4a7c15ULL;
  struct recent_const *set = &b->recent[(h >> (64 - RECENT_SET_BITS)) * 2];
  bool kernel = lask_isa(v, &lask_kernel_class);
  for (int w = 0; w < 2; w++)
    if (set[w].bits == bits && set[w].type == v.type) {
      if (v.type == LASK_TOBJ &&
          atomic_load_explicit(&v.as.o->refs, memory_order_relaxed) != LASK_REFS_STATIC)
        lask_release(v); /* the pool holds a reference already */
      emit_op(b, LASK_OP_CONST, set[w].index, 0, kernel);
      return;
    }
  uint32_t c;
  if (b->nconsts < b->capconsts)
    b->consts[c = (uint32_t)b->nconsts++] = v;
  else
    c = lask_gb_add_const(b, v);
  if (c != UINT32_MAX) {
    set[1] = set[0], set[0] = (struct recent_const){bits, c, v.type}; /* the older way goes */
    emit_op(b, LASK_OP_CONST, c, 0, kernel);
  }
}

void lask_gb_list(lask_graph_builder *b, uint32_t n) { emit(b, LASK_OP_LIST, n, n); }

void lask_gb_call(lask_graph_builder *b, uint32_t nargs) { emit(b, LASK_OP_CALL, nargs, (int64_t)nargs + 1); }

void lask_gb_end(lask_graph_builder *b) {
  if (!b || b->err.code) return;
  if (b->cur == LASK_NO_NODE) return fail(b, LASK_EINVAL, "lask_gb_end: no node's program was begun");
  if (b->depth != 1) return fail(b, LASK_EINVAL, "a node's program must leave exactly one value");
  uint32_t id = b->cur;
  b->code_len[id] = (uint32_t)(b->ncode - b->code_off[id]);
  b->flags[id] = b->host;
  if (b->marking) {
    for (size_t e = b->dep_off[id]; e < b->ndeps; e++) b->mark[b->deps[e] / 64] = 0;
    b->marking = false;
  }
  b->ndefined++;
  b->cur = LASK_NO_NODE;
  b->limit = 0;
}

/* Lays out the dependents (out_off, outs) of g, whose dependencies are made, from the
 * counts in out_off[d + 2]: prefix sums, then a fill through out_off[d + 1]. */
static lask_status link_dependents(lask_graph *g, lask_err *err) {
  uint32_t n = g->n, nedges = g->dep_off[n];
  if (!(g->outs = malloc((nedges ? nedges : 1) * sizeof(uint32_t))))
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory linking the graph");
  uint32_t *off = g->out_off;
  for (uint32_t i = 0; i < n; i++) off[i + 2] += off[i + 1];
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t e = g->dep_off[i]; e < g->dep_off[i + 1]; e++) g->outs[off[g->deps[e] + 1]++] = i;
  return LASK_OK;
}

/* Makes the dependencies (distinct KEY operands, first-use order) and the dependents'
 * counts of g from its code: for a build whose programs were not begun in id order. */
static lask_status link_edges(lask_graph *g, lask_err *err) {
  uint32_t n = g->n, *seen = malloc(((size_t)n + 1) * sizeof *seen);
  size_t nedges = 0;
  if (!seen) goto nomem;
  memset(g->out_off, 0, ((size_t)n + 2) * sizeof(uint32_t));
  for (int pass = 0; pass < 2; pass++) { /* pass 0 counts, pass 1 fills */
    for (uint32_t i = 0; i < n; i++) seen[i] = UINT32_MAX;
    nedges = 0;
    for (uint32_t i = 0; i < n; i++) {
      g->dep_off[i] = (uint32_t)nedges;
      const uint32_t *c = g->code + g->code_off[i];
      for (uint32_t k = 0; k < g->code_len[i]; k++) {
        uint32_t d = LASK_OPERAND(c[k]);
        if (LASK_OP(c[k]) != LASK_OP_KEY || seen[d] == i) continue;
        seen[d] = i;
        if (pass)
          g->deps[nedges] = d;
        else
          g->out_off[d + 2]++;
        nedges++;
      }
    }
    g->dep_off[n] = (uint32_t)nedges;
    if (!pass) {
      free(g->deps);
      if (!(g->deps = malloc((nedges ? nedges : 1) * sizeof(uint32_t)))) goto nomem;
    }
  }
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
  if (b->ndefined != b->nnodes)
    for (size_t i = 0; i < b->nnodes; i++)
      if (!b->code_len[i]) {
        const char *name = b->names && b->names[i] ? b->names[i] : "?";
        lask_err_set(err, LASK_EMISSING, (uint32_t)i, "node #%zu ('%s') is never defined", i, name);
        goto done;
      }
  if (!b->capnodes && !reserve_nodes(b, 1)) goto nomem; /* an empty graph still has its offsets */
  /* and a graph without edges its (empty) deps array, never NULL, as every other array */
  if (!b->capdeps && !reserve((void **)&b->deps, &b->capdeps, 1, sizeof(uint32_t))) goto nomem;
  if (!(g = calloc(1, sizeof *g))) goto nomem;
  g->n = (uint32_t)b->nnodes;
  g->code = b->code, g->consts = b->consts, g->nconsts = (uint32_t)b->nconsts;
  g->code_off = b->code_off, g->code_len = b->code_len, g->names = b->names;
  g->dep_off = b->dep_off, g->out_off = b->out_off, g->flags = b->flags, g->deps = b->deps;
  g->name_chunks = b->name_chunks;
  b->code = NULL, b->consts = NULL, b->nconsts = 0, b->code_off = b->code_len = NULL, b->names = NULL;
  b->dep_off = b->out_off = b->deps = NULL, b->flags = NULL;
  b->name_chunks = NULL;
  b->nnodes = 0;
  g->dep_off[g->n] = (uint32_t)b->ndeps;
  if ((!b->linked && link_edges(g, err) != LASK_OK) || link_dependents(g, err) != LASK_OK) {
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
  if (!g->deps || !g->outs) return false; /* empty without edges, never NULL (callers copy them) */
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
