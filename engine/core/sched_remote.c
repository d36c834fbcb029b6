/* sched_remote.c — the remote scheduler: tasks on workers that keep their own
 * values, reached through a transport (transport.h).
 *
 * Ready tasks wait in a heap by lask_order priority. A worker without a task takes,
 * among the LOCALITY_WINDOW most urgent, the one with most inputs already there,
 * and the worker that has just answered chooses first (so a chain stays on one
 * worker); the task travels with the values of the
 * dependencies the worker lacks and the ids of values it may forget. Nodes that
 * call nothing (literals, aliases) are evaluated here, on the calling thread,
 * without callbacks or trace records. Everything runs on the calling thread: the
 * transport's calls, pretask (before a task is sent) and posttask (when its value
 * has arrived), so the run state's atomics are used with relaxed order.
 *
 * Invariants, besides those of run.c (s->values holds this side's copies):
 *   1. have(v, w) is set iff worker w computed or was sent v's value and has not
 *      been told to forget it: a value goes to each worker at most once.
 *   2. When the run state releases v (no task left reads it), every worker with
 *      have(v, w) gets v in its forget list, sent along with its next task.
 *   3. running[w] is the one task worker w has, or LASK_NO_NODE. While nodes are
 *      left, some task is ready or running: otherwise the run has "stalled" (a bug).
 */
#include <stdlib.h>
#include <string.h>

#include "schedulers.h"
#include "transport.h"

enum { LOCALITY_WINDOW = 4, WAIT_MS = 100 };

typedef struct rworker {
  uint32_t running; /* its task, or LASK_NO_NODE */
  uint32_t *forget; /* ids it may drop, sent with its next task */
  size_t nforget, capforget;
} rworker;

typedef struct rrun {
  lask_state *s;
  const lask_run_opts *o;
  const lask_transport *t;
  rworker *w;
  size_t words;     /* 64-bit words per node in have */
  uint64_t *have;   /* node v's bit w: worker w holds v's value (invariant 1) */
  lask_heap ready;  /* ready tasks for the workers */
  uint32_t *locals; /* ready nodes that call nothing (each node once: n slots) */
  size_t nlocals;
  uint32_t *ids; /* scratch for send, as many as the most dependencies of a node */
  lask_value *vals;
  uint32_t done; /* nodes finished */
} rrun;

static int has(const rrun *r, uint32_t v, int w) {
  return r->have[v * r->words + (size_t)w / 64] >> (w % 64) & 1;
}

static void set_has(rrun *r, uint32_t v, int w) {
  r->have[v * r->words + (size_t)w / 64] |= 1ull << (w % 64);
}

static int interrupted(const lask_run_opts *o) {
  return o->interrupt && atomic_load_explicit(o->interrupt, memory_order_relaxed);
}

static void rrun_free(rrun *r) {
  if (r->w)
    for (int i = 0; i < r->t->nworkers; i++) free(r->w[i].forget);
  free(r->w), free(r->have), free(r->ready.ids), free(r->locals), free(r->ids), free(r->vals);
}

static lask_status rrun_init(rrun *r, lask_state *s, const lask_run_opts *o, lask_err *err) {
  const lask_graph *g = s->g;
  size_t n = g->n ? g->n : 1, maxdeps = 1;
  for (uint32_t i = 0; i < g->n; i++)
    if (g->dep_off[i + 1] - g->dep_off[i] > maxdeps) maxdeps = g->dep_off[i + 1] - g->dep_off[i];
  *r = (rrun){.s = s, .o = o, .t = o->transport, .ready = {.prio = s->prio}};
  r->words = ((size_t)r->t->nworkers + 63) / 64;
  r->w = calloc((size_t)r->t->nworkers, sizeof *r->w);
  r->have = calloc(n * r->words, sizeof *r->have);
  r->locals = malloc(n * sizeof *r->locals);
  r->ids = malloc(maxdeps * sizeof *r->ids), r->vals = malloc(maxdeps * sizeof *r->vals);
  if (!r->w || !r->have || !r->locals || !r->ids || !r->vals) {
    rrun_free(r);
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a run");
  }
  for (int i = 0; i < r->t->nworkers; i++) r->w[i].running = LASK_NO_NODE;
  return LASK_OK;
}

/* Queues v in w's forget list; when out of memory w keeps v until its owner ends it. */
static void queue_forget(rworker *w, uint32_t v) {
  if (w->nforget == w->capforget) {
    size_t cap = w->capforget ? w->capforget * 2 : 64;
    uint32_t *forget = realloc(w->forget, cap * sizeof *forget);
    if (!forget) return;
    w->forget = forget, w->capforget = cap;
  }
  w->forget[w->nforget++] = v;
}

/* The run state released v (lask_release_hook): invariant 2. */
static void on_released(void *ctx, uint32_t v) {
  rrun *r = ctx;
  for (int w = 0; w < r->t->nworkers; w++)
    if (has(r, v, w)) queue_forget(&r->w[w], v);
  memset(&r->have[v * r->words], 0, r->words * sizeof *r->have);
}

static int is_local(const lask_graph *g, uint32_t id) {
  return g->code_len[id] == 1 && LASK_OP(g->code[g->code_off[id]]) != LASK_OP_CALL;
}

/* id's dependencies are all done: queue it for a worker, or for run_locals. */
static lask_status make_ready(rrun *r, uint32_t id, lask_err *err) {
  if (is_local(r->s->g, id))
    r->locals[r->nlocals++] = id;
  else if (!lask_heap_push(&r->ready, id))
    return lask_err_set(err, LASK_ENOMEM, id, "out of memory scheduling a task");
  return LASK_OK;
}

/* id's value is in s->values[id]: release what no task reads any more, make its
 * dependents ready. */
static lask_status finish_node(rrun *r, uint32_t id, lask_err *err) {
  const lask_graph *g = r->s->g;
  lask_release_hook hook = {on_released, r};
  lask_status st = LASK_OK;
  r->done++;
  lask_state_release_deps(r->s, id, &hook);
  for (uint32_t e = g->out_off[id]; e < g->out_off[id + 1] && st == LASK_OK; e++)
    if (atomic_fetch_sub_explicit(&r->s->left[g->outs[e]], 1, memory_order_relaxed) == 1)
      st = make_ready(r, g->outs[e], err);
  return st;
}

/* Evaluates the queued literals and aliases, and those they make ready. */
static lask_status run_locals(rrun *r, lask_err *err) {
  lask_status st = LASK_OK;
  while (st == LASK_OK && r->nlocals) {
    uint32_t id = r->locals[--r->nlocals];
    st = lask_eval(r->s->g, id, r->s->values, r->o->host, &r->s->values[id], err);
    if (st == LASK_OK) st = finish_node(r, id, err);
  }
  return st;
}

/* The ready task for worker w: among the most urgent few, the one with most inputs there. */
static uint32_t pick(rrun *r, int w) {
  const lask_graph *g = r->s->g;
  uint32_t cand[LOCALITY_WINDOW];
  int n = 0, best = 0, best_local = -1;
  while (n < LOCALITY_WINDOW && r->ready.n) cand[n++] = lask_heap_pop(&r->ready);
  for (int c = 0; c < n; c++) {
    int local = 0;
    for (uint32_t e = g->dep_off[cand[c]]; e < g->dep_off[cand[c] + 1]; e++) local += has(r, g->deps[e], w);
    if (local > best_local) best = c, best_local = local;
  }
  for (int c = 0; c < n; c++)
    if (c != best) lask_heap_push(&r->ready, cand[c]); /* cannot fail: the heap held them */
  return cand[best];
}

/* Gives idle worker w the task pick chooses, with what it lacks and may forget. */
static lask_status dispatch(rrun *r, int w, lask_err *err) {
  const lask_graph *g = r->s->g;
  uint32_t id = pick(r, w);
  size_t n = 0;
  for (uint32_t e = g->dep_off[id]; e < g->dep_off[id + 1]; e++) {
    uint32_t d = g->deps[e];
    if (has(r, d, w)) continue;
    r->ids[n] = d, r->vals[n++] = r->s->values[d];
    set_has(r, d, w);
  }
  const lask_callbacks *cb = r->o->callbacks;
  if (cb && cb->pretask && cb->pretask(cb->ctx, id)) return lask_callback_failed(id, err);
  rworker *wk = &r->w[w];
  lask_status st = r->t->send(r->t->ctx, w, id, wk->forget, wk->nforget, r->ids, r->vals, n, err);
  if (st != LASK_OK) return st;
  wk->nforget = 0, wk->running = id;
  return LASK_OK;
}

/* A worker's answer: a failure ends the run; a value finishes its node. */
static lask_status on_reply(rrun *r, lask_reply *rep, lask_err *err) {
  if (rep->status != LASK_OK) {
    *err = rep->err;
    err->code = rep->status;
    return rep->status;
  }
  int w = rep->worker;
  uint32_t id = rep->node;
  if (w < 0 || w >= r->t->nworkers || r->w[w].running != id) {
    lask_release(rep->value);
    return lask_err_set(err, LASK_EHOST, id, "unexpected reply from worker %d", w);
  }
  r->w[w].running = LASK_NO_NODE;
  r->s->values[id] = rep->value;
  set_has(r, id, w);
  lask_trace *t = r->o->trace;
  if (t) lask_trace_record(t, w, id, rep->start - lask_trace_zero(t), rep->end - lask_trace_zero(t));
  const lask_callbacks *cb = r->o->callbacks;
  if (cb && cb->posttask && cb->posttask(cb->ctx, id, r->s->values[id], w))
    return lask_callback_failed(id, err);
  lask_status st = finish_node(r, id, err);
  return st == LASK_OK ? run_locals(r, err) : st;
}

/* Readies the roots (all first: evaluating one may ready others) and runs the locals. */
static lask_status start(rrun *r, lask_err *err) {
  const lask_graph *g = r->s->g;
  lask_status st = LASK_OK;
  uint32_t *roots = malloc((g->n ? g->n : 1) * sizeof *roots), nroots = 0;
  if (!roots) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a run");
  for (uint32_t i = 0; i < g->n; i++)
    if (g->dep_off[i] == g->dep_off[i + 1]) roots[nroots++] = i;
  for (uint32_t k = 0; k < nroots && st == LASK_OK; k++) st = make_ready(r, roots[k], err);
  free(roots);
  return st == LASK_OK ? run_locals(r, err) : st;
}

/* Gives every idle worker a ready task, worker first choosing first; *running counts
 * the workers with one. */
static lask_status dispatch_all(rrun *r, int first, int *running, lask_err *err) {
  lask_status st = LASK_OK;
  int nw = r->t->nworkers;
  *running = 0;
  for (int k = 0, w = first; k < nw && st == LASK_OK; k++, w = (w + 1) % nw) {
    if (r->w[w].running == LASK_NO_NODE && r->ready.n) st = dispatch(r, w, err);
    *running += r->w[w].running != LASK_NO_NODE;
  }
  return st;
}

static lask_status schedule(rrun *r, lask_err *err) {
  lask_status st = start(r, err);
  int first = 0; /* the worker that answered last: the dependents of its value are likely there */
  while (st == LASK_OK && r->done < r->s->g->n) {
    if (interrupted(r->o)) return lask_err_set(err, LASK_EINTR, LASK_NO_NODE, "interrupted");
    int running;
    st = dispatch_all(r, first, &running, err);
    if (st == LASK_OK && !running) /* nothing ready nor running, yet not done: not in a DAG */
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "remote scheduler stalled (a bug)");
    lask_reply rep = {.value = lask_nil()};
    if (st == LASK_OK && r->t->receive(r->t->ctx, WAIT_MS, &rep)) {
      st = on_reply(r, &rep, err);
      first = rep.worker >= 0 ? rep.worker : first;
    }
  }
  return st;
}

lask_status lask_run_remote(lask_state *s, const lask_run_opts *o, lask_err *err) {
  rrun r;
  lask_status st = rrun_init(&r, s, o, err);
  if (st != LASK_OK) return st;
  st = schedule(&r, err);
  rrun_free(&r);
  return st;
}
