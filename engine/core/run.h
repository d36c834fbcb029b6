/* run.h — running a graph to get the values of some of its nodes.
 *
 * lask_run (run.c) makes the run's state (run_state.c: counters and values) and
 * hands it to the scheduler opts->sched names (schedulers.h): sched_sync.c, or
 * sched_threaded.c, the work-stealing scheduler on the engine's pool (engine.c,
 * deque.c), or sched_remote.c.
 *
 * Threads: lask_run and lask_get may be called from several host threads at once,
 * on one engine or several, with one graph or several (a graph is only read by a
 * run). On one engine, one run at a time uses the worker pool; a run that finds the
 * pool busy (another host thread's, or a nested get from inside a task) runs on its
 * own calling thread, synchronously, with the same results. */
#ifndef LASK_RUN_H
#define LASK_RUN_H

#include "api.h"
#include "run_opts.h"

LASK_BEGIN_DECLS

/* Runs g until the nodes outs[0..nouts) are computed and gives their values in
 * results[0..nouts) (the caller releases them). Intermediate values are released as
 * soon as their last dependent has run (numbers and booleans, which own nothing, at
 * the run's end). g keeps its first run's plan and its last run's counters (24 bytes
 * a node) until lask_graph_free, so that running a built graph again allocates
 * nothing. On failure nothing is given, every value
 * made is released, err (may be NULL) names the failing node (err->node; its message
 * names the kernel and the cause, lask_get's the node too), and its code is returned.
 * A cycle is LASK_ECYCLE, its message the cycle's path (lask_graph_cycle_error). */
lask_status lask_run(lask_engine *e, const lask_graph *g, const uint32_t *outs, size_t nouts,
                     const lask_run_opts *opts, lask_value *results, lask_err *err);

/* Runs g on e's workers for the nodes called names[0..n) and gives their values in
 * results[0..n) (the caller releases them). On failure nothing is given, and err's
 * message names the failing node ("node 'z': add failed (wrong type)"; "node #3: "
 * for a node without a name) or, for a cycle, its path (lask_graph_cycle_error). */
lask_status lask_get(lask_engine *e, const lask_graph *g, const char *const *names, size_t n,
                     lask_value *results, lask_err *err);

LASK_END_DECLS

#endif
