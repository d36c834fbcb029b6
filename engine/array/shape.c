/* shape.c — the shape and counting kernels of lask.array (array_kernels.h):
 * broadcast_to (a copy), bincount and histogram
 * (per-block counts that lask.array sums over blocks), and solve_triangular (one
 * triangular block against a right-hand side, BLAS dtrsm).
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"
#include "blas_cores.h"

/* broadcast_to(x, shape): x broadcast to shape by numpy's rules, as a new
 * C-contiguous array (a copy: results are never views with zero strides). */
static lask_status k_broadcast_to(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                  lask_err *err) {
  lask_ndarray *x;
  int ndim;
  int64_t shape[LASK_MAXDIM];
  if (lask_akernel_nargs(k, n, 2, 2, err) || lask_akernel_array(k, args, 0, &x, err) ||
      lask_akernel_arg_shape(k, args, 1, &ndim, shape, err))
    return err->code;
  lask_ndarray *v = lask_ndarray_broadcast_to(x, ndim, shape, err);
  if (!v) return lask_akernel_relabel(k, err);
  lask_ndarray *c = lask_ndarray_copy(v, x->dtype, err);
  lask_release(lask_ndarray_value(v));
  if (!c) return lask_akernel_relabel(k, err);
  *out = lask_ndarray_value(c);
  return LASK_OK;
}

/* The optional weights argument i: an array of x's shape, or NULL (nil). */
static lask_status weights_arg(const lask_kernel *k, const lask_value *args, int n, int i,
                               const lask_ndarray *x, lask_ndarray **w, lask_err *err) {
  *w = NULL;
  if (n <= i || args[i].type == LASK_TNIL) return LASK_OK;
  if (lask_akernel_array(k, args, i, w, err)) return err->code;
  if ((*w)->ndim != x->ndim || memcmp((*w)->shape, x->shape, sizeof(int64_t) * (size_t)x->ndim) != 0)
    return lask_akernel_fail(k, LASK_EINVAL, err, "the weights must have the shape of x");
  return LASK_OK;
}

/* x's elements (and w's) read in C order, TILE at a time, converted: any layout
 * costs one sequential pass. */
enum { TILE = 4096 };

typedef struct tiles {
  lask_cursor cx, cw;
  const lask_ndarray *w;
  int64_t size, at;
} tiles;

static void tiles_init(tiles *t, const lask_ndarray *x, const lask_ndarray *w) {
  t->w = w, t->size = lask_ndarray_size(x), t->at = 0;
  if (t->size) lask_cursor_init(&t->cx, x->dtype, x->data, x->ndim, x->shape, x->strides);
  if (t->size && w) lask_cursor_init(&t->cw, w->dtype, w->data, w->ndim, w->shape, w->strides);
}

/* Reads the next tile: x's elements as dt into vals, w's as float64 into ws (when
 * there are weights); gives their number, 0 at the end. */
static int64_t tiles_next(tiles *t, lask_dtype dt, void *vals, double *ws) {
  int64_t m = t->size - t->at < TILE ? t->size - t->at : TILE;
  if (m <= 0) return 0;
  lask_cursor_read(&t->cx, dt, vals, m);
  if (t->w) lask_cursor_read(&t->cw, LASK_F64, ws, m);
  t->at += m;
  return m;
}

/* bincount(x, minlength [, weights]): counts of each value 0..minlength-1 among x's
 * integer (or boolean) elements, int64 (float64 sums of the weights with weights).
 * A negative value, or one >= minlength, is an error: the result's length is fixed
 * before the data is seen. minlength -1: the length is x's largest value + 1 (0
 * for an empty x), as numpy's bincount without minlength. */
static lask_status k_bincount(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                              lask_err *err) {
  lask_ndarray *x, *w;
  int64_t len;
  if (lask_akernel_nargs(k, n, 2, 3, err) || lask_akernel_array(k, args, 0, &x, err) ||
      lask_akernel_arg_int(k, args, 1, &len, err) || weights_arg(k, args, n, 2, x, &w, err))
    return err->code;
  if (x->dtype != LASK_I64 && x->dtype != LASK_BOOL)
    return lask_akernel_fail(k, LASK_ETYPE, err, "x must hold integers or booleans, not %s",
                             lask_dtype_name(x->dtype));
  if (len < -1)
    return lask_akernel_fail(k, LASK_EINVAL, err, "minlength must be >= 0 (or -1: x's largest + 1)");
  int64_t vals[TILE], m;
  double ws[TILE];
  tiles t;
  if (len == -1) { /* a first pass for the length */
    len = 0;
    tiles_init(&t, x, NULL);
    while ((m = tiles_next(&t, LASK_I64, vals, ws)) > 0)
      for (int64_t i = 0; i < m; i++) len = vals[i] >= len ? vals[i] + 1 : len;
  }
  lask_ndarray *r = lask_ndarray_new(w ? LASK_F64 : LASK_I64, 1, &len, err);
  if (!r) return lask_akernel_relabel(k, err);
  int64_t *counts = (int64_t *)r->data;
  double *sums = (double *)r->data;
  tiles_init(&t, x, w);
  while ((m = tiles_next(&t, LASK_I64, vals, ws)) > 0) {
    for (int64_t i = 0; i < m; i++) {
      int64_t v = vals[i];
      if (v < 0 || v >= len) {
        lask_release(lask_ndarray_value(r));
        return lask_akernel_fail(
            k, LASK_EINVAL, err,
            v < 0 ? "x holds %lld: values must be >= 0"
                  : "x holds %lld, beyond minlength %lld: give a minlength above every value",
            (long long)v, (long long)len);
      }
      if (w)
        sums[v] += ws[i];
      else
        counts[v]++;
    }
  }
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* bincount_sum(parts): the sum of a list of 1-D int64 or float64 arrays of any
 * lengths, the shorter ones taken as padded with zeros (bincount's per-block counts
 * without minlength); float64 if any part is. */
static lask_status k_bincount_sum(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                  lask_err *err) {
  const lask_list *parts;
  if (lask_akernel_nargs(k, n, 1, 1, err) || lask_akernel_arg_arrays(k, args, 0, &parts, err))
    return err->code;
  int64_t len = 0;
  bool isf = false;
  for (size_t i = 0; i < parts->n; i++) {
    const lask_ndarray *p = lask_ndarray_of(parts->items[i]);
    if (p->ndim != 1) return lask_akernel_fail(k, LASK_EINVAL, err, "the parts must be 1-D");
    len = p->shape[0] > len ? p->shape[0] : len;
    isf = isf || p->dtype == LASK_F64 || p->dtype == LASK_F32;
  }
  lask_ndarray *r = lask_ndarray_new(isf ? LASK_F64 : LASK_I64, 1, &len, err);
  if (!r) return lask_akernel_relabel(k, err);
  for (size_t i = 0; i < parts->n; i++) {
    const lask_ndarray *p = lask_ndarray_of(parts->items[i]);
    for (int64_t j = 0; j < p->shape[0]; j++) {
      const char *e = p->data + j * p->strides[0];
      if (isf)
        ((double *)(void *)r->data)[j] += lask_elem_f64(p->dtype, e);
      else
        ((int64_t *)(void *)r->data)[j] += lask_elem_i64(p->dtype, e);
    }
  }
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* histogram(x, edges [, weights]): the counts of x's elements in the bins between
 * consecutive edges (a list of increasing numbers), as numpy.histogram: each bin
 * half-open [a, b) but the last, [a, b]; values outside, and NaN, are not counted.
 * int64 (float64 sums of the weights with weights). */
static lask_status k_histogram(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                               lask_err *err) {
  lask_ndarray *x, *w;
  if (lask_akernel_nargs(k, n, 2, 3, err) || lask_akernel_array(k, args, 0, &x, err) ||
      weights_arg(k, args, n, 2, x, &w, err))
    return err->code;
  const lask_list *l = lask_isa(args[1], &lask_list_class) ? (const lask_list *)args[1].as.o : NULL;
  if (!l || l->n < 2)
    return lask_akernel_fail(k, LASK_EINVAL, err, "edges must be a list of at least 2 numbers");
  double *edges = malloc(l->n * sizeof *edges);
  if (!edges) return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  for (size_t i = 0; i < l->n; i++) {
    if (!lask_tonumber(l->items[i], &edges[i]) || (i > 0 && !(edges[i] >= edges[i - 1]))) {
      free(edges);
      return lask_akernel_fail(k, LASK_EINVAL, err, "edges must be increasing numbers");
    }
  }
  int64_t nbins = (int64_t)l->n - 1;
  lask_ndarray *r = lask_ndarray_new(w ? LASK_F64 : LASK_I64, 1, &nbins, err);
  if (!r) {
    free(edges);
    return lask_akernel_relabel(k, err);
  }
  int64_t *counts = (int64_t *)r->data;
  double *sums = (double *)r->data, lo = edges[0], hi = edges[nbins];
  double vals[TILE], ws[TILE];
  int64_t m;
  tiles t;
  tiles_init(&t, x, w);
  while ((m = tiles_next(&t, LASK_F64, vals, ws)) > 0) {
    for (int64_t i = 0; i < m; i++) {
      double v = vals[i];
      if (!(v >= lo && v <= hi)) continue; /* outside, or NaN */
      int64_t b;
      if (v == hi) {
        b = nbins - 1;
      } else { /* the last edge <= v: binary search */
        int64_t a = 0, z = nbins;
        while (z - a > 1) {
          int64_t mid = (a + z) / 2;
          if (edges[mid] <= v)
            a = mid;
          else
            z = mid;
        }
        b = a;
      }
      if (w)
        sums[b] += ws[i];
      else
        counts[b]++;
    }
  }
  free(edges);
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* Lua's truth: nil and false are false, anything else true. */
static bool truthy(lask_value v) { return !(v.type == LASK_TNIL || (v.type == LASK_TBOOL && !v.as.b)); }

/* solve_triangular(a, b, lower [, trans [, unit_diagonal]]): x with op(a) x = b for a
 * square triangular a (only its lower or upper triangle is read; op(a) is a, or aᵀ when
 * trans), b 1-D or 2-D; float64. A zero on the diagonal (not unit_diagonal) is an error. */
static lask_status k_solve_triangular(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                      lask_err *err) {
  lask_ndarray *a, *b;
  if (lask_akernel_nargs(k, n, 3, 5, err) || lask_akernel_array(k, args, 0, &a, err) ||
      lask_akernel_array(k, args, 1, &b, err))
    return err->code;
  bool lower = truthy(args[2]), trans = n > 3 && truthy(args[3]), unit = n > 4 && truthy(args[4]);
  if (a->ndim != 2 || a->shape[0] != a->shape[1])
    return lask_akernel_fail(k, LASK_EINVAL, err, "a must be a square matrix");
  if ((b->ndim != 1 && b->ndim != 2) || b->shape[0] != a->shape[0])
    return lask_akernel_fail(k, LASK_EINVAL, err, "b must be 1-D or 2-D with %lld rows",
                             (long long)a->shape[0]);
  int64_t m = a->shape[0], nrhs = b->ndim == 1 ? 1 : b->shape[1];
  lask_ndarray *ac = lask_ndarray_copy(a, LASK_F64, err);
  lask_ndarray *x = ac ? lask_ndarray_copy(b, LASK_F64, err) : NULL;
  if (!x) {
    if (ac) lask_release(lask_ndarray_value(ac));
    return lask_akernel_relabel(k, err);
  }
  const double *A = (const double *)ac->data;
  for (int64_t i = 0; i < m && !unit; i++) {
    if (A[i * m + i] == 0) {
      lask_release(lask_ndarray_value(ac)), lask_release(lask_ndarray_value(x));
      return lask_akernel_fail(k, LASK_EKERNEL, err, "singular matrix: a zero on the diagonal at row %lld",
                               (long long)i + 1);
    }
  }
  if (m > 0 && nrhs > 0) {
    int borrowed = lask_blas_cores_begin((double)m * (double)m * (double)nrhs);
    cblas_dtrsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, trans ? CblasTrans : CblasNoTrans,
                unit ? CblasUnit : CblasNonUnit, (int)m, (int)nrhs, 1.0, A, (int)m, (double *)x->data,
                (int)nrhs);
    lask_blas_cores_end(borrowed);
  }
  lask_release(lask_ndarray_value(ac));
  *out = lask_ndarray_value(x);
  return LASK_OK;
}

static const lask_kernel shape_kernels[] = {
    LASK_KERNEL_STATIC("broadcast_to", k_broadcast_to),         LASK_KERNEL_STATIC("bincount", k_bincount),
    LASK_KERNEL_STATIC("bincount_sum", k_bincount_sum),         LASK_KERNEL_STATIC("histogram", k_histogram),
    LASK_KERNEL_STATIC("solve_triangular", k_solve_triangular),
};

LASK_AKERNEL_GROUP(lask_akernels_shape, shape_kernels)
