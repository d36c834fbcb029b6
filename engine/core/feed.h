/* feed.h — a threaded run with values fed from outside and values handed out.
 *
 * Some nodes of a run's graph may be computed elsewhere (another MPI rank, say):
 * an input node is never evaluated; its value arrives through lask_feed_value,
 * and its dependents become ready then. Some nodes' values are wanted elsewhere:
 * when an output node finishes, its value is handed to feed->out. Both calls
 * happen on the calling thread (the host), which polls for input while idle, so the
 * feeder needs no locks of its own: while values are expected it polls and yields
 * for LASK_FEED_SPIN_NS after the last progress (a value arriving while it sleeps
 * waits for the sleep's end), then sleeps with back-off between polls (on Linux
 * with its timer slack lowered to 1 µs meanwhile: a 2 µs sleep is not 50 µs more).
 *
 * Only the threaded scheduler runs fed graphs (sched_threaded.c); a fed run that
 * finds the engine's pool in use fails (a nested get cannot wait for messages).
 */
#ifndef LASK_FEED_H
#define LASK_FEED_H

#include <stdint.h>

#include "api.h"
#include "err.h"
#include "value.h"

LASK_BEGIN_DECLS

enum {
  LASK_FEED_IN = 1, /* the node's value is fed (lask_feed_value), never evaluated */
  LASK_FEED_OUT = 2 /* the node's value is handed to feed->out when it is known */
};

/* The run a feed belongs to, while it runs (opaque). */
typedef struct lask_feeder lask_feeder;

typedef struct lask_feed {
  void *ctx;
  const uint8_t *flags; /* per node: LASK_FEED_IN and/or LASK_FEED_OUT, or 0 */
  /* Host thread: looks for arrived values and gives each through lask_feed_value;
   * sets *progress when anything happened (else the host backs off before asking
   * again). Returns LASK_OK, or fills err and returns its code: the run fails. */
  lask_status (*poll)(void *ctx, lask_feeder *f, int *progress, lask_err *err);
  /* Host thread: node's value (borrowed for the call) is known: send it on.
   * Returns LASK_OK, or fills err and returns its code: the run fails. */
  lask_status (*out)(void *ctx, uint32_t node, lask_value v, lask_err *err);
  /* Host thread: nonzero while values are still to arrive (NULL: always assumed). */
  int (*expecting)(void *ctx);
} lask_feed;

enum { LASK_FEED_SPIN_NS = 50000 }; /* how long an idle host polls and yields before it sleeps */

/* From feed->poll only: the value of input node (taken: the run owns it) has
 * arrived; its dependents may run. A node fed twice, or not an input, is an error
 * (LASK_EINVAL, v released). */
lask_status lask_feed_value(lask_feeder *f, uint32_t node, lask_value v, lask_err *err);

LASK_END_DECLS

#endif
