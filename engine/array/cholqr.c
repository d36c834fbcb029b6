/* cholqr.c — the kernels of the SVD of a tall matrix by CholeskyQR2, with TSQR
 * (Householder) as its fallback, decided while the graph runs (cholqr.h).
 *
 * Layout: arrays are C-ordered (row-major) float64 and every BLAS and LAPACK call
 * here takes them so (LAPACKE's row-major potrf and trcon copy their n×n matrix:
 * n² is nothing beside the m·n² of the products). Gram matrices keep their upper
 * triangle only (dsyrk's), R factors are upper triangular with zeros below.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"
#include "blas_cores.h"
#include "cholqr.h"
#include "linalg.h"
#include "ndarray.h"

static lask_ndarray *new_matrix(int64_t rows, int64_t cols, lask_err *err) {
  return lask_ndarray_new(LASK_F64, 2, (int64_t[]){rows, cols}, err);
}

/* A list of n owned values (given up to the list), or NULL with err set. */
static lask_status give_list(const lask_kernel *k, lask_value *out, int n, const lask_value *items,
                             lask_err *err) {
  lask_list *l = lask_list_new((size_t)n);
  if (!l) {
    for (int i = 0; i < n; i++) lask_release(items[i]);
    return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  }
  for (int i = 0; i < n; i++) l->items[i] = items[i];
  *out = lask_objval(&l->h);
  return LASK_OK;
}

/* v as a list (NULL when it is not one). */
static const lask_list *as_list(lask_value v) {
  return lask_isa(v, &lask_list_class) ? (const lask_list *)v.as.o : NULL;
}

/* Item i of list v as a 2-D float64 C-ordered array, or NULL. */
static lask_ndarray *item_matrix(lask_value v, size_t i) {
  const lask_list *l = as_list(v);
  lask_ndarray *a = l && i < l->n ? lask_ndarray_of(l->items[i]) : NULL;
  return a && a->ndim == 2 && a->dtype == LASK_F64 && lask_ndarray_is_c_contiguous(a) ? a : NULL;
}

/* Argument i as an n×n float64 C-ordered matrix (n < 0: any square), or NULL with an
 * error naming k. */
static lask_ndarray *square_f64(const lask_kernel *k, lask_value v, int64_t n, const char *what,
                                lask_err *err) {
  lask_ndarray *a = lask_ndarray_of(v);
  if (!a || a->ndim != 2 || a->dtype != LASK_F64 || !lask_ndarray_is_c_contiguous(a) ||
      a->shape[0] != a->shape[1] || (n >= 0 && a->shape[0] != n))
    return lask_akernel_fail(k, LASK_EINVAL, err, "%s must be a square float64 matrix", what), NULL;
  return a;
}

/* The sum of the upper triangles of the n×n Gram matrices in list l (their item
 * `item` when they are lists themselves, -1: the items), into a new matrix whose
 * lower triangle is zero; NULL with err set. */
static lask_ndarray *sum_upper(const lask_kernel *k, const lask_list *l, int item, lask_err *err) {
  lask_ndarray *s = NULL;
  for (size_t i = 0; i < l->n; i++) {
    lask_ndarray *g = item < 0 ? lask_ndarray_of(l->items[i]) : item_matrix(l->items[i], (size_t)item);
    if (!g || g->ndim != 2 || g->dtype != LASK_F64 || !lask_ndarray_is_c_contiguous(g) ||
        g->shape[0] != g->shape[1] || (s && g->shape[0] != s->shape[0])) {
      if (s) lask_release(lask_ndarray_value(s));
      return lask_akernel_fail(k, LASK_EINVAL, err, "item %zu is not a Gram matrix of the others' size",
                               i + 1),
             NULL;
    }
    int64_t n = g->shape[0];
    if (!s && !(s = new_matrix(n, n, err))) return lask_akernel_relabel(k, err), NULL;
    double *S = (double *)s->data;
    const double *G = (const double *)g->data;
    for (int64_t r = 0; r < n; r++)
      for (int64_t c = r; c < n; c++) S[r * n + c] += G[r * n + c];
  }
  if (!s) lask_akernel_fail(k, LASK_EINVAL, err, "no Gram matrices");
  return s;
}

/* In place: the upper Cholesky factor of the symmetric s (upper triangle given),
 * lower triangle zeroed. False when s is not numerically positive definite or not
 * finite. */
static bool cholesky_upper(lask_ndarray *s) {
  int64_t n = s->shape[0];
  double *S = (double *)s->data;
  for (int64_t r = 0; r < n; r++)
    for (int64_t c = r; c < n; c++)
      if (!isfinite(S[r * n + c])) return false;
  return lask_linalg_cholesky_in_place(S, n, false) == 0;
}

/* Rows per BLAS call when a task works through m×n by n×k in panels of rows: about
 * 2^29 flops a call (a few ms), so that a task that the other workers leave alone
 * mid-way takes their cores from its next call on (blas_cores.h: OpenBLAS reads its
 * thread count at each call) instead of finishing its block on one core. */
static int64_t panel_rows(int64_t n, int64_t k) {
  double rows = (double)(1 << 29) / (2.0 * (double)(n > 0 ? n : 1) * (double)(k > 0 ? k : 1));
  return rows < 64 ? 64 : (int64_t)rows;
}

/* gram(a) -> aᵀa (n×n; its upper triangle, the lower one zero), a any m×n array. */
static lask_status k_gram(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                          lask_err *err) {
  lask_ndarray *x;
  lask_akernel_mat a;
  if (lask_akernel_nargs(k, nargs, 1, 1, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  if (x->ndim != 2) return lask_akernel_fail(k, LASK_EINVAL, err, "expects a 2-D array");
  if (lask_akernel_mat_init(k, x, true, LASK_F64, &a, err)) return err->code;
  int64_t m = a.rows, n = a.cols;
  lask_ndarray *g = new_matrix(n, n, err);
  if (!g) return lask_akernel_mat_free(&a), lask_akernel_relabel(k, err);
  if (m > 0 && n > 0) {
    int borrowed = lask_blas_cores_begin((double)m * (double)n * (double)n);
    /* C-ordered: aᵀa; Fortran-ordered, the memory holds aᵀ row-major: (aᵀ)(aᵀ)ᵀ */
    int64_t h = panel_rows(n, n) * 2, step = a.trans ? 1 : a.ld; /* syrk: half a product's flops */
    for (int64_t lo = 0; lo < m; lo += h)
      cblas_dsyrk(CblasRowMajor, CblasUpper, a.trans ? CblasNoTrans : CblasTrans, (int)n,
                  (int)(m - lo < h ? m - lo : h), 1.0, (const double *)a.a->data + lo * step, (int)a.ld,
                  lo ? 1.0 : 0.0, (double *)g->data, (int)n);
    lask_blas_cores_end(borrowed);
  }
  lask_akernel_mat_free(&a);
  *out = lask_ndarray_value(g);
  return LASK_OK;
}

/* cholqr_r1(grams) -> R1 with xᵀx = R1ᵀR1 (the grams summed), or nil when the
 * Cholesky factorisation fails or R1's condition estimate is above
 * LASK_CHOLQR_MAX_COND: CholeskyQR would lose accuracy; TSQR takes over. */
static lask_status k_cholqr_r1(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                               lask_err *err) {
  const lask_list *l;
  if (lask_akernel_nargs(k, nargs, 1, 1, err) || lask_akernel_arg_arrays(k, args, 0, &l, err))
    return err->code;
  lask_ndarray *r = sum_upper(k, l, -1, err);
  if (!r) return err->code;
  int64_t n = r->shape[0];
  double rcond = 0.0;
  bool ok = n > 0 && cholesky_upper(r) &&
            LAPACKE_dtrcon(LAPACK_ROW_MAJOR, '1', 'U', 'N', (lapack_int)n, (const double *)r->data,
                           (lapack_int)n, &rcond) == 0 &&
            rcond * LASK_CHOLQR_MAX_COND >= 1.0;
  if (!ok) return lask_release(lask_ndarray_value(r)), *out = lask_nil(), LASK_OK;
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* cholqr_step(a, r1) -> {Q1, Q1ᵀQ1} with Q1 = a R1⁻¹ (a's rows), or nil when r1 is nil. */
static lask_status k_cholqr_step(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                                 lask_err *err) {
  lask_ndarray *a;
  if (lask_akernel_nargs(k, nargs, 2, 2, err) || lask_akernel_array(k, args, 0, &a, err)) return err->code;
  if (args[1].type == LASK_TNIL) return *out = lask_nil(), LASK_OK;
  if (a->ndim != 2) return lask_akernel_fail(k, LASK_EINVAL, err, "expects a 2-D array");
  int64_t m = a->shape[0], n = a->shape[1];
  lask_ndarray *r1 = square_f64(k, args[1], n, "R1", err);
  if (!r1) return err->code;
  lask_ndarray *q = lask_ndarray_copy(a, LASK_F64, err), *g = q ? new_matrix(n, n, err) : NULL;
  if (!g) {
    if (q) lask_release(lask_ndarray_value(q));
    return lask_akernel_relabel(k, err);
  }
  if (m > 0 && n > 0) {
    int borrowed = lask_blas_cores_begin(2.0 * (double)m * (double)n * (double)n);
    int64_t h = panel_rows(n, n);
    for (int64_t lo = 0; lo < m; lo += h) {
      int rows = (int)(m - lo < h ? m - lo : h);
      double *p = (double *)q->data + lo * n;
      cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, rows, (int)n, 1.0,
                  (const double *)r1->data, (int)n, p, (int)n);
      cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, rows, 1.0, p, (int)n, lo ? 1.0 : 0.0,
                  (double *)g->data, (int)n);
    }
    lask_blas_cores_end(borrowed);
  }
  return give_list(k, out, 2, (lask_value[]){lask_ndarray_value(q), lask_ndarray_value(g)}, err);
}

/* b = a·b in place for upper-triangular n×n a and b (row-major): column block J of
 * b has rows only up to its last column, so it is a's leading triangle times them
 * (n³/3 flops rather than dtrmm's n³ on a full b). */
static void upper_times_upper(const double *a, double *b, int64_t n) {
  enum { COLS = 128 };
  for (int64_t j0 = 0; j0 < n; j0 += COLS) {
    int64_t j1 = j0 + COLS < n ? j0 + COLS : n;
    cblas_dtrmm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, (int)j1, (int)(j1 - j0),
                1.0, a, (int)n, b + j0, (int)n);
  }
}

/* cholqr_top(steps, r1) -> {R, R2}: R2 the Cholesky factor of ΣQ1ᵀQ1, R = R2·R1 (x =
 * Q R with Q = Q1 R2⁻¹); nil when r1 is nil, or when Q1 is too far from orthonormal
 * for the second pass to make it so (‖Q1ᵀQ1 − I‖_F > LASK_CHOLQR_MAX_DEPARTURE). */
static lask_status k_cholqr_top(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                                lask_err *err) {
  const lask_list *steps = nargs == 2 ? as_list(args[0]) : NULL;
  if (!steps) return lask_akernel_fail(k, LASK_EINVAL, err, "expects the steps' list and R1");
  if (args[1].type == LASK_TNIL) return *out = lask_nil(), LASK_OK;
  lask_ndarray *r1 = square_f64(k, args[1], -1, "R1", err);
  if (!r1) return err->code;
  lask_ndarray *r2 = sum_upper(k, steps, 1, err);
  if (!r2) return err->code;
  int64_t n = r2->shape[0];
  if (n != r1->shape[0]) {
    lask_release(lask_ndarray_value(r2));
    return lask_akernel_fail(k, LASK_EINVAL, err, "the steps' Gram matrices and R1 differ in size");
  }
  const double *G = (const double *)r2->data;
  double dep = 0.0; /* ‖G − I‖_F², the upper triangle counted for both */
  for (int64_t r = 0; r < n; r++)
    for (int64_t c = r; c < n; c++) {
      double d = G[r * n + c] - (r == c ? 1.0 : 0.0);
      dep += (r == c ? 1.0 : 2.0) * d * d;
    }
  if (!(dep <= LASK_CHOLQR_MAX_DEPARTURE * LASK_CHOLQR_MAX_DEPARTURE) || !cholesky_upper(r2)) {
    lask_release(lask_ndarray_value(r2));
    return *out = lask_nil(), LASK_OK;
  }
  lask_ndarray *r = lask_ndarray_copy(r1, LASK_F64, err);
  if (!r) return lask_release(lask_ndarray_value(r2)), lask_akernel_relabel(k, err);
  int borrowed = lask_blas_cores_begin((double)n * (double)n * (double)n / 3.0);
  upper_times_upper((const double *)r2->data, (double *)r->data, n);
  lask_blas_cores_end(borrowed);
  return give_list(k, out, 2, (lask_value[]){lask_ndarray_value(r), lask_ndarray_value(r2)}, err);
}

/* cholqr_house(a, top) -> qr_factor(a) = {F, R} when top is nil (TSQR takes over),
 * else nil. */
static lask_status k_cholqr_house(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                                  lask_err *err) {
  if (lask_akernel_nargs(k, nargs, 2, 2, err)) return err->code;
  if (args[1].type != LASK_TNIL) return *out = lask_nil(), LASK_OK;
  return lask_linalg_qr_factor(k, args, 1, out, err);
}

/* cholqr_merge(houses, top) -> {R, R2 or nil, F or nil}: top's R and R2 when
 * CholeskyQR2 went through; else TSQR's second stage: the houses' R factors
 * stacked and merged (F stands for its Q; nil for a single block). */
static lask_status k_cholqr_merge(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                                  lask_err *err) {
  const lask_list *hs = nargs == 2 ? as_list(args[0]) : NULL;
  if (!hs || hs->n == 0) return lask_akernel_fail(k, LASK_EINVAL, err, "expects the houses' list and top");
  if (args[1].type != LASK_TNIL) {
    lask_ndarray *r = item_matrix(args[1], 0), *r2 = item_matrix(args[1], 1);
    if (!r || !r2) return lask_akernel_fail(k, LASK_EINVAL, err, "top must be a list {R, R2}");
    return give_list(
        k, out, 3,
        (lask_value[]){lask_retain(lask_ndarray_value(r)), lask_retain(lask_ndarray_value(r2)), lask_nil()},
        err);
  }
  int64_t n = -1, p = (int64_t)hs->n;
  for (size_t i = 0; i < hs->n; i++) {
    lask_ndarray *ri = item_matrix(hs->items[i], 1);
    if (!ri || ri->shape[0] != ri->shape[1] || (n >= 0 && ri->shape[0] != n))
      return lask_akernel_fail(k, LASK_EINVAL, err, "house %zu is not a factor of the others' size", i + 1);
    n = ri->shape[0];
  }
  if (p == 1) {
    lask_ndarray *r0 = item_matrix(hs->items[0], 1);
    return give_list(k, out, 3, (lask_value[]){lask_retain(lask_ndarray_value(r0)), lask_nil(), lask_nil()},
                     err);
  }
  lask_ndarray *stack = new_matrix(p * n, n, err);
  if (!stack) return lask_akernel_relabel(k, err);
  for (int64_t i = 0; i < p; i++)
    memcpy(stack->data + i * n * n * (int64_t)sizeof(double), item_matrix(hs->items[i], 1)->data,
           (size_t)(n * n) * sizeof(double));
  lask_value fr = lask_nil(), sv = lask_ndarray_value(stack);
  lask_status st = lask_linalg_qr_factor(k, &sv, 1, &fr, err); /* a stack of triangles: merged as a tree */
  lask_release(sv);
  if (st) return st;
  const lask_list *l = as_list(fr);
  lask_value items[3] = {lask_retain(l->items[1]), lask_nil(), lask_retain(l->items[0])};
  lask_release(fr);
  return give_list(k, out, 3, items, err);
}

/* cholqr_w(merged, ur) -> what each block's U takes, for U_R (n×n) of R's SVD:
 * R2⁻¹·U_R (CholeskyQR2), the second stage's Q·U_R (TSQR, p·n × n), or U_R. */
static lask_status k_cholqr_w(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                              lask_err *err) {
  const lask_list *mg = nargs == 2 ? as_list(args[0]) : NULL;
  lask_ndarray *ur = nargs == 2 ? lask_ndarray_of(args[1]) : NULL;
  if (!mg || mg->n != 3 || !ur) return lask_akernel_fail(k, LASK_EINVAL, err, "expects the merge and U_R");
  if (mg->items[1].type != LASK_TNIL) {
    lask_ndarray *r2 = square_f64(k, mg->items[1], -1, "R2", err);
    if (!r2) return err->code;
    int64_t n = r2->shape[0];
    if (ur->ndim != 2 || ur->shape[0] != n)
      return lask_akernel_fail(k, LASK_EINVAL, err, "U_R must have as many rows as R2");
    lask_ndarray *w = lask_ndarray_copy(ur, LASK_F64, err);
    if (!w) return lask_akernel_relabel(k, err);
    if (n > 0 && w->shape[1] > 0) {
      int borrowed = lask_blas_cores_begin((double)n * (double)n * (double)w->shape[1]);
      cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, (int)n, (int)w->shape[1],
                  1.0, (const double *)r2->data, (int)n, (double *)w->data, (int)w->shape[1]);
      lask_blas_cores_end(borrowed);
    }
    *out = lask_ndarray_value(w);
    return LASK_OK;
  }
  if (mg->items[2].type != LASK_TNIL)
    return lask_linalg_qr_apply(k, (lask_value[]){mg->items[2], args[1]}, 2, out, err);
  *out = lask_retain(args[1]);
  return LASK_OK;
}

/* The two operands of block i's U: {Q1_i, W} (CholeskyQR2: a product) or {F_i, W's
 * slice i} (TSQR: qr_apply), house telling which. args: step, house, w, i. The
 * slice is a new view (released by the caller through *held). */
static lask_status u_operands(const lask_kernel *k, const lask_value *args, int nargs, lask_value ops[2],
                              bool *house, lask_value *held, lask_err *err) {
  int64_t i;
  *held = lask_nil();
  if (lask_akernel_nargs(k, nargs, 4, 4, err) || lask_akernel_arg_int(k, args, 3, &i, err)) return err->code;
  lask_ndarray *w = lask_ndarray_of(args[2]);
  if (!w || w->ndim != 2) return lask_akernel_fail(k, LASK_EINVAL, err, "argument 3 must be a 2-D array");
  *house = args[1].type != LASK_TNIL;
  if (!*house) {
    lask_ndarray *q1 = item_matrix(args[0], 0);
    if (!q1) return lask_akernel_fail(k, LASK_EINVAL, err, "neither the step nor the house has a factor");
    ops[0] = lask_ndarray_value(q1), ops[1] = args[2];
    return LASK_OK;
  }
  lask_ndarray *r = item_matrix(args[1], 1);
  if (!r) return lask_akernel_fail(k, LASK_EINVAL, err, "the house must be qr_factor's {F, R}");
  int64_t n = r->shape[0];
  ops[0] = as_list(args[1])->items[0], ops[1] = args[2];
  if (w->shape[0] > n && n > 0) { /* the second stage's Q·U_R: block i's slice */
    if (i < 0 || (i + 1) * n > w->shape[0])
      return lask_akernel_fail(k, LASK_EINVAL, err, "block index out of range");
    lask_ndarray *v = lask_ndarray_view(w->buf, w->data + i * n * w->strides[0], w->dtype, 2,
                                        (int64_t[]){n, w->shape[1]}, w->strides, err);
    if (!v) return lask_akernel_relabel(k, err);
    ops[1] = *held = lask_ndarray_value(v);
  }
  return LASK_OK;
}

/* out (m×k, rows ldo apart) = q (m×n) · w (n×k), in panels of rows. */
static void times_w(const lask_ndarray *q, const lask_ndarray *w, double *out, int64_t ldo) {
  int64_t m = q->shape[0], n = q->shape[1], kk = w->shape[1], h = panel_rows(n, kk);
  if (m == 0 || kk == 0) return;
  int borrowed = lask_blas_cores_begin(2.0 * (double)m * (double)n * (double)kk);
  for (int64_t lo = 0; lo < m; lo += h)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m - lo < h ? m - lo : h), (int)kk, (int)n,
                1.0, (const double *)q->data + lo * n, (int)n, (const double *)w->data,
                (int)w->strides[0] / 8, 0.0, out + lo * ldo, (int)ldo);
  lask_blas_cores_end(borrowed);
}

/* The C-ordered float64 W of cholqr_u's CholeskyQR2 path (w itself, retained, or a copy). */
static lask_ndarray *plain_w(const lask_kernel *k, lask_value v, int64_t n, lask_err *err) {
  lask_ndarray *w = lask_ndarray_of(v);
  if (!w || w->ndim != 2 || w->shape[0] != n)
    return lask_akernel_fail(k, LASK_EINVAL, err, "W must have as many rows as Q1 has columns"), NULL;
  if (w->dtype == LASK_F64 && lask_ndarray_is_c_contiguous(w)) return lask_retain(v), w;
  lask_ndarray *c = lask_ndarray_copy(w, LASK_F64, err);
  if (!c) lask_akernel_relabel(k, err);
  return c;
}

/* cholqr_u(step, house, w, i) -> block i of U: Q1_i·W, or Q_i·W_i through qr_apply. */
static lask_status k_cholqr_u(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                              lask_err *err) {
  lask_value ops[2], held;
  bool house;
  if (u_operands(k, args, nargs, ops, &house, &held, err)) return err->code;
  if (house) {
    lask_status st = lask_linalg_qr_apply(k, ops, 2, out, err);
    lask_release(held);
    return st;
  }
  lask_ndarray *q = lask_ndarray_of(ops[0]), *w = plain_w(k, ops[1], q->shape[1], err);
  lask_ndarray *u = w ? new_matrix(q->shape[0], w->shape[1], err) : NULL;
  if (u) times_w(q, w, (double *)u->data, w->shape[1]);
  if (w) lask_release(lask_ndarray_value(w));
  if (!u) return err->code ? err->code : lask_akernel_relabel(k, err);
  *out = lask_ndarray_value(u);
  return LASK_OK;
}

/* cholqr_u's into entry (kernel.h): the block straight into dest (rows of contiguous
 * float64 at the offset); declines what does not fit so. */
static lask_status k_cholqr_u_into(const lask_kernel *k, const lask_value *args, int nargs,
                                   const lask_ndarray *dest, const int64_t *off, bool *done, lask_err *err) {
  lask_value ops[2], held;
  bool house;
  *done = false;
  if (u_operands(k, args, nargs, ops, &house, &held, err)) return err->code;
  if (house) {
    lask_status st = lask_linalg_qr_apply_into(k, ops, 2, dest, off, done, err);
    lask_release(held);
    return st;
  }
  lask_ndarray *q = lask_ndarray_of(ops[0]), *w = plain_w(k, ops[1], q->shape[1], err);
  if (!w) return err->code;
  int64_t m = q->shape[0], kk = w->shape[1];
  bool fits = dest->dtype == LASK_F64 && dest->ndim == 2 && dest->strides[1] == 8 &&
              dest->strides[0] % 8 == 0 && dest->strides[0] >= 8 * dest->shape[1] && off[0] >= 0 &&
              off[1] >= 0 && off[0] + m <= dest->shape[0] && off[1] + kk <= dest->shape[1];
  if (fits) times_w(q, w, (double *)lask_ndarray_ptr(dest, off), dest->strides[0] / 8);
  lask_release(lask_ndarray_value(w));
  *done = fits;
  return LASK_OK;
}

static const lask_kernel kernels[] = {
    LASK_KERNEL_STATIC("gram", k_gram),
    LASK_KERNEL_STATIC("cholqr_r1", k_cholqr_r1),
    LASK_KERNEL_STATIC("cholqr_step", k_cholqr_step),
    LASK_KERNEL_STATIC("cholqr_top", k_cholqr_top),
    LASK_KERNEL_STATIC("cholqr_house", k_cholqr_house),
    LASK_KERNEL_STATIC("cholqr_merge", k_cholqr_merge),
    LASK_KERNEL_STATIC("cholqr_w", k_cholqr_w),
    LASK_KERNEL_STATIC_INTO("cholqr_u", k_cholqr_u, k_cholqr_u_into),
};

LASK_AKERNEL_GROUP(lask_akernels_cholqr, kernels)
