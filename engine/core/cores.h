/* cores.h — a task that runs alone borrows the idle workers' cores for threads of
 * its own (a multi-threaded BLAS or LAPACK call, say), and gives them back as soon
 * as other tasks become ready.
 *
 * The kernel's side (any native kernel, on any worker of a threaded run):
 *
 *   int b = lask_cores_borrow(4, use, ctx);   use(ctx, n): "you may use n cores now"
 *   ... the call, using as many threads as the last use() said ...
 *   lask_cores_return(b);
 *
 * While the borrow lasts, use(ctx, n) is called with n = min(max, the run's workers)
 * whenever every other worker of the run is asleep with nothing to do, and with
 * n = 1 (the task's own core) as soon as one of them wakes to take work: the lent
 * workers never run beside the threads they lent their cores to for longer than
 * the call in progress takes to notice. Outside a threaded run (the sync
 * scheduler, worker processes, a kernel called directly) nothing is lent. At most
 * one borrow is in force per run at a time.
 *
 * The scheduler's side (sched_threaded.c): a lask_cores_run per run, entered by
 * every thread that runs its tasks, told when a worker sleeps and wakes.
 */
#ifndef LASK_CORES_H
#define LASK_CORES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "api.h"

LASK_BEGIN_DECLS

/* Told how many cores (the borrower's own included) its threads may use from now on;
 * called under the run's lending lock, one call at a time, on any thread. */
typedef void (*lask_cores_fn)(void *ctx, int cores);

/* From a running kernel: asks for up to max cores (its own included) while it runs
 * alone; calls use(ctx, n) whenever n changes from 1 (possibly at once) until
 * lask_cores_return. Returns 1 when the borrow is in force, 0 when nothing can be lent
 * (no threaded run on this thread, max < 2, or another borrow in the run): then use
 * is never called. */
int lask_cores_borrow(int max, lask_cores_fn use, void *ctx);

/* Ends a borrow: borrowed is what lask_cores_borrow returned (0: nothing to do). Calls
 * use(ctx, 1) first if more cores were lent; use is never called after it returns. */
void lask_cores_return(int borrowed);

/* --- the scheduler's side --- */

/* The lending state of one threaded run. */
typedef struct lask_cores_run {
  _Atomic int idle;   /* workers of the run asleep with nothing to do */
  _Atomic int active; /* a borrow is in force */
  int others;         /* the run's workers besides any one of them */
  pthread_mutex_t mu; /* guards the borrow below and orders the calls to use */
  int max, cores;     /* the borrow's request and what use() was last told */
  lask_cores_fn use;
  void *ctx;
} lask_cores_run;

/* Initialises c for a run of workers threads (the calling thread included); false when
 * the system lacks resources for its mutex (nothing to destroy then). */
bool lask_cores_run_init(lask_cores_run *c, int workers);

/* Frees c's mutex. No borrow may be in force. */
void lask_cores_run_destroy(lask_cores_run *c);

/* The calling thread runs tasks of c's run (NULL: of none) until lask_cores_leave;
 * returns the run it ran tasks of before, to give lask_cores_leave. */
lask_cores_run *lask_cores_enter(lask_cores_run *c);

/* The calling thread stops running tasks of the run it entered; prev is what
 * lask_cores_enter returned. */
void lask_cores_leave(lask_cores_run *prev);

/* A worker of c's run goes to sleep with nothing to do (delta 1) or wakes (-1). */
void lask_cores_idle(lask_cores_run *c, int delta);

LASK_END_DECLS

#endif
