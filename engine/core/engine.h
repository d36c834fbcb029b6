/* engine.h — the engine: a pool of worker threads (engine.c) that runs graphs
 * (lask_run and lask_get, run.h).
 */
#ifndef LASK_ENGINE_H
#define LASK_ENGINE_H

#include "api.h"
#include "err.h"
#include "run_opts.h"

LASK_BEGIN_DECLS

/* Gives a new engine with num_workers worker threads (0: one per core); NULL with
 * err filled on failure. Free it with lask_engine_free. Several engines may live and
 * run at once in one process, each from its own host thread.
 * OpenBLAS: the first engine a process starts sets OpenBLAS's thread count to 1, for
 * the whole process and for good (the scheduler owns the cores; BLAS inside tasks
 * must not add threads of its own). A host that wants threaded BLAS outside lask
 * afterwards calls openblas_set_num_threads itself, while no engine is running.
 * While a task runs alone in a threaded run, a big BLAS/LAPACK call of lask's kernels
 * raises the count to use the sleeping workers' cores, and sets it back to 1 (a host
 * that calls BLAS from threads of its own meanwhile may see the raised count:
 * OpenBLAS's pthreads build serves such calls safely, from the same thread pool).
 * LASK_BLAS_BORROW=0 in the environment turns that off. */
lask_engine *lask_engine_new(int num_workers, lask_err *err);

/* Stops the engine's workers and frees it. Called while runs are in progress (from
 * another thread, or from a task: a Lua state closed by os.exit(code, true)), it
 * only marks the engine: the last run to end frees it, so no worker ever finds it
 * gone. NULL is ignored. */
void lask_engine_free(lask_engine *e);

/* The number of runs in progress on e (0 when e is NULL): what lask_engine_free
 * would wait for. */
int lask_engine_runs(const lask_engine *e);

/* The number of worker threads of e. */
int lask_engine_workers(const lask_engine *e);

LASK_END_DECLS

#endif
