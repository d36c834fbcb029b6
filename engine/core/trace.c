/* trace.c — per-worker event buffers, merged after the run. */
#include "trace.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct buffer {
  lask_trace_event *ev;
  size_t n, cap;
  char pad[64 - sizeof(void *) - 2 * sizeof(size_t)]; /* one cache line each: no false sharing */
} buffer;

struct lask_trace {
  struct timespec t0;
  buffer *bufs;
  int nbufs;
  int incomplete;
  lask_trace_event *merged; /* built on first read after a run */
  size_t nmerged;
};

lask_trace *lask_trace_new(void) {
  lask_trace *t = calloc(1, sizeof *t);
  if (t) clock_gettime(CLOCK_MONOTONIC, &t->t0);
  return t;
}

static void drop_buffers(lask_trace *t) {
  for (int w = 0; w < t->nbufs; w++) free(t->bufs[w].ev);
  free(t->bufs);
  t->bufs = NULL, t->nbufs = 0;
}

void lask_trace_free(lask_trace *t) {
  if (!t) return;
  drop_buffers(t);
  free(t->merged);
  free(t);
}

double lask_trace_zero(const lask_trace *t) { return (double)t->t0.tv_sec + (double)t->t0.tv_nsec * 1e-9; }

double lask_trace_now(const lask_trace *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t->t0.tv_sec) + (double)(now.tv_nsec - t->t0.tv_nsec) * 1e-9;
}

lask_status lask_trace_begin(lask_trace *t, int nworkers) {
  drop_buffers(t);
  free(t->merged);
  t->merged = NULL, t->nmerged = 0;
  if (!(t->bufs = calloc((size_t)nworkers, sizeof *t->bufs))) return LASK_ENOMEM;
  t->nbufs = nworkers;
  return LASK_OK;
}

void lask_trace_record(lask_trace *t, int w, uint32_t node, double start, double end) {
  buffer *b = &t->bufs[w];
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 1024;
    lask_trace_event *ev = realloc(b->ev, cap * sizeof *ev);
    if (!ev) {
      t->incomplete = 1; /* read only after the run */
      return;
    }
    b->ev = ev, b->cap = cap;
  }
  b->ev[b->n++] = (lask_trace_event){node, (uint32_t)w, start, end};
}

/* Concatenates the buffers (each already in time order) once. */
static void merge(lask_trace *t) {
  if (t->merged || !t->nbufs) return;
  size_t n = 0;
  for (int w = 0; w < t->nbufs; w++) n += t->bufs[w].n;
  if (!(t->merged = malloc((n ? n : 1) * sizeof *t->merged))) {
    t->incomplete = 1;
    return;
  }
  for (int w = 0; w < t->nbufs; w++) {
    if (t->bufs[w].n) memcpy(t->merged + t->nmerged, t->bufs[w].ev, t->bufs[w].n * sizeof *t->merged);
    t->nmerged += t->bufs[w].n;
  }
  drop_buffers(t);
}

size_t lask_trace_count(lask_trace *t) {
  merge(t);
  return t->nmerged;
}

const lask_trace_event *lask_trace_event_at(lask_trace *t, size_t i) {
  merge(t);
  return i < t->nmerged ? &t->merged[i] : NULL;
}

int lask_trace_incomplete(const lask_trace *t) { return t->incomplete; }
