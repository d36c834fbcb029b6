/* range.c — the kernels of the randomized range finder (range.h).
 *
 * svd_compressed's power iterations run on the small side: with w (n×l) spanning
 * the current guess of x's leading right singular subspace, one iteration is
 * z = xᵀ(x w), then w = orth(z). The matrices are kept transposed (wᵀ, zᵀ: l×n,
 * row-major) because OpenBLAS runs the thin-first products (wᵀxᵀ)x at 51 GFLOP/s
 * on one core against 44 the other way round (1000×1000 blocks, l = 110,
 * measured here), and because a row-major l×n array is the column-major n×l
 * matrix LAPACK factors in place. The two products of a block share one task, so
 * the block is read once per iteration, hot in cache for the second product.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "akernels.h"
#include "lapack_f.h"
#include "range.h"

/* A float64 matrix as BLAS takes it: data, leading dimension, and whether it is
 * stored transposed (Fortran order). */
typedef struct operand {
  lask_ndarray *a; /* retained or a copy: released by operand_free */
  const double *data;
  int64_t rows, cols, ld;
  bool trans;
} operand;

static void operand_free(operand *o) {
  if (o->a) lask_release(lask_ndarray_value(o->a));
  o->a = NULL;
}

/* x (2-D) as an operand: used in place when its rows or its columns are
 * contiguous, else copied to C order. */
static lask_status operand_of(const lask_kernel *k, lask_ndarray *x, operand *o, lask_err *err) {
  *o = (operand){0};
  if (x->ndim != 2) return lask_akernel_fail(k, LASK_EINVAL, err, "expected 2-D arrays, got %d-D", x->ndim);
  int64_t r = x->shape[0], c = x->shape[1], es = (int64_t)sizeof(double);
  int64_t sr = x->strides[0], sc = x->strides[1];
  if (x->dtype == LASK_F64 && (c == 1 || sc == es) && sr % es == 0 && sr / es >= c && sr > 0) {
    lask_retain(lask_ndarray_value(x));
    *o = (operand){.a = x, .data = (const double *)x->data, .rows = r, .cols = c, .ld = sr / es};
  } else if (x->dtype == LASK_F64 && r > 1 && sr == es && sc % es == 0 && sc / es >= r) {
    lask_retain(lask_ndarray_value(x));
    *o = (operand){
        .a = x, .data = (const double *)x->data, .rows = r, .cols = c, .ld = sc / es, .trans = true};
  } else {
    lask_ndarray *cp = lask_ndarray_copy(x, LASK_F64, err);
    if (!cp) return lask_akernel_fail(k, err->code, err, "%s", err->msg);
    *o = (operand){.a = cp, .data = (const double *)cp->data, .rows = r, .cols = c, .ld = c > 0 ? c : 1};
  }
  return LASK_OK;
}

static bool all_finite(const double *x, int64_t count) {
  for (int64_t i = 0; i < count; i++)
    if (!isfinite(x[i])) return false;
  return true;
}

/* power_step(xs, wt, r0, r1): the sum over the blocks x of xs of (wt[r0:r1] xᵀ) x. */
static lask_status k_power_step(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                                lask_err *err) {
  const lask_list *xs;
  lask_ndarray *wt_arr;
  int64_t r0, r1;
  if (lask_akernel_nargs(k, nargs, 4, 4, err) || lask_akernel_arg_arrays(k, args, 0, &xs, err) ||
      lask_akernel_array(k, args, 1, &wt_arr, err) || lask_akernel_arg_int(k, args, 2, &r0, err) ||
      lask_akernel_arg_int(k, args, 3, &r1, err))
    return err->code;
  operand w;
  if (operand_of(k, wt_arr, &w, err)) return err->code;
  lask_status st = LASK_OK;
  lask_ndarray *r = NULL;
  double *ht = NULL;
  int64_t n = w.cols, l = r1 - r0;
  if (w.trans || r0 < 0 || r1 > w.rows || l < 1) {
    operand_free(&w);
    if (w.trans) return lask_akernel_fail(k, LASK_EINVAL, err, "wt must be in C order");
    return lask_akernel_fail(k, LASK_EINVAL, err, "rows [%lld, %lld) are not within wt's %lld", (long long)r0,
                             (long long)r1, (long long)w.rows);
  }
  int64_t most = 0;
  for (size_t i = 0; i < xs->n; i++) {
    const lask_ndarray *x = lask_ndarray_of(xs->items[i]);
    if (x->ndim != 2 || x->shape[1] != n) {
      char s[160];
      st = lask_akernel_fail(k, LASK_EINVAL, err, "block %zu has shape %s, not (rows, %lld) as wt", i + 1,
                             lask_shape_str(x->ndim, x->shape, s, sizeof s), (long long)n);
      goto done;
    }
    if (x->shape[0] > most) most = x->shape[0];
  }
  if (n > INT32_MAX || most > INT32_MAX) {
    st = lask_akernel_fail(k, LASK_EINVAL, err, "blocks too large for BLAS");
    goto done;
  }
  if (!(r = lask_ndarray_new(LASK_F64, 2, (int64_t[]){l, n}, err))) {
    st = lask_akernel_fail(k, err->code, err, "%s", err->msg);
    goto done;
  }
  if (!(ht = malloc(sizeof *ht * (size_t)(l * (most > 0 ? most : 1))))) {
    st = lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
    goto done;
  }
  double *res = (double *)r->data;
  if (xs->n == 0 || n == 0) memset(res, 0, sizeof *res * (size_t)(l * n));
  for (size_t i = 0; i < xs->n; i++) {
    operand x;
    if ((st = operand_of(k, lask_ndarray_of(xs->items[i]), &x, err))) goto done;
    int m = (int)x.rows;
    if (m == 0 || n == 0) {
      if (i == 0) memset(res, 0, sizeof *res * (size_t)(l * n));
    } else {
      /* hᵀ = wt[r0:r1] xᵀ (l×m), then res (+)= hᵀ x (l×n) */
      cblas_dgemm(CblasRowMajor, CblasNoTrans, x.trans ? CblasNoTrans : CblasTrans, (int)l, m, (int)n, 1.0,
                  w.data + r0 * w.ld, (int)w.ld, x.data, (int)x.ld, 0.0, ht, m);
      cblas_dgemm(CblasRowMajor, CblasNoTrans, x.trans ? CblasTrans : CblasNoTrans, (int)l, (int)n, m, 1.0,
                  ht, m, x.data, (int)x.ld, i == 0 ? 0.0 : 1.0, res, (int)n);
    }
    operand_free(&x);
  }
  if (!all_finite(res, l * n))
    st = lask_akernel_fail(k, LASK_EINVAL, err, "the matrix contains NaN or Inf (or its products overflow)");
done:
  free(ht);
  operand_free(&w);
  if (st) {
    if (r) lask_release(lask_ndarray_value(r));
    return st;
  }
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* orth_rows(parts): for the sum a (l×n, l <= n) of the arrays in the list parts, l×n
 * rows that are orthonormal and span a's row space: Q of the Householder QR of aᵀ,
 * blocked compact-WY (dgeqrt, then dgemqrt on the identity: 1.9 ms for 1000×110
 * against 2.9 for dgeqrf + dorgqr, measured here). */
static lask_status k_orth_rows(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                               lask_err *err) {
  const lask_list *parts;
  if (lask_akernel_nargs(k, nargs, 1, 1, err) || lask_akernel_arg_arrays(k, args, 0, &parts, err))
    return err->code;
  const lask_ndarray *a = lask_ndarray_of(parts->items[0]);
  char s[160];
  if (a->ndim != 2 || a->shape[0] > a->shape[1] || a->shape[1] > INT32_MAX)
    return lask_akernel_fail(k, LASK_EINVAL, err,
                             "expected 2-D arrays with no more rows than columns, got %s",
                             lask_shape_str(a->ndim, a->shape, s, sizeof s));
  int64_t l = a->shape[0], n = a->shape[1], nb = l < 32 ? (l > 0 ? l : 1) : 32;
  /* z: the sum, C order, which is the column-major aᵀ LAPACK factors in place */
  lask_ndarray *z = lask_ndarray_copy(a, LASK_F64, err);
  if (!z) return lask_akernel_fail(k, err->code, err, "%s", err->msg);
  lask_status st = LASK_OK;
  lask_ndarray *q = NULL;
  double *t = NULL, *zd = (double *)z->data;
  for (size_t i = 1; i < parts->n && !st; i++) {
    lask_ndarray *p = lask_ndarray_of(parts->items[i]);
    operand o;
    if (p->ndim != 2 || p->shape[0] != l || p->shape[1] != n) {
      st = lask_akernel_fail(k, LASK_EINVAL, err, "part %zu has shape %s, not (%lld, %lld)", i + 1,
                             lask_shape_str(p->ndim, p->shape, s, sizeof s), (long long)l, (long long)n);
    } else if (!(st = operand_of(k, p, &o, err))) {
      for (int64_t r = 0; r < l; r++)
        for (int64_t c = 0; c < n; c++)
          zd[r * n + c] += o.trans ? o.data[c * o.ld + r] : o.data[r * o.ld + c];
      operand_free(&o);
    }
  }
  if (st) goto done;
  if (!all_finite(zd, l * n)) {
    st = lask_akernel_fail(k, LASK_EINVAL, err, "the matrix contains NaN or Inf");
    goto done;
  }
  if (!(q = lask_ndarray_new(LASK_F64, 2, (int64_t[]){l, n}, err))) {
    st = lask_akernel_fail(k, err->code, err, "%s", err->msg);
    goto done;
  }
  double *qd = (double *)q->data;
  memset(qd, 0, sizeof *qd * (size_t)l * (size_t)n);
  for (int64_t i = 0; i < l; i++) qd[i * n + i] = 1.0;
  if (l > 0) {
    int m = (int)n, nn = (int)l, nbi = (int)nb, info = 0;
    double *work = malloc(sizeof *work * (size_t)nb * (size_t)(m > nn ? m : nn));
    if ((t = malloc(sizeof *t * (size_t)nb * (size_t)l)) && work) {
      dgeqrt_(&m, &nn, &nbi, zd, &m, t, &nbi, work, &info);
      if (info == 0) dgemqrt_("L", "N", &m, &nn, &nn, &nbi, zd, &m, t, &nbi, qd, &m, work, &info, 1, 1);
      if (info) st = lask_akernel_fail(k, LASK_EINVAL, err, "LAPACK failed (info %d)", info);
    } else {
      st = lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
    }
    free(work);
  }
done:
  free(t);
  lask_release(lask_ndarray_value(z));
  if (st) {
    if (q) lask_release(lask_ndarray_value(q));
    return st;
  }
  *out = lask_ndarray_value(q);
  return LASK_OK;
}

static const lask_kernel range_kernels[] = {
    LASK_KERNEL_STATIC("power_step", k_power_step),
    LASK_KERNEL_STATIC("orth_rows", k_orth_rows),
};

const lask_kernel *lask_akernels_range(int i) {
  return i >= 0 && i < (int)(sizeof range_kernels / sizeof range_kernels[0]) ? &range_kernels[i] : NULL;
}
