/* test_indexing.c — the indexing kernels of lask.array (engine/array/indexing.c)
 * against plain loops: compress (masks, with and without an axis, strided inputs,
 * every dtype), take (positions over several blocks, negative, out of bounds),
 * reverse and insert_axes (views), setitem (scalars and broadcast arrays), argwhere
 * (offsets, base, NaN is non-zero), unique (counts merged over parts, NaN once; first
 * positions), searchsorted and isin, block_shape, and bad arguments. Each test releases what it made (ASan's
 * leak checker in `make asan`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array/array_kernels.h"

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
  for (int64_t i = 0; i < lask_ndarray_size(a); i++) ((double *)(void *)a->data)[i] = f(i);
  if (dt == LASK_F64) return a;
  lask_ndarray *c = lask_ndarray_copy(a, dt, &err);
  lask_release(lask_ndarray_value(a));
  assert_non_null(c);
  return c;
}

static double wavy(int64_t i) { return (double)((i * 37) % 23) - 11; }
static double halves(int64_t i) { return (double)(i % 3) * 0.5; }

static lask_value ints_list(int n, const int64_t *v) {
  lask_list *l = lask_list_new((size_t)n);
  for (int i = 0; i < n; i++) l->items[i] = lask_int(v[i]);
  return lask_objval(&l->h);
}

static lask_value list_of(int n, const lask_value *items) {
  lask_list *l = lask_list_new((size_t)n);
  for (int i = 0; i < n; i++) l->items[i] = items[i];
  return lask_objval(&l->h);
}

/* Runs kernel name on args (owned by the caller); asserts success; gives the result value. */
static lask_value call_value(const char *name, int n, const lask_value *args) {
  lask_err err;
  lask_value out = lask_nil();
  if (kern(name)->fn(kern(name), args, n, &out, &err)) fail_msg("%s failed: %s", name, err.msg);
  return out;
}

static lask_ndarray *call(const char *name, int n, const lask_value *args) {
  lask_ndarray *a = lask_ndarray_of(call_value(name, n, args));
  assert_non_null(a);
  return a;
}

static void call_fails(const char *name, int n, const lask_value *args, const char *want) {
  lask_err err;
  lask_value out = lask_nil();
  assert_int_not_equal(kern(name)->fn(kern(name), args, n, &out, &err), LASK_OK);
  assert_int_equal(out.type, LASK_TNIL);
  if (!strstr(err.msg, want)) fail_msg("%s: message '%s' lacks '%s'", name, err.msg, want);
}

static void release_all(int n, lask_value *v) {
  for (int i = 0; i < n; i++) lask_release(v[i]);
}

static double at(const lask_ndarray *a, const int64_t *idx) {
  return lask_elem_f64(a->dtype, lask_ndarray_ptr(a, idx));
}

static double at1(const lask_ndarray *a, int64_t i) { return at(a, (int64_t[]){i}); }

static void drop(lask_ndarray *a) { lask_release(lask_ndarray_value(a)); }

/* compress without an axis over a transposed 3x4 view, every dtype; with an axis. */
static void test_compress(void **state) {
  (void)state;
  lask_dtype dts[] = {LASK_F64, LASK_F32, LASK_I64, LASK_BOOL};
  for (int t = 0; t < 4; t++) {
    lask_ndarray *base = arr(dts[t], 2, (int64_t[]){4, 3}, wavy);
    lask_value targs[1] = {lask_retain(lask_ndarray_value(base))};
    lask_ndarray *x = call("transpose", 1, targs); /* 3x4, strided */
    lask_value gargs[2] = {lask_ndarray_value(x), lask_int(0)};
    lask_ndarray *m = call("greater", 2, gargs);
    lask_value cargs[2] = {lask_ndarray_value(x), lask_ndarray_value(m)};
    lask_ndarray *r = call("compress", 2, cargs);
    int64_t n = 0, i[2];
    for (i[0] = 0; i[0] < 3; i[0]++)
      for (i[1] = 0; i[1] < 4; i[1]++)
        if (at(x, i) > 0) assert_true(at1(r, n++) == at(x, i));
    assert_int_equal(r->ndim, 1);
    assert_int_equal(r->shape[0], n);
    assert_int_equal(r->dtype, dts[t]);
    drop(r);
    /* along axis 1 with a 1-D mask */
    lask_ndarray *m1 = arr(LASK_BOOL, 1, (int64_t[]){4}, halves); /* 0, 1, 1, 0 */
    lask_value aargs[3] = {lask_ndarray_value(x), lask_ndarray_value(m1), lask_int(1)};
    r = call("compress", 3, aargs);
    assert_int_equal(r->shape[0], 3);
    assert_int_equal(r->shape[1], 2);
    for (int64_t a = 0; a < 3; a++) {
      assert_true(at(r, (int64_t[]){a, 0}) == at(x, (int64_t[]){a, 1}));
      assert_true(at(r, (int64_t[]){a, 1}) == at(x, (int64_t[]){a, 2}));
    }
    drop(r);
    if (dts[t] != LASK_BOOL)
      call_fails("compress", 2, (lask_value[]){lask_ndarray_value(x), lask_ndarray_value(x)},
                 "must be a bool array");
    call_fails("compress", 3, (lask_value[]){lask_ndarray_value(x), lask_ndarray_value(m1), lask_int(0)},
               "cannot select along axis 0");
    drop(m1), drop(m), drop(x), lask_release(targs[0]), drop(base);
  }
}

/* take over two blocks (offsets 0 and 3), 1-based with negatives; errors. */
static void test_take(void **state) {
  (void)state;
  lask_ndarray *a = arr(LASK_F64, 2, (int64_t[]){3, 2}, wavy),
               *b = arr(LASK_F64, 2, (int64_t[]){2, 2}, halves);
  lask_ndarray *idx = arr(LASK_I64, 1, (int64_t[]){4}, wavy); /* overwritten below */
  int64_t want[4] = {5, 1, -1, 3};
  for (int i = 0; i < 4; i++) ((int64_t *)(void *)idx->data)[i] = want[i];
  lask_value blocks =
      list_of(2, (lask_value[]){lask_retain(lask_ndarray_value(a)), lask_retain(lask_ndarray_value(b))});
  lask_value offs = ints_list(2, (int64_t[]){0, 3});
  lask_value args[6] = {blocks, offs, lask_ndarray_value(idx), lask_int(0), lask_int(5), lask_int(1)};
  lask_ndarray *r = call("take", 6, args);
  int64_t rows[4] = {4, 0, 4, 2};
  for (int i = 0; i < 4; i++)
    for (int64_t j = 0; j < 2; j++) {
      const lask_ndarray *src = rows[i] < 3 ? a : b;
      int64_t row = rows[i] < 3 ? rows[i] : rows[i] - 3;
      assert_true(at(r, (int64_t[]){i, j}) == at(src, (int64_t[]){row, j}));
    }
  drop(r);
  ((int64_t *)(void *)idx->data)[2] = 6;
  call_fails("take", 6, args, "index 6 is out of bounds for an axis of extent 5");
  ((int64_t *)(void *)idx->data)[2] = 0; /* base 1: 0 is before the first */
  call_fails("take", 6, args, "index 0 is out of bounds");
  lask_value fargs[6] = {blocks, offs, lask_ndarray_value(a), lask_int(0), lask_int(5), lask_int(1)};
  call_fails("take", 6, fargs, "integer index array");
  release_all(2, args), drop(idx), drop(a), drop(b);
}

/* reverse and insert_axes are views with the right elements. */
static void test_views(void **state) {
  (void)state;
  lask_ndarray *x = arr(LASK_I64, 2, (int64_t[]){3, 4}, wavy);
  lask_value ax = ints_list(2, (int64_t[]){0, 1});
  lask_value args[2] = {lask_ndarray_value(x), ax};
  lask_ndarray *r = call("reverse", 2, args);
  assert_ptr_equal(r->buf, x->buf);
  for (int64_t i = 0; i < 3; i++)
    for (int64_t j = 0; j < 4; j++) assert_true(at(r, (int64_t[]){i, j}) == at(x, (int64_t[]){2 - i, 3 - j}));
  drop(r);
  lask_value pos = ints_list(2, (int64_t[]){0, 2});
  lask_value iargs[2] = {lask_ndarray_value(x), pos};
  r = call("insert_axes", 2, iargs);
  assert_int_equal(r->ndim, 4);
  assert_int_equal(r->shape[0], 1), assert_int_equal(r->shape[1], 3), assert_int_equal(r->shape[2], 1);
  assert_true(at(r, (int64_t[]){0, 2, 0, 3}) == at(x, (int64_t[]){2, 3}));
  drop(r);
  lask_value bad = ints_list(1, (int64_t[]){5});
  call_fails("insert_axes", 2, (lask_value[]){lask_ndarray_value(x), bad}, "positions must be ascending");
  call_fails("reverse", 2, (lask_value[]){lask_ndarray_value(x), bad}, "out of range");
  lask_release(bad), lask_release(ax), lask_release(pos), drop(x);
}

/* setitem: a scalar into a stepped region, a broadcast row, a shape that does not fit. */
static void test_setitem(void **state) {
  (void)state;
  lask_ndarray *x = arr(LASK_I64, 2, (int64_t[]){4, 5}, wavy);
  lask_value st = ints_list(2, (int64_t[]){1, 0}), sp = ints_list(2, (int64_t[]){4, 5}),
             ss = ints_list(2, (int64_t[]){2, 2});
  lask_value args[5] = {lask_ndarray_value(x), st, sp, ss, lask_num(7.9)};
  lask_ndarray *r = call("setitem", 5, args);
  assert_int_equal(r->dtype, LASK_I64);
  for (int64_t i = 0; i < 4; i++)
    for (int64_t j = 0; j < 5; j++) {
      bool in = (i == 1 || i == 3) && j % 2 == 0;
      assert_true(at(r, (int64_t[]){i, j}) == (in ? 7 : at(x, (int64_t[]){i, j})));
    }
  drop(r);
  lask_ndarray *row = arr(LASK_F64, 1, (int64_t[]){3}, halves); /* broadcast over the 2 rows */
  args[4] = lask_ndarray_value(row);
  r = call("setitem", 5, args);
  assert_true(at(r, (int64_t[]){3, 4}) == 1 && at(r, (int64_t[]){1, 2}) == 0 &&
              at(r, (int64_t[]){1, 0}) == 0);
  drop(r), drop(row);
  lask_ndarray *col = arr(LASK_F64, 1, (int64_t[]){2}, halves);
  args[4] = lask_ndarray_value(col);
  call_fails("setitem", 5, args, "cannot be broadcast to a region of shape (2, 3)");
  args[4] = lask_nil();
  call_fails("setitem", 5, args, "must be a number, boolean or array");
  drop(col), release_all(3, args + 1), drop(x);
}

/* argwhere: offsets and base added; NaN counts as non-zero; an empty result. */
static void test_argwhere(void **state) {
  (void)state;
  lask_ndarray *x = arr(LASK_F64, 2, (int64_t[]){2, 3}, halves); /* 0 .5 1 / 0 .5 1 */
  ((double *)(void *)x->data)[3] = NAN;
  lask_value offs = ints_list(2, (int64_t[]){10, 20});
  lask_value args[3] = {lask_ndarray_value(x), offs, lask_int(1)};
  lask_ndarray *r = call("argwhere", 3, args);
  assert_int_equal(r->shape[0], 5);
  assert_int_equal(r->shape[1], 2);
  int64_t want[5][2] = {{11, 22}, {11, 23}, {12, 21}, {12, 22}, {12, 23}};
  for (int i = 0; i < 5; i++)
    for (int d = 0; d < 2; d++) assert_int_equal((int64_t)at(r, (int64_t[]){i, d}), want[i][d]);
  drop(r);
  lask_ndarray *z = arr(LASK_BOOL, 1, (int64_t[]){0}, halves);
  r = call("argwhere", 1, (lask_value[]){lask_ndarray_value(z)});
  assert_int_equal(r->shape[0], 0);
  drop(r), drop(z), lask_release(offs), drop(x);
}

/* unique over parts, counts merged, NaN once at the end; block_shape. */
static void test_unique(void **state) {
  (void)state;
  lask_ndarray *a = arr(LASK_F64, 1, (int64_t[]){6}, halves); /* 0 .5 1 0 .5 1 */
  lask_ndarray *b = arr(LASK_F64, 1, (int64_t[]){4}, halves); /* 0 .5 1 0 */
  ((double *)(void *)b->data)[1] = NAN;
  ((double *)(void *)b->data)[2] = NAN;
  lask_value one = list_of(1, (lask_value[]){lask_retain(lask_ndarray_value(a))});
  lask_value part = call_value("unique", 2, (lask_value[]){one, lask_bool(true)});
  lask_value both = list_of(2, (lask_value[]){part, lask_retain(lask_ndarray_value(b))});
  lask_value res = call_value("unique", 2, (lask_value[]){both, lask_bool(true)});
  const lask_list *l = (const lask_list *)res.as.o;
  lask_ndarray *v = lask_ndarray_of(l->items[0]), *c = lask_ndarray_of(l->items[1]);
  assert_int_equal(v->shape[0], 4);
  assert_true(at1(v, 0) == 0 && at1(v, 1) == 0.5 && at1(v, 2) == 1 && isnan(at1(v, 3)));
  assert_true(at1(c, 0) == 4 && at1(c, 1) == 2 && at1(c, 2) == 2 && at1(c, 3) == 2);
  lask_ndarray *vals = call("unique", 1, (lask_value[]){one});
  assert_int_equal(vals->shape[0], 3);
  lask_ndarray *s = call("block_shape", 1, (lask_value[]){lask_ndarray_value(a)});
  assert_int_equal(s->shape[0], 1);
  assert_true(at1(s, 0) == 6);
  call_fails("unique", 1, (lask_value[]){lask_int(3)}, "non-empty list");
  drop(s), drop(vals), lask_release(res), lask_release(both), lask_release(one), drop(a), drop(b);
}

/* unique with index: first positions merged over parts (the smallest kept). */
static void test_unique_index(void **state) {
  (void)state;
  lask_ndarray *a = arr(LASK_I64, 1, (int64_t[]){5}, wavy);    /* -11 15 -4 ... */
  lask_ndarray *pa = arr(LASK_I64, 1, (int64_t[]){5}, halves); /* positions: 0 0.5 1 .. as int64 */
  for (int64_t i = 0; i < 5; i++)
    ((int64_t *)(void *)pa->data)[i] = 100 - i; /* later parts have smaller ones */
  lask_value raw =
      list_of(2, (lask_value[]){lask_retain(lask_ndarray_value(a)), lask_retain(lask_ndarray_value(pa))});
  lask_value parts = list_of(2, (lask_value[]){raw, lask_retain(raw)});
  lask_value res = call_value("unique", 3, (lask_value[]){parts, lask_bool(true), lask_bool(true)});
  const lask_list *l = (const lask_list *)res.as.o;
  assert_int_equal((int64_t)l->n, 3);
  lask_ndarray *v = lask_ndarray_of(l->items[0]), *c = lask_ndarray_of(l->items[1]),
               *f = lask_ndarray_of(l->items[2]);
  for (int64_t j = 0; j < v->shape[0]; j++) {
    int64_t first = -1, cnt = 0;
    for (int64_t i = 0; i < 5; i++)
      if (wavy(i) == at1(v, j)) {
        cnt += 2;
        if (first < 0 || 100 - i < first) first = 100 - i;
      }
    assert_true(at1(c, j) == (double)cnt && at1(f, j) == (double)first);
  }
  lask_ndarray *short3 = arr(LASK_I64, 1, (int64_t[]){3}, wavy); /* positions of another shape */
  lask_value bad = list_of(1, (lask_value[]){list_of(2, (lask_value[]){lask_retain(lask_ndarray_value(a)),
                                                                       lask_ndarray_value(short3)})});
  call_fails("unique", 3, (lask_value[]){bad, lask_bool(true), lask_bool(true)},
             "expects {values, positions}");
  lask_release(bad);
  lask_release(res), lask_release(parts), drop(a), drop(pa);
}

/* searchsorted (sides, base, NaN last) and isin against plain loops. */
static void test_searchsorted_isin(void **state) {
  (void)state;
  lask_ndarray *u = arr(LASK_F64, 1, (int64_t[]){5}, halves); /* 0 .5 1 0 .5: sorted below */
  double sorted[5] = {0, 0.5, 0.5, 1, NAN};
  for (int i = 0; i < 5; i++) ((double *)(void *)u->data)[i] = sorted[i];
  lask_ndarray *x = arr(LASK_F64, 2, (int64_t[]){2, 3}, halves);
  ((double *)(void *)x->data)[5] = NAN;
  for (int right = 0; right < 2; right++) {
    lask_ndarray *r =
        call("searchsorted", 4,
             (lask_value[]){lask_ndarray_value(u), lask_ndarray_value(x), lask_bool(right), lask_int(1)});
    for (int64_t i = 0; i < 6; i++) {
      double v = ((double *)(void *)x->data)[i];
      int64_t want = 0;
      for (int j = 0; j < 5; j++) {
        double w = sorted[j];
        bool before = isnan(v) ? (right || !isnan(w)) : (right ? w <= v : w < v);
        want += before;
      }
      assert_int_equal(((int64_t *)(void *)r->data)[i], want + 1);
    }
    drop(r);
  }
  lask_ndarray *in = call("isin", 2, (lask_value[]){lask_ndarray_value(x), lask_ndarray_value(u)});
  for (int64_t i = 0; i < 6; i++) assert_int_equal(((bool *)(void *)in->data)[i], i < 5);
  lask_ndarray *out =
      call("isin", 3, (lask_value[]){lask_ndarray_value(x), lask_ndarray_value(u), lask_bool(true)});
  for (int64_t i = 0; i < 6; i++) assert_int_equal(((bool *)(void *)out->data)[i], i == 5);
  call_fails("searchsorted", 2, (lask_value[]){lask_ndarray_value(x), lask_ndarray_value(u)}, "1-D");
  drop(in), drop(out), drop(x), drop(u);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_compress),     cmocka_unit_test(test_take),
      cmocka_unit_test(test_views),        cmocka_unit_test(test_setitem),
      cmocka_unit_test(test_argwhere),     cmocka_unit_test(test_unique),
      cmocka_unit_test(test_unique_index), cmocka_unit_test(test_searchsorted_isin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
