/* sched_threaded.c — the work-stealing scheduler.
 *
 * Where things are: lask_run_threaded (the entry, at the end) takes the pool and
 * calls run_pool, which seeds the roots and runs host_loop, the host's loop; each
 * pool thread lives in lask_worker_main, waiting for runs, and works in work(),
 * its loop; run_one runs a task and make_ready pushes what it made ready. The
 * deques are deque.c (Chase–Lev), the sleeping parker.c, the pool engine.c, and the
 * per-run counters and values the run state (run_state.c).
 *
 * Workers (pool threads and the host, see pool.h) run ready tasks from their own
 * deque, newest first, and steal the oldest from others when theirs is empty.
 * The roots (nodes without dependencies) are never pushed: the plan lists them most
 * urgent first, and a worker with nothing of its own claims the next few of them
 * from a shared cursor (next_root: fewer the fewer are left, so the last ones spread
 * over the workers as stolen tasks would).
 * A task that makes several dependents ready pushes them most urgent last (by
 * lask_order priority), so its worker continues with the most urgent one: LIFO
 * with priorities as tie-breakers, which keeps the working set small.
 *
 * A worker that sleeps with nothing to do counts itself in r->cores (cores.h) for the
 * while: a task that runs alone may lend itself the sleepers' cores for a BLAS call,
 * and gets them back to its own as soon as one of them wakes.
 *
 * Host tasks (heads that are not native kernels) go to the host queue, a heap
 * under r->mu that only the host pops, unless the run gives every worker host ops
 * of its own (o->workers) and marks the node as runnable anywhere: then it is
 * scheduled like a native task and run with the host ops of whichever worker takes it. Callbacks are the
 * host's too: with callbacks, pool threads queue start and finish events that the host delivers.
 *
 * Invariants of a run r:
 *   1. r->todo counts the sinks (nodes without dependents) not finished; the run is
 *      finished when it reaches 0 or when a task fails (r->failed), and nothing
 *      starts after that. Every other node is an ancestor of a sink and has finished
 *      before that sink became ready, so at 0 every node has finished; and only the
 *      tasks that end a branch touch the shared counter.
 *   2. A pool thread reads e->run only between incrementing and decrementing
 *      e->inside; the host frees r only after clearing e->run and seeing
 *      e->inside == 0 (both sequentially consistent, so one of the two sides
 *      sees the other's write).
 *   3. Every thread that pushes work notifies the parker of the threads that may
 *      take it (pool threads' native work: both parkers; host tasks: the host's);
 *      every sleeper re-checks all its sources between prepare and commit
 *      (parker.h), so no wake-up is lost.
 * Memory orders: left[] decrements are acq_rel so that whoever makes a task ready
 * has seen every dependency's value (and publishes them through the deque).
 * With LASK_CHECKS (check.h) the todo and left[] counters are checked never to go
 * below 0; in normal builds the hot path is unchanged.
 */
#include <sched.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cores.h"
#include "feed.h"
#include "kernel.h"
#include "pool.h"
#include "schedulers.h"

enum { READY_BATCH = 64, STEAL_RETRIES = 4 };
#define NONE UINT32_MAX /* no node */
/* A fed run's idle host polls and yields (FEED_SPINS times, or for LASK_FEED_SPIN_NS
 * while values are expected), then sleeps FEED_SLEEP_MIN_NS doubling to
 * FEED_SLEEP_MAX_NS between polls while nothing happens (never a busy wait). */
enum { FEED_SPINS = 64, FEED_SLEEP_MIN_NS = 2000, FEED_SLEEP_MAX_NS = 100000 };

/* Its timer slack while it runs (Linux): the back-off's short sleeps last about
 * what they ask, not the default 50 µs slack more. */
enum { FEED_TIMER_SLACK_NS = 1000 };

/* A fed host's idleness: polls since the last progress, sleeps since, and when the
 * first of those polls was. */
typedef struct feed_idle {
  int polls, sleeps;
  struct timespec since;
} feed_idle;

typedef struct event {
  uint32_t node;
  int worker;
  int post; /* 0: the task started, 1: it finished with value v (retained), 2: v goes to feed->out */
  lask_value v;
} event;

typedef struct lask_trun {
  lask_engine *e;
  lask_state *s;
  const lask_run_opts *o;
  int used;     /* pool threads taking part (0..npool) */
  uint64_t gen; /* tells pool threads a new run from one they already served */
  /* todo changes at every sink; finished and failed are read at every task: apart,
   * on cache lines of their own, no worker's decrement invalidates the others' reads */
  _Alignas(64) _Atomic uint32_t todo;
  _Alignas(64) _Atomic uint64_t root_next; /* the roots before it are claimed (next_root) */
  int roots_mixed; /* some roots are not native tasks, or are fed: seed() queued or skipped them */
  _Alignas(64) _Atomic int finished;
  _Atomic int failed;
  _Alignas(64) lask_err err; /* written once, by the thread that set failed */
  pthread_mutex_t mu;        /* guards hq and ev */
  lask_heap hq;
  event *ev;
  size_t nev, capev;
  _Atomic int host_pending; /* hq or ev is not empty */
  lask_parker host_park;
  lask_cores_run cores; /* the sleeping workers' cores, lent to a task that runs alone */
} lask_trun;

static int label(const lask_trun *r, int w) { return w == r->e->npool ? 0 : w + 1; }

static void wake_all(lask_trun *r) {
  lask_parker_notify_all(&r->e->park);
  lask_parker_notify_all(&r->host_park);
}

static void fail(lask_trun *r, const lask_err *err) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&r->failed, &expected, 1)) {
    r->err = *err;
    atomic_store(&r->finished, 1);
    wake_all(r);
  }
}

static void set_pending(lask_trun *r) { atomic_store(&r->host_pending, r->hq.n > 0 || r->nev > 0); }

static void host_push(lask_trun *r, uint32_t id) {
  pthread_mutex_lock(&r->mu);
  int ok = lask_heap_push(&r->hq, id);
  set_pending(r);
  pthread_mutex_unlock(&r->mu);
  if (!ok) {
    lask_err err;
    lask_err_set(&err, LASK_ENOMEM, id, "out of memory scheduling a task");
    return fail(r, &err);
  }
  lask_parker_notify_one(&r->host_park);
}

static int host_pop(lask_trun *r, uint32_t *id) {
  if (!atomic_load_explicit(&r->host_pending, memory_order_relaxed)) return 0;
  pthread_mutex_lock(&r->mu);
  int got = r->hq.n > 0;
  if (got) *id = lask_heap_pop(&r->hq);
  set_pending(r);
  pthread_mutex_unlock(&r->mu);
  return got;
}

static void queue_event(lask_trun *r, uint32_t node, int w, int post, lask_value v) {
  pthread_mutex_lock(&r->mu);
  if (r->nev == r->capev) {
    size_t cap = r->capev ? r->capev * 2 : 256;
    event *ev = realloc(r->ev, cap * sizeof *ev);
    if (ev) r->ev = ev, r->capev = cap;
  }
  if (r->nev < r->capev) r->ev[r->nev++] = (event){node, label(r, w), post, lask_retain(v)};
  set_pending(r);
  pthread_mutex_unlock(&r->mu);
  lask_parker_notify_one(&r->host_park);
}

/* Host only: calls the callbacks of the queued events, in order. */
static void deliver_events(lask_trun *r) {
  const lask_callbacks *cb = r->o->callbacks;
  pthread_mutex_lock(&r->mu);
  event *ev = r->ev;
  size_t n = r->nev;
  r->ev = NULL, r->nev = r->capev = 0;
  set_pending(r);
  pthread_mutex_unlock(&r->mu);
  lask_err err;
  for (size_t i = 0; i < n; i++) {
    int stop = 0, live = !atomic_load(&r->failed); /* after a failure, callbacks stop */
    if (ev[i].post == 2) {
      if (live && r->o->feed->out(r->o->feed->ctx, ev[i].node, ev[i].v, &err) != LASK_OK) fail(r, &err);
      lask_release(ev[i].v);
      continue;
    }
    if (live && !ev[i].post && cb && cb->pretask) stop = cb->pretask(cb->ctx, ev[i].node);
    if (live && ev[i].post && cb && cb->posttask)
      stop = cb->posttask(cb->ctx, ev[i].node, ev[i].v, ev[i].worker);
    if (stop) fail(r, (lask_callback_failed(ev[i].node, &err), &err));
    lask_release(ev[i].v);
  }
  free(ev);
}

/* Sorts ids by priority, least urgent first, so the most urgent is pushed last. */
static void sort_batch(const uint32_t *prio, uint32_t *ids, int n) {
  for (int a = 1; a < n; a++) {
    uint32_t id = ids[a];
    int b = a;
    for (; b > 0 && prio[ids[b - 1]] < prio[id]; b--) ids[b] = ids[b - 1];
    ids[b] = id;
  }
}

/* Pushes ids[0..n) on w's deque, most urgent last; with keep, the most urgent is not
 * pushed but returned, for w to run next (NONE otherwise). */
static uint32_t push_batch(lask_trun *r, int w, uint32_t *ids, int n, int keep) {
  sort_batch(r->s->prio, ids, n);
  uint32_t next = keep ? ids[--n] : NONE;
  for (int i = 0; i < n; i++)
    if (!lask_deque_push(&r->e->deques[w], ids[i])) {
      lask_err err;
      lask_err_set(&err, LASK_ENOMEM, ids[i], "out of memory scheduling a task");
      fail(r, &err);
      return NONE;
    }
  /* What is pushed is for thieves, but for one the pusher will pop itself when it
   * keeps none. The host may be busy with Lua tasks, so what it pushes is all for the
   * pool. */
  if (r->used == 0 || n == 0) return next; /* no pool thread takes part, or nothing to take */
  int host = w == r->e->npool;
  for (int i = host || keep ? 0 : 1; i < n; i++) lask_parker_notify_one(&r->e->park);
  /* The host sleeps on its own parker: when a pool thread has work to spare, wake
   * it too, or it would sleep through a burst of native tasks. */
  if (!host && n + keep > 1) lask_parker_notify_one(&r->host_park);
  return next;
}

/* True when node id must run on the calling thread (with o->host). */
static int caller_only(const lask_trun *r, uint32_t id) {
  const lask_worker_hosts *wh = r->o->workers;
  return (r->s->g->flags[id] & LASK_NODE_HOST) && !(wh && wh->anywhere[id]);
}

/* The host ops worker w evaluates node id with. */
static const lask_host_ops *host_ops(const lask_trun *r, int w, uint32_t id) {
  const lask_worker_hosts *wh = r->o->workers;
  if (wh && (r->s->g->flags[id] & LASK_NODE_HOST) && wh->anywhere[id]) return wh->ops(wh->ctx, w);
  return w == r->e->npool ? r->o->host : NULL;
}

/* Node v has finished: makes ready the dependents it was the last dependency of.
 * With keep, the most urgent native one of the last batch is not pushed but returned
 * for w to run next, saving a push and a pop on the critical path (NONE when there is
 * none). */
static inline uint32_t make_ready(lask_trun *r, int w, uint32_t v, int keep) {
  const lask_graph *g = r->s->g;
  uint32_t batch[READY_BATCH];
  int n = 0;
  for (uint32_t e = g->out_off[v]; e < g->out_off[v + 1]; e++) {
    uint32_t d = g->outs[e];
    if (!lask_state_dep_done(r->s, d, memory_order_acq_rel)) continue;
    if (caller_only(r, d)) {
      host_push(r, d);
      continue;
    }
    batch[n++] = d;
    if (n == READY_BATCH) push_batch(r, w, batch, n, 0), n = 0;
  }
  return n ? push_batch(r, w, batch, n, keep) : NONE;
}

static inline uint32_t finish(lask_trun *r, int w, uint32_t id, int keep);

/* Runs node id on worker w; returns a node made ready that w should run next, or NONE. */
static uint32_t run_one(lask_trun *r, int w, uint32_t id) {
  if (atomic_load_explicit(&r->failed, memory_order_relaxed)) return NONE;
  lask_state *s = r->s;
  int host = w == r->e->npool;
  const lask_callbacks *cb = r->o->callbacks;
  lask_err err;
  LASK_ASSERT(host || !caller_only(r, id));
  if (cb && host) {
    deliver_events(r);
    if (cb->pretask && cb->pretask(cb->ctx, id)) return fail(r, (lask_callback_failed(id, &err), &err)), NONE;
  } else if (cb) {
    queue_event(r, id, w, 0, lask_nil());
  }
  lask_err_clear(&err);
  double start = r->o->trace ? lask_trace_now(r->o->trace) : 0;
  if (lask_eval(s->g, id, s->values, host_ops(r, w, id), &s->values[id], &err) != LASK_OK)
    return fail(r, &err), NONE;
  if (r->o->trace) lask_trace_record(r->o->trace, label(r, w), id, start, lask_trace_now(r->o->trace));
  if (r->o->interrupt && atomic_load_explicit(r->o->interrupt, memory_order_relaxed))
    return fail(r, &(lask_err){LASK_EINTR, LASK_NO_NODE, "interrupted"}), NONE;
  if (cb && host && cb->posttask && cb->posttask(cb->ctx, id, s->values[id], 0))
    return fail(r, (lask_callback_failed(id, &err), &err)), NONE;
  if (cb && !host) queue_event(r, id, w, 1, s->values[id]);
  if (r->o->feed && r->o->feed->flags[id] & LASK_FEED_OUT) queue_event(r, id, w, 2, s->values[id]);
  /* the host keeps nothing while host tasks wait, or callbacks or a feed's events want
   * delivering (a fed run's host also polls its feed between tasks) */
  int keep = !host || (!cb && !r->o->feed && !atomic_load_explicit(&r->host_pending, memory_order_relaxed));
  return finish(r, w, id, keep);
}

/* Node id's value is in s->values[id]: releases its dependencies, readies its
 * dependents (with keep, the most urgent native one is returned for w to run next
 * instead of pushed; NONE otherwise), and counts it off when it is a sink
 * (invariant 1). */
static inline uint32_t finish(lask_trun *r, int w, uint32_t id, int keep) {
  lask_state *s = r->s;
  lask_state_release_deps(s, id, NULL);
  uint32_t next = make_ready(r, w, id, keep);
  if (s->g->out_off[id] != s->g->out_off[id + 1]) return next; /* not a sink */
  uint32_t todo = atomic_fetch_sub_explicit(&r->todo, 1, memory_order_acq_rel);
  LASK_ASSERT(todo > 0); /* invariant 1: each sink finishes once */
  if (todo == 1) {
    atomic_store(&r->finished, 1);
    wake_all(r);
  }
  return next;
}

static int steal_any(lask_trun *r, int w, uint32_t *id) {
  int nq = r->e->npool + 1;
  for (int k = 1; k < nq; k++) {
    lask_deque *victim = &r->e->deques[(w + k) % nq];
    for (int t = 0; t < STEAL_RETRIES; t++) {
      lask_steal_result got = lask_deque_steal(victim, id);
      if (got == LASK_STEAL_GOT) return 1;
      if (got == LASK_STEAL_EMPTY) break;
    }
  }
  return 0;
}

/* Most roots claimed at once, and the share of those left a claim takes at most: a
 * worker claims remaining / (ROOT_SHARE * workers) of them, between 1 and ROOT_CLAIM. */
enum { ROOT_CLAIM = 64, ROOT_SHARE = 8 };

/* A worker's claimed roots not run yet: roots[at..end) of the plan. Its own: no other
 * thread takes them, which is why a claim is small when few are left, and why the
 * host, which runs host tasks first, claims one at a time (most) when the graph has
 * host tasks and pool threads take part: what it claimed would wait behind them. */
typedef struct root_claim {
  uint64_t at, end, most;
} root_claim;

/* The next root for the caller to run, from its claim c or a new one; NONE when all
 * are claimed. */
static uint32_t next_root(lask_trun *r, root_claim *c) {
  const lask_state *s = r->s;
  for (;;) {
    if (c->at == c->end) {
      uint64_t at = atomic_load_explicit(&r->root_next, memory_order_relaxed);
      if (at >= s->nroots) return NONE;
      uint64_t want = (s->nroots - at) / ((uint64_t)ROOT_SHARE * (uint64_t)(r->used + 1));
      want = want < 1 ? 1 : want > c->most ? c->most : want;
      at = atomic_fetch_add_explicit(&r->root_next, want, memory_order_relaxed);
      if (at >= s->nroots) return NONE;
      c->at = at, c->end = at + want < s->nroots ? at + want : s->nroots;
    }
    uint32_t id = s->roots[c->at++];
    /* seed() queued the host-only roots and a feed gives its inputs */
    if (r->roots_mixed && (caller_only(r, id) || (r->o->feed && r->o->feed->flags[id] & LASK_FEED_IN)))
      continue;
    return id;
  }
}

static int any_native_work(const lask_trun *r) {
  if (atomic_load_explicit(&r->root_next, memory_order_relaxed) < r->s->nroots) return 1;
  for (int q = 0; q <= r->e->npool; q++)
    if (lask_deque_size_estimate(&r->e->deques[q]) > 0) return 1;
  return 0;
}

static int finished(lask_trun *r) { return atomic_load_explicit(&r->finished, memory_order_acquire); }

/* Worker sleeps on p with ticket t; meanwhile its core may be lent (cores.h). */
static void sleep_idle(lask_trun *r, lask_parker *p, uint64_t t) {
  lask_cores_idle(&r->cores, 1);
  lask_parker_commit_wait(p, t);
  lask_cores_idle(&r->cores, -1);
}

/* A pool thread's part in run r. */
static void work(lask_trun *r, int w) {
  lask_deque *own = &r->e->deques[w];
  uint32_t id;
  root_claim claim = {0, 0, ROOT_CLAIM};
  lask_cores_run *outer = lask_cores_enter(&r->cores);
  while (!finished(r)) {
    if (lask_deque_pop(own, &id) || (id = next_root(r, &claim)) != NONE || steal_any(r, w, &id)) {
      while (id != NONE) id = run_one(r, w, id);
      continue;
    }
    uint64_t t = lask_parker_prepare_wait(&r->e->park);
    if (finished(r) || any_native_work(r))
      lask_parker_cancel_wait(&r->e->park);
    else
      sleep_idle(r, &r->e->park, t);
  }
  lask_cores_leave(outer);
  while (lask_deque_pop(own, &id)) continue; /* what a failed run left behind */
}

struct lask_feeder {
  lask_trun *r;
};

lask_status lask_feed_value(lask_feeder *f, uint32_t node, lask_value v, lask_err *err) {
  lask_trun *r = f->r;
  const lask_graph *g = r->s->g;
  if (node >= g->n || !(r->o->feed->flags[node] & LASK_FEED_IN) || r->s->values[node].type != LASK_TNIL) {
    lask_release(v);
    return lask_err_set(err, LASK_EINVAL, node < g->n ? node : LASK_NO_NODE,
                        "node #%u fed twice or not an input", node);
  }
  r->s->values[node] = v;
  if (r->o->feed->flags[node] & LASK_FEED_OUT) queue_event(r, node, r->e->npool, 2, v);
  finish(r, r->e->npool, node, 0);
  return LASK_OK;
}

/* A fed run's host: asks the feed for input; returns 1 when something happened. */
static int poll_feed(lask_trun *r) {
  lask_feeder f = {r};
  lask_err err;
  int progress = 0;
  lask_err_clear(&err);
  if (r->o->feed->poll(r->o->feed->ctx, &f, &progress, &err) != LASK_OK) fail(r, &err);
  return progress;
}

/* A fed run's idle host: polls, yields a while, then sleeps longer each time nothing came. */
static void idle_feed(lask_trun *r, feed_idle *idle) {
  if (poll_feed(r)) {
    idle->polls = idle->sleeps = 0;
    return;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (idle->polls++ == 0) idle->since = now;
  const lask_feed *feed = r->o->feed;
  int64_t spun =
      (int64_t)(now.tv_sec - idle->since.tv_sec) * 1000000000 + (now.tv_nsec - idle->since.tv_nsec);
  int expect = !feed->expecting || feed->expecting(feed->ctx);
  if (idle->polls <= FEED_SPINS || (expect && spun < LASK_FEED_SPIN_NS)) return (void)sched_yield();
  long ns = FEED_SLEEP_MIN_NS;
  for (int k = 0; k < idle->sleeps && ns < FEED_SLEEP_MAX_NS; k++) ns *= 2;
  idle->sleeps++;
  nanosleep(&(struct timespec){0, ns < FEED_SLEEP_MAX_NS ? ns : FEED_SLEEP_MAX_NS}, NULL);
}

/* The host's part: host tasks first, then native work, else sleep (a fed run polls
 * its feed between tasks and while idle). */
static void host_loop(lask_trun *r) {
  int w = r->e->npool;
  feed_idle idle = {0, 0, {0, 0}};
  unsigned tick = 0;
  lask_deque *own = &r->e->deques[w];
  uint32_t id;
  root_claim claim = {0, 0, r->s->host_nodes && r->used ? 1 : ROOT_CLAIM};
  const lask_feed *feed = r->o->feed;
#ifdef PR_SET_TIMERSLACK
  int slack = feed ? prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) : -1;
  if (slack >= 0) prctl(PR_SET_TIMERSLACK, (unsigned long)FEED_TIMER_SLACK_NS, 0, 0, 0);
#endif
  lask_cores_run *outer = lask_cores_enter(&r->cores);
  while (!finished(r)) {
    if (r->o->callbacks || feed) deliver_events(r);
    if (feed && (++tick & 15) == 0) poll_feed(r);
    if (host_pop(r, &id) || lask_deque_pop(own, &id) || (id = next_root(r, &claim)) != NONE ||
        steal_any(r, w, &id)) {
      while (id != NONE) id = run_one(r, w, id);
      idle.polls = idle.sleeps = 0;
      continue;
    }
    if (feed) {
      idle_feed(r, &idle);
      continue;
    }
    uint64_t t = lask_parker_prepare_wait(&r->host_park);
    if (finished(r) || atomic_load(&r->host_pending) || any_native_work(r))
      lask_parker_cancel_wait(&r->host_park);
    else
      sleep_idle(r, &r->host_park, t);
  }
  lask_cores_leave(outer);
  while (lask_deque_pop(own, &id)) continue;
#ifdef PR_SET_TIMERSLACK
  if (slack >= 0) prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
#endif
}

void *lask_worker_main(void *arg) {
  struct lask_worker_arg *a = arg;
  lask_engine *e = a->e;
  uint64_t last_gen = 0;
  for (;;) {
    uint64_t t = lask_parker_prepare_wait(&e->park);
    if (atomic_load(&e->stop)) {
      lask_parker_cancel_wait(&e->park);
      return NULL;
    }
    atomic_fetch_add(&e->inside, 1);
    lask_trun *r = atomic_load(&e->run);
    if (r && r->gen != last_gen) {
      lask_parker_cancel_wait(&e->park);
      last_gen = r->gen;
      if (a->w < r->used) work(r, a->w);
      atomic_fetch_sub(&e->inside, 1);
      continue;
    }
    atomic_fetch_sub(&e->inside, 1);
    lask_parker_commit_wait(&e->park, t);
  }
}

/* Queues the roots that are host-only in the host queue; the native ones are claimed
 * by the workers as they go (next_root), the fed ones come from the feed. */
static lask_status seed(lask_trun *r, lask_err *err) {
  const lask_state *s = r->s;
  int ok = 1;
  r->roots_mixed = s->host_nodes > 0 || r->o->feed;
  for (uint32_t k = 0; r->roots_mixed && k < s->nroots && ok; k++) {
    uint32_t i = s->roots[k];
    if (r->o->feed && r->o->feed->flags[i] & LASK_FEED_IN) continue; /* its value comes from outside */
    if (caller_only(r, i)) ok = lask_heap_push(&r->hq, i);
  }
  set_pending(r);
  return ok ? LASK_OK : lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a run");
}

static lask_status run_pool(lask_engine *e, lask_trun *r, lask_err *err) {
  r->gen = ++e->runs; /* only the run that owns the pool writes it */
  lask_status st = seed(r, err);
  if (st != LASK_OK) return st;
  atomic_store(&e->run, r);
  if (r->used) lask_parker_notify_all(&e->park);
  host_loop(r);
  atomic_store(&e->run, NULL);
  while (atomic_load(&e->inside)) sched_yield(); /* invariant 2 */
  if (r->o->callbacks || r->o->feed) deliver_events(r);
  LASK_ASSERT(atomic_load(&r->failed) || atomic_load(&r->todo) == 0); /* invariant 1 */
  if (atomic_load(&r->failed)) *err = r->err;
  return atomic_load(&r->failed) ? r->err.code : LASK_OK;
}

lask_status lask_run_threaded(lask_engine *e, lask_state *s, const lask_run_opts *o, lask_err *err) {
  int idle = 0;
  if (!atomic_compare_exchange_strong(&e->busy, &idle, 1)) {
    if (o->feed)
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "a fed run needs the engine's pool, in use");
    return lask_run_sync(s, o, err);
  }
  int want = o->num_workers > 0 && o->num_workers < e->nworkers ? o->num_workers : e->nworkers;
  lask_trun r = {.e = e, .s = s, .o = o, .used = want - 1, .hq = {.prio = s->prio}};
  atomic_init(&r.todo, s->nsinks);
  atomic_init(&r.root_next, 0);
  atomic_init(&r.finished, s->nsinks == 0); /* an empty graph */
  lask_status st;
  bool mu = pthread_mutex_init(&r.mu, NULL) == 0, park = mu && lask_parker_init(&r.host_park),
       cores = park && lask_cores_run_init(&r.cores, want);
  if (!cores) {
    st = lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of resources starting a run");
  } else {
    st = run_pool(e, &r, err); /* OpenBLAS is single-threaded already (engine.c) */
    lask_cores_run_destroy(&r.cores);
  }
  if (park) lask_parker_destroy(&r.host_park);
  if (mu) pthread_mutex_destroy(&r.mu);
  free(r.hq.ids), free(r.ev);
  atomic_store(&e->busy, 0);
  return st;
}
