/* sched_sync.c — the synchronous scheduler: every task on the calling thread, the
 * ready ones taken by lowest static priority (a heap, heap.h). It is the reference
 * the threaded scheduler is tested against, and its fallback when the engine's pool
 * is busy (a nested run, or a second host thread).
 *
 * The loop: pop the most urgent ready node, run it (callbacks, evaluation, trace),
 * release what it was the last reader of, and push the dependents it made ready;
 * an interrupt is checked between tasks.
 */
#include <stdlib.h>

#include "schedulers.h"

/* Runs one ready node: callbacks, evaluation, then the state's bookkeeping. */
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
    if (lask_state_dep_done(s, g->outs[e], memory_order_relaxed) && !lask_heap_push(ready, g->outs[e]))
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
