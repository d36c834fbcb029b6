/* run_opts.h — what a run is asked to do: the scheduler, callbacks, host ops,
 * interrupt flag, trace and transport (the types of lask_run's request, run.h). */
#ifndef LASK_RUN_OPTS_H
#define LASK_RUN_OPTS_H

#include "api.h"
#include "eval.h"
#include "graph.h"
#include "trace.h"

LASK_BEGIN_DECLS

typedef struct lask_engine lask_engine;

typedef enum lask_sched {
  LASK_SCHED_SYNC,     /* one thread, in priority order (for debugging, and as the reference) */
  LASK_SCHED_THREADED, /* the engine's work-stealing pool */
  LASK_SCHED_REMOTE,   /* workers that keep their own values, reached through opts->transport */
} lask_sched;

struct lask_transport;
struct lask_feed;

/* Per-task callbacks, always delivered on the calling thread. Each returns 0, or
 * non-zero to stop the run (which then fails with LASK_EHOST). */
typedef struct lask_callbacks {
  void *ctx;
  int (*pretask)(void *ctx, uint32_t node);                                 /* may be NULL */
  int (*posttask)(void *ctx, uint32_t node, lask_value result, int worker); /* result borrowed; may be NULL */
} lask_callbacks;

/* Host tasks on every worker (threaded only): each worker thread runs host tasks with
 * host ops of its own (a Lua state per worker, say), not only the calling thread. */
typedef struct lask_worker_hosts {
  void *ctx;
  /* The host ops of worker w (pool threads 0..npool-1, the calling thread npool),
   * called on w's own thread only, so w may make its host lazily; NULL when it has none. */
  const lask_host_ops *(*ops)(void *ctx, int w);
  const uint8_t *anywhere; /* per node: non-zero when its host heads may run on any worker */
} lask_worker_hosts;

typedef struct lask_run_opts {
  lask_sched sched;
  int num_workers;                 /* threaded: 0 means all of the engine's workers */
  const lask_host_ops *host;       /* runs non-kernel heads; NULL if the graph has none */
  const lask_callbacks *callbacks; /* NULL for none */
  const LASK_ATOMIC(int) *
      interrupt;     /* when it becomes non-zero the run stops with LASK_EINTR; may be NULL */
  lask_trace *trace; /* records every task's worker and times; NULL for none */
  const struct lask_transport *transport; /* remote: the workers (transport.h) */
  const lask_worker_hosts
      *workers;                 /* threaded: host tasks marked anywhere run on every worker; may be NULL */
  const struct lask_feed *feed; /* threaded: values fed from and handed outside (feed.h); may be NULL */
} lask_run_opts;

LASK_END_DECLS

#endif
