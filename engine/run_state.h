/* run_state.h — the per-run state shared by the schedulers (internal). */
#ifndef LASK_RUN_STATE_H
#define LASK_RUN_STATE_H

#include "run.h"

typedef struct lask_state {
  const lask_graph *g;
  lask_value *values;       /* owned; see run.c for the invariants */
  _Atomic uint32_t *left;   /* unfinished dependencies */
  _Atomic uint32_t *holds;  /* unfinished dependents + times requested */
  uint32_t *prio;           /* static priorities from lask_order */
} lask_state;

/* Allocates and fills the state of a run of g for outs; computes priorities
 * (LASK_ECYCLE when g has a cycle). On failure nothing is left allocated. */
lask_status lask_state_init(lask_state *s, const lask_graph *g, const uint32_t *outs, size_t nouts, lask_err *err);

/* Releases every value still held and the state's arrays. */
void lask_state_free(lask_state *s);

/* Node v has finished: drops its hold on each dependency, releasing the last ones. */
void lask_state_release_deps(lask_state *s, uint32_t v);

/* Gives (retained) the values of outs into results. */
void lask_state_take_outputs(lask_state *s, const uint32_t *outs, size_t nouts, lask_value *results);

/* The threaded scheduler (sched_threaded.c). */
lask_status lask_run_threaded(lask_engine *e, lask_state *s, const lask_run_opts *o, lask_err *err);

#endif
