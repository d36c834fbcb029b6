/* run.h — running a graph to get the values of some of its nodes.
 *
 * lask_run (run.c) makes the run's state (run_state.c: counters and values) and
 * hands it to the scheduler opts->sched names (schedulers.h): sched_sync.c, or
 * sched_threaded.c, the work-stealing scheduler on the engine's pool (pool.c,
 * deque.c). */
#ifndef LASK_RUN_H
#define LASK_RUN_H

#include "eval.h"
#include "graph.h"
#include "trace.h"

typedef struct lask_engine lask_engine;

typedef enum lask_sched {
  LASK_SCHED_SYNC,     /* one thread, in priority order (for debugging, and as the reference) */
  LASK_SCHED_THREADED, /* the engine's work-stealing pool */
  LASK_SCHED_REMOTE,   /* workers that keep their own values, reached through opts->transport */
} lask_sched;

struct lask_transport;

/* Per-task callbacks, always delivered on the calling thread. Each returns 0, or
 * non-zero to stop the run (which then fails with LASK_EHOST). */
typedef struct lask_callbacks {
  void *ctx;
  int (*pretask)(void *ctx, uint32_t node);                                 /* may be NULL */
  int (*posttask)(void *ctx, uint32_t node, lask_value result, int worker); /* result borrowed; may be NULL */
} lask_callbacks;

typedef struct lask_run_opts {
  lask_sched sched;
  int num_workers;                 /* threaded: 0 means all of the engine's workers */
  const lask_host_ops *host;       /* runs non-kernel heads; NULL if the graph has none */
  const lask_callbacks *callbacks; /* NULL for none */
  const _Atomic int *interrupt;    /* when it becomes non-zero the run stops with LASK_EINTR; may be NULL */
  lask_trace *trace;               /* records every task's worker and times; NULL for none */
  const struct lask_transport *transport; /* remote: the workers (transport.h) */
} lask_run_opts;

/* Runs g until the nodes outs[0..nouts) are computed and gives their values in
 * results[0..nouts) (the caller releases them). Intermediate values are released as
 * soon as their last dependent has run. On failure nothing is given, every value
 * made is released, err names the failing node, and its code is returned. */
lask_status lask_run(lask_engine *e, const lask_graph *g, const uint32_t *outs, size_t nouts,
                     const lask_run_opts *opts, lask_value *results, lask_err *err);

#endif
