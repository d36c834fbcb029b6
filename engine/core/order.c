/* order.c — static priorities (Dask's `order`): which ready task runs first, so
 * that few results wait in memory. Only the graph's structure counts, never key
 * names; ties keep argument order, then node ids.
 *
 * A depth-first walk numbers nodes as they finish, from the outputs (nodes no one
 * depends on), so a task is numbered right after its last dependency:
 *  - outputs are walked deepest first (height: the longest path down to a leaf;
 *    then weight: 1 + the weights of the dependencies, an over-count on shared
 *    subgraphs; then the outputs whose inputs are shared most, so a group of
 *    outputs over one input finishes together);
 *  - at each node the dependencies are walked deepest first, then heaviest, then
 *    in argument order (the critical path first, and Sethi–Ullman: finishing the
 *    big branch before the small ones means only small results wait).
 * Besides the walk, a numbered node's dependents run at once when that lowers
 * memory: a ready dependent that no one needs (an output: it frees its inputs
 * sooner and holds nothing), or that is the last reader of two inputs or more. So
 * a terminal task never waits while another branch is computed, and a chunked
 * reduction runs x0, s0, x1, s1, ... releasing each block before the next one is
 * made (there by the walk itself).
 */
#include "order.h"

#include <stdlib.h>

typedef struct ostate {
  const lask_graph *g;
  uint32_t *prio;
  uint32_t count;
  uint32_t *height, *weight;
  uint32_t *left;    /* dependencies not numbered yet */
  uint32_t *rem_out; /* dependents not numbered yet */
  uint8_t *mark;     /* NEW, ON_STACK (the walk), DONE; QUEUED is a separate bit */
  uint32_t *queue;   /* the eager work list */
  size_t nqueue;
  uint32_t *stack, *next; /* the walk's frames */
} ostate;

enum { NEW = 0, ON_STACK = 1, DONE = 2, QUEUED = 4 };

typedef struct rank {
  uint32_t height, weight, shared, pos; /* pos: argument position or node id */
  uint32_t id;
} rank;

/* Deepest, then heaviest, then most shared, then first. */
static int rank_cmp(const void *pa, const void *pb) {
  const rank *a = pa, *b = pb;
  if (a->height != b->height) return a->height > b->height ? -1 : 1;
  if (a->weight != b->weight) return a->weight > b->weight ? -1 : 1;
  if (a->shared != b->shared) return a->shared > b->shared ? -1 : 1;
  return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* height[i] and weight[i] for every node, in Kahn order; returns 0 when there is a cycle. */
static int measure(const lask_graph *g, uint32_t *height, uint32_t *weight, uint32_t *queue, uint32_t *left) {
  size_t head = 0, tail = 0;
  for (uint32_t i = 0; i < g->n; i++) {
    left[i] = g->dep_off[i + 1] - g->dep_off[i];
    if (!left[i]) queue[tail++] = i;
  }
  while (head < tail) {
    uint32_t v = queue[head++];
    uint64_t w = 1;
    uint32_t h = 0;
    for (uint32_t e = g->dep_off[v]; e < g->dep_off[v + 1]; e++) {
      w += weight[g->deps[e]];
      if (height[g->deps[e]] > h) h = height[g->deps[e]];
    }
    weight[v] = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
    height[v] = h + 1;
    for (uint32_t e = g->out_off[v]; e < g->out_off[v + 1]; e++)
      if (--left[g->outs[e]] == 0) queue[tail++] = g->outs[e];
  }
  return tail == g->n;
}

/* The rank of node v at position pos of a list (with_shared: also by how many
 * dependents its dependencies have, for outputs, and placed by id). */
static rank rank_of(const ostate *s, uint32_t v, uint32_t pos, int with_shared) {
  const lask_graph *g = s->g;
  uint32_t shared = 0;
  for (uint32_t e = g->dep_off[v]; with_shared && e < g->dep_off[v + 1]; e++) {
    uint32_t d = g->deps[e], outs = g->out_off[d + 1] - g->out_off[d];
    if (outs > shared) shared = outs;
  }
  return (rank){s->height[v], s->weight[v], shared, with_shared ? v : pos, v};
}

/* Sorts ids[0..len) by rank (rank_of). scratch has room for len ranks, and is
 * written only when ids are not in order already (equal ranks: a fan-in's inputs,
 * say), so a large fan-in's scratch pages are never touched. */
static void sort_by_rank(const ostate *s, uint32_t *ids, uint32_t len, int with_shared, rank *scratch) {
  if (len < 2) return;
  uint32_t i = 1;
  for (rank prev = rank_of(s, ids[0], 0, with_shared), cur; i < len; i++, prev = cur) {
    cur = rank_of(s, ids[i], i, with_shared);
    if (rank_cmp(&prev, &cur) >= 0) break;
  }
  if (i == len) return;
  for (i = 0; i < len; i++) scratch[i] = rank_of(s, ids[i], i, with_shared);
  qsort(scratch, len, sizeof *scratch, rank_cmp);
  for (i = 0; i < len; i++) ids[i] = scratch[i].id;
}

/* Does running w now lower memory: is it ready, and an output (it holds nothing)
 * or the last reader of two inputs or more (it frees more than it holds)? */
static int eager_ok(const ostate *s, uint32_t w) {
  const lask_graph *g = s->g;
  if ((s->mark[w] & 3) == DONE || s->left[w]) return 0;
  if (g->out_off[w] == g->out_off[w + 1]) return 1;
  int freed = 0;
  for (uint32_t e = g->dep_off[w]; e < g->dep_off[w + 1] && freed < 2; e++)
    freed += s->rem_out[g->deps[e]] == 1;
  return freed >= 2;
}

static void enqueue(ostate *s, uint32_t w) {
  if (s->mark[w] & QUEUED || (s->mark[w] & 3) == DONE) return;
  s->mark[w] |= QUEUED;
  s->queue[s->nqueue++] = w;
}

/* Numbers v and queues the nodes that may now run eagerly: v's dependents, and the
 * last unnumbered dependent of an input of v. */
static void number(ostate *s, uint32_t v) {
  const lask_graph *g = s->g;
  s->prio[v] = s->count++;
  s->mark[v] = (uint8_t)((s->mark[v] & QUEUED) | DONE);
  for (uint32_t e = g->out_off[v]; e < g->out_off[v + 1]; e++) s->left[g->outs[e]]--;
  for (uint32_t e = g->dep_off[v]; e < g->dep_off[v + 1]; e++) {
    uint32_t d = g->deps[e];
    if (--s->rem_out[d] != 1) continue;
    for (uint32_t f = g->out_off[d]; f < g->out_off[d + 1]; f++)
      if ((s->mark[g->outs[f]] & 3) != DONE) enqueue(s, g->outs[f]);
  }
  for (uint32_t e = g->out_off[v + 1]; e > g->out_off[v]; e--) enqueue(s, g->outs[e - 1]);
}

/* Runs the eager work list dry. */
static void drain(ostate *s) {
  while (s->nqueue) {
    uint32_t w = s->queue[--s->nqueue];
    s->mark[w] &= (uint8_t)~QUEUED;
    if (eager_ok(s, w)) number(s, w);
  }
}

/* The walk from root; `sorted` holds each node's dependencies in walking order. */
static void walk(ostate *s, uint32_t root, const uint32_t *sorted) {
  const lask_graph *g = s->g;
  size_t sp = 0;
  s->stack[0] = root, s->next[0] = g->dep_off[root];
  s->mark[root] |= ON_STACK;
  for (;;) {
    uint32_t v = s->stack[sp];
    if (s->next[sp] < g->dep_off[v + 1]) {
      uint32_t d = sorted[s->next[sp]++];
      if (s->mark[d] & 3) continue; /* numbered or on the stack */
      s->mark[d] |= ON_STACK;
      sp++, s->stack[sp] = d, s->next[sp] = g->dep_off[d];
      continue;
    }
    if ((s->mark[v] & 3) != DONE) number(s, v);
    drain(s);
    if (sp-- == 0) return;
  }
}

static void order_all(ostate *s, uint32_t *sorted, rank *scratch) {
  const lask_graph *g = s->g;
  for (uint32_t e = 0; e < g->dep_off[g->n]; e++) sorted[e] = g->deps[e];
  uint32_t nroots = 0;
  for (uint32_t v = 0; v < g->n; v++) {
    sort_by_rank(s, sorted + g->dep_off[v], g->dep_off[v + 1] - g->dep_off[v], 0, scratch);
    s->left[v] = g->dep_off[v + 1] - g->dep_off[v];
    s->rem_out[v] = g->out_off[v + 1] - g->out_off[v];
    s->mark[v] = NEW;
    if (!s->rem_out[v]) s->queue[nroots++] = v; /* the roots, sorted below (queue is free now) */
  }
  uint32_t *roots = s->queue + g->n; /* the queue's second half */
  for (uint32_t i = 0; i < nroots; i++) roots[i] = s->queue[i];
  sort_by_rank(s, roots, nroots, 1, scratch);
  for (uint32_t i = 0; i < nroots; i++)
    if ((s->mark[roots[i]] & 3) != DONE) walk(s, roots[i], sorted);
}

lask_status lask_order(const lask_graph *g, uint32_t *prio, lask_err *err) {
  size_t n = g->n ? g->n : 1, ne = g->dep_off[g->n] ? g->dep_off[g->n] : 1;
  ostate s = {.g = g, .prio = prio};
  s.height = malloc(n * sizeof *s.height), s.weight = malloc(n * sizeof *s.weight);
  s.left = malloc(n * sizeof *s.left), s.rem_out = malloc(n * sizeof *s.rem_out);
  s.mark = malloc(n), s.queue = malloc(2 * n * sizeof *s.queue);
  s.stack = malloc(n * sizeof *s.stack), s.next = malloc(n * sizeof *s.next);
  uint32_t *sorted = malloc(ne * sizeof *sorted);
  rank *scratch = malloc(n * sizeof *scratch);
  lask_status st = LASK_OK;
  if (!s.height || !s.weight || !s.left || !s.rem_out || !s.mark || !s.queue || !s.stack || !s.next ||
      !sorted || !scratch) {
    st = lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory ordering the graph");
  } else if (!measure(g, s.height, s.weight, s.stack, s.left)) {
    st = lask_graph_cycle_error(g, err);
  } else {
    order_all(&s, sorted, scratch);
  }
  free(s.height), free(s.weight), free(s.left), free(s.rem_out), free(s.mark), free(s.queue);
  free(s.stack), free(s.next), free(sorted), free(scratch);
  return st;
}
