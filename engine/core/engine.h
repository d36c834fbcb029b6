/* engine.h — the engine (a pool of worker threads, pool.c) and lask_get (run.c),
 * the simplest way to run a graph on it by node names. lask_run (run.h) is the
 * whole interface.
 */
#ifndef LASK_ENGINE_H
#define LASK_ENGINE_H

#include "graph.h"
#include "run.h"

/* Gives a new engine with num_workers worker threads (0: one per core); NULL with
 * err filled on failure. Free it with lask_engine_free. Several engines may live and
 * run at once in one process, each from its own host thread.
 * OpenBLAS: the first engine a process starts sets OpenBLAS's thread count to 1, for
 * the whole process and for good (the scheduler owns the cores; BLAS inside tasks
 * must not add threads of its own). A host that wants threaded BLAS outside lask
 * afterwards calls openblas_set_num_threads itself, while no engine is running. */
lask_engine *lask_engine_new(int num_workers, lask_err *err);

/* Stops the engine's workers and frees it. No run may be in progress. */
void lask_engine_free(lask_engine *e);

/* The number of worker threads of e. */
int lask_engine_workers(const lask_engine *e);

/* Runs g on e's workers for the nodes called names[0..n) and gives their values in
 * results[0..n) (the caller releases them). On failure nothing is given. */
lask_status lask_get(lask_engine *e, const lask_graph *g, const char *const *names, size_t n,
                     lask_value *results, lask_err *err);

#endif
