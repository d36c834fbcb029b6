/* test_cores.c — lending the sleeping workers' cores to a task that runs alone
 * (engine/core/cores.h) and big BLAS calls on them (engine/array/blas_cores.h):
 * the lending rule step by step; a lone task in a threaded run is lent every core of
 * its run and nothing under the sync scheduler or with one worker; random graphs
 * where many tasks borrow at once never deadlock, and no task ever runs while
 * another is told it has more than its own core; no thread left over; an SVD in a
 * threaded run that borrowed equals the one the sync scheduler gives.
 *
 * Random graphs come from a seed printed as "# seed N" (LASK_SEED=N replays one).
 * Threads other than the test's own never call cmocka assertions: they count what
 * went wrong, and the test asserts the counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cblas.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lask.h"

#include "array/array_kernels.h"
#include "array/blas_cores.h"
#include "core/blas_threads.h"
#include "core/cores.h"
#include "under_tsan.h"

/* --- what use() was told --- */

typedef struct told {
  _Atomic int cores; /* the last count told */
  _Atomic int calls; /* calls so far */
  _Atomic int most;  /* the largest count told */
  _Atomic int wide;  /* calls that told more than 1 */
} told;

/* cores last: who sees it changed sees the rest */
static void tell(void *ctx, int cores) {
  told *t = ctx;
  atomic_fetch_add(&t->calls, 1);
  if (cores > atomic_load(&t->most)) atomic_store(&t->most, cores);
  if (cores > 1) atomic_fetch_add(&t->wide, 1);
  atomic_store(&t->cores, cores);
}

static void told_reset(told *t) {
  atomic_store(&t->cores, 1), atomic_store(&t->calls, 0), atomic_store(&t->most, 1),
      atomic_store(&t->wide, 0);
}

/* --- the rule, step by step (no threads) --- */

static void test_lending_rule(void **state) {
  (void)state;
  told t;
  told_reset(&t);
  assert_int_equal(lask_cores_borrow(4, tell, &t), 0); /* in no run: nothing */
  lask_cores_run c;
  assert_true(lask_cores_run_init(&c, 3)); /* the borrower and two others */
  lask_cores_run *outer = lask_cores_enter(&c);
  assert_null(outer);
  assert_int_equal(lask_cores_borrow(1, tell, &t), 0); /* asks for no more than its own */
  int b = lask_cores_borrow(4, tell, &t);
  assert_int_equal(b, 1);
  assert_int_equal(atomic_load(&t.calls), 0);          /* nobody sleeps: nothing to tell */
  assert_int_equal(lask_cores_borrow(4, tell, &t), 0); /* one borrow per run */
  lask_cores_idle(&c, 1);
  assert_int_equal(atomic_load(&t.calls), 0); /* one of two others asleep: not alone */
  lask_cores_idle(&c, 1);
  assert_int_equal(atomic_load(&t.cores), 3); /* alone: the run's 3 workers, fewer than 4 */
  lask_cores_idle(&c, -1);                    /* one wakes to take work: given back */
  assert_int_equal(atomic_load(&t.cores), 1);
  lask_cores_idle(&c, 1);
  assert_int_equal(atomic_load(&t.cores), 3);
  assert_int_equal(atomic_load(&t.calls), 3);
  lask_cores_return(b);
  assert_int_equal(atomic_load(&t.cores), 1);
  assert_int_equal(atomic_load(&t.calls), 4);
  lask_cores_idle(&c, -1); /* after the return: never told again */
  lask_cores_idle(&c, 1);
  assert_int_equal(atomic_load(&t.calls), 4);
  told_reset(&t);
  b = lask_cores_borrow(2, tell, &t); /* the others asleep already: told at once, at most max */
  assert_int_equal(atomic_load(&t.cores), 2);
  lask_cores_return(b);
  assert_int_equal(atomic_load(&t.cores), 1);
  lask_cores_return(0); /* nothing borrowed: nothing happens */
  assert_int_equal(atomic_load(&t.calls), 2);
  lask_cores_idle(&c, -1), lask_cores_idle(&c, -1);
  lask_cores_leave(outer);
  assert_int_equal(lask_cores_borrow(4, tell, &t), 0); /* left the run */
  lask_cores_run_destroy(&c);
  lask_cores_run one;
  assert_true(lask_cores_run_init(&one, 1)); /* a run of one worker has nobody to lend */
  outer = lask_cores_enter(&one);
  assert_int_equal(lask_cores_borrow(4, tell, &t), 0);
  lask_cores_leave(outer);
  lask_cores_run_destroy(&one);
}

/* --- in runs --- */

static lask_engine *engine_new(int workers) {
  lask_err err;
  lask_engine *e = lask_engine_new(workers, &err);
  if (!e) fail_msg("lask_engine_new(%d): %s", workers, err.msg);
  return e;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* lone(): borrows up to 8 cores and waits (5 s at most) until told more than its
 * own; gives the most it was told (1 when nothing could be lent). */
static lask_status k_lone(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  (void)a, (void)n, (void)err;
  told *t = k->data;
  told_reset(t);
  int b = lask_cores_borrow(8, tell, t);
  for (double end = now_s() + 5; b && atomic_load(&t->cores) == 1 && now_s() < end;) sched_yield();
  int most = atomic_load(&t->most);
  lask_cores_return(b);
  *out = lask_int(b ? most : 0);
  return LASK_OK;
}

static int64_t run_lone(lask_engine *e, lask_sched sched, int num_workers, told *t) {
  lask_kernel k = {{&lask_kernel_class, LASK_REFS_STATIC}, "lone", k_lone, t, NULL, NULL};
  lask_graph_builder *b = lask_gb_new();
  uint32_t id = lask_gb_node(b);
  lask_gb_begin(b, id);
  lask_gb_const(b, lask_kernel_value(&k));
  lask_gb_call(b, 0);
  lask_gb_end(b);
  lask_err err;
  lask_graph *g = lask_gb_finish(b, &err);
  if (!g) fail_msg("lask_gb_finish: %s", err.msg);
  lask_run_opts o = {.sched = sched, .num_workers = num_workers};
  lask_value v;
  if (lask_run(e, g, &id, 1, &o, &v, &err) != LASK_OK) fail_msg("run: %s", err.msg);
  lask_graph_free(g);
  assert_int_equal(v.type, LASK_TINT);
  assert_int_equal(atomic_load(&t->cores), 1); /* given back */
  return v.as.i;
}

/* A lone task is lent every core of its run, no more; nothing without a pool. */
static void test_lone_task_is_lent_the_run(void **state) {
  (void)state;
  told t;
  lask_engine *e2 = engine_new(2), *e4 = engine_new(4), *e1 = engine_new(1);
  assert_int_equal(run_lone(e2, LASK_SCHED_THREADED, 0, &t), 2);
  assert_int_equal(run_lone(e4, LASK_SCHED_THREADED, 0, &t), 4);
  assert_int_equal(run_lone(e4, LASK_SCHED_THREADED, 3, &t), 3); /* the run's workers, not the engine's */
  assert_int_equal(run_lone(e2, LASK_SCHED_SYNC, 0, &t), 0);     /* no run of a pool: nothing borrowed */
  assert_int_equal(run_lone(e1, LASK_SCHED_THREADED, 0, &t), 0); /* nobody to lend */
  assert_int_equal(atomic_load(&t.calls), 0);
  lask_engine_free(e1), lask_engine_free(e2), lask_engine_free(e4);
}

/* --- many borrowers at once --- */

static struct {
  _Atomic int running;    /* tasks in a kernel now */
  _Atomic int granted;    /* cores the current borrower was told (1: none lent) */
  _Atomic int bad_start;  /* a task started or ended while another had cores lent */
  _Atomic int bad_alone;  /* a borrower was told more while another task ran */
  _Atomic int bad_nested; /* a second borrow in one run succeeded */
  _Atomic int wide;       /* times a borrower was told more than its own core */
} stress;

static void stress_tell(void *ctx, int cores) {
  (void)ctx;
  if (cores > 1 && atomic_load(&stress.running) != 1) atomic_fetch_add(&stress.bad_alone, 1);
  if (cores > 1) atomic_fetch_add(&stress.wide, 1);
  atomic_store(&stress.granted, cores);
}

static void spin_us(unsigned us) {
  for (double end = now_s() + us * 1e-6; now_s() < end;) continue;
}

/* work(seed, deps...): spins a little; one task in three borrows for the while
 * (spinning longer), and tries a second borrow meanwhile. Gives seed. */
static lask_status k_work(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  (void)k, (void)n, (void)err;
  atomic_fetch_add(&stress.running, 1);
  if (atomic_load(&stress.granted) != 1) atomic_fetch_add(&stress.bad_start, 1);
  int64_t s = a[0].as.i;
  int b = s % 3 == 0 ? lask_cores_borrow(4, stress_tell, NULL) : 0;
  if (b && lask_cores_borrow(4, stress_tell, NULL)) atomic_fetch_add(&stress.bad_nested, 1);
  spin_us((unsigned)(s % 5) * (b ? 40 : 5));
  lask_cores_return(b);
  if (atomic_load(&stress.granted) != 1) atomic_fetch_add(&stress.bad_start, 1);
  atomic_fetch_sub(&stress.running, 1);
  *out = lask_int(s);
  return LASK_OK;
}

static int thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  if (!d) return -1;
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static unsigned seed;

static void test_many_borrowers_stress(void **state) {
  (void)state;
  enum { RUNS = UNDER_TSAN ? 4 : 10 };
  uint32_t n = UNDER_TSAN ? 200 : 1000;
  int threads_before = thread_count();
  static const lask_kernel kw = LASK_KERNEL_STATIC("work", k_work);
  srand(seed);
  atomic_store(&stress.granted, 1);
  for (int workers = 2; workers <= 4; workers += 2) {
    lask_engine *e = engine_new(workers);
    for (int run = 0; run < RUNS; run++) {
      lask_graph_builder *b = lask_gb_new();
      for (uint32_t i = 0; i < n; i++) lask_gb_node(b);
      for (uint32_t i = 0; i < n; i++) { /* work(i, up to 3 earlier nodes) */
        lask_gb_begin(b, i);
        lask_gb_const(b, lask_kernel_value(&kw));
        lask_gb_const(b, lask_int(rand() % 1000));
        int deps = i == 0 ? 0 : rand() % 4;
        for (int d = 0; d < deps; d++) lask_gb_key(b, (uint32_t)rand() % i);
        lask_gb_call(b, (uint32_t)deps + 1);
        lask_gb_end(b);
      }
      lask_err err;
      lask_graph *g = lask_gb_finish(b, &err);
      if (!g) fail_msg("lask_gb_finish: %s", err.msg);
      uint32_t last = n - 1;
      lask_value v;
      lask_run_opts o = {.sched = run % 5 == 4 ? LASK_SCHED_SYNC : LASK_SCHED_THREADED};
      if (lask_run(e, g, &last, 1, &o, &v, &err) != LASK_OK) fail_msg("run: %s", err.msg);
      lask_graph_free(g);
    }
    lask_engine_free(e);
  }
  assert_int_equal(atomic_load(&stress.bad_start), 0);
  assert_int_equal(atomic_load(&stress.bad_alone), 0);
  assert_int_equal(atomic_load(&stress.bad_nested), 0);
  assert_int_equal(atomic_load(&stress.granted), 1);
  assert_int_equal(atomic_load(&stress.running), 0);
  print_message("# cores lent %d times\n", atomic_load(&stress.wide));
  /* a joined thread may stay listed in /proc a moment longer: looked at for up to 2 s */
  int threads_after = thread_count();
  for (double end = now_s() + 2; threads_after != threads_before && now_s() < end;
       threads_after = thread_count())
    sched_yield();
  if (threads_after != threads_before) fail_msg("%d threads before, %d after", threads_before, threads_after);
}

/* --- BLAS --- */

/* An SVD in a threaded run of 2 workers, alone, equals the sync scheduler's to
 * rounding; when OpenBLAS may use 2 threads, the call was given them; OpenBLAS is
 * back to one thread after. */
static void test_svd_borrows_and_agrees(void **state) {
  (void)state;
  enum { N = UNDER_TSAN ? 200 : 500 };
  lask_err err;
  lask_ndarray *a = lask_ndarray_new(LASK_F64, 2, (int64_t[]){N, N}, &err);
  assert_non_null(a);
  double *x = (double *)a->data;
  srand(seed);
  for (int i = 0; i < N * N; i++) x[i] = rand() / (double)RAND_MAX - 0.5;
  lask_engine *e = engine_new(2);
  lask_value s[2];
  long widened = lask_blas_cores_widened();
  for (int pass = 0; pass < 2; pass++) {
    lask_graph_builder *b = lask_gb_new();
    uint32_t id = lask_gb_node(b), sv = lask_gb_node(b);
    lask_gb_begin(b, id);
    lask_gb_const(b, lask_kernel_value(lask_akernel_find("svd")));
    lask_gb_const(b, lask_retain(lask_ndarray_value(a)));
    lask_gb_call(b, 1);
    lask_gb_end(b);
    lask_gb_begin(b, sv);
    lask_gb_const(b, lask_kernel_value(lask_akernel_find("item")));
    lask_gb_key(b, id);
    lask_gb_const(b, lask_int(1));
    lask_gb_call(b, 2);
    lask_gb_end(b);
    lask_graph *g = lask_gb_finish(b, &err);
    if (!g) fail_msg("lask_gb_finish: %s", err.msg);
    lask_run_opts o = {.sched = pass ? LASK_SCHED_THREADED : LASK_SCHED_SYNC};
    if (lask_run(e, g, &sv, 1, &o, &s[pass], &err) != LASK_OK) fail_msg("run: %s", err.msg);
    lask_graph_free(g);
  }
  const double *s0 = (const double *)lask_ndarray_of(s[0])->data,
               *s1 = (const double *)lask_ndarray_of(s[1])->data;
  for (int i = 0; i < N; i++) assert_true(fabs(s0[i] - s1[i]) <= 1e-12 * s0[0]);
  if (lask_blas_threads_max() >= 2 && lask_blas_cores_enabled())
    assert_true(lask_blas_cores_widened() > widened);
  else
    print_message("# OpenBLAS has %d thread(s) or LASK_BLAS_BORROW=0: nothing to lend\n",
                  lask_blas_threads_max());
  assert_int_equal(openblas_get_num_threads(), 1);
  lask_release(s[0]), lask_release(s[1]), lask_release(lask_ndarray_value(a));
  lask_engine_free(e);
}

int main(void) {
  const char *env = getenv("LASK_SEED");
  seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
  setenv("LASK_BLAS_BORROW", "always", 0); /* lent however busy the test machine is */
  printf("# seed %u\n", seed);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lending_rule),
      cmocka_unit_test(test_lone_task_is_lent_the_run),
      cmocka_unit_test(test_many_borrowers_stress),
      cmocka_unit_test(test_svd_borrows_and_agrees),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
