/* test_alloc_fail.c — allocation failures tried the way SQLite tries them: a
 * script of engine work (building graphs, running them with every scheduler,
 * arrays and their kernels, .npy files) is run once to count its allocations,
 * then once per allocation with that one failing. Every run must end in an
 * error status or a correct result (a failed allocation may be retried or not
 * needed), never a crash or a leak (ASan, in make asan), and the engine must
 * work again right after.
 *
 * malloc, calloc and realloc are wrapped at link time (-Wl,--wrap, Makefile), so
 * only the engine's own allocations (liblask.a) are counted and failed; libc's and
 * OpenBLAS's are not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array/ewexpr.h"
#include "array/ndarray.h"
#include "array/npy.h"
#include "array/scalar.h"
#include "lask.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

static _Atomic long allocations; /* counted while armed */
static _Atomic long fail_at;     /* the allocation (1-based) that fails; 0: none */
static _Atomic int armed;

static int should_fail(void) {
  if (!atomic_load(&armed)) return 0;
  return atomic_fetch_add(&allocations, 1) + 1 == atomic_load(&fail_at);
}

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return should_fail() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }

static lask_value kernel(const char *name) { return lask_objval((lask_obj *)&lask_kernel_find(name)->h); }

/* x = 20, y = inc(x), z = add(y, x), s = sum([x, y, z]); gives s's value or -1. */
static int64_t run_graph(lask_engine *e, lask_sched sched) {
  lask_graph_builder *b = lask_gb_new();
  if (!b) return -1;
  uint32_t x = lask_gb_named(b, "x"), y = lask_gb_named(b, "y"), z = lask_gb_named(b, "z"),
           s = lask_gb_named(b, "s");
  lask_gb_begin(b, x), lask_gb_const(b, lask_int(20)), lask_gb_end(b);
  lask_gb_begin(b, y), lask_gb_const(b, kernel("inc")), lask_gb_key(b, x), lask_gb_call(b, 1), lask_gb_end(b);
  lask_gb_begin(b, z), lask_gb_const(b, kernel("add")), lask_gb_key(b, y), lask_gb_key(b, x),
      lask_gb_call(b, 2);
  lask_gb_end(b);
  lask_gb_begin(b, s), lask_gb_const(b, kernel("sum"));
  lask_gb_key(b, x), lask_gb_key(b, y), lask_gb_key(b, z), lask_gb_list(b, 3), lask_gb_call(b, 1),
      lask_gb_end(b);
  lask_err err;
  lask_graph *g = lask_gb_finish(b, &err);
  if (!g) return -1;
  lask_run_opts o = {.sched = sched};
  lask_value v;
  int64_t got = lask_run(e, g, &s, 1, &o, &v, &err) == LASK_OK && v.type == LASK_TINT ? v.as.i : -1;
  if (got >= 0) lask_release(v);
  lask_graph_free(g);
  return got;
}

/* An array through kernels and a .npy round trip; gives the sum of its elements or -1. */
static double run_arrays(const char *path) {
  lask_err err;
  lask_ndarray *a = lask_ndarray_new(LASK_F64, 2, (int64_t[]){300, 200}, &err);
  if (!a) return -1;
  for (int i = 0; i < 300 * 200; i++) ((double *)a->data)[i] = i % 7;
  double total = -1;
  if (lask_npy_save(path, a, &err) == LASK_OK) {
    lask_ndarray *b = lask_npy_load_block(path, 2, (int64_t[]){100, 0}, (int64_t[]){200, 200}, &err);
    if (b) {
      lask_ndarray *c = lask_ndarray_copy(b, LASK_F32, &err);
      if (c) {
        total = 0;
        for (int i = 0; i < 200 * 200; i++) total += ((float *)c->data)[i];
        lask_release(lask_ndarray_value(c));
      }
      lask_release(lask_ndarray_value(b));
    }
  }
  lask_release(lask_ndarray_value(a));
  unlink(path);
  return total;
}

/* (a * 2 + 1) - a as a recorded expression (ewexpr.h), evaluated; gives the sum of
 * its elements or -1. */
static double run_expression(void) {
  lask_err err;
  lask_ndarray *a = lask_ndarray_new(LASK_F64, 1, (int64_t[]){1000}, &err);
  if (!a) return -1;
  for (int i = 0; i < 1000; i++) ((double *)a->data)[i] = i % 7;
  const lask_ewop *mul = lask_ewop_find("mul"), *add = lask_ewop_find("add"), *sub = lask_ewop_find("sub");
  lask_ew_param p = {0, LASK_F64};
  lask_ewexpr *x = NULL, *y = NULL, *z = NULL;
  lask_value av = lask_ndarray_value(a), out = lask_nil();
  double total = -1;
  if (!lask_ewexpr_apply("mul", mul, &p, (lask_ewexpr_operand[]){{NULL, av}, {NULL, lask_int(2)}}, &x,
                         &err) &&
      !lask_ewexpr_apply("add", add, &p, (lask_ewexpr_operand[]){{x, lask_nil()}, {NULL, lask_int(1)}}, &y,
                         &err) &&
      !lask_ewexpr_apply("sub", sub, &p, (lask_ewexpr_operand[]){{y, lask_nil()}, {NULL, av}}, &z, &err) &&
      !lask_ewexpr_eval(z, &out, &err)) {
    total = 0;
    for (int i = 0; i < 1000; i++) total += ((double *)lask_ndarray_of(out)->data)[i];
    lask_release(out);
  }
  lask_ewexpr_free(x), lask_ewexpr_free(y), lask_ewexpr_free(z);
  lask_release(av);
  return total;
}

static void script(lask_engine *e, const char *path, int *ok, int *failed) {
  int64_t want = 20 + 21 + 41;
  double want_arrays = 0;
  for (int i = 100 * 200; i < 300 * 200; i++) want_arrays += i % 7;
  int64_t r1 = run_graph(e, LASK_SCHED_SYNC), r2 = run_graph(e, LASK_SCHED_THREADED);
  double r3 = run_arrays(path), r4 = run_expression(), want_expression = 0;
  for (int i = 0; i < 1000; i++) want_expression += i % 7 + 1;
  /* a result is either right or an error: never a wrong value */
  if (r1 != want && r1 != -1) fail_msg("sync gave %lld", (long long)r1);
  if (r2 != want && r2 != -1) fail_msg("threaded gave %lld", (long long)r2);
  if (r3 != want_arrays && r3 != -1) fail_msg("arrays gave %g", r3);
  if (r4 != want_expression && r4 != -1) fail_msg("the expression gave %g", r4);
  *ok += (r1 == want) + (r2 == want) + (r3 == want_arrays) + (r4 == want_expression);
  *failed += (r1 == -1) + (r2 == -1) + (r3 == -1) + (r4 == -1);
}

static void test_every_allocation_fails_once(void **state) {
  (void)state;
  lask_err err;
  lask_engine *e = lask_engine_new(2, &err);
  assert_non_null(e);
  char path[64];
  snprintf(path, sizeof path, "/tmp/lask-alloc-fail-%d.npy", (int)getpid());
  int ok = 0, failed = 0;
  atomic_store(&allocations, 0), atomic_store(&fail_at, 0), atomic_store(&armed, 1);
  script(e, path, &ok, &failed);
  atomic_store(&armed, 0);
  long sites = atomic_load(&allocations);
  assert_int_equal(ok, 4);
  assert_true(sites > 10);
  int errors = 0;
  for (long n = 1; n <= sites; n++) {
    int ok_n = 0, failed_n = 0;
    atomic_store(&allocations, 0), atomic_store(&fail_at, n), atomic_store(&armed, 1);
    script(e, path, &ok_n, &failed_n);
    atomic_store(&armed, 0);
    errors += failed_n > 0;
    int again = 0, none = 0; /* usable right after */
    script(e, path, &again, &none);
    if (again != 4) fail_msg("after failing allocation %ld the engine gave %d of 4 results", n, again);
  }
  print_message(
      "# %ld allocations failed in turn: %d runs ended in an error, %ld gave the right result anyway\n",
      sites, errors, sites - errors);
  lask_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_allocation_fails_once)};
  return cmocka_run_group_tests_name("alloc_fail", tests, NULL, NULL);
}
