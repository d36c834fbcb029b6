/* range_finder.c — the kernels of the randomized range finder (range_finder.h).
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

#include "array_kernels.h"
#include "blas_cores.h"
#include "lapack_f.h"
#include "range_finder.h"

/* Element (r, c) of a float64 operand. */
static inline double at(const lask_akernel_mat *o, int64_t r, int64_t c) {
  const double *d = (const double *)o->a->data;
  return o->trans ? d[c * o->ld + r] : d[r * o->ld + c];
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
  if (wt_arr->ndim != 2)
    return lask_akernel_fail(k, LASK_EINVAL, err, "wt must be 2-D, it has %d dimensions", wt_arr->ndim);
  lask_akernel_mat w;
  if (lask_akernel_mat_init(k, wt_arr, true, LASK_F64, &w, err)) return err->code;
  lask_status st = LASK_OK;
  lask_ndarray *r = NULL;
  double *ht = NULL;
  int64_t n = w.cols, l = r1 - r0, most = 0;
  if (r0 < 0 || r1 > w.rows || l < 1) {
    st = lask_akernel_fail(k, LASK_EINVAL, err, "rows [%lld, %lld) are not within wt's %lld", (long long)r0,
                           (long long)r1, (long long)w.rows);
    goto done;
  }
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
  if (!(r = lask_ndarray_empty(LASK_F64, 2, (int64_t[]){l, n}, err))) {
    st = lask_akernel_fail(k, err->code, err, "%s", err->msg);
    goto done;
  }
  if (!(ht = malloc(sizeof *ht * (size_t)(l * (most > 0 ? most : 1))))) {
    st = lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
    goto done;
  }
  double *res = (double *)r->data;
  /* rows r0.. of wt: in C order r0 rows down, in Fortran order (w.trans: BLAS reads
   * it transposed) r0 elements along each column */
  const double *wd = (const double *)w.a->data + (w.trans ? r0 : r0 * w.ld);
  bool first = true; /* the first product writes res (BLAS beta = 0), the others add */
  for (size_t i = 0; i < xs->n; i++) {
    lask_akernel_mat x;
    if ((st = lask_akernel_mat_init(k, lask_ndarray_of(xs->items[i]), true, LASK_F64, &x, err))) goto done;
    int m = (int)x.rows;
    const double *xd = (const double *)x.a->data;
    if (m > 0 && n > 0) {
      /* hᵀ = wt[r0:r1] xᵀ (l×m), then res (+)= hᵀ x (l×n) */
      int borrowed = lask_blas_cores_begin(4.0 * (double)l * m * (double)n);
      cblas_dgemm(CblasRowMajor, w.trans ? CblasTrans : CblasNoTrans, x.trans ? CblasNoTrans : CblasTrans,
                  (int)l, m, (int)n, 1.0, wd, (int)w.ld, xd, (int)x.ld, 0.0, ht, m);
      cblas_dgemm(CblasRowMajor, CblasNoTrans, x.trans ? CblasTrans : CblasNoTrans, (int)l, (int)n, m, 1.0,
                  ht, m, xd, (int)x.ld, first ? 0.0 : 1.0, res, (int)n);
      lask_blas_cores_end(borrowed);
      first = false;
    }
    lask_akernel_mat_free(&x);
  }
  if (first) memset(res, 0, sizeof *res * (size_t)(l * n)); /* no product: empty blocks */
  if (!all_finite(res, l * n))
    st = lask_akernel_fail(k, LASK_EINVAL, err, "the matrix contains NaN or Inf (or its products overflow)");
done:
  free(ht);
  lask_akernel_mat_free(&w);
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
    lask_akernel_mat o;
    if (p->ndim != 2 || p->shape[0] != l || p->shape[1] != n) {
      st = lask_akernel_fail(k, LASK_EINVAL, err, "part %zu has shape %s, not (%lld, %lld)", i + 1,
                             lask_shape_str(p->ndim, p->shape, s, sizeof s), (long long)l, (long long)n);
    } else if (!(st = lask_akernel_mat_init(k, p, true, LASK_F64, &o, err))) {
      for (int64_t r = 0; r < l; r++)
        for (int64_t c = 0; c < n; c++) zd[r * n + c] += at(&o, r, c);
      lask_akernel_mat_free(&o);
    }
  }
  if (st) goto done;
  if (!all_finite(zd, l * n)) {
    st = lask_akernel_fail(k, LASK_EINVAL, err, "the matrix contains NaN or Inf");
    goto done;
  }
  if (!(q = lask_ndarray_new(LASK_F64, 2, (int64_t[]){l, n}, err))) { /* zeros */
    st = lask_akernel_fail(k, err->code, err, "%s", err->msg);
    goto done;
  }
  double *qd = (double *)q->data;
  for (int64_t i = 0; i < l; i++) qd[i * n + i] = 1.0;
  if (l > 0) {
    int m = (int)n, nn = (int)l, nbi = (int)nb, info = 0;
    double *work = malloc(sizeof *work * (size_t)nb * (size_t)(m > nn ? m : nn));
    if ((t = malloc(sizeof *t * (size_t)nb * (size_t)l)) && work) {
      int borrowed = lask_blas_cores_begin(4.0 * (double)n * (double)l * (double)l);
      dgeqrt_(&m, &nn, &nbi, zd, &m, t, &nbi, work, &info);
      if (info == 0) dgemqrt_("L", "N", &m, &nn, &nn, &nbi, zd, &m, t, &nbi, qd, &m, work, &info, 1, 1);
      lask_blas_cores_end(borrowed);
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

LASK_AKERNEL_GROUP(lask_akernels_range, range_kernels)
