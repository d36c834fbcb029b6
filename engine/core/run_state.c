/* run_state.c — the per-run state every scheduler shares (run_state.h).
 *
 * Invariants of a run state, for every node i:
 *   1. left[i] counts dependencies of i not finished yet; i is ready when it is 0.
 *      It only goes down, once per finished dependency, and never below 0.
 *   2. holds[i] counts the dependents of i not finished yet, plus one per time i is
 *      requested; values[i] is released as soon as it drops to 0 (never below).
 *   3. values[i] is nil until i has run, and after it has been released.
 *   4. Without a release hook, a plain value (a boolean or a number: nothing to
 *      free) is never released: its dependents skip the atomic decrement of
 *      holds[i] (one a graph edge otherwise), and it stays in values[i]. (Nil goes
 *      the counted way: a released value is nil, so a node finished twice still
 *      drops a hold below 0, which LASK_ASSERT catches.)
 * So after a run that succeeded every left[i] is 0, the holds left of values that
 * are not plain are the requests, and only requested nodes still hold objects
 * (lask_state_done).
 * Counters are atomics because the threaded scheduler's workers finish nodes at once.
 */
#include "run_state.h"

#include <stdlib.h>
#include <string.h>

#include "order.h"

/* The graph's plan (graph.h): made once, by the first run to get here; a run that
 * loses the race to install it frees its own. The graph does not change after it is
 * built, so every run would make the same plan. */
static const uint32_t *plan_of(const lask_graph *g, lask_err *err) {
  uint32_t *plan = atomic_load_explicit(&((lask_graph *)g)->plan, memory_order_acquire);
  if (plan) return plan;
  size_t n = g->n;
  plan = malloc((2 * n + 3) * sizeof *plan);
  if (!plan) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a run"), NULL;
  if (lask_order(g, plan, err) != LASK_OK) return free(plan), NULL;
  /* the roots by priority: the priorities are a permutation of 0..n-1, so a pass over
   * the nodes in priority order (by_prio) needs no sort */
  uint32_t *by_prio = plan + n + 3, nroots = 0, nsinks = 0, host_nodes = 0;
  for (uint32_t i = 0; i < n; i++) by_prio[plan[i]] = i;
  for (uint32_t p = 0; p < n; p++) {
    uint32_t i = by_prio[p];
    if (g->dep_off[i] == g->dep_off[i + 1]) by_prio[nroots++] = i; /* nroots <= p: in place */
  }
  for (uint32_t i = 0; i < n; i++) nsinks += g->out_off[i] == g->out_off[i + 1];
  for (uint32_t i = 0; i < n; i++) host_nodes += (g->flags[i] & LASK_NODE_HOST) != 0;
  plan[n] = nroots, plan[n + 1] = nsinks, plan[n + 2] = host_nodes;
  uint32_t *none = NULL;
  if (!atomic_compare_exchange_strong_explicit(&((lask_graph *)g)->plan, &none, plan, memory_order_acq_rel,
                                               memory_order_acquire)) {
    free(plan);
    return none;
  }
  return plan;
}

/* The state's arrays in one block: values (16-byte aligned), then left, then holds. */
static size_t block_size(size_t n) { return n * (sizeof(lask_value) + 2 * sizeof(uint32_t)); }

lask_status lask_state_init(lask_state *s, const lask_graph *g, const uint32_t *outs, size_t nouts,
                            lask_err *err) {
  size_t n = g->n ? g->n : 1;
  memset(s, 0, sizeof *s);
  s->g = g;
  const uint32_t *plan = plan_of(g, err);
  if (!plan) return err->code;
  s->prio = plan, s->nroots = plan[g->n], s->nsinks = plan[g->n + 1], s->host_nodes = plan[g->n + 2];
  s->roots = plan + g->n + 3;
  /* the last run's arrays, values all nil (lask_state_free), or fresh ones */
  void *block = atomic_exchange_explicit(&((lask_graph *)g)->spare, NULL, memory_order_acquire);
  if (!block) block = calloc(1, block_size(n));
  if (!block) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a run");
  s->values = block;
  s->left = (_Atomic uint32_t *)(s->values + n);
  s->holds = s->left + n;
  for (uint32_t i = 0; i < g->n; i++) {
    LASK_ASSERT(s->values[i].type == LASK_TNIL);
    atomic_init(&s->left[i], g->dep_off[i + 1] - g->dep_off[i]);
    atomic_init(&s->holds[i], g->out_off[i + 1] - g->out_off[i]);
  }
  for (size_t k = 0; k < nouts; k++) atomic_fetch_add_explicit(&s->holds[outs[k]], 1, memory_order_relaxed);
  return LASK_OK;
}

void lask_state_free(lask_state *s) {
  if (!s->values) return;
  for (uint32_t i = 0; i < s->g->n; i++) {
    lask_release(s->values[i]);
    s->values[i] = lask_nil();
  }
  /* kept for the graph's next run unless another run has kept its own already */
  void *none = NULL;
  if (!atomic_compare_exchange_strong_explicit(&((lask_graph *)s->g)->spare, &none, (void *)s->values,
                                               memory_order_release, memory_order_relaxed))
    free(s->values);
  memset(s, 0, sizeof *s);
}

/* A boolean or a number: a value that owns nothing (invariant 4). */
static inline bool plain(lask_value v) {
  return v.type == LASK_TBOOL || v.type == LASK_TINT || v.type == LASK_TNUM;
}

static void release_value(lask_state *s, uint32_t v, const lask_release_hook *hook) {
  lask_release(s->values[v]);
  s->values[v] = lask_nil();
  if (hook) hook->released(hook->ctx, v);
}

void lask_state_release_deps(lask_state *s, uint32_t v, const lask_release_hook *hook) {
  const lask_graph *g = s->g;
  if (atomic_load_explicit(&s->holds[v], memory_order_relaxed) == 0) /* no dependent, not requested */
    release_value(s, v, hook);
  for (uint32_t e = g->dep_off[v]; e < g->dep_off[v + 1]; e++) {
    uint32_t d = g->deps[e];
    /* invariant 4: d finished before v ran (left[v] is acq_rel), and nothing changes a
     * value that is no object, so this plain read is safe */
    if (!hook && plain(s->values[d])) continue;
    /* acq_rel: the last dependent to finish must see the value stored by d's task. */
    uint32_t before = atomic_fetch_sub_explicit(&s->holds[d], 1, memory_order_acq_rel);
    LASK_ASSERT(before > 0); /* invariant 2 */
    if (before == 1) release_value(s, d, hook);
  }
}

void lask_state_take_outputs(lask_state *s, const uint32_t *outs, size_t nouts, lask_value *results) {
  for (size_t k = 0; k < nouts; k++) results[k] = lask_retain(s->values[outs[k]]);
}

bool lask_state_done(const lask_state *s, const uint32_t *outs, size_t nouts) {
  uint64_t requests = 0, counted_outs = 0;
  for (uint32_t i = 0; i < s->g->n; i++) {
    uint32_t holds = atomic_load_explicit(&s->holds[i], memory_order_relaxed);
    if (atomic_load_explicit(&s->left[i], memory_order_relaxed) != 0) return false;
    if (plain(s->values[i])) continue; /* invariant 4: plain values stay */
    if (holds == 0 && s->values[i].type != LASK_TNIL) return false;
    requests += holds;
  }
  for (size_t k = 0; k < nouts; k++) counted_outs += !plain(s->values[outs[k]]);
  return requests == counted_outs;
}
