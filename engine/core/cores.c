/* cores.c — lending the idle workers' cores to a task that runs alone (cores.h).
 *
 * Why no change is missed: a sleeping worker adds to idle and then reads active;
 * a borrow sets active and then (under mu) reads idle; both sequentially
 * consistent, so at least one side sees the other's write and recomputes under mu.
 * Every recomputation reads idle afresh under mu, and every change of idle comes
 * before its own recomputation, so the last recomputation to take mu sees the last
 * change: use() ends up told the cores that match the workers asleep.
 */
#include "cores.h"

#include "check.h"

/* The run whose tasks this thread runs, NULL when none: set by the scheduler
 * around its loops (each thread's own, so nothing is shared). */
static _Thread_local lask_cores_run *current;

bool lask_cores_run_init(lask_cores_run *c, int workers) {
  if (pthread_mutex_init(&c->mu, NULL) != 0) return false;
  atomic_init(&c->idle, 0);
  atomic_init(&c->active, 0);
  c->others = workers - 1;
  c->max = c->cores = 1;
  c->use = NULL, c->ctx = NULL;
  return true;
}

void lask_cores_run_destroy(lask_cores_run *c) {
  LASK_ASSERT(!atomic_load(&c->active));
  pthread_mutex_destroy(&c->mu);
}

lask_cores_run *lask_cores_enter(lask_cores_run *c) {
  lask_cores_run *prev = current;
  current = c;
  return prev;
}

void lask_cores_leave(lask_cores_run *prev) { current = prev; }

/* Under c->mu with a borrow in force: tells use() the cores the borrower has now,
 * all the run's when every other worker sleeps, else its own. */
static void retell(lask_cores_run *c) {
  int idle = atomic_load(&c->idle);
  LASK_ASSERT(idle >= 0 && idle <= c->others);
  int all = c->others + 1, cores = idle == c->others ? (c->max < all ? c->max : all) : 1;
  if (cores == c->cores) return;
  c->cores = cores;
  c->use(c->ctx, cores);
}

void lask_cores_idle(lask_cores_run *c, int delta) {
  atomic_fetch_add(&c->idle, delta);
  if (!atomic_load(&c->active)) return;
  pthread_mutex_lock(&c->mu);
  if (atomic_load_explicit(&c->active, memory_order_relaxed)) retell(c);
  pthread_mutex_unlock(&c->mu);
}

int lask_cores_borrow(int max, lask_cores_fn use, void *ctx) {
  lask_cores_run *c = current;
  if (!c || max < 2 || c->others < 1 || !use) return 0;
  pthread_mutex_lock(&c->mu);
  int got = !atomic_load_explicit(&c->active, memory_order_relaxed);
  if (got) {
    c->max = max, c->cores = 1, c->use = use, c->ctx = ctx;
    atomic_store(&c->active, 1);
    retell(c);
  }
  pthread_mutex_unlock(&c->mu);
  return got;
}

void lask_cores_return(int borrowed) {
  lask_cores_run *c = current;
  if (!borrowed) return;
  LASK_ASSERT(c && atomic_load(&c->active));
  pthread_mutex_lock(&c->mu);
  if (c->cores != 1) c->use(c->ctx, 1);
  c->cores = 1, c->use = NULL, c->ctx = NULL;
  atomic_store(&c->active, 0);
  pthread_mutex_unlock(&c->mu);
}
