/* transport.h — how the remote scheduler reaches workers that keep their own values.
 *
 * The remote scheduler (sched_remote.c) decides what runs where, when values move
 * and when they are dropped; a transport only carries messages to and from its
 * workers. Each worker holds the values it computed or was sent, until told to
 * forget them. lask.multiprocessing's forked processes on sockets are one
 * transport (lua/binding/lmp.c). (MPI ranks are not workers of one scheduler: each
 * rank runs its own threaded scheduler over the tasks it owns, fed the values of
 * the others: feed.h.)
 *
 * Threads: the scheduler calls a transport only from the thread that called
 * lask_run, and never has more than one task outstanding on a worker.
 *
 * Lifetime: the transport's owner makes its workers ready before lask_run (every
 * worker knows the graph: forks inherit it, ranks would be sent it) and tears them
 * down after. When lask_run returns, workers may still run a task (after a
 * failure) or hold values (forgets still queued): the owner ends or resets them.
 */
#ifndef LASK_TRANSPORT_H
#define LASK_TRANSPORT_H

#include "err.h"
#include "value.h"

/* What a worker answered: the task's value, or why it failed. */
typedef struct lask_reply {
  int worker; /* which worker answered; -1 for a failure of the transport itself */
  uint32_t node;
  lask_status status; /* LASK_OK: value holds the task's result, owned by the scheduler */
  lask_value value;   /* nil unless status is LASK_OK */
  double start, end;  /* when the task ran: seconds on the calling machine's CLOCK_MONOTONIC */
  lask_err err;       /* when status is not LASK_OK: the report (err.code == status) */
} lask_reply;

typedef struct lask_transport {
  void *ctx;    /* the transport's own state, passed to each call */
  int nworkers; /* workers 0..nworkers-1; at least 1 */
  /* Sends worker w the task node, with forget[0..nforget) the ids of values it may
   * drop first, and deps[0..ndeps) the values of the dependencies it lacks (ids[k]
   * is the node of vals[k]). All arrays and values are borrowed for the call.
   * Returns LASK_OK, or fills err and returns its code (a dead worker is reported
   * on node); the run then fails. */
  lask_status (*send)(void *ctx, int w, uint32_t node, const uint32_t *forget, size_t nforget,
                      const uint32_t *ids, const lask_value *vals, size_t ndeps, lask_err *err);
  /* Waits at most timeout_ms for one answer from a worker with a task; fills *reply
   * and returns 1, or returns 0 when none came in time (the scheduler then checks
   * for an interrupt and waits again). A worker that died gives a reply with an
   * error on the task it was running; any reply with an error fails the run. */
  int (*receive)(void *ctx, int timeout_ms, lask_reply *reply);
} lask_transport;

#endif
