/* test_linalg.c — the dense linear algebra kernels (and the range finder's,
 * range.h) against their definitions:
 * products of the factors give the input back, orthogonality, triangularity,
 * residuals, and clear errors on bad input. Random inputs print their seed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "array/array_kernels.h"
#include "array/linalg.h"
#include "array/range_finder.h"
#include "array/ndarray.h"

static unsigned seed;

static const lask_kernel *kernel(const char *name) {
  const lask_kernel *k = lask_akernel_find(name);
  if (!k) fail_msg("no kernel %s", name);
  return k;
}

static double rnd(void) { return (double)rand_r(&seed) / RAND_MAX - 0.5; }

static lask_ndarray *matrix(int64_t m, int64_t n) {
  lask_err err;
  lask_ndarray *a = lask_ndarray_new(LASK_F64, 2, (int64_t[]){m, n}, &err);
  assert_non_null(a);
  for (int64_t i = 0; i < m * n; i++) ((double *)a->data)[i] = rnd();
  return a;
}

#define AT(a, i, j) (((double *)(a)->data)[(i) * (a)->shape[1] + (j)])

/* max |A·B - C| over the entries */
static double product_error(const lask_ndarray *a, const lask_ndarray *b, const lask_ndarray *c) {
  double worst = 0;
  for (int64_t i = 0; i < a->shape[0]; i++)
    for (int64_t j = 0; j < b->shape[1]; j++) {
      double acc = 0;
      for (int64_t k = 0; k < a->shape[1]; k++) acc += AT(a, i, k) * AT(b, k, j);
      worst = fmax(worst, fabs(acc - AT(c, i, j)));
    }
  return worst;
}

static lask_value call(const char *name, int n, ...) {
  lask_value args[4], out = lask_nil();
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) args[i] = va_arg(ap, lask_value);
  va_end(ap);
  lask_err err;
  lask_err_clear(&err);
  const lask_kernel *k = kernel(name);
  if (k->fn(k, args, n, &out, &err) != LASK_OK) fail_msg("%s failed: %s", name, err.msg);
  return out;
}

static lask_ndarray *item(lask_value list, size_t i) {
  return lask_ndarray_of(((lask_list *)list.as.o)->items[i]);
}

/* qr(a) gives Q and R with A = QR, QᵀQ = I, R upper triangular, and leaves a as it was. */
static void check_qr_of(lask_ndarray *a) {
  int64_t m = a->shape[0], n = a->shape[1];
  size_t bytes = (size_t)(m * n) * sizeof(double);
  double *before = malloc(bytes);
  memcpy(before, a->data, bytes);
  lask_value qr = call("qr", 1, lask_ndarray_value(a));
  assert_memory_equal(before, a->data, bytes);
  free(before);
  lask_ndarray *q = item(qr, 0), *r = item(qr, 1);
  int64_t k = m < n ? m : n;
  assert_int_equal(q->shape[0], m), assert_int_equal(q->shape[1], k);
  assert_int_equal(r->shape[0], k), assert_int_equal(r->shape[1], n);
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < i && j < n; j++) assert_true(AT(r, i, j) == 0.0); /* R is upper triangular */
  /* ‖A − QR‖ and ‖QᵀQ − I‖ at machine precision times a small factor of the size */
  double tol = 1e-13 * (double)(m + n);
  assert_true(product_error(q, r, a) < tol);
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < k; j++) {
      double acc = 0;
      for (int64_t t = 0; t < m; t++) acc += AT(q, t, i) * AT(q, t, j);
      assert_true(fabs(acc - (i == j)) < tol);
    }
  lask_release(qr), lask_release(lask_ndarray_value(a));
}

static void check_qr(int64_t m, int64_t n) { check_qr_of(matrix(m, n)); }

/* p random upper-triangular n×n factors stacked: TSQR's second stage. */
static lask_ndarray *triangle_stack(int64_t p, int64_t n) {
  lask_ndarray *a = matrix(p * n, n);
  for (int64_t i = 0; i < p * n; i++)
    for (int64_t j = 0; j < i % n; j++) AT(a, i, j) = 0.0;
  return a;
}

static void test_qr_shapes(void **state) {
  (void)state;
  check_qr(7, 3), check_qr(100, 10), check_qr(3, 7), check_qr(5, 5), check_qr(1, 1);
  check_qr(10000, 12); /* tall enough for the in-kernel panels */
  check_qr(20000, 40); /* 10 panels of more columns than one compact-WY block (32) */
  check_qr(30000, 3);  /* 15 panels: a deeper tree of merged triangles inside the kernel */
  check_qr(20000, 1);  /* a column */
}

/* Stacked triangles are merged pairwise (a tree of dtplqt), not factored densely:
 * the same QR properties, for odd and even counts and block sizes around 32. */
static void test_qr_of_stacked_triangles(void **state) {
  (void)state;
  int64_t cases[][2] = {{2, 1}, {2, 4}, {3, 4}, {5, 33}, {8, 64}, {7, 100}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    check_qr_of(triangle_stack(cases[c][0], cases[c][1]));
  /* qr_factor keeps the merges implicit: qr_apply without W gives the same Q */
  lask_ndarray *a = triangle_stack(5, 33);
  lask_value fr = call("qr_factor", 1, lask_ndarray_value(a)), qr = call("qr", 1, lask_ndarray_value(a));
  lask_value f = ((lask_list *)fr.as.o)->items[0];
  lask_value q = call("qr_apply", 1, f);
  assert_memory_equal(lask_ndarray_of(q)->data, item(qr, 0)->data, (size_t)(5 * 33 * 33) * sizeof(double));
  assert_memory_equal(item(fr, 1)->data, item(qr, 1)->data, (size_t)(33 * 33) * sizeof(double));
  /* through into (how compute assembles Q's blocks): straight into rows 10.. of a
   * bigger result, the same numbers */
  lask_ndarray *dest = matrix(5 * 33 + 20, 33);
  lask_list *off = lask_list_new(2);
  off->items[0] = lask_int(10), off->items[1] = lask_int(0);
  const lask_kernel *into = lask_akernel_find("into");
  lask_value args[] = {lask_ndarray_value(dest), lask_objval(&off->h), lask_kernel_value(kernel("qr_apply")),
                       f},
             none = lask_nil();
  lask_err err;
  lask_err_clear(&err);
  assert_int_equal(into->fn(into, args, 4, &none, &err), LASK_OK);
  assert_memory_equal((double *)dest->data + 10 * 33, item(qr, 0)->data,
                      (size_t)(5 * 33 * 33) * sizeof(double));
  lask_release(lask_objval(&off->h)), lask_release(lask_ndarray_value(dest));
  lask_release(q), lask_release(qr), lask_release(fr), lask_release(lask_ndarray_value(a));
}

static void test_svd_reconstructs(void **state) {
  (void)state;
  int64_t dims[][2] = {{40, 7}, {7, 40}, {30, 30}, {9000, 5}};
  for (int d = 0; d < 4; d++) {
    int64_t m = dims[d][0], n = dims[d][1], k = m < n ? m : n;
    lask_ndarray *a = matrix(m, n);
    lask_value usv = call("svd", 1, lask_ndarray_value(a));
    lask_ndarray *u = item(usv, 0), *s = item(usv, 1), *v = item(usv, 2);
    const double *sv = (const double *)s->data;
    for (int64_t i = 1; i < k; i++) assert_true(sv[i] <= sv[i - 1]); /* sorted, descending */
    double worst = 0;
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        double acc = 0;
        for (int64_t t = 0; t < k; t++) acc += AT(u, i, t) * sv[t] * AT(v, t, j);
        worst = fmax(worst, fabs(acc - AT(a, i, j)));
      }
    assert_true(worst < 1e-12 * (double)(m + n));
    for (int64_t t = 0; t < k; t++) { /* deterministic signs: each row of V's largest entry is positive */
      int64_t best = 0;
      for (int64_t j = 1; j < n; j++)
        if (fabs(AT(v, t, j)) > fabs(AT(v, t, best))) best = j;
      assert_true(AT(v, t, best) > 0);
    }
    lask_release(usv), lask_release(lask_ndarray_value(a));
  }
}

static lask_ndarray *spd(int64_t n) { /* AᵀA + n I: symmetric positive definite */
  lask_ndarray *a = matrix(n, n), *s = matrix(n, n);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      double acc = i == j ? (double)n : 0;
      for (int64_t t = 0; t < n; t++) acc += AT(a, t, i) * AT(a, t, j);
      AT(s, i, j) = acc;
    }
  lask_release(lask_ndarray_value(a));
  return s;
}

static void test_lu_solve_inv_cholesky(void **state) {
  (void)state;
  int64_t n = 25;
  lask_ndarray *a = matrix(n, n), *b = matrix(n, 3);
  lask_value plu = call("lu", 1, lask_ndarray_value(a));
  lask_ndarray *p = item(plu, 0), *l = item(plu, 1), *u = item(plu, 2);
  lask_ndarray *lu = lask_ndarray_new(LASK_F64, 2, (int64_t[]){n, n}, &(lask_err){0});
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      double acc = 0;
      for (int64_t t = 0; t < n; t++) acc += AT(l, i, t) * AT(u, t, j);
      AT(lu, i, j) = acc;
      if (j > i) assert_true(AT(l, i, j) == 0.0);
      if (j < i) assert_true(AT(u, i, j) == 0.0);
    }
  assert_true(product_error(p, lu, a) < 1e-12); /* A = P L U */
  lask_value x = call("solve", 2, lask_ndarray_value(a), lask_ndarray_value(b));
  assert_true(product_error(a, lask_ndarray_of(x), b) < 1e-11);
  lask_value ainv = call("inv", 1, lask_ndarray_value(a));
  lask_ndarray *id = lask_ndarray_new(LASK_F64, 2, (int64_t[]){n, n}, &(lask_err){0});
  for (int64_t i = 0; i < n; i++) AT(id, i, i) = 1.0;
  assert_true(product_error(a, lask_ndarray_of(ainv), id) < 1e-11);
  lask_ndarray *s = spd(n);
  lask_value lo = call("cholesky", 2, lask_ndarray_value(s), lask_bool(true));
  lask_ndarray *L = lask_ndarray_of(lo),
               *Lt = lask_ndarray_new(LASK_F64, 2, (int64_t[]){n, n}, &(lask_err){0});
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) AT(Lt, i, j) = AT(L, j, i);
  assert_true(product_error(L, Lt, s) < 1e-10);
  lask_str *pos = lask_str_new("pos", 3);
  lask_value xs = call("solve", 3, lask_ndarray_value(s), lask_ndarray_value(b), lask_objval(&pos->h));
  assert_true(product_error(s, lask_ndarray_of(xs), b) < 1e-10);
  lask_value all[] = {plu,
                      x,
                      ainv,
                      lo,
                      xs,
                      lask_ndarray_value(a),
                      lask_ndarray_value(b),
                      lask_ndarray_value(lu),
                      lask_ndarray_value(id),
                      lask_ndarray_value(s),
                      lask_ndarray_value(Lt),
                      lask_objval(&pos->h)};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lask_release(all[i]);
}

static void expect_error(const char *name, int n, lask_value *args, const char *text) {
  const lask_kernel *k = kernel(name);
  lask_value out = lask_nil();
  lask_err err;
  lask_err_clear(&err);
  assert_int_not_equal(k->fn(k, args, n, &out, &err), LASK_OK);
  if (!strstr(err.msg, text)) fail_msg("%s: expected '%s' in '%s'", name, text, err.msg);
  assert_int_equal(out.type, LASK_TNIL);
}

static void test_errors(void **state) {
  (void)state;
  lask_ndarray *sing = matrix(3, 3), *rect = matrix(3, 4), *b = matrix(3, 1), *bad = matrix(4, 2),
               *tall = matrix(4, 1);
  /* row 2 = 2 × row 0, small integers: elimination is exact and meets a zero pivot
   * (random rows would leave a rounding-sized pivot, which LAPACK, like numpy, accepts) */
  for (int j = 0; j < 3; j++) AT(sing, 0, j) = j + 1, AT(sing, 1, j) = j + 4, AT(sing, 2, j) = 2 * (j + 1);
  AT(bad, 1, 1) = NAN;
  lask_value S = lask_ndarray_value(sing), R = lask_ndarray_value(rect), B = lask_ndarray_value(b);
  expect_error("solve", 2, (lask_value[]){S, B}, "singular");
  expect_error("inv", 1, (lask_value[]){S}, "singular");
  expect_error("inv", 1, (lask_value[]){R}, "must be square");
  lask_ndarray *indef = matrix(2, 2); /* symmetric, eigenvalues 3 and -1 */
  AT(indef, 0, 0) = 1, AT(indef, 0, 1) = 2, AT(indef, 1, 0) = 2, AT(indef, 1, 1) = 1;
  expect_error("cholesky", 1, (lask_value[]){lask_ndarray_value(indef)}, "not positive definite");
  lask_release(lask_ndarray_value(indef));
  expect_error("qr", 1, (lask_value[]){lask_ndarray_value(bad)}, "NaN or Inf");
  expect_error("solve", 2, (lask_value[]){S, lask_ndarray_value(tall)}, "different numbers of rows");
  expect_error("svd", 1, (lask_value[]){lask_int(3)}, "not an array");
  lask_release(S), lask_release(R), lask_release(B), lask_release(lask_ndarray_value(bad));
  lask_release(lask_ndarray_value(tall));
}

static void test_lstsq_and_norm(void **state) {
  (void)state;
  int64_t m = 50, n = 4;
  lask_ndarray *a = matrix(m, n), *b = matrix(m, 1);
  lask_value r = call("lstsq", 2, lask_ndarray_value(a), lask_ndarray_value(b));
  lask_list *l = (lask_list *)r.as.o;
  lask_ndarray *x = lask_ndarray_of(l->items[0]), *res = lask_ndarray_of(l->items[1]);
  assert_int_equal(*(int64_t *)lask_ndarray_of(l->items[2])->data, n);
  /* the normal equations hold at the solution: Aᵀ(Ax − b) = 0 */
  double rss = 0;
  for (int64_t j = 0; j < n; j++) {
    double acc = 0;
    for (int64_t i = 0; i < m; i++) {
      double ri = -AT(b, i, 0);
      for (int64_t t = 0; t < n; t++) ri += AT(a, i, t) * AT(x, t, 0);
      acc += AT(a, i, j) * ri;
      if (j == 0) rss += ri * ri;
    }
    assert_true(fabs(acc) < 1e-12);
  }
  assert_true(fabs(((double *)res->data)[0] - rss) < 1e-12);
  double fro = 0, one = 0, inf = 0;
  for (int64_t i = 0; i < m; i++) {
    double row = 0;
    for (int64_t j = 0; j < n; j++) fro += AT(a, i, j) * AT(a, i, j), row += fabs(AT(a, i, j));
    inf = fmax(inf, row);
  }
  for (int64_t j = 0; j < n; j++) {
    double col = 0;
    for (int64_t i = 0; i < m; i++) col += fabs(AT(a, i, j));
    one = fmax(one, col);
  }
  lask_str *f = lask_str_new("fro", 3);
  lask_value nf = call("norm", 2, lask_ndarray_value(a), lask_objval(&f->h));
  lask_value n1 = call("norm", 2, lask_ndarray_value(a), lask_int(1));
  lask_value ni = call("norm", 2, lask_ndarray_value(a), lask_num(INFINITY));
  lask_value n2 = call("norm", 2, lask_ndarray_value(a), lask_int(2));
  assert_true(fabs(nf.as.n - sqrt(fro)) < 1e-12);
  assert_true(fabs(n1.as.n - one) < 1e-12 && fabs(ni.as.n - inf) < 1e-12);
  lask_value usv = call("svd", 1, lask_ndarray_value(a));
  assert_true(fabs(n2.as.n - ((double *)item(usv, 1)->data)[0]) < 1e-12);
  lask_release(usv), lask_release(r), lask_release(lask_objval(&f->h));
  lask_release(lask_ndarray_value(a)), lask_release(lask_ndarray_value(b));
}

/* A view of the C-ordered a (r×c) as its transpose (c×r, Fortran order). */
static lask_ndarray *transposed(lask_ndarray *a) {
  lask_err err;
  lask_ndarray *v = lask_ndarray_view(a->buf, a->data, LASK_F64, 2, (int64_t[]){a->shape[1], a->shape[0]},
                                      (int64_t[]){a->strides[1], a->strides[0]}, &err);
  assert_non_null(v);
  return v;
}

static lask_value list_of(int n, lask_ndarray **items) {
  lask_list *l = lask_list_new((size_t)n);
  assert_non_null(l);
  for (int i = 0; i < n; i++) l->items[i] = lask_ndarray_value(items[i]);
  return lask_objval(&l->h);
}

/* power_step(xs, wt, r0, r1) is the sum of (wt[r0:r1] xᵀ) x over its blocks, whatever
 * their layout (C order, Fortran order, or neither: every other row of a block). */
static void test_power_step(void **state) {
  (void)state;
  int64_t n = 6, l = 4, r0 = 1, r1 = 3;
  lask_ndarray *wt = matrix(l, n), *x1 = matrix(7, n), *x2t = matrix(n, 5), *x3 = matrix(8, n);
  lask_err err;
  lask_ndarray *x2 = transposed(x2t), /* 5×n, Fortran order */
      *x3odd = lask_ndarray_view(x3->buf, x3->data, LASK_F64, 2, (int64_t[]){4, n},
                                 (int64_t[]){2 * x3->strides[0], x3->strides[1]}, &err);
  assert_non_null(x3odd);
  lask_ndarray *xs[] = {x1, x2, x3odd};
  lask_value list = list_of(3, xs);
  lask_value got = call("power_step", 4, list, lask_ndarray_value(wt), lask_int(r0), lask_int(r1));
  lask_ndarray *p = lask_ndarray_of(got);
  assert_int_equal(p->shape[0], r1 - r0), assert_int_equal(p->shape[1], n);
  for (int64_t i = r0; i < r1; i++)
    for (int64_t c = 0; c < n; c++) {
      double want = 0;
      for (int b = 0; b < 3; b++)
        for (int64_t row = 0; row < xs[b]->shape[0]; row++) {
          const double *xr = (const double *)(xs[b]->data + row * xs[b]->strides[0]);
          double h = 0; /* (w xᵀ)[i, row] */
          for (int64_t j = 0; j < n; j++)
            h += AT(wt, i, j) * *(const double *)((const char *)xr + j * xs[b]->strides[1]);
          want += h * *(const double *)((const char *)xr + c * xs[b]->strides[1]);
        }
      assert_true(fabs(AT(p, i - r0, c) - want) < 1e-12);
    }
  AT(x1, 2, 3) = INFINITY;
  expect_error("power_step", 4, (lask_value[]){list, lask_ndarray_value(wt), lask_int(0), lask_int(l)},
               "NaN or Inf");
  expect_error("power_step", 4, (lask_value[]){list, lask_ndarray_value(wt), lask_int(2), lask_int(9)},
               "rows [2, 9) are not within wt's 4");
  lask_ndarray *wrong[] = {x2t};
  lask_value wl = list_of(1, wrong);
  lask_retain(lask_ndarray_value(x2t));
  expect_error("power_step", 4, (lask_value[]){wl, lask_ndarray_value(wt), lask_int(0), lask_int(l)},
               "block 1 has shape (6, 5), not (rows, 6) as wt");
  lask_release(wl), lask_release(got), lask_release(list), lask_release(lask_ndarray_value(wt));
  lask_release(lask_ndarray_value(x2t)), lask_release(lask_ndarray_value(x3));
}

/* orth_rows(parts) gives orthonormal rows spanning the row space of the parts' sum:
 * Q Qᵀ = I and the sum projected on them is itself. */
static void test_orth_rows(void **state) {
  (void)state;
  int64_t l = 5, n = 40;
  lask_ndarray *a1 = matrix(l, n), *a2 = matrix(l, n), *sum = matrix(l, n);
  for (int64_t i = 0; i < l * n; i++)
    ((double *)sum->data)[i] = ((double *)a1->data)[i] + ((double *)a2->data)[i];
  lask_ndarray *parts[] = {a1, a2};
  lask_value list = list_of(2, parts);
  lask_value got = call("orth_rows", 1, list);
  lask_ndarray *q = lask_ndarray_of(got);
  assert_int_equal(q->shape[0], l), assert_int_equal(q->shape[1], n);
  for (int64_t i = 0; i < l; i++)
    for (int64_t j = 0; j < l; j++) {
      double dot = 0;
      for (int64_t c = 0; c < n; c++) dot += AT(q, i, c) * AT(q, j, c);
      assert_true(fabs(dot - (i == j)) < 1e-14);
    }
  for (int64_t i = 0; i < l; i++) { /* row i of sum, minus its projection: zero */
    double coef[5] = {0}, worst = 0;
    for (int64_t j = 0; j < l; j++)
      for (int64_t c = 0; c < n; c++) coef[j] += AT(sum, i, c) * AT(q, j, c);
    for (int64_t c = 0; c < n; c++) {
      double proj = 0;
      for (int64_t j = 0; j < l; j++) proj += coef[j] * AT(q, j, c);
      worst = fmax(worst, fabs(proj - AT(sum, i, c)));
    }
    assert_true(worst < 1e-13);
  }
  lask_ndarray *odd[] = {a1, matrix(l, n - 1)};
  lask_retain(lask_ndarray_value(a1));
  lask_value bad = list_of(2, odd);
  expect_error("orth_rows", 1, (lask_value[]){bad}, "part 2 has shape (5, 39), not (5, 40)");
  lask_ndarray *wide[] = {transposed(sum)};
  lask_value tall = list_of(1, wide);
  expect_error("orth_rows", 1, (lask_value[]){tall}, "no more rows than columns");
  AT(a2, 0, 0) = NAN;
  expect_error("orth_rows", 1, (lask_value[]){list}, "NaN or Inf");
  lask_release(bad), lask_release(tall), lask_release(got), lask_release(list);
  lask_release(lask_ndarray_value(sum));
}

/* qr of a Fortran-ordered view (as a transposed block arrives) reads it in place and
 * gives exactly what the C-ordered copy gives; NaN in it is reported. */
static void test_qr_fortran_order(void **state) {
  (void)state;
  int64_t sizes[][2] = {{9000, 20}, {300, 40}, {6, 6}};
  for (int s = 0; s < 3; s++) {
    int64_t m = sizes[s][0], n = sizes[s][1];
    lask_ndarray *a = matrix(m, n), *at = matrix(n, m);
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) AT(at, j, i) = AT(a, i, j);
    lask_ndarray *f = transposed(at); /* m×n, Fortran order */
    lask_value q1 = call("qr", 1, lask_ndarray_value(a)), q2 = call("qr", 1, lask_ndarray_value(f));
    for (int part = 0; part < 2; part++) {
      lask_ndarray *x = item(q1, (size_t)part), *y = item(q2, (size_t)part);
      assert_memory_equal(x->data, y->data, (size_t)lask_ndarray_size(x) * sizeof(double));
    }
    AT(at, n - 1, m / 2) = NAN;
    expect_error("qr", 1, (lask_value[]){lask_ndarray_value(f)}, "NaN or Inf");
    lask_release(q1), lask_release(q2), lask_release(lask_ndarray_value(a));
    lask_release(lask_ndarray_value(f)), lask_release(lask_ndarray_value(at));
  }
}

int main(void) {
  const char *env = getenv("LASK_SEED");
  seed = env ? (unsigned)atoi(env) : (unsigned)time(NULL);
  printf("# test_linalg seed %u (set LASK_SEED to replay)\n", seed);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_qr_shapes),        cmocka_unit_test(test_qr_of_stacked_triangles),
      cmocka_unit_test(test_svd_reconstructs), cmocka_unit_test(test_lu_solve_inv_cholesky),
      cmocka_unit_test(test_errors),           cmocka_unit_test(test_lstsq_and_norm),
      cmocka_unit_test(test_power_step),       cmocka_unit_test(test_orth_rows),
      cmocka_unit_test(test_qr_fortran_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
