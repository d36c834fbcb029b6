/* run.c — the state every scheduler shares, and the synchronous scheduler.
 *
 * Invariants of a run state, for every node i:
 *   1. left[i] counts dependencies of i not finished yet; i is ready when it is 0.
 *   2. holds[i] counts the dependents of i not finished yet, plus one per time i is
 *      requested; values[i] is released as soon as it drops to 0.
 *   3. values[i] is nil until i has run, and after it has been released.
 */
#include "run_state.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "order.h"
#include "transport.h"

lask_status lask_state_init(lask_state *s, const lask_graph *g, const uint32_t *outs, size_t nouts,
                            lask_err *err) {
  size_t n = g->n ? g->n : 1;
  memset(s, 0, sizeof *s);
  s->g = g;
  s->values = calloc(n, sizeof *s->values);
  s->left = malloc(n * sizeof *s->left);
  s->holds = malloc(n * sizeof *s->holds);
  s->prio = malloc(n * sizeof *s->prio);
  if (!s->values || !s->left || !s->holds || !s->prio) {
    lask_state_free(s);
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a run");
  }
  for (uint32_t i = 0; i < g->n; i++) {
    atomic_init(&s->left[i], g->dep_off[i + 1] - g->dep_off[i]);
    atomic_init(&s->holds[i], g->out_off[i + 1] - g->out_off[i]);
  }
  for (size_t k = 0; k < nouts; k++) atomic_fetch_add_explicit(&s->holds[outs[k]], 1, memory_order_relaxed);
  lask_status st = lask_order(g, s->prio, err);
  if (st != LASK_OK) lask_state_free(s);
  return st;
}

void lask_state_free(lask_state *s) {
  if (s->values && s->g)
    for (uint32_t i = 0; i < s->g->n; i++) lask_release(s->values[i]);
  free(s->values), free((void *)s->left), free((void *)s->holds), free(s->prio);
  memset(s, 0, sizeof *s);
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
    /* acq_rel: the last dependent to finish must see the value stored by d's task. */
    if (atomic_fetch_sub_explicit(&s->holds[d], 1, memory_order_acq_rel) == 1) release_value(s, d, hook);
  }
}

void lask_state_take_outputs(lask_state *s, const uint32_t *outs, size_t nouts, lask_value *results) {
  for (size_t k = 0; k < nouts; k++) results[k] = lask_retain(s->values[outs[k]]);
}

int lask_heap_push(lask_heap *h, uint32_t id) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 64;
    uint32_t *ids = realloc(h->ids, cap * sizeof *ids);
    if (!ids) return 0;
    h->ids = ids, h->cap = cap;
  }
  size_t i = h->n++;
  while (i > 0 && h->prio[h->ids[(i - 1) / 2]] > h->prio[id])
    h->ids[i] = h->ids[(i - 1) / 2], i = (i - 1) / 2;
  h->ids[i] = id;
  return 1;
}

uint32_t lask_heap_pop(lask_heap *h) {
  uint32_t top = h->ids[0], last = h->ids[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && h->prio[h->ids[c + 1]] < h->prio[h->ids[c]]) c++;
    if (h->prio[h->ids[c]] >= h->prio[last]) break;
    h->ids[i] = h->ids[c], i = c;
  }
  h->ids[i] = last;
  return top;
}

lask_status lask_callback_failed(uint32_t node, lask_err *err) {
  return lask_err_set(err, LASK_EHOST, node, "a callback failed");
}

/* Runs one ready node: callbacks, evaluation, then the bookkeeping of invariants 1–2. */
static lask_status run_node(lask_state *s, uint32_t v, const lask_run_opts *o, lask_heap *ready,
                            lask_err *err) {
  const lask_callbacks *cb = o->callbacks;
  if (cb && cb->pretask && cb->pretask(cb->ctx, v)) return lask_callback_failed(v, err);
  double start = o->trace ? lask_trace_now(o->trace) : 0;
  lask_status st = lask_eval(s->g, v, s->values, o->host, &s->values[v], err);
  if (st != LASK_OK) return st;
  if (o->trace) lask_trace_record(o->trace, 0, v, start, lask_trace_now(o->trace));
  if (cb && cb->posttask && cb->posttask(cb->ctx, v, s->values[v], 0)) return lask_callback_failed(v, err);
  lask_state_release_deps(s, v, NULL);
  const lask_graph *g = s->g;
  for (uint32_t e = g->out_off[v]; e < g->out_off[v + 1]; e++)
    if (atomic_fetch_sub_explicit(&s->left[g->outs[e]], 1, memory_order_relaxed) == 1 &&
        !lask_heap_push(ready, g->outs[e]))
      return lask_err_set(err, LASK_ENOMEM, v, "out of memory scheduling a task");
  return LASK_OK;
}

lask_status lask_run_sync(lask_state *s, const lask_run_opts *o, lask_err *err) {
  const lask_graph *g = s->g;
  lask_heap ready = {.prio = s->prio};
  lask_status st = LASK_OK;
  for (uint32_t i = 0; i < g->n && st == LASK_OK; i++)
    if (g->dep_off[i] == g->dep_off[i + 1] && !lask_heap_push(&ready, i))
      st = lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a run");
  while (ready.n && st == LASK_OK) {
    if (o->interrupt && atomic_load_explicit(o->interrupt, memory_order_relaxed))
      st = lask_err_set(err, LASK_EINTR, LASK_NO_NODE, "interrupted");
    else
      st = run_node(s, lask_heap_pop(&ready), o, &ready, err);
  }
  free(ready.ids);
  return st;
}

lask_status lask_run(lask_engine *e, const lask_graph *g, const uint32_t *outs, size_t nouts,
                     const lask_run_opts *opts, lask_value *results, lask_err *err) {
  lask_run_opts defaults = {0};
  const lask_run_opts *o = opts ? opts : &defaults;
  lask_state s;
  lask_err_clear(err);
  for (size_t k = 0; k < nouts; k++)
    if (outs[k] >= g->n)
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "requested node #%u does not exist", outs[k]);
  int remote = o->sched == LASK_SCHED_REMOTE;
  if (remote && (!o->transport || o->transport->nworkers < 1))
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "a remote run needs a transport with workers");
  lask_status st = lask_state_init(&s, g, outs, nouts, err);
  if (st != LASK_OK) return st;
  int threaded = o->sched == LASK_SCHED_THREADED && e && g->n > 0;
  int nworkers = remote ? o->transport->nworkers : threaded ? lask_engine_workers(e) : 1;
  if (o->trace && lask_trace_begin(o->trace, nworkers) != LASK_OK) {
    lask_state_free(&s);
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a trace");
  }
  if (remote)
    st = lask_run_remote(&s, o, err);
  else if (threaded)
    st = lask_run_threaded(e, &s, o, err);
  else
    st = lask_run_sync(&s, o, err);
  if (st == LASK_OK) lask_state_take_outputs(&s, outs, nouts, results);
  lask_state_free(&s);
  return st;
}
