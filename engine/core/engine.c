/* engine.c — the engine object: its pool of worker threads (pool.h), started by
 * lask_engine_new and joined by lask_engine_free. What the threads do is
 * lask_worker_main, in sched_threaded.c; this file calls nothing that runs graphs. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas_threads.h"
#include "engine.h"
#include "pool.h"

enum { DEQUE_LOG2 = 10 };

static void free_now(lask_engine *e);

static int start_pool(lask_engine *e) {
  e->deques = calloc((size_t)e->npool + 1, sizeof *e->deques);
  e->threads = calloc((size_t)e->npool + 1, sizeof *e->threads);
  e->args = calloc((size_t)e->npool + 1, sizeof *e->args);
  if (!e->deques || !e->threads || !e->args || !lask_parker_init(&e->park)) return 0;
  for (int w = 0; w <= e->npool; w++)
    if (!lask_deque_init(&e->deques[w], DEQUE_LOG2)) return 0;
  for (int w = 0; w < e->npool; w++) {
    e->args[w] = (struct lask_worker_arg){e, w};
    if (pthread_create(&e->threads[w], NULL, lask_worker_main, &e->args[w]) != 0) {
      e->npool = w; /* stop only the threads that exist */
      return 0;
    }
  }
  return 1;
}

lask_engine *lask_engine_new(int num_workers, lask_err *err) {
  if (num_workers < 0) return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "num_workers must be >= 0"), NULL;
  lask_engine *e = calloc(1, sizeof *e);
  if (!e) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory creating an engine"), NULL;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  e->nworkers = num_workers ? num_workers : (cores > 0 ? (int)cores : 1);
  e->npool = e->nworkers - 1;
  lask_blas_threads_single(); /* the scheduler owns the cores (blas_threads.h) */
  if (!start_pool(e)) {
    free_now(e);
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "could not start the engine's worker threads"), NULL;
  }
  return e;
}

/* Frees e unless a run is in progress or another call is freeing it; the run
 * (lask_engine_run_end) or the caller that wins the exchange 1 -> 2 does it. */
static void free_now(lask_engine *e) {
  if (e->threads) {
    atomic_store(&e->stop, 1);
    lask_parker_notify_all(&e->park);
    for (int w = 0; w < e->npool; w++) pthread_join(e->threads[w], NULL);
    lask_parker_destroy(&e->park);
  }
  if (e->deques)
    for (int w = 0; w <= e->npool; w++) lask_deque_destroy(&e->deques[w]);
  free(e->deques), free(e->threads), free(e->args);
  free(e);
}

void lask_engine_free(lask_engine *e) {
  if (!e) return;
  int expected = 0;
  if (!atomic_compare_exchange_strong(&e->free_state, &expected, 1)) return; /* freed twice: ignored */
  expected = 1;
  if (atomic_load(&e->nruns) == 0 && atomic_compare_exchange_strong(&e->free_state, &expected, 2))
    free_now(e);
}

void lask_engine_run_begin(lask_engine *e) { atomic_fetch_add(&e->nruns, 1); }

void lask_engine_run_end(lask_engine *e) {
  int expected = 1;
  if (atomic_fetch_sub(&e->nruns, 1) == 1 && atomic_load(&e->free_state) == 1 &&
      atomic_compare_exchange_strong(&e->free_state, &expected, 2))
    free_now(e);
}

int lask_engine_runs(const lask_engine *e) { return e ? atomic_load(&e->nruns) : 0; }

int lask_engine_workers(const lask_engine *e) { return e->nworkers; }
