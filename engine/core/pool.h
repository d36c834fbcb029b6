/* pool.h — the engine object and its worker pool (internal to the engine).
 *
 * An engine of N workers owns N-1 threads; the thread that calls lask_run is
 * the N-th worker (the host), so N workers never oversubscribe N cores. Each
 * worker, the host included, owns a Chase–Lev deque (deques[npool] is the
 * host's). At most one threaded run uses the pool at a time: e->run points to
 * it while it lasts; a run that finds the pool busy (a nested get from a Lua
 * task, or a second host thread) runs synchronously on its own thread.
 * engine.c starts and stops the threads (and makes OpenBLAS single-threaded once per
 * process); what they do is sched_threaded.c's lask_worker_main.
 */
#ifndef LASK_POOL_H
#define LASK_POOL_H

#include <pthread.h>

#include "deque.h"
#include "parker.h"
#include "run_opts.h"

struct lask_trun;

struct lask_engine {
  int nworkers; /* the host included */
  int npool;    /* threads: nworkers - 1 */
  pthread_t *threads;
  struct lask_worker_arg *args;
  lask_deque *deques;              /* npool + 1 */
  lask_parker park;                /* where idle pool threads sleep */
  _Atomic(struct lask_trun *) run; /* the run using the pool, or NULL */
  _Atomic uint32_t inside;         /* pool threads that may be reading *run */
  _Atomic int busy;                /* 1 while a run owns the pool */
  _Atomic int stop;                /* set once, by lask_engine_free */
  _Atomic int nruns;               /* lask_runs in progress on this engine (any thread) */
  _Atomic int free_state;          /* 0; 1: freed during a run (the last run frees it); 2: being freed */
  uint64_t runs;                   /* threaded runs so far; written by the pool's owner */
};

/* A run on e begins / ends (run.c): lask_engine_free during a run is deferred to
 * the end of the last one. */
void lask_engine_run_begin(lask_engine *e);
void lask_engine_run_end(lask_engine *e);

/* The body of pool thread w (sched_threaded.c). */
void *lask_worker_main(void *arg);

struct lask_worker_arg {
  lask_engine *e;
  int w;
};

#endif
