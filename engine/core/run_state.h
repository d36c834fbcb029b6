/* run_state.h — the per-run state shared by the schedulers (internal). */
#ifndef LASK_RUN_STATE_H
#define LASK_RUN_STATE_H

#include "run.h"

typedef struct lask_state {
  const lask_graph *g;
  lask_value *values;      /* owned; see run.c for the invariants */
  _Atomic uint32_t *left;  /* unfinished dependencies */
  _Atomic uint32_t *holds; /* unfinished dependents + times requested */
  uint32_t *prio;          /* static priorities from lask_order */
} lask_state;

/* Allocates and fills the state of a run of g for outs; computes priorities
 * (LASK_ECYCLE when g has a cycle). On failure nothing is left allocated. */
lask_status lask_state_init(lask_state *s, const lask_graph *g, const uint32_t *outs, size_t nouts,
                            lask_err *err);

/* Releases every value still held and the state's arrays. */
void lask_state_free(lask_state *s);

/* Called for each value a run state releases (node is its id); see lask_state_release_deps. */
typedef struct lask_release_hook {
  void (*released)(void *ctx, uint32_t node);
  void *ctx;
} lask_release_hook;

/* Node v has finished: drops its hold on each dependency, releasing the last ones,
 * and releases v's own value at once when nothing will ever read it. When hook is
 * not NULL it is told of each value released (a remote scheduler forgets it on its
 * workers). */
void lask_state_release_deps(lask_state *s, uint32_t v, const lask_release_hook *hook);

/* Gives (retained) the values of outs into results. */
void lask_state_take_outputs(lask_state *s, const uint32_t *outs, size_t nouts, lask_value *results);

/* A binary min-heap of node ids keyed by prio[id]; zero-initialise with .prio set. */
typedef struct lask_heap {
  uint32_t *ids;
  size_t n, cap;
  const uint32_t *prio;
} lask_heap;

/* Adds id; returns 0 when out of memory (the heap is unchanged). */
int lask_heap_push(lask_heap *h, uint32_t id);

/* Removes and returns the id of lowest priority; the heap must not be empty. */
uint32_t lask_heap_pop(lask_heap *h);

/* Fills err for a callback that asked to stop the run at node; returns LASK_EHOST. */
lask_status lask_callback_failed(uint32_t node, lask_err *err);

/* The synchronous scheduler (run.c): priority order on the calling thread. */
lask_status lask_run_sync(lask_state *s, const lask_run_opts *o, lask_err *err);

/* The threaded scheduler (sched_threaded.c); falls back to lask_run_sync when the
 * engine's pool is already in use. */
lask_status lask_run_threaded(lask_engine *e, lask_state *s, const lask_run_opts *o, lask_err *err);

/* The remote scheduler (sched_remote.c): tasks on o->transport's workers, literals
 * and aliases on the calling thread. */
lask_status lask_run_remote(lask_state *s, const lask_run_opts *o, lask_err *err);

#endif
