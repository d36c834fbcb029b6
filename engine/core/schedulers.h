/* schedulers.h — the schedulers' entry points (internal), which lask_run (run.c) picks from.
 *
 *   sched_sync.c      one thread, in priority order: the reference, and the fallback
 *   sched_threaded.c  the engine's work-stealing pool (pool.h, deque.h)
 *   sched_remote.c    workers that keep their own values, through a transport
 *
 * Each takes a run state made by lask_state_init (run_state.h), runs every node of
 * its graph or stops at the first failure, and leaves the outputs' values in the
 * state; lask_run takes them and frees the state. Callbacks and host tasks run on
 * the calling thread only.
 */
#ifndef LASK_SCHEDULERS_H
#define LASK_SCHEDULERS_H

#include "run_state.h"

/* The synchronous scheduler (sched_sync.c): priority order on the calling thread. */
lask_status lask_run_sync(lask_state *s, const lask_run_opts *o, lask_err *err);

/* The threaded scheduler (sched_threaded.c); falls back to lask_run_sync when the
 * engine's pool is already in use. */
lask_status lask_run_threaded(lask_engine *e, lask_state *s, const lask_run_opts *o, lask_err *err);

/* The remote scheduler (sched_remote.c): tasks on o->transport's workers, literals
 * and aliases on the calling thread. */
lask_status lask_run_remote(lask_state *s, const lask_run_opts *o, lask_err *err);

#endif
