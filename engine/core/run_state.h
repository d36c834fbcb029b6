/* run_state.h — the per-run state every scheduler shares (internal).
 *
 * lask_run (run.c) makes a state, hands it to a scheduler (schedulers.h), and
 * takes the outputs from it. A scheduler marks nodes finished through the state:
 * the counters left[] say when a node is ready, holds[] when a value can be
 * released. The invariants are stated in run_state.c. Including this header
 * also gives the run's request (run_opts.h), the priority heap (heap.h) and
 * lask_callback_failed (callbacks.h).
 */
#ifndef LASK_RUN_STATE_H
#define LASK_RUN_STATE_H

#include <stdbool.h>

#include "callbacks.h"
#include "check.h"
#include "heap.h"
#include "run_opts.h"

typedef struct lask_state lask_state;

struct lask_state {
  const lask_graph *g;
  lask_value *values;      /* owned; values[i] is node i's result while it is held */
  _Atomic uint32_t *left;  /* unfinished dependencies */
  _Atomic uint32_t *holds; /* unfinished dependents + times requested */
  const uint32_t *prio;    /* static priorities from lask_order (lower runs first); the graph's */
  const uint32_t *roots;   /* the nodes without dependencies, most urgent first; the graph's */
  uint32_t nroots;
  uint32_t host_nodes; /* how many nodes are host nodes (LASK_NODE_HOST) */
  uint32_t nsinks;     /* the nodes without dependents: every other node is an ancestor of one */
};

/* Allocates and fills the state of a run of g for outs; takes the priorities and
 * roots from g's plan, made at g's first run (LASK_ECYCLE when g has a cycle). On
 * failure nothing is left allocated. */
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
 * workers); without one, booleans and numbers are left alone (nothing to free). */
void lask_state_release_deps(lask_state *s, uint32_t v, const lask_release_hook *hook);

/* One dependency of node d has finished: counts it off left[d] and returns true when
 * that made d ready. order is the caller's (sched_threaded.c needs acq_rel). Inline,
 * since it runs once per edge; left[d] never underflows (checked). */
static inline bool lask_state_dep_done(lask_state *s, uint32_t d, memory_order order) {
  uint32_t before = atomic_fetch_sub_explicit(&s->left[d], 1, order);
  LASK_ASSERT(before > 0);
  return before == 1;
}

/* Gives (retained) the values of outs into results. */
void lask_state_take_outputs(lask_state *s, const uint32_t *outs, size_t nouts, lask_value *results);

/* True when every node has run and every object value not requested has been
 * released: the state of a run of outs that succeeded (a checker for LASK_ASSERT; O(n)). */
bool lask_state_done(const lask_state *s, const uint32_t *outs, size_t nouts);

#endif
