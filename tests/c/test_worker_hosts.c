/* test_worker_hosts.c — host tasks on every worker (lask_run_opts.workers): tasks
 * marked anywhere run with the host ops of the worker that takes them, each worker's
 * ops only ever on that worker's thread; the others run on the calling thread with
 * opts.host; results equal the same graph's under the sync scheduler; a failing
 * worker task stops the run with its error. No Lua here: the host is a fake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lask.h"

#include "under_tsan.h"

enum { MAXW = 8, N = UNDER_TSAN ? 400 : 4000 };

typedef struct fake_host {
  lask_host_ops ops;
  pthread_t thread; /* the thread that first used these ops */
  _Atomic int used, calls, wrong_thread;
  int is_caller;
} fake_host;

typedef struct hosts {
  fake_host worker[MAXW], caller;
  pthread_t main;
  _Atomic int caller_only_elsewhere; /* caller-only tasks run off the calling thread */
  int fail_at;                       /* node whose task fails, or -1 */
  _Atomic int failed, after_failure; /* the failing task ran; tasks that started after it */
  const uint8_t *anywhere;
} hosts;

static hosts H;

static void spin(void) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do clock_gettime(CLOCK_MONOTONIC, &t);
  while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 20000);
}

/* A task: twice its argument, after 20 µs of work. */
static lask_status call(void *ctx, uint32_t node, lask_value head, const lask_value *args, int nargs,
                        lask_value *out, lask_err *err) {
  fake_host *h = ctx;
  (void)head, (void)nargs;
  if (!atomic_exchange(&h->used, 1))
    h->thread = pthread_self();
  else if (!pthread_equal(h->thread, pthread_self()))
    atomic_fetch_add(&h->wrong_thread, 1);
  if (h->is_caller && !pthread_equal(pthread_self(), H.main)) atomic_fetch_add(&H.caller_only_elsewhere, 1);
  atomic_fetch_add(&h->calls, 1);
  if (atomic_load(&H.failed)) atomic_fetch_add(&H.after_failure, 1);
  if ((int)node == H.fail_at) {
    atomic_store(&H.failed, 1);
    return lask_err_set(err, LASK_EHOST, node, "task %u failed", node);
  }
  spin();
  *out = lask_int(args[0].as.i * 2);
  return LASK_OK;
}

static const lask_host_ops *worker_ops(void *ctx, int w) {
  (void)ctx;
  return w < MAXW ? &H.worker[w].ops : NULL;
}

/* N host tasks (head: a string, so not a kernel) of 0..N-1 and their sum; node i is
 * anywhere when i is odd. */
static lask_graph *graph(uint32_t *total, uint8_t *anywhere) {
  lask_graph_builder *b = lask_gb_new();
  const lask_kernel *sum = lask_kernel_find("sum");
  for (uint32_t i = 0; i < N; i++) {
    lask_gb_begin(b, lask_gb_node(b));
    lask_str *s = lask_str_new("f", 1);
    lask_gb_const(b, lask_objval(&s->h));
    lask_gb_const(b, lask_int(i));
    lask_gb_call(b, 1);
    lask_gb_end(b);
    anywhere[i] = i % 2;
  }
  *total = lask_gb_node(b);
  lask_gb_begin(b, *total);
  lask_gb_const(b, lask_objval((lask_obj *)&sum->h));
  for (uint32_t i = 0; i < N; i++) lask_gb_key(b, i);
  lask_gb_list(b, N);
  lask_gb_call(b, 1);
  lask_gb_end(b);
  anywhere[*total] = 0;
  lask_err err;
  lask_graph *g = lask_gb_finish(b, &err);
  if (!g) fail_msg("lask_gb_finish: %s", err.msg);
  return g;
}

static void reset(int fail_at) {
  memset(&H, 0, sizeof H);
  H.main = pthread_self();
  H.fail_at = fail_at;
  for (int w = 0; w < MAXW; w++) H.worker[w].ops = (lask_host_ops){.ctx = &H.worker[w], .call = call};
  H.caller.ops = (lask_host_ops){.ctx = &H.caller, .call = call};
  H.caller.is_caller = 1;
}

/* An engine of nworkers, the graph, and its anywhere flags. */
typedef struct fixture {
  lask_engine *e;
  lask_graph *g;
  uint8_t *any;
  uint32_t total;
} fixture;

static fixture setup(int nworkers, int fail_at) {
  fixture f;
  lask_err err;
  f.e = lask_engine_new(nworkers, &err);
  assert_non_null(f.e);
  f.any = calloc(N + 1, 1);
  assert_non_null(f.any);
  f.g = graph(&f.total, f.any);
  reset(fail_at);
  return f;
}

static void teardown(fixture *f) {
  lask_graph_free(f->g);
  free(f->any);
  lask_engine_free(f->e);
}

static lask_status run(const fixture *f, lask_sched sched, lask_value *v, lask_err *err) {
  lask_worker_hosts wh = {.ops = worker_ops, .anywhere = f->any};
  lask_run_opts o = {.sched = sched, .host = &H.caller.ops, .workers = &wh};
  return lask_run(f->e, f->g, &f->total, 1, &o, v, err);
}

static void test_anywhere_tasks_run_on_every_worker(void **state) {
  (void)state;
  fixture f = setup(3, -1);
  lask_err err;
  lask_value v;
  assert_int_equal(run(&f, LASK_SCHED_THREADED, &v, &err), LASK_OK);
  assert_int_equal(v.as.i, (int64_t)N * (N - 1)); /* sum of 2i */
  int workers_used = 0, worker_calls = 0;
  for (int w = 0; w < MAXW; w++) {
    assert_int_equal(atomic_load(&H.worker[w].wrong_thread), 0);
    workers_used += atomic_load(&H.worker[w].calls) > 0;
    worker_calls += atomic_load(&H.worker[w].calls);
  }
  assert_int_equal(worker_calls, N / 2);                 /* the odd nodes */
  assert_int_equal(atomic_load(&H.caller.calls), N / 2); /* the even ones */
  assert_int_equal(atomic_load(&H.caller_only_elsewhere), 0);
  assert_true(workers_used >= 2); /* N/2 tasks of 20 µs: a pool thread took some */
  /* the sync scheduler ignores workers: every host task on the caller's ops */
  reset(-1);
  assert_int_equal(run(&f, LASK_SCHED_SYNC, &v, &err), LASK_OK);
  assert_int_equal(v.as.i, (int64_t)N * (N - 1));
  assert_int_equal(atomic_load(&H.caller.calls), N);
  teardown(&f);
}

static void test_worker_task_error_stops_the_run(void **state) {
  (void)state;
  fixture f = setup(2, 7); /* node 7 is odd: it runs anywhere */
  lask_err err;
  lask_value v;
  assert_int_equal(run(&f, LASK_SCHED_THREADED, &v, &err), LASK_EHOST);
  assert_int_equal(err.node, 7);
  assert_string_equal(err.msg, "task 7 failed");
  /* stopped: once the task failed, at most the tasks other workers had already
   * taken start (whatever the order put before node 7) */
  assert_true(atomic_load(&H.failed));
  assert_true(atomic_load(&H.after_failure) <= 2);
  teardown(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_anywhere_tasks_run_on_every_worker),
      cmocka_unit_test(test_worker_task_error_stops_the_run),
  };
  return cmocka_run_group_tests_name("worker_hosts", tests, NULL, NULL);
}
