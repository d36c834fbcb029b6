/* trace.h — the per-worker event trace of a run: which node ran where and when.
 *
 * Each worker appends to its own buffer, so recording costs two clock reads and
 * no synchronisation; the buffers are read only after the run. Times are seconds
 * on CLOCK_MONOTONIC since the trace began.
 */
#ifndef LASK_TRACE_H
#define LASK_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "err.h"

LASK_BEGIN_DECLS

typedef struct lask_trace_event {
  uint32_t node;
  uint32_t worker; /* 0 is the calling (host) thread */
  double start, end;
} lask_trace_event;

typedef struct lask_trace lask_trace;

/* Gives a new empty trace (free it with lask_trace_free); NULL when out of memory. */
lask_trace *lask_trace_new(void);

/* Frees t and its events. */
void lask_trace_free(lask_trace *t);

/* The trace's zero: seconds on CLOCK_MONOTONIC (the clock of lask.clock()). */
double lask_trace_zero(const lask_trace *t);

/* Seconds on the trace's clock now (any thread). */
double lask_trace_now(const lask_trace *t);

/* Run side: prepares one buffer per worker; returns LASK_ENOMEM or LASK_OK. */
lask_status lask_trace_begin(lask_trace *t, int nworkers);

/* Run side, worker w only: records that node ran on w from start to end. Drops the
 * event when out of memory (the trace is then marked incomplete). */
void lask_trace_record(lask_trace *t, int w, uint32_t node, double start, double end);

/* After the run: the number of events, and event i (ordered by worker, then time). */
size_t lask_trace_count(lask_trace *t);
const lask_trace_event *lask_trace_event_at(lask_trace *t, size_t i);

/* True when some events were dropped for lack of memory. */
int lask_trace_incomplete(const lask_trace *t);

LASK_END_DECLS

#endif
