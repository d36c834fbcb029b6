/* test_reduce_structure.c — the reduction, structure, matrix product and .npy
 * kernels of lask.array (engine/array/reduce.c, structure.c, matmul.c, npy_io.c)
 * against plain loops: every axis choice of a 3-D block, strided (transposed) inputs, the four dtypes,
 * partials combined in trees, NaN, empty blocks, bad arguments; views, assembly and matrix products. Every
 * test ends with no array left alive (the teardown counts them through a wrapper class is not possible for
 * engine arrays, so each test releases what it made and runs under ASan's leak checker in `make asan`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array/array_kernels.h"
#include "array/npy.h"

/* --- helpers --- */

/* cmocka's assert_float_equal compares floats; these are doubles. */
#define assert_close(a, b, tol) assert_close_at((a), (b), (tol), __FILE__, __LINE__)

static void assert_close_at(double a, double b, double tol, const char *file, int line) {
  if (a == b || fabs(a - b) <= tol) return;
  fail_msg("%s:%d: %.17g != %.17g (tolerance %g)", file, line, a, b, tol);
}

static const lask_kernel *kern(const char *name) {
  const lask_kernel *k = lask_akernel_find(name);
  if (!k) fail_msg("no kernel %s", name);
  return k;
}

/* A new C-contiguous array of dt and shape with element i = f(i). */
static lask_ndarray *arr(lask_dtype dt, int ndim, const int64_t *shape, double (*f)(int64_t)) {
  lask_err err;
  lask_ndarray *a = lask_ndarray_new(LASK_F64, ndim, shape, &err);
  assert_non_null(a);
  for (int64_t i = 0; i < lask_ndarray_size(a); i++) ((double *)a->data)[i] = f(i);
  if (dt == LASK_F64) return a;
  lask_ndarray *c = lask_ndarray_copy(a, dt, &err);
  lask_release(lask_ndarray_value(a));
  assert_non_null(c);
  return c;
}

static double wavy(int64_t i) { return sin((double)i * 0.7) * 10 + (double)(i % 7); }
static double ints(int64_t i) { return (double)((i * 37) % 23) - 11; }

static lask_value list_of(int n, const lask_value *items) {
  lask_list *l = lask_list_new((size_t)n);
  for (int i = 0; i < n; i++) l->items[i] = items[i];
  return lask_objval(&l->h);
}

static lask_value ints_list(int n, const int64_t *v) {
  lask_list *l = lask_list_new((size_t)n);
  for (int i = 0; i < n; i++) l->items[i] = lask_int(v[i]);
  return lask_objval(&l->h);
}

/* Runs kernel name on args (all owned by the caller); asserts success. */
static lask_ndarray *call(const char *name, int n, const lask_value *args) {
  lask_err err;
  lask_value out = lask_nil();
  lask_status st = kern(name)->fn(kern(name), args, n, &out, &err);
  if (st) fail_msg("%s failed: %s", name, err.msg);
  assert_non_null(lask_ndarray_of(out));
  return lask_ndarray_of(out);
}

/* Runs kernel name expecting a failure whose message contains want. */
static void call_fails(const char *name, int n, const lask_value *args, const char *want) {
  lask_err err;
  lask_value out = lask_nil();
  lask_status st = kern(name)->fn(kern(name), args, n, &out, &err);
  assert_int_not_equal(st, LASK_OK);
  assert_int_equal(out.type, LASK_TNIL);
  if (!strstr(err.msg, want)) fail_msg("%s: message '%s' lacks '%s'", name, err.msg, want);
  assert_non_null(strstr(err.msg, name));
}

static void release_all(int n, lask_value *v) {
  for (int i = 0; i < n; i++) lask_release(v[i]);
}

static void drop(lask_ndarray *a) { lask_release(lask_ndarray_value(a)); }

static double at(const lask_ndarray *a, const int64_t *idx) {
  return lask_elem_f64(a->dtype, lask_ndarray_ptr(a, idx));
}

static lask_value retained(lask_ndarray *a) { return lask_retain(lask_ndarray_value(a)); }

/* The reference reduction of a 3-D array over mask at the kept index o. */
static void reference(const lask_ndarray *x, unsigned mask, const int64_t *o, double *sum, double *prod,
                      double *mn, double *mx, double *mean, double *var) {
  double s = 0, p = 1, lo = INFINITY, hi = -INFINITY, n = 0;
  int64_t i[3];
  for (i[0] = 0; i[0] < x->shape[0]; i[0]++)
    for (i[1] = 0; i[1] < x->shape[1]; i[1]++)
      for (i[2] = 0; i[2] < x->shape[2]; i[2]++) {
        bool in = true;
        for (int d = 0; d < 3; d++) in &= (mask & (1u << d)) || i[d] == o[d];
        if (!in) continue;
        double v = at(x, i);
        s += v, p *= v, n++;
        lo = v < lo ? v : lo, hi = v > hi ? v : hi;
      }
  double m = s / n, q = 0;
  for (i[0] = 0; i[0] < x->shape[0]; i[0]++)
    for (i[1] = 0; i[1] < x->shape[1]; i[1]++)
      for (i[2] = 0; i[2] < x->shape[2]; i[2]++) {
        bool in = true;
        for (int d = 0; d < 3; d++) in &= (mask & (1u << d)) || i[d] == o[d];
        if (in) q += (at(x, i) - m) * (at(x, i) - m);
      }
  *sum = s, *prod = p, *mn = lo, *mx = hi, *mean = m, *var = q / n;
}

static lask_value axes_of(unsigned mask) {
  int64_t ax[3];
  int n = 0;
  for (int d = 0; d < 3; d++)
    if (mask & (1u << d)) ax[n++] = d;
  return ints_list(n, ax);
}

/* Checks every op over every axis choice of x (3-D). */
static void check_all_axes(lask_ndarray *x, double tol) {
  for (unsigned mask = 1; mask < 8; mask++) {
    lask_value args[2] = {retained(x), axes_of(mask)};
    lask_ndarray *s = call("sum_chunk", 2, args), *p = call("prod_chunk", 2, args);
    lask_ndarray *mn = call("min_chunk", 2, args), *mx = call("max_chunk", 2, args);
    lask_ndarray *mo = call("moment_chunk", 2, args);
    lask_value margs[2] = {retained(mo), lask_int(0)};
    lask_ndarray *mean = call("mean_finish", 1, margs), *var = call("var_finish", 2, margs);
    for (int d = 0; d < 3; d++) {
      assert_int_equal(s->shape[d], (mask & (1u << d)) ? 1 : x->shape[d]);
      assert_int_equal(mean->shape[d], s->shape[d]);
    }
    int64_t o[3];
    for (o[0] = 0; o[0] < s->shape[0]; o[0]++)
      for (o[1] = 0; o[1] < s->shape[1]; o[1]++)
        for (o[2] = 0; o[2] < s->shape[2]; o[2]++) {
          double rs, rp, rmn, rmx, rmean, rvar;
          reference(x, mask, o, &rs, &rp, &rmn, &rmx, &rmean, &rvar);
          assert_close(at(s, o), rs, tol * (1 + fabs(rs)));
          assert_close(at(p, o), rp, tol * (1 + fabs(rp)));
          assert_close(at(mn, o), rmn, 0);
          assert_close(at(mx, o), rmx, 0);
          assert_close(at(mean, o), rmean, tol * (1 + fabs(rmean)));
          assert_close(at(var, o), rvar, tol * (1 + fabs(rvar)));
        }
    drop(s), drop(p), drop(mn), drop(mx), drop(mo), drop(mean), drop(var);
    release_all(2, args), release_all(2, margs);
  }
}

/* --- reductions --- */

static void test_axes_f64(void **state) {
  (void)state;
  lask_ndarray *x = arr(LASK_F64, 3, (int64_t[]){4, 5, 6}, wavy);
  check_all_axes(x, 1e-12);
  /* a transposed (strided) view of the same data */
  lask_value targs[2] = {retained(x), ints_list(3, (int64_t[]){2, 0, 1})};
  lask_ndarray *t = call("transpose", 2, targs);
  assert_false(lask_ndarray_is_c_contiguous(t));
  check_all_axes(t, 1e-12);
  drop(t), drop(x), release_all(2, targs);
}

static void test_axes_other_dtypes(void **state) {
  (void)state;
  lask_ndarray *f = arr(LASK_F32, 3, (int64_t[]){3, 4, 5}, wavy);
  check_all_axes(f, 1e-5);
  lask_ndarray *i = arr(LASK_I64, 3, (int64_t[]){3, 4, 5}, ints);
  check_all_axes(i, 1e-12);
  lask_value args[2] = {retained(f), lask_nil()};
  lask_ndarray *s = call("sum_chunk", 1, args);
  assert_int_equal(s->dtype, LASK_F32);
  drop(s), lask_release(args[0]);
  args[0] = retained(i);
  s = call("sum_chunk", 1, args);
  lask_ndarray *m = call("min_chunk", 1, args);
  assert_int_equal(s->dtype, LASK_I64), assert_int_equal(m->dtype, LASK_I64);
  drop(s), drop(m), drop(f), drop(i), lask_release(args[0]);
}

static double big(int64_t i) { return i == 0 ? 9.2233720368547e18 : 1; }

static void test_int_semantics(void **state) {
  (void)state;
  /* bool sums count; int64 sums wrap like numpy's */
  lask_ndarray *b = arr(LASK_BOOL, 1, (int64_t[]){10}, ints);
  lask_value args[2] = {retained(b), ints_list(1, (int64_t[]){0})};
  lask_ndarray *s = call("sum_chunk", 2, args), *mx = call("max_chunk", 2, args);
  assert_int_equal(s->dtype, LASK_I64), assert_int_equal(mx->dtype, LASK_BOOL);
  int64_t nz = 0;
  for (int64_t i = 0; i < 10; i++) nz += ints(i) != 0;
  assert_int_equal(((int64_t *)s->data)[0], nz);
  assert_int_equal(((uint8_t *)mx->data)[0], 1);
  drop(s), drop(mx), drop(b), lask_release(args[0]);
  lask_ndarray *w = lask_ndarray_new(LASK_I64, 1, (int64_t[]){2}, &(lask_err){0});
  ((int64_t *)w->data)[0] = INT64_MAX, ((int64_t *)w->data)[1] = 2;
  args[0] = retained(w);
  s = call("sum_chunk", 2, args);
  assert_int_equal(((int64_t *)s->data)[0], INT64_MIN + 1);
  drop(s), drop(w), release_all(2, args);
  (void)big;
}

/* Partials of two halves combined by <op>_agg equal the whole's partial. */
static void test_aggregates(void **state) {
  (void)state;
  const char *ops[] = {"sum", "prod", "min", "max"};
  lask_ndarray *x = arr(LASK_F64, 2, (int64_t[]){6, 4}, wavy);
  for (int o = 0; o < 4; o++) {
    char chunk[32], agg[32];
    snprintf(chunk, sizeof chunk, "%s_chunk", ops[o]);
    snprintf(agg, sizeof agg, "%s_agg", ops[o]);
    lask_value parts[2];
    for (int h = 0; h < 2; h++) {
      lask_value gargs[3] = {retained(x), ints_list(2, (int64_t[]){3 * h, 0}),
                             ints_list(2, (int64_t[]){3 * h + 3, 4})};
      lask_value cargs[2] = {lask_ndarray_value(call("getitem", 3, gargs)), ints_list(1, (int64_t[]){0})};
      parts[h] = lask_ndarray_value(call(chunk, 2, cargs));
      release_all(3, gargs), release_all(2, cargs);
    }
    lask_value aargs[2] = {list_of(2, parts), ints_list(1, (int64_t[]){0})};
    lask_value wargs[2] = {retained(x), ints_list(1, (int64_t[]){0})};
    lask_ndarray *a = call(agg, 2, aargs), *w = call(chunk, 2, wargs);
    assert_int_equal(a->shape[0], 1), assert_int_equal(a->shape[1], 4);
    for (int64_t j = 0; j < 4; j++) {
      double want = at(w, (int64_t[]){0, j});
      assert_close(at(a, (int64_t[]){0, j}), want, 1e-13 * (1 + fabs(want)));
    }
    drop(a), drop(w), release_all(2, aargs), release_all(2, wargs);
  }
  /* copy: a C-contiguous copy of a strided view */
  lask_value targs[1] = {retained(x)};
  lask_ndarray *t = call("transpose", 1, targs);
  lask_value cargs[1] = {retained(t)};
  lask_ndarray *c = call("copy", 1, cargs);
  assert_true(lask_ndarray_is_c_contiguous(c));
  assert_ptr_not_equal(c->buf, x->buf);
  for (int64_t i = 0; i < 4; i++)
    for (int64_t j = 0; j < 6; j++) assert_close(at(c, (int64_t[]){i, j}), at(x, (int64_t[]){j, i}), 0);
  drop(t), drop(c), drop(x), release_all(1, targs), release_all(1, cargs);
}

static double with_nan(int64_t i) { return i == 5 ? NAN : (double)i; }

static void test_nan_and_empty(void **state) {
  (void)state;
  lask_ndarray *x = arr(LASK_F64, 1, (int64_t[]){9}, with_nan);
  lask_value args[2] = {retained(x), lask_nil()};
  lask_ndarray *mn = call("min_chunk", 1, args), *mx = call("max_chunk", 1, args);
  assert_true(isnan(((double *)mn->data)[0]) && isnan(((double *)mx->data)[0]));
  lask_value aargs[4] = {retained(x), ints_list(1, (int64_t[]){0}), ints_list(1, (int64_t[]){100}),
                         ints_list(1, (int64_t[]){200})};
  lask_ndarray *am = call("argmax_chunk", 4, aargs);
  assert_close(((double *)am->data)[1], 105, 0); /* the first NaN wins, as in numpy */
  drop(mn), drop(mx), drop(am), drop(x), lask_release(args[0]), release_all(4, aargs);

  lask_ndarray *e = lask_ndarray_new(LASK_F64, 2, (int64_t[]){0, 3}, &(lask_err){0});
  lask_value eargs[2] = {retained(e), ints_list(1, (int64_t[]){0})};
  lask_ndarray *s = call("sum_chunk", 2, eargs), *mo = call("moment_chunk", 2, eargs);
  assert_int_equal(s->shape[0], 1), assert_int_equal(s->shape[1], 3);
  assert_close(((double *)s->data)[2], 0, 0);
  lask_value fargs[1] = {retained(mo)};
  lask_ndarray *mean = call("mean_finish", 1, fargs);
  assert_true(isnan(((double *)mean->data)[0]));
  /* an empty block's min partial is empty (no identity); min_agg passes over it */
  lask_ndarray *emin = call("min_chunk", 2, eargs);
  assert_int_equal(lask_ndarray_size(emin), 0);
  lask_ndarray *one = arr(LASK_F64, 2, (int64_t[]){1, 3}, with_nan);
  lask_value margs[1] = {list_of(2, (lask_value[]){retained(emin), retained(one)})};
  lask_ndarray *m = call("min_agg", 1, margs);
  assert_int_equal(m->shape[0], 1), assert_int_equal(m->shape[1], 3);
  assert_close(((double *)m->data)[2], 2, 0);
  lask_value margs2[1] = {list_of(2, (lask_value[]){retained(one), retained(emin)})}; /* empty one last */
  lask_ndarray *m2 = call("min_agg", 1, margs2);
  assert_int_equal(m2->shape[0], 1), assert_int_equal(m2->shape[1], 3);
  drop(m2), release_all(1, margs2);
  /* an empty block's arg partial has no candidate: arg_finish fails on it alone */
  lask_ndarray *ea = call("argmin_chunk", 3, (lask_value[]){eargs[0], lask_int(0), lask_int(0)});
  lask_value eaargs[1] = {retained(ea)};
  call_fails("arg_finish", 1, eaargs, "empty");
  drop(s), drop(mo), drop(mean), drop(e), release_all(2, eargs), release_all(1, fargs);
  drop(emin), drop(one), drop(m), drop(ea), release_all(1, margs), release_all(1, eaargs);
}

/* Splits a 1-D array of n elements into blocks of bs, reduces each with chunk
 * (given the block's offset when arg) and combines the partials in a tree of
 * fan-in 3 with agg. */
static lask_ndarray *tree(const char *chunk, const char *agg, lask_ndarray *x, int64_t bs, bool arg) {
  int64_t n = x->shape[0], nb = (n + bs - 1) / bs;
  lask_value *parts = calloc((size_t)nb, sizeof *parts);
  for (int64_t b = 0; b < nb; b++) {
    int64_t lo = b * bs, hi = lo + bs < n ? lo + bs : n;
    lask_value gargs[3] = {retained(x), ints_list(1, &lo), ints_list(1, &hi)};
    lask_ndarray *blk = call("getitem", 3, gargs);
    lask_value cargs[3] = {lask_ndarray_value(blk), arg ? lask_int(0) : ints_list(1, (int64_t[]){0}),
                           lask_int(lo)};
    parts[b] = lask_ndarray_value(call(chunk, arg ? 3 : 2, cargs));
    release_all(3, gargs), release_all(3, cargs);
  }
  while (nb > 1) {
    int64_t nn = (nb + 2) / 3;
    for (int64_t g = 0; g < nn; g++) {
      int cnt = (int)(nb - g * 3 < 3 ? nb - g * 3 : 3);
      lask_value aargs[1] = {list_of(cnt, parts + g * 3)};
      parts[g] = lask_ndarray_value(call(agg, 1, aargs));
      lask_release(aargs[0]);
    }
    nb = nn;
  }
  lask_ndarray *r = lask_ndarray_of(parts[0]);
  free(parts);
  return r;
}

static double offset_noise(int64_t i) { return 1e9 + sin((double)i) * 1e-3; }

static void test_moments_tree(void **state) {
  (void)state;
  /* values 1e9 + tiny noise: a sum of squares would lose every digit */
  lask_ndarray *x = arr(LASK_F64, 1, (int64_t[]){10007}, offset_noise);
  double m = 0, q = 0;
  for (int64_t i = 0; i < 10007; i++) m += (((double *)x->data)[i] - 1e9);
  m = m / 10007 + 1e9;
  for (int64_t i = 0; i < 10007; i++) q += (((double *)x->data)[i] - m) * (((double *)x->data)[i] - m);
  int64_t sizes[] = {1, 7, 1000, 5000, 10007};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    lask_ndarray *mo = tree("moment_chunk", "moment_agg", x, sizes[s], false);
    lask_value fargs[2] = {lask_ndarray_value(mo), lask_int(1)};
    lask_ndarray *var = call("var_finish", 2, fargs), *sd = call("std_finish", 2, fargs);
    assert_close(((double *)var->data)[0], q / 10006, 1e-6 * q / 10006);
    assert_close(((double *)sd->data)[0], sqrt(q / 10006), 1e-6 * sqrt(q / 10006));
    drop(var), drop(sd), release_all(2, fargs);
  }
  drop(x);
}

static double ties(int64_t i) { return (double)((i * 13) % 17); }

static void test_arg_tree(void **state) {
  (void)state;
  lask_ndarray *x = arr(LASK_I64, 1, (int64_t[]){100}, ties);
  for (int64_t bs = 1; bs <= 100; bs += 33) {
    for (int is_max = 0; is_max < 2; is_max++) {
      lask_ndarray *p =
          tree(is_max ? "argmax_chunk" : "argmin_chunk", is_max ? "argmax_agg" : "argmin_agg", x, bs, true);
      lask_value fargs[1] = {lask_ndarray_value(p)};
      lask_ndarray *r = call("arg_finish", 1, fargs);
      int64_t best = 0;
      for (int64_t i = 1; i < 100; i++)
        if (is_max ? ties(i) > ties(best) : ties(i) < ties(best)) best = i;
      assert_int_equal(r->dtype, LASK_I64);
      assert_int_equal(r->ndim, 1);
      assert_int_equal(((int64_t *)r->data)[0], best);
      drop(r), release_all(1, fargs);
    }
  }
  drop(x);
}

static void test_arg_axis_2d(void **state) {
  (void)state;
  lask_ndarray *x = arr(LASK_F64, 2, (int64_t[]){6, 7}, wavy);
  for (int axis = 0; axis < 2; axis++) {
    lask_value args[3] = {retained(x), lask_int(axis), lask_int(10)};
    lask_ndarray *p = call("argmin_chunk", 3, args);
    lask_value fargs[1] = {lask_ndarray_value(p)};
    lask_ndarray *r = call("arg_finish", 1, fargs);
    int64_t other = axis ? 6 : 7, len = axis ? 7 : 6;
    for (int64_t o = 0; o < other; o++) {
      int64_t best = 0;
      for (int64_t i = 1; i < len; i++) {
        int64_t a[2] = {axis ? o : i, axis ? i : o}, b[2] = {axis ? o : best, axis ? best : o};
        if (at(x, a) < at(x, b)) best = i;
      }
      assert_int_equal(((int64_t *)r->data)[o], best + 10);
    }
    drop(r), release_all(3, args), release_all(1, fargs);
  }
  drop(x);
}

static void test_squeeze_and_errors(void **state) {
  (void)state;
  lask_ndarray *x = arr(LASK_F64, 3, (int64_t[]){2, 1, 3}, wavy);
  lask_value args[2] = {retained(x), ints_list(1, (int64_t[]){1})};
  lask_ndarray *s = call("squeeze", 2, args);
  assert_int_equal(s->ndim, 2), assert_int_equal(s->shape[1], 3);
  assert_ptr_equal(s->buf, x->buf);
  drop(s), lask_release(args[1]);
  args[1] = ints_list(1, (int64_t[]){0});
  call_fails("squeeze", 2, args, "extent 2");
  lask_release(args[1]);
  args[1] = ints_list(1, (int64_t[]){3});
  call_fails("sum_chunk", 2, args, "out of range");
  lask_release(args[1]);
  args[1] = ints_list(2, (int64_t[]){1, 1});
  call_fails("sum_chunk", 2, args, "repeated");
  lask_release(args[1]);
  args[1] = lask_int(0);
  call_fails("sum_agg", 1, args, "list of arrays");
  lask_value mixed[2] = {retained(x), lask_ndarray_value(arr(LASK_F64, 1, (int64_t[]){3}, wavy))};
  lask_value l[1] = {list_of(2, mixed)};
  call_fails("sum_agg", 1, l, "different shapes");
  lask_release(l[0]);
  lask_value two[2] = {retained(x), retained(x)};
  l[0] = list_of(2, two);
  call_fails("moment_agg", 1, l, "leading axis of 3");
  call_fails("sum_chunk", 0, args, "expects");
  drop(x), release_all(2, args), release_all(1, l);
}

/* --- structure --- */

static void test_views(void **state) {
  (void)state;
  lask_ndarray *x = arr(LASK_F64, 2, (int64_t[]){5, 7}, wavy);
  lask_value args[4] = {retained(x), ints_list(2, (int64_t[]){1, 2}), ints_list(2, (int64_t[]){5, 7}),
                        ints_list(2, (int64_t[]){2, 3})};
  lask_ndarray *g = call("getitem", 4, args);
  assert_int_equal(g->shape[0], 2), assert_int_equal(g->shape[1], 2);
  for (int64_t i = 0; i < 2; i++)
    for (int64_t j = 0; j < 2; j++)
      assert_close(at(g, (int64_t[]){i, j}), at(x, (int64_t[]){1 + 2 * i, 2 + 3 * j}), 0);
  lask_value targs[1] = {retained(g)};
  lask_ndarray *t = call("transpose", 1, targs);
  assert_close(at(t, (int64_t[]){1, 0}), at(g, (int64_t[]){0, 1}), 0);
  lask_release(args[2]);
  args[2] = ints_list(2, (int64_t[]){6, 7});
  call_fails("getitem", 4, args, "outside axis 0");
  lask_value bad[2] = {retained(x), ints_list(2, (int64_t[]){0, 0})};
  call_fails("transpose", 2, bad, "permutation");
  drop(g), drop(t), drop(x), release_all(4, args), release_all(1, targs), release_all(2, bad);
}

static void test_assembly(void **state) {
  (void)state;
  lask_ndarray *a = arr(LASK_F64, 2, (int64_t[]){2, 3}, wavy), *b = arr(LASK_I64, 2, (int64_t[]){4, 3}, ints);
  lask_value items[2] = {retained(a), retained(b)};
  lask_value cargs[2] = {list_of(2, items), lask_int(0)};
  lask_ndarray *c = call("concatenate", 2, cargs);
  assert_int_equal(c->dtype, LASK_F64), assert_int_equal(c->shape[0], 6);
  assert_close(at(c, (int64_t[]){3, 1}), at(b, (int64_t[]){1, 1}), 0);
  assert_close(at(c, (int64_t[]){1, 2}), at(a, (int64_t[]){1, 2}), 0);
  lask_release(cargs[1]);
  cargs[1] = lask_int(1);
  call_fails("concatenate", 2, cargs, "do not match");
  /* block: a 2 x 2 grid */
  lask_ndarray *p[4] = {arr(LASK_F64, 2, (int64_t[]){2, 3}, wavy), arr(LASK_F64, 2, (int64_t[]){2, 1}, ints),
                        arr(LASK_F64, 2, (int64_t[]){4, 3}, ints), arr(LASK_F32, 2, (int64_t[]){4, 1}, wavy)};
  lask_value r0[2] = {retained(p[0]), retained(p[1])}, r1[2] = {retained(p[2]), retained(p[3])};
  lask_value rows[2] = {list_of(2, r0), list_of(2, r1)};
  lask_value bargs[1] = {list_of(2, rows)};
  lask_ndarray *bl = call("block", 1, bargs);
  assert_int_equal(bl->shape[0], 6), assert_int_equal(bl->shape[1], 4);
  assert_close(at(bl, (int64_t[]){5, 3}), (float)at(p[3], (int64_t[]){3, 0}), 0);
  assert_close(at(bl, (int64_t[]){3, 2}), at(p[2], (int64_t[]){1, 2}), 0);
  assert_close(at(bl, (int64_t[]){1, 3}), at(p[1], (int64_t[]){1, 0}), 0);
  /* stack along the middle */
  lask_value same[2] = {retained(p[0]), retained(p[0])};
  lask_value sargs[2] = {list_of(2, same), lask_int(1)};
  lask_ndarray *st = call("stack", 2, sargs);
  assert_int_equal(st->ndim, 3), assert_int_equal(st->shape[1], 2);
  assert_close(at(st, (int64_t[]){1, 1, 2}), at(p[0], (int64_t[]){1, 2}), 0);
  drop(c), drop(bl), drop(st), drop(a), drop(b);
  for (int i = 0; i < 4; i++) drop(p[i]);
  release_all(2, cargs), release_all(1, bargs), release_all(2, sargs);
}

static void check_matmul(lask_ndarray *a, lask_ndarray *b, lask_ndarray *c, double tol) {
  int64_t m = a->ndim == 2 ? a->shape[0] : 1, kk = a->shape[a->ndim - 1], n = b->ndim == 2 ? b->shape[1] : 1;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < kk; p++) {
        int64_t ai[2] = {i, p}, bi[2] = {p, j};
        s += at(a, a->ndim == 2 ? ai : ai + 1) * at(b, bi);
      }
      int64_t ci[2] = {i, j};
      double got = c->ndim == 2 ? at(c, ci) : at(c, a->ndim == 2 ? ci : ci + 1);
      assert_close(got, s, tol * (1 + fabs(s)));
    }
}

static void test_matmul(void **state) {
  (void)state;
  lask_ndarray *a = arr(LASK_F64, 2, (int64_t[]){5, 4}, wavy), *b = arr(LASK_F64, 2, (int64_t[]){4, 3}, ints);
  lask_value args[2] = {retained(a), retained(b)};
  lask_ndarray *c = call("matmul", 2, args);
  check_matmul(a, b, c, 1e-12);
  /* a Fortran-ordered operand (a transposed view) */
  lask_ndarray *at_ = arr(LASK_F64, 2, (int64_t[]){4, 5}, wavy);
  lask_value targs[1] = {retained(at_)};
  lask_ndarray *t = call("transpose", 1, targs);
  lask_value args2[2] = {retained(t), retained(b)};
  lask_ndarray *c2 = call("matmul", 2, args2);
  check_matmul(t, b, c2, 1e-12);
  /* int64 stays int64 */
  lask_ndarray *ia = arr(LASK_I64, 2, (int64_t[]){3, 4}, ints),
               *ib = arr(LASK_I64, 2, (int64_t[]){4, 2}, ints);
  lask_value iargs[2] = {retained(ia), retained(ib)};
  lask_ndarray *ic = call("matmul", 2, iargs);
  assert_int_equal(ic->dtype, LASK_I64);
  check_matmul(ia, ib, ic, 0);
  /* int64 with Fortran-ordered operands on either side (issue 15: the transpose was
   * ignored, and a wide one read past the buffer) */
  lask_ndarray *iat = arr(LASK_I64, 2, (int64_t[]){4, 3}, ints),
               *ibt = arr(LASK_I64, 2, (int64_t[]){2, 4}, ints);
  lask_value itargs[2] = {retained(iat), retained(ibt)};
  lask_ndarray *iav = call("transpose", 1, itargs), *ibv = call("transpose", 1, itargs + 1);
  lask_value ivargs[2] = {retained(iav), retained(ibv)};
  lask_ndarray *icv = call("matmul", 2, ivargs);
  assert_int_equal(icv->dtype, LASK_I64);
  check_matmul(iav, ibv, icv, 0);
  drop(iat), drop(ibt), drop(iav), drop(ibv), drop(icv), release_all(2, itargs), release_all(2, ivargs);
  /* matrix @ vector, and a sum of products */
  lask_ndarray *v = arr(LASK_F64, 1, (int64_t[]){4}, wavy);
  lask_value vargs[2] = {retained(a), retained(v)};
  lask_ndarray *av = call("matmul", 2, vargs);
  assert_int_equal(av->ndim, 1), assert_int_equal(av->shape[0], 5);
  lask_value as[2] = {retained(a), retained(t)}, bs[2] = {retained(b), retained(b)};
  lask_value sargs[2] = {list_of(2, as), list_of(2, bs)};
  lask_ndarray *sum = call("matmul_sum", 2, sargs);
  for (int64_t i = 0; i < 15; i++)
    assert_close(((double *)sum->data)[i], ((double *)c->data)[i] + ((double *)c2->data)[i], 1e-9);
  lask_value bad[2] = {retained(a), retained(a)};
  call_fails("matmul", 2, bad, "not aligned");
  drop(a), drop(b), drop(c), drop(at_), drop(t), drop(c2), drop(ia), drop(ib), drop(ic), drop(v), drop(av),
      drop(sum);
  release_all(2, args), release_all(1, targs), release_all(2, args2), release_all(2, iargs),
      release_all(2, vargs);
  release_all(2, sargs), release_all(2, bad);
}

static lask_value str_of(const char *s) { return lask_objval(&lask_str_new(s, strlen(s))->h); }

static void test_store_blocks(void **state) {
  (void)state;
  char path[] = "/tmp/lask-test-store-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  lask_ndarray *x = arr(LASK_F64, 2, (int64_t[]){5, 4}, wavy);
  lask_value cargs[3] = {str_of(path), ints_list(2, (int64_t[]){5, 4}), str_of("float64")};
  lask_err err;
  lask_value out = lask_nil();
  assert_int_equal(kern("npy_create")->fn(kern("npy_create"), cargs, 3, &out, &err), LASK_OK);
  assert_true(out.type == LASK_TBOOL && out.as.b);
  for (int64_t r0 = 0; r0 < 5; r0 += 3) {
    int64_t r1 = r0 + 3 < 5 ? r0 + 3 : 5;
    lask_value gargs[3] = {retained(x), ints_list(2, (int64_t[]){r0, 0}), ints_list(2, (int64_t[]){r1, 4})};
    lask_ndarray *blk = call("getitem", 3, gargs);
    lask_value sargs[5] = {str_of(path), lask_ndarray_value(blk), ints_list(2, (int64_t[]){r0, 0}),
                           ints_list(2, (int64_t[]){5, 4}), lask_bool(true)};
    assert_int_equal(kern("store_block")->fn(kern("store_block"), sargs, 5, &out, &err), LASK_OK);
    release_all(3, gargs), release_all(5, sargs);
  }
  assert_int_equal(lask_npy_finish(path, path, &err), LASK_OK); /* readable only once complete */
  lask_ndarray *back = lask_npy_load(path, false, &err);
  assert_non_null(back);
  assert_int_equal(back->shape[0], 5);
  assert_memory_equal(back->data, x->data, 5 * 4 * sizeof(double));
  lask_value bad[4] = {str_of(path), retained(x), ints_list(2, (int64_t[]){1, 0}),
                       ints_list(2, (int64_t[]){5, 4})};
  call_fails("store_block", 4, bad, "store_block");
  drop(back), drop(x), release_all(3, cargs), release_all(4, bad);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_axes_f64),           cmocka_unit_test(test_axes_other_dtypes),
      cmocka_unit_test(test_int_semantics),      cmocka_unit_test(test_aggregates),
      cmocka_unit_test(test_nan_and_empty),      cmocka_unit_test(test_moments_tree),
      cmocka_unit_test(test_arg_tree),           cmocka_unit_test(test_arg_axis_2d),
      cmocka_unit_test(test_squeeze_and_errors), cmocka_unit_test(test_views),
      cmocka_unit_test(test_assembly),           cmocka_unit_test(test_matmul),
      cmocka_unit_test(test_store_blocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
