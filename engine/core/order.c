/* order.c — static priorities: a post-order walk from the outputs.
 *
 * The walk starts at each node no one depends on (in id order, so the first
 * requested key comes first) and numbers nodes as they finish, so a task is
 * numbered right after its last dependency. At each node the dependencies are
 * walked heaviest first (weight = 1 + the weights of its dependencies, an
 * over-count on shared subgraphs), as in Sethi–Ullman: finishing the big branch
 * before the small ones means only small results wait. Ties keep argument order,
 * which walks chunked reductions block by block: x0, s0, x1, s1, ... so each
 * input block is released before the next one is made.
 */
#include "order.h"

#include <stdlib.h>

/* weight[i] for every node, in Kahn order; returns 0 when there is a cycle. */
static int weights(const lask_graph *g, uint32_t *weight, uint32_t *queue, uint32_t *left) {
  size_t head = 0, tail = 0;
  for (uint32_t i = 0; i < g->n; i++) {
    left[i] = g->dep_off[i + 1] - g->dep_off[i];
    if (!left[i]) queue[tail++] = i;
  }
  while (head < tail) {
    uint32_t v = queue[head++];
    uint64_t w = 1;
    for (uint32_t e = g->dep_off[v]; e < g->dep_off[v + 1]; e++) w += weight[g->deps[e]];
    weight[v] = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
    for (uint32_t e = g->out_off[v]; e < g->out_off[v + 1]; e++)
      if (--left[g->outs[e]] == 0) queue[tail++] = g->outs[e];
  }
  return tail == g->n;
}

/* Sorts node v's dependency slice of sorted[] heaviest first (insertion sort: slices are short). */
static void sort_deps(const lask_graph *g, uint32_t v, const uint32_t *weight, uint32_t *sorted) {
  uint32_t lo = g->dep_off[v], hi = g->dep_off[v + 1];
  for (uint32_t a = lo + 1; a < hi; a++) {
    uint32_t d = sorted[a], b = a;
    for (; b > lo && weight[sorted[b - 1]] < weight[d]; b--) sorted[b] = sorted[b - 1];
    sorted[b] = d;
  }
}

/* Post-order numbering from root; stack and next are scratch of size n. */
static void walk(const lask_graph *g, uint32_t root, const uint32_t *sorted, uint32_t *prio, uint32_t *count,
                 uint32_t *stack, uint32_t *next) {
  size_t sp = 0;
  stack[0] = root, next[0] = g->dep_off[root];
  prio[root] = UINT32_MAX - 1; /* on the stack */
  for (;;) {
    uint32_t v = stack[sp];
    if (next[sp] < g->dep_off[v + 1]) {
      uint32_t d = sorted[next[sp]++];
      if (prio[d] != UINT32_MAX) continue; /* numbered or on the stack */
      prio[d] = UINT32_MAX - 1;
      sp++, stack[sp] = d, next[sp] = g->dep_off[d];
      continue;
    }
    prio[v] = (*count)++;
    if (sp-- == 0) return;
  }
}

lask_status lask_order(const lask_graph *g, uint32_t *prio, lask_err *err) {
  size_t n = g->n ? g->n : 1, ne = g->dep_off[g->n] ? g->dep_off[g->n] : 1;
  uint32_t *weight = malloc(n * sizeof *weight), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  uint32_t *sorted = malloc(ne * sizeof *sorted);
  lask_status st = LASK_OK;
  if (!weight || !a || !b || !sorted) {
    st = lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory ordering the graph");
  } else if (!weights(g, weight, a, b)) {
    st = lask_err_set(err, LASK_ECYCLE, LASK_NO_NODE, "the graph has a cycle");
  } else {
    for (uint32_t e = 0; e < g->dep_off[g->n]; e++) sorted[e] = g->deps[e];
    for (uint32_t v = 0; v < g->n; v++) sort_deps(g, v, weight, sorted), prio[v] = UINT32_MAX;
    uint32_t count = 0;
    for (uint32_t v = 0; v < g->n; v++)
      if (g->out_off[v] == g->out_off[v + 1]) walk(g, v, sorted, prio, &count, a, b);
  }
  free(weight), free(a), free(b), free(sorted);
  return st;
}
