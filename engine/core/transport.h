/* transport.h — how the remote scheduler reaches workers that keep their own values.
 *
 * The remote scheduler (sched_remote.c) decides what runs where, when values move
 * and when they are dropped; a transport only carries messages to and from its
 * workers. Each worker holds the values it computed or was sent, until told to
 * forget them. lask.multiprocessing's forked processes on sockets are one
 * transport (lua/binding/lmp.c); MPI ranks are meant to be another.
 *
 * The scheduler calls a transport from one thread only (the one that called
 * lask_run), and never has more than one task outstanding on a worker.
 */
#ifndef LASK_TRANSPORT_H
#define LASK_TRANSPORT_H

#include "err.h"
#include "value.h"

/* What a worker answered: the task's value, or why it failed. */
typedef struct lask_reply {
  int worker;
  uint32_t node;
  lask_status status; /* LASK_OK: value holds the task's result (owned by the receiver) */
  lask_value value;
  double start, end; /* when the task ran, seconds on CLOCK_MONOTONIC */
  lask_err err;      /* when status is not LASK_OK: the message, on node */
} lask_reply;

typedef struct lask_transport {
  void *ctx;
  int nworkers;
  /* Sends worker w the task node, with deps[0..ndeps) the values of the dependencies
   * it lacks (ids[k] is the node of vals[k]; borrowed) and forget[0..nforget) the
   * ids whose values it may drop. LASK_OK, or the failure (a dead worker is reported
   * on node). */
  lask_status (*send)(void *ctx, int w, uint32_t node, const uint32_t *forget, size_t nforget,
                      const uint32_t *ids, const lask_value *vals, size_t ndeps, lask_err *err);
  /* Waits at most timeout_ms for one answer from a worker with a task; gives it in
   * *reply and returns 1, or returns 0 when none came in time (the scheduler then
   * checks for an interrupt and waits again). A worker that died gives a reply with
   * an error on the task it was running. */
  int (*receive)(void *ctx, int timeout_ms, lask_reply *reply);
} lask_transport;

#endif
