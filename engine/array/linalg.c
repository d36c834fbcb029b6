/* linalg.c — dense linear algebra kernels (linalg.h) on LAPACKE and CBLAS.
 *
 * Layout: our arrays are C-ordered (row-major) and LAPACKE's row-major entry points
 * copy-transpose their input and output. A row-major m×n matrix is, read as
 * column-major, its transpose. A tall block's QR is taken in panels of
 * cache-friendly height whose R factors are factored again (a TSQR inside the
 * kernel, as a single factorisation of a very tall block is memory-bound); each
 * panel is copied, transposed, into column-major order as it is factored (it is
 * copied out of the input anyway) and factored by LAPACK's blocked compact-WY QR
 * (dgeqrt, blocks of QR_NB reflectors), which runs 1.2x the speed of the LQ of the
 * untransposed panel (dgelqt: 2048×100 in 1.8 ms against 2.2, applying Q 1.9
 * against 2.2, measured here; the same on 1000×1000). Q·W is formed straight into
 * row-major order: its transpose, [Wᵀ 0]·Qᵀ, is column-major. The stacks of R
 * factors stay row-major: their triangles merge with the triangular-pentagonal LQ
 * (dtplqt) of their transposes, with no transposition at all.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"
#include "blas_cores.h"
#include "lapack_f.h"
#include "linalg.h"
#include "ndarray.h"

/* Gives argument i as a C-contiguous float64 matrix (a copy unless it already is
 * one, then retained); checks it is 2-D and finite. */
static lask_ndarray *matrix_arg(const lask_kernel *k, const lask_value *args, int i, lask_err *err) {
  lask_ndarray *a = lask_ndarray_of(args[i]);
  if (!a)
    return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s: argument %d is a %s, not an array", k->name,
                        i + 1, lask_typename(args[i])),
           NULL;
  if (a->ndim != 2)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: argument %d must be 2-D, it has %d dimension%s",
                        k->name, i + 1, a->ndim, a->ndim == 1 ? "" : "s"),
           NULL;
  lask_ndarray *m = a->dtype == LASK_F64 && lask_ndarray_is_c_contiguous(a)
                        ? (lask_retain(args[i]), a)
                        : lask_ndarray_copy(a, LASK_F64, err);
  if (!m) return NULL;
  const double *x = (const double *)m->data;
  for (int64_t j = 0, n = lask_ndarray_size(m); j < n; j++)
    if (!isfinite(x[j])) {
      lask_release(lask_ndarray_value(m));
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: argument %d contains NaN or Inf", k->name,
                          i + 1),
             NULL;
    }
  return m;
}

/* A writable copy of m (m is released). */
static lask_ndarray *own(lask_ndarray *m, lask_err *err) {
  if (atomic_load(&m->h.refs) == 1 && atomic_load(&m->buf->h.refs) == 1) return m;
  lask_ndarray *c = lask_ndarray_copy(m, LASK_F64, err);
  lask_release(lask_ndarray_value(m));
  return c;
}

static lask_ndarray *new_matrix(int64_t rows, int64_t cols, lask_err *err) {
  return lask_ndarray_new(LASK_F64, 2, (int64_t[]){rows, cols}, err);
}

static lask_status give_list(lask_value *out, int n, lask_ndarray **items, lask_err *err) {
  lask_list *l = lask_list_new((size_t)n);
  if (!l) {
    for (int i = 0; i < n; i++) lask_release(lask_ndarray_value(items[i]));
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory");
  }
  for (int i = 0; i < n; i++) l->items[i] = lask_ndarray_value(items[i]);
  *out = lask_objval(&l->h);
  return LASK_OK;
}

/* --- QR --- */

enum { PANEL_ROWS = 2048, QR_NB = 32 };

/* The reflectors per compact-WY block for n columns (T is nb×n per panel). */
static int64_t qr_nb(int64_t n) { return n < QR_NB ? (n > 0 ? n : 1) : QR_NB; }

/* A tall block is factored in panels of about PANEL_ROWS rows (at least 8n): a
 * panel's QR keeps its working set in cache; the panels' R factors, stacked, are
 * factored again, and that second Q is kept explicit (it is small). */
static int64_t panel_count(int64_t m, int64_t n) {
  /* panels of fewer than 8n rows would add more work (their R factors, factored
   * again) than their better cache use saves */
  int64_t h = PANEL_ROWS > 8 * n ? PANEL_ROWS : 8 * n;
  return n > 0 && m > 2 * h ? (m + h - 1) / h : 1;
}

static int64_t panel_lo(int64_t m, int64_t p, int64_t i) { return m * i / p; }

/* Copies the rows×n matrix at src (element (i, j) at src[i·rs + j·cs]) into the
 * column-major dst (leading dimension rows): column by column when src is
 * column-major, else in tiles of rows that stay in cache; false when a value is not
 * finite. */
static bool copy_panel(double *dst, const double *src, int64_t rs, int64_t cs, int64_t rows, int64_t n) {
  enum { TILE = 16 };
  bool finite = true;
  for (int64_t i0 = 0; i0 < rows; i0 += rs == 1 ? rows : TILE) {
    int64_t i1 = rs == 1 ? rows : i0 + TILE < rows ? i0 + TILE : rows;
    for (int64_t j = 0; j < n; j++)
      for (int64_t i = i0; i < i1; i++) {
        double v = src[i * rs + j * cs];
        finite = finite && isfinite(v);
        dst[j * rows + i] = v;
      }
  }
  return finite;
}

/* In-place QR of the column-major rows×n panel a (rows >= n): a keeps the
 * reflectors, t (qr_nb(n)×n) their block coefficients, r (n×n, row-major) gets R. */
static int factor_panel(double *a, int64_t rows, int64_t n, double *t, double *r) {
  int m = (int)rows, nn = (int)n, nb = (int)qr_nb(n), info = 0;
  double *work = nn > 0 ? malloc((size_t)nb * (size_t)n * sizeof *work) : NULL;
  if (nn > 0 && !work) return -1;
  if (nn > 0) dgeqrt_(&m, &nn, &nb, a, &m, t, &nb, work, &info);
  free(work);
  for (int64_t i = 0; info == 0 && i < n; i++)
    for (int64_t j = 0; j < n; j++) r[i * n + j] = j >= i ? a[j * rows + i] : 0.0;
  return info;
}

/* out (rows×k, row-major) = Q·W for the panel's reflectors v and t, W n×k; work
 * holds k·qr_nb(n) doubles. */
static int apply_panel(const double *v, int64_t rows, int64_t n, const double *t, const double *w, int64_t k,
                       double *out, double *work) {
  int m = (int)rows, nn = (int)n, kk = (int)k, nb = (int)qr_nb(n), info = 0;
  /* out row-major (rows×k) is outᵀ column-major (k×rows) = [Wᵀ 0]·Qᵀ; rows n.. start at zero */
  memcpy(out, w, (size_t)(n * k) * sizeof *out);
  memset(out + n * k, 0, (size_t)((rows - n) * k) * sizeof *out);
  if (nn > 0 && kk > 0) dgemqrt_("R", "T", &kk, &m, &nn, &nb, v, &m, t, &nb, out, &kk, work, &info, 1, 1);
  return info;
}

/* --- stacks of triangular factors ---
 *
 * TSQR's second stage factors p upper-triangular n×n R factors stacked into a
 * p·n × n matrix. A dense QR of it would spend 2·p·n³ flops on zeros; merging the
 * triangles two by two with LAPACK's triangular-pentagonal LQ (dtplqt, on the
 * transposes as everywhere here) costs (2/3)·n³ a merge: 5 R's of 1000×1000 merge
 * in 0.1 s where the dense QR took 0.5. The merges form a binary tree; its Q is
 * applied from the root down (dtpmlqt). */

/* The merges of p stacked factors, level by level: merge j folds triangle b[j] into
 * triangle a[j] (a[j] < b[j]); triangle 0 ends up holding R. Returns p - 1. */
static int64_t tree_merges(int64_t p, int64_t *a, int64_t *b) {
  int64_t j = 0;
  for (int64_t step = 1; step < p; step *= 2)
    for (int64_t i = 0; i + step < p; i += 2 * step) a[j] = i, b[j] = i + step, j++;
  return j;
}

/* p when a (m×n) is p >= 2 upper-triangular n×n blocks stacked, else 0 (and 0
 * for a single column, which a dense QR reduces in one pass). */
static int64_t triangle_stack(const lask_ndarray *a) {
  int64_t m = a->shape[0], n = a->shape[1];
  if (n < 2 || m % n != 0 || m / n < 2) return 0;
  const double *x = (const double *)a->data;
  for (int64_t row = 0; row < m; row++)
    for (int64_t c = 0; c < row % n; c++)
      if (x[row * n + c] != 0.0) return 0;
  return m / n;
}

/* Merges the p triangles of s (p·n × n, row-major) in place: triangle 0 becomes R,
 * the others the merges' reflectors; t ((p-1)·nb × n) their block coefficients. */
static int tree_factor(double *s, int64_t p, int64_t n, double *t) {
  int nn = (int)n, nb = (int)qr_nb(n), info = 0;
  int64_t *a = malloc((size_t)p * 2 * sizeof *a), *b = a ? a + p : NULL;
  double *work = malloc((size_t)nb * (size_t)n * sizeof *work);
  if (!a || !work) return free(a), free(work), -1;
  for (int64_t j = 0, nm = tree_merges(p, a, b); info == 0 && j < nm; j++)
    dtplqt_(&nn, &nn, &nn, &nb, s + a[j] * n * n, &nn, s + b[j] * n * n, &nn, t + j * nb * n, &nb, work,
            &info);
  free(a), free(work);
  return info;
}

/* out (p·n × k) = Q·[W; 0] for the merges of tree_factor, W n×k. */
static int tree_apply(const double *s, const double *t, int64_t p, int64_t n, const double *w, int64_t k,
                      double *out) {
  int nn = (int)n, kk = (int)k, nb = (int)qr_nb(n), info = 0;
  int64_t *a = malloc((size_t)p * 2 * sizeof *a), *b = a ? a + p : NULL;
  double *work = malloc((size_t)nb * (size_t)(k > 0 ? k : 1) * sizeof *work);
  if (!a || !work) return free(a), free(work), -1;
  memcpy(out, w, (size_t)(n * k) * sizeof *out);
  memset(out + n * k, 0, (size_t)((p - 1) * n * k) * sizeof *out);
  for (int64_t j = tree_merges(p, a, b) - 1; info == 0 && kk > 0 && j >= 0; j--)
    dtpmlqt_("R", "N", &kk, &nn, &nn, &nn, &nb, s + b[j] * n * n, &nn, t + j * nb * n, &nb,
             out + a[j] * n * k, &kk, out + b[j] * n * k, &kk, work, &info, 1, 1);
  free(a), free(work);
  return info;
}

/* A factored block. Panels (tree false): reflectors v (m×n), the panels' T
 * (p·nb × n), and with p > 1 the explicit Q of the panels' stacked R factors
 * (p·n × n). A stack of triangles (tree true): v the merged stack, t the merges'
 * T ((p-1)·nb × n). */
typedef struct factor {
  lask_ndarray *v, *t, *q;
  bool tree;
} factor;

static void factor_release(factor *f) {
  lask_ndarray *all[] = {f->v, f->t, f->q};
  for (int i = 0; i < 3; i++)
    if (all[i]) lask_release(lask_ndarray_value(all[i]));
}

static lask_ndarray *identity(int64_t n, lask_err *err);

enum { NOT_FINITE = -1000 };

static lask_ndarray *apply_factor(const factor *f, const lask_ndarray *w, lask_err *err);

/* Merges the p triangles stacked in s (p·n × n, given up by the caller) into *f, a
 * tree factor, and r (n×n) = R. Returns 0, LAPACK's info, or -1 when out of memory. */
static int factor_stack(lask_ndarray *s, int64_t p, factor *f, lask_ndarray *r, lask_err *err) {
  int64_t n = s->shape[1];
  *f = (factor){.v = s, .t = new_matrix((p - 1) * qr_nb(n), n, err), .tree = true};
  int info = f->t ? tree_factor((double *)s->data, p, n, (double *)f->t->data) : -1;
  if (info == 0) memcpy(r->data, s->data, (size_t)(n * n) * sizeof(double));
  return info;
}

/* Factors the m×n matrix src (m >= n; element (i, j) at src[i·rs + j·cs]) into a
 * (m×n, given up by the caller; each panel's rows hold its reflectors in
 * column-major order) as *f, and r (n×n). Each panel is copied from src just before
 * it is factored, and checked finite on the way. Returns 0, LAPACK's info,
 * NOT_FINITE, or -1 when out of memory. */
static int factor_block(lask_ndarray *a, const double *src, int64_t rs, int64_t cs, factor *f,
                        lask_ndarray *r, lask_err *err) {
  int64_t m = a->shape[0], n = a->shape[1], p = panel_count(m, n), nb = qr_nb(n);
  *f = (factor){.v = a, .t = new_matrix(p * nb, n, err)};
  if (!f->t) return -1;
  double *A = (double *)a->data, *T = (double *)f->t->data, *R = p == 1 ? (double *)r->data : NULL;
  lask_ndarray *stack = p > 1 ? new_matrix(p * n, n, err) : NULL;
  int info = p == 1 || stack ? 0 : -1;
  for (int64_t i = 0; info == 0 && i < p; i++) {
    int64_t lo = panel_lo(m, p, i), hi = panel_lo(m, p, i + 1);
    if (!copy_panel(A + lo * n, src + lo * rs, rs, cs, hi - lo, n)) info = NOT_FINITE;
    if (info == 0)
      info = factor_panel(A + lo * n, hi - lo, n, T + i * nb * n, R ? R : (double *)stack->data + i * n * n);
  }
  if (p == 1 || info != 0) {
    if (stack) lask_release(lask_ndarray_value(stack));
    return info;
  }
  /* the panels' R factors: a stack of triangles, merged; its Q kept explicit (small) */
  factor inner;
  info = factor_stack(stack, p, &inner, r, err);
  lask_ndarray *id = info == 0 ? identity(n, err) : NULL;
  if (info == 0 && !(f->q = id ? apply_factor(&inner, id, err) : NULL)) info = -1;
  if (id) lask_release(lask_ndarray_value(id));
  factor_release(&inner);
  return info;
}

static int apply_factor_lapack(const factor *f, const lask_ndarray *w, double *out);

/* out (m×k, row-major) = Q·W for a factored block and W n×k, on the sleeping workers'
 * cores too when its task runs alone (blas_cores.h). Returns 0, LAPACK's info, or -1
 * when out of memory. */
static int apply_factor_to(const factor *f, const lask_ndarray *w, double *out) {
  int64_t m = f->v->shape[0], n = f->v->shape[1], k = w->shape[1];
  int borrowed = lask_blas_cores_begin(4.0 * (double)m * (double)n * (double)k);
  int info = apply_factor_lapack(f, w, out);
  lask_blas_cores_end(borrowed);
  return info;
}

/* apply_factor_to's LAPACK calls, on the cores it was given. */
static int apply_factor_lapack(const factor *f, const lask_ndarray *w, double *out) {
  int64_t m = f->v->shape[0], n = f->v->shape[1], k = w->shape[1], nb = qr_nb(n);
  const double *V = (const double *)f->v->data, *T = (const double *)f->t->data, *W = (const double *)w->data;
  if (f->tree) return tree_apply(V, T, m / n, n, W, k, out);
  int64_t p = f->t->shape[0] / nb;
  double *work = malloc((size_t)((k > 0 ? k : 1) * (n > 0 ? n : 1)) * sizeof *work * 2);
  int info = work ? 0 : -1;
  double *wi = info == 0 ? work + k * n : NULL;
  for (int64_t i = 0; info == 0 && i < p; i++) {
    int64_t lo = panel_lo(m, p, i), hi = panel_lo(m, p, i + 1);
    const double *wp = W;
    if (p > 1) { /* this panel's slice of the second Q, times W */
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)n, 1.0,
                  (const double *)f->q->data + i * n * n, (int)n, W, (int)k, 0.0, wi, (int)k);
      wp = wi;
    }
    info = apply_panel(V + lo * n, hi - lo, n, T + i * nb * n, wp, k, out + lo * k, work);
  }
  free(work);
  return info;
}

static lask_status apply_failed(int info, lask_err *err) {
  if (!err->code) lask_err_set(err, info < 0 ? LASK_ENOMEM : LASK_EKERNEL, LASK_NO_NODE, "applying Q failed");
  return err->code;
}

/* Q·W (m×k), a new array, for a factored block and W n×k. */
static lask_ndarray *apply_factor(const factor *f, const lask_ndarray *w, lask_err *err) {
  lask_ndarray *x = lask_ndarray_empty(LASK_F64, 2, (int64_t[]){f->v->shape[0], w->shape[1]}, err);
  int info = x ? apply_factor_to(f, w, (double *)x->data) : -1;
  if (info == 0) return x;
  if (x) lask_release(lask_ndarray_value(x));
  apply_failed(info, err);
  return NULL;
}

static lask_ndarray *identity(int64_t n, lask_err *err) {
  lask_ndarray *id = new_matrix(n, n, err);
  for (int64_t i = 0; id && i < n; i++) ((double *)id->data)[i * n + i] = 1.0;
  return id;
}

/* The QR of a wide matrix (m < n): Q m×m, R m×n, through LAPACKE's general path. */
static lask_status qr_wide(const lask_kernel *k, lask_ndarray *a, lask_value *out, lask_err *err) {
  int64_t m = a->shape[0], n = a->shape[1];
  lask_ndarray *q = new_matrix(m, m, err), *r = new_matrix(m, n, err);
  double *tau = malloc((size_t)(m ? m : 1) * sizeof *tau), *A = (double *)a->data;
  int borrowed = lask_blas_cores_begin(4.0 * (double)m * (double)m * (double)n);
  int info = q && r && tau
                 ? LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)n, A, (lapack_int)n, tau)
                 : -1;
  for (int64_t i = 0; info == 0 && i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      ((double *)r->data)[i * n + j] = j >= i ? A[i * n + j] : 0.0;
      if (j < m) ((double *)q->data)[i * m + j] = A[i * n + j];
    }
  if (info == 0 && m > 0)
    info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)m, (lapack_int)m, (double *)q->data,
                          (lapack_int)m, tau);
  lask_blas_cores_end(borrowed);
  free(tau), lask_release(lask_ndarray_value(a));
  if (info != 0) {
    if (q) lask_release(lask_ndarray_value(q));
    if (r) lask_release(lask_ndarray_value(r));
    return err->code ? err->code : lask_akernel_fail(k, LASK_EKERNEL, err, "LAPACK's QR failed");
  }
  return give_list(out, 2, (lask_ndarray *[]){q, r}, err);
}

/* Factors argument 0 into *f and *r; a wide matrix (fewer rows than columns) is
 * left in *wide instead, for the caller. A stack of upper-triangular factors (TSQR's
 * second stage) is merged as a tree, in place; any other tall block is copied panel
 * by panel into the factor as it is factored (from the input itself when it is a
 * float64 array in C or Fortran order, else from a C-ordered copy). */
static lask_status factor_arg(const lask_kernel *k, const lask_value *args, int nargs, factor *f,
                              lask_ndarray **r, lask_ndarray **wide, lask_err *err) {
  *f = (factor){0}, *r = *wide = NULL;
  if (nargs != 1) return lask_akernel_fail(k, LASK_EINVAL, err, "expects 1 argument");
  lask_ndarray *in = lask_ndarray_of(args[0]), *a = NULL, *held = NULL;
  bool direct =
      in && in->ndim == 2 && in->dtype == LASK_F64 && in->shape[0] >= in->shape[1] &&
      (lask_ndarray_is_f_contiguous(in) || (lask_ndarray_is_c_contiguous(in) && !triangle_stack(in)));
  if (!direct) { /* a C-ordered float64 copy (or in itself), checked finite */
    if (!(held = matrix_arg(k, args, 0, err))) return err->code;
    if (held->shape[0] < held->shape[1] || triangle_stack(held)) {
      if (!(a = own(held, err))) return err->code;
      held = NULL;
      if (a->shape[0] < a->shape[1]) return *wide = a, LASK_OK;
    }
  }
  const lask_ndarray *src = direct ? in : held;
  int64_t n = src ? src->shape[1] : a->shape[1], p = a ? triangle_stack(a) : 0;
  int info = -1;
  if (!(*r = new_matrix(n, n, err))) {
    if (a) lask_release(lask_ndarray_value(a));
  } else if (p) { /* a stack of triangles (TSQR's second stage): merged in place */
    int borrowed = lask_blas_cores_begin(4.0 / 3.0 * (double)(p - 1) * (double)n * (double)n * (double)n);
    info = factor_stack(a, p, f, *r, err);
    lask_blas_cores_end(borrowed);
  } else if ((a = lask_ndarray_empty(LASK_F64, 2, src->shape, err))) {
    bool fortran = direct && !lask_ndarray_is_c_contiguous(in);
    int borrowed = lask_blas_cores_begin(2.0 * (double)a->shape[0] * (double)n * (double)n);
    info =
        factor_block(a, (const double *)src->data, fortran ? 1 : n, fortran ? src->shape[0] : 1, f, *r, err);
    lask_blas_cores_end(borrowed);
  }
  if (held) lask_release(lask_ndarray_value(held));
  if (info == 0) return LASK_OK;
  factor_release(f);
  if (*r) lask_release(lask_ndarray_value(*r));
  if (info == NOT_FINITE) {
    lask_err_clear(err);
    return lask_akernel_fail(k, LASK_EINVAL, err, "argument 1 contains NaN or Inf");
  }
  return err->code ? err->code : lask_akernel_fail(k, LASK_EKERNEL, err, "the QR factorisation failed");
}

/* qr(a) -> {Q, R}, explicit (numpy's "reduced" mode). */
static lask_status k_qr(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                        lask_err *err) {
  factor f;
  lask_ndarray *r, *wide;
  lask_status st = factor_arg(k, args, nargs, &f, &r, &wide, err);
  if (st != LASK_OK) return st;
  if (wide) return qr_wide(k, wide, out, err);
  lask_ndarray *id = identity(r->shape[0], err);
  lask_ndarray *q = id ? apply_factor(&f, id, err) : NULL;
  if (id) lask_release(lask_ndarray_value(id));
  factor_release(&f);
  if (!q) return lask_release(lask_ndarray_value(r)), err->code;
  return give_list(out, 2, (lask_ndarray *[]){q, r}, err);
}

/* qr_factor(a) -> {F, R} for a tall block: F = {V, T, Q or nil, tree} stands for
 * Q without forming it (qr_apply does, times a small matrix: TSQR's second-stage
 * slice). */
lask_status lask_linalg_qr_factor(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                                  lask_err *err) {
  factor f;
  lask_ndarray *r, *wide;
  lask_status st = factor_arg(k, args, nargs, &f, &r, &wide, err);
  if (st != LASK_OK) return st;
  if (wide) {
    lask_release(lask_ndarray_value(wide));
    return lask_akernel_fail(k, LASK_EINVAL, err,
                             "a block has fewer rows than columns (TSQR needs tall blocks)");
  }
  lask_list *fl = lask_list_new(4), *l = fl ? lask_list_new(2) : NULL;
  if (!l) {
    if (fl) lask_release(lask_objval(&fl->h));
    factor_release(&f);
    return lask_release(lask_ndarray_value(r)), lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  }
  fl->items[0] = lask_ndarray_value(f.v), fl->items[1] = lask_ndarray_value(f.t);
  fl->items[2] = f.q ? lask_ndarray_value(f.q) : lask_nil();
  fl->items[3] = lask_bool(f.tree);
  l->items[0] = lask_objval(&fl->h), l->items[1] = lask_ndarray_value(r);
  *out = lask_objval(&l->h);
  return LASK_OK;
}

/* The factor and W (retained: the caller releases it) of qr_apply's arguments. */
static lask_status qr_apply_args(const lask_kernel *k, const lask_value *args, int nargs, factor *f,
                                 lask_ndarray **w, lask_err *err) {
  const lask_list *l = (nargs == 1 || nargs == 2) && lask_isa(args[0], &lask_list_class)
                           ? (const lask_list *)args[0].as.o
                           : NULL;
  *f = (factor){0};
  if (l && l->n == 4 && l->items[3].type == LASK_TBOOL) {
    f->v = lask_ndarray_of(l->items[0]), f->t = lask_ndarray_of(l->items[1]);
    f->q = lask_ndarray_of(l->items[2]), f->tree = l->items[3].as.b;
  }
  bool ok = f->v && f->t && f->v->ndim == 2 && f->t->ndim == 2;
  int64_t n = ok ? f->v->shape[1] : 0, p = ok ? f->t->shape[0] / qr_nb(n) : 0;
  ok = ok && f->t->shape[1] == n &&
       (f->tree ? n > 0 && f->v->shape[0] == (p + 1) * n : (p > 1) == (f->q != NULL));
  if (!ok) return lask_akernel_fail(k, LASK_EINVAL, err, "expects a factor from qr_factor and a matrix");
  *w = nargs == 2 && args[1].type != LASK_TNIL ? matrix_arg(k, args, 1, err) : identity(n, err);
  if (!*w) return err->code;
  if ((*w)->shape[0] != n) {
    lask_release(lask_ndarray_value(*w));
    return lask_akernel_fail(k, LASK_EINVAL, err,
                             "the matrix must have as many rows as the factor has columns");
  }
  return LASK_OK;
}

/* qr_apply(F [, W]) -> Q·W, for F from qr_factor and W n×k (nil: the identity,
 * Q itself). */
lask_status lask_linalg_qr_apply(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                                 lask_err *err) {
  factor f;
  lask_ndarray *w;
  if (qr_apply_args(k, args, nargs, &f, &w, err)) return err->code;
  lask_ndarray *x = apply_factor(&f, w, err);
  lask_release(lask_ndarray_value(w));
  if (!x) return err->code;
  *out = lask_ndarray_value(x);
  return LASK_OK;
}

/* qr_apply's into entry (kernel.h): Q·W straight into a block of dest. */
lask_status lask_linalg_qr_apply_into(const lask_kernel *k, const lask_value *args, int nargs,
                                      const lask_ndarray *dest, const int64_t *offset, bool *done,
                                      lask_err *err) {
  factor f;
  lask_ndarray *w;
  *done = false;
  if (qr_apply_args(k, args, nargs, &f, &w, err)) return err->code;
  char *at = lask_ndarray_run_at(dest, offset, LASK_F64, 2, (int64_t[]){f.v->shape[0], w->shape[1]});
  int info = at ? apply_factor_to(&f, w, (double *)at) : 0;
  lask_release(lask_ndarray_value(w));
  if (info) return apply_failed(info, err);
  *done = at != NULL;
  return LASK_OK;
}

/* --- SVD --- */

/* Flips signs so that the largest-magnitude entry of each row of v is positive,
 * with the matching column of u: deterministic factors (Dask's svd_flip, v-based). */
static void svd_flip(double *u, int64_t m, double *v, int64_t k, int64_t n) {
  for (int64_t i = 0; i < k; i++) {
    int64_t best = 0;
    for (int64_t j = 1; j < n; j++)
      if (fabs(v[i * n + j]) > fabs(v[i * n + best])) best = j;
    if (v[i * n + best] >= 0) continue;
    for (int64_t j = 0; j < n; j++) v[i * n + j] = -v[i * n + j];
    for (int64_t r = 0; r < m; r++) u[r * k + i] = -u[r * k + i];
  }
}

static lask_status k_svd(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                         lask_err *err) {
  if (nargs != 1) return lask_akernel_fail(k, LASK_EINVAL, err, "expects 1 argument");
  lask_ndarray *a = matrix_arg(k, args, 0, err);
  if (!a || !(a = own(a, err))) return err->code;
  int64_t m = a->shape[0], n = a->shape[1], kk = m < n ? m : n;
  lask_ndarray *u = new_matrix(m, kk, err), *s = lask_ndarray_new(LASK_F64, 1, &kk, err),
               *v = new_matrix(kk, n, err);
  /* row-major a is the column-major aᵀ = V S Uᵀ: its U is our V and its V our U, each
   * already in row-major order (LAPACKE's row-major entry would copy-transpose a, U and
   * V: 1.48 ms against 1.18 for 110×110) */
  int borrowed = lask_blas_cores_begin(4.0 * (double)m * (double)n * (double)kk + 8.0 * (double)kk * kk * kk);
  int info = !(u && s && v) ? -1
             : kk == 0      ? 0
                            : LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', (lapack_int)n, (lapack_int)m,
                                             (double *)a->data, (lapack_int)n, (double *)s->data,
                                             (double *)v->data, (lapack_int)n, (double *)u->data, (lapack_int)kk);
  lask_blas_cores_end(borrowed);
  lask_release(lask_ndarray_value(a));
  if (!u || !s || !v || info != 0) {
    lask_ndarray *all[] = {u, s, v};
    for (int i = 0; i < 3; i++)
      if (all[i]) lask_release(lask_ndarray_value(all[i]));
    return u && s && v ? lask_akernel_fail(k, LASK_EKERNEL, err, "the SVD did not converge") : err->code;
  }
  svd_flip((double *)u->data, m, (double *)v->data, kk, n);
  return give_list(out, 3, (lask_ndarray *[]){u, s, v}, err);
}

/* --- square systems --- */

static lask_ndarray *square_arg(const lask_kernel *k, const lask_value *args, int i, lask_err *err) {
  lask_ndarray *a = matrix_arg(k, args, i, err);
  if (a && a->shape[0] != a->shape[1]) {
    lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: argument %d must be square, it is %lld×%lld", k->name,
                 i + 1, (long long)a->shape[0], (long long)a->shape[1]);
    lask_release(lask_ndarray_value(a));
    return NULL;
  }
  return a;
}

static lask_status singular(const lask_kernel *k, int info, lask_err *err) {
  return lask_err_set(err, LASK_EKERNEL, LASK_NO_NODE,
                      "%s: the matrix is singular (U[%d, %d] is exactly zero)", k->name, info - 1, info - 1);
}

/* Argument i, square, as a writable float64 copy factored in place by dgetrf:
 * *ipiv gets the pivots (the caller frees them), *info LAPACK's info (> 0: U is
 * singular). NULL with err filled on bad input or out of memory. */
static lask_ndarray *lu_arg(const lask_kernel *k, const lask_value *args, int i, lapack_int **ipiv, int *info,
                            lask_err *err) {
  lask_ndarray *a = square_arg(k, args, i, err);
  if (!a || !(a = own(a, err))) return NULL;
  int64_t n = a->shape[0];
  *ipiv = malloc((size_t)(n ? n : 1) * sizeof **ipiv);
  if (!*ipiv) {
    lask_release(lask_ndarray_value(a));
    return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory"), NULL;
  }
  int borrowed = lask_blas_cores_begin(2.0 / 3.0 * (double)n * (double)n * (double)n);
  *info = n ? LAPACKE_dgetrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)n, (double *)a->data, (lapack_int)n,
                             *ipiv)
            : 0;
  lask_blas_cores_end(borrowed);
  return a;
}

static lask_status k_lu(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                        lask_err *err) {
  if (nargs != 1) return lask_akernel_fail(k, LASK_EINVAL, err, "expects 1 argument");
  lapack_int *ipiv;
  int info;
  lask_ndarray *a = lu_arg(k, args, 0, &ipiv, &info, err);
  if (!a) return err->code;
  int64_t n = a->shape[0];
  lask_ndarray *p = new_matrix(n, n, err), *l = new_matrix(n, n, err);
  if (info < 0 || !p || !l) {
    free(ipiv), lask_release(lask_ndarray_value(a));
    if (p) lask_release(lask_ndarray_value(p));
    if (l) lask_release(lask_ndarray_value(l));
    return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  }
  /* info > 0: U is singular, which LU itself allows (scipy returns it too). */
  double *A = (double *)a->data, *L = (double *)l->data, *P = (double *)p->data;
  int64_t *perm = malloc((size_t)(n ? n : 1) * sizeof *perm);
  if (!perm) {
    free(ipiv);
    lask_release(lask_ndarray_value(a)), lask_release(lask_ndarray_value(p)),
        lask_release(lask_ndarray_value(l));
    return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  }
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  for (int64_t i = 0; i < n; i++) { /* row swaps, in order: perm[i] is the original row now at i */
    int64_t j = ipiv[i] - 1, t = perm[i];
    perm[i] = perm[j], perm[j] = t;
  }
  for (int64_t i = 0; i < n; i++) {
    P[perm[i] * n + i] = 1.0; /* A = P L U */
    for (int64_t j = 0; j < n; j++) {
      L[i * n + j] = j < i ? A[i * n + j] : j == i ? 1.0 : 0.0;
      if (j < i) A[i * n + j] = 0.0;
    }
  }
  free(perm), free(ipiv);
  return give_list(out, 3, (lask_ndarray *[]){p, l, a}, err);
}

static lask_status k_solve(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                           lask_err *err) {
  if (nargs < 2 || nargs > 3)
    return lask_akernel_fail(k, LASK_EINVAL, err, "expects a, b and optionally \"gen\" or \"pos\"");
  int pos = nargs == 3 && lask_isa(args[2], &lask_str_class) &&
            strcmp(((lask_str *)args[2].as.o)->data, "pos") == 0;
  lask_ndarray *bv = lask_ndarray_of(args[1]);
  int vector = bv && bv->ndim == 1;
  lask_ndarray *a = square_arg(k, args, 0, err), *b = NULL;
  if (a && bv && vector)
    b = lask_ndarray_copy(bv, LASK_F64, err); /* (n,) as n×1 below */
  else if (a)
    b = matrix_arg(k, args, 1, err);
  if (!a || !b || !(a = own(a, err)) || !(b = own(b, err))) {
    if (a) lask_release(lask_ndarray_value(a));
    if (b) lask_release(lask_ndarray_value(b));
    return err->code ? err->code : lask_akernel_fail(k, LASK_EINVAL, err, "b must be an array");
  }
  int64_t n = a->shape[0], nrhs = vector ? 1 : b->shape[1];
  if (b->shape[0] != n) {
    lask_release(lask_ndarray_value(a)), lask_release(lask_ndarray_value(b));
    return lask_akernel_fail(k, LASK_EINVAL, err, "a and b have different numbers of rows");
  }
  lapack_int *ipiv = malloc((size_t)(n ? n : 1) * sizeof *ipiv);
  int borrowed =
      lask_blas_cores_begin(2.0 / 3.0 * (double)n * (double)n * (double)n + 2.0 * (double)n * n * nrhs);
  int info = !ipiv    ? -1
             : n == 0 ? 0
             : pos ? LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, (lapack_int)nrhs, (double *)a->data,
                                   (lapack_int)n, (double *)b->data, (lapack_int)nrhs)
                   : LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)nrhs, (double *)a->data,
                                   (lapack_int)n, ipiv, (double *)b->data, (lapack_int)nrhs);
  lask_blas_cores_end(borrowed);
  free(ipiv), lask_release(lask_ndarray_value(a));
  if (info != 0) {
    lask_release(lask_ndarray_value(b));
    if (info < 0) return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
    return pos ? lask_err_set(err, LASK_EKERNEL, LASK_NO_NODE, "%s: the matrix is not positive definite",
                              k->name)
               : singular(k, info, err);
  }
  *out = lask_ndarray_value(b);
  return LASK_OK;
}

int lask_linalg_cholesky_in_place(double *a, int64_t n, bool lower) {
  int borrowed = lask_blas_cores_begin((double)n * (double)n * (double)n / 3.0);
  int info = n ? LAPACKE_dpotrf(LAPACK_ROW_MAJOR, lower ? 'L' : 'U', (lapack_int)n, a, (lapack_int)n) : 0;
  lask_blas_cores_end(borrowed);
  for (int64_t i = 0; i < n; i++) /* zero the other triangle LAPACK left as it was */
    for (int64_t j = 0; j < n; j++)
      if (lower ? j > i : j < i) a[i * n + j] = 0.0;
  return info;
}

static lask_status k_cholesky(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                              lask_err *err) {
  if (nargs < 1 || nargs > 2) return lask_akernel_fail(k, LASK_EINVAL, err, "expects a and optionally lower");
  bool lower = nargs == 2 && args[1].type == LASK_TBOOL && args[1].as.b;
  lask_ndarray *a = square_arg(k, args, 0, err);
  if (!a || !(a = own(a, err))) return err->code;
  int info = lask_linalg_cholesky_in_place((double *)a->data, a->shape[0], lower);
  if (info != 0) {
    lask_release(lask_ndarray_value(a));
    return lask_err_set(err, LASK_EKERNEL, LASK_NO_NODE,
                        "%s: the matrix is not positive definite (leading minor %d)", k->name, info);
  }
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

static lask_status k_inv(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                         lask_err *err) {
  if (nargs != 1) return lask_akernel_fail(k, LASK_EINVAL, err, "expects 1 argument");
  lapack_int *ipiv;
  int info;
  lask_ndarray *a = lu_arg(k, args, 0, &ipiv, &info, err);
  if (!a) return err->code;
  int64_t n = a->shape[0];
  int borrowed = info == 0 && n ? lask_blas_cores_begin(4.0 / 3.0 * (double)n * (double)n * (double)n) : 0;
  if (info == 0 && n)
    info = LAPACKE_dgetri(LAPACK_ROW_MAJOR, (lapack_int)n, (double *)a->data, (lapack_int)n, ipiv);
  lask_blas_cores_end(borrowed);
  free(ipiv);
  if (info != 0) {
    lask_release(lask_ndarray_value(a));
    return info < 0 ? lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory") : singular(k, info, err);
  }
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

/* --- least squares --- */

static lask_status k_lstsq(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                           lask_err *err) {
  if (nargs != 2) return lask_akernel_fail(k, LASK_EINVAL, err, "expects a and b");
  lask_ndarray *bv = lask_ndarray_of(args[1]);
  int vector = bv && bv->ndim == 1;
  lask_ndarray *a = matrix_arg(k, args, 0, err), *b = NULL;
  if (a && vector)
    b = lask_ndarray_copy(bv, LASK_F64, err);
  else if (a)
    b = matrix_arg(k, args, 1, err);
  if (!a || !b || !(a = own(a, err))) {
    if (a) lask_release(lask_ndarray_value(a));
    if (b) lask_release(lask_ndarray_value(b));
    return err->code ? err->code : lask_akernel_fail(k, LASK_EINVAL, err, "b must be an array");
  }
  int64_t m = a->shape[0], n = a->shape[1], nrhs = vector ? 1 : b->shape[1], kk = m < n ? m : n,
          ldb = m > n ? m : n;
  if (b->shape[0] != m) {
    lask_release(lask_ndarray_value(a)), lask_release(lask_ndarray_value(b));
    return lask_akernel_fail(k, LASK_EINVAL, err, "a and b have different numbers of rows");
  }
  double *B = calloc((size_t)(ldb * nrhs > 0 ? ldb * nrhs : 1), sizeof *B);
  lask_ndarray *s = lask_ndarray_new(LASK_F64, 1, &kk, err);
  lapack_int rank = 0;
  int info = -1;
  if (B && s) {
    int borrowed =
        lask_blas_cores_begin(4.0 * (double)m * (double)n * (double)kk + 8.0 * (double)kk * kk * kk);
    memcpy(B, b->data, (size_t)(m * nrhs) * sizeof *B);
    info = kk == 0 ? 0
                   : LAPACKE_dgelsd(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)n, (lapack_int)nrhs,
                                    (double *)a->data, (lapack_int)n, B, (lapack_int)nrhs, (double *)s->data,
                                    -1.0, &rank);
    lask_blas_cores_end(borrowed);
  }
  lask_release(lask_ndarray_value(a));
  lask_release(lask_ndarray_value(b));
  int64_t xshape[2] = {n, nrhs}, nres = rank == n && m > n ? nrhs : 0;
  lask_ndarray *x = info == 0 ? lask_ndarray_new(LASK_F64, vector ? 1 : 2, xshape, err) : NULL;
  lask_ndarray *res = x ? lask_ndarray_new(LASK_F64, 1, &nres, err) : NULL;
  if (!res) {
    free(B);
    if (s) lask_release(lask_ndarray_value(s));
    if (x) lask_release(lask_ndarray_value(x));
    return info > 0    ? lask_akernel_fail(k, LASK_EKERNEL, err, "the SVD did not converge")
           : err->code ? err->code
                       : lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  }
  memcpy(x->data, B, (size_t)(n * nrhs) * sizeof *B);
  for (int64_t c = 0; c < nres; c++) { /* rows n..m-1 of B hold the residual components */
    double acc = 0;
    for (int64_t r = n; r < m; r++) acc += B[r * nrhs + c] * B[r * nrhs + c];
    ((double *)res->data)[c] = acc;
  }
  free(B);
  lask_list *l = lask_list_new(4);
  if (!l) {
    lask_release(lask_ndarray_value(x)), lask_release(lask_ndarray_value(res)),
        lask_release(lask_ndarray_value(s));
    return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  }
  l->items[0] = lask_ndarray_value(x), l->items[1] = lask_ndarray_value(res);
  lask_ndarray *rk = lask_ndarray_new(LASK_I64, 0, NULL, err); /* a 0-d array, as numpy gives */
  if (!rk) {
    lask_release(lask_objval(&l->h)), lask_release(lask_ndarray_value(s));
    return err->code;
  }
  *(int64_t *)rk->data = rank;
  l->items[2] = lask_ndarray_value(rk), l->items[3] = lask_ndarray_value(s);
  *out = lask_objval(&l->h);
  return LASK_OK;
}

/* --- norms --- */

/* Singular values of a (a copy is made); NULL on failure. */
static double *singular_values(const lask_ndarray *a, int64_t *count) {
  int64_t m = a->shape[0], n = a->shape[1], kk = m < n ? m : n;
  double *work = malloc((size_t)(m * n > 0 ? m * n : 1) * sizeof *work),
         *s = malloc((size_t)(kk ? kk : 1) * sizeof *s);
  if (!work || !s) return free(work), free(s), NULL;
  memcpy(work, a->data, (size_t)(m * n) * sizeof *work);
  lapack_int ld = (lapack_int)(m > n ? m : n); /* unused with jobz 'N', but LAPACKE checks it */
  int borrowed = lask_blas_cores_begin(4.0 * (double)m * (double)n * (double)kk);
  int info = kk ? LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)m, (lapack_int)n, work, (lapack_int)n, s,
                                 NULL, ld, NULL, ld)
                : 0;
  lask_blas_cores_end(borrowed);
  free(work);
  if (info != 0) return free(s), NULL;
  *count = kk;
  return s;
}

/* The matrix norm of a for ord ("fro", "nuc", or a number 1, 2, -1, -2, ±inf). */
static lask_status matrix_norm(const lask_kernel *k, const lask_ndarray *a, lask_value ord, double *out,
                               lask_err *err) {
  const double *x = (const double *)a->data;
  int64_t m = a->shape[0], n = a->shape[1];
  const char *name = lask_isa(ord, &lask_str_class) ? ((lask_str *)ord.as.o)->data : NULL;
  double p = 0;
  if (ord.type == LASK_TNIL || (name && strcmp(name, "fro") == 0)) {
    double acc = 0;
    for (int64_t i = 0; i < m * n; i++) acc += x[i] * x[i];
    return *out = sqrt(acc), LASK_OK;
  }
  if ((name && strcmp(name, "nuc") == 0) || (lask_tonumber(ord, &p) && fabs(p) == 2)) {
    int64_t cnt;
    double *s = singular_values(a, &cnt);
    if (!s) return lask_akernel_fail(k, LASK_EKERNEL, err, "the SVD did not converge");
    double acc = name ? 0 : cnt ? s[0] : 0;
    for (int64_t i = 0; i < cnt; i++) acc = name ? acc + s[i] : p > 0 ? fmax(acc, s[i]) : fmin(acc, s[i]);
    free(s);
    return *out = acc, LASK_OK;
  }
  if (!lask_tonumber(ord, &p) || !(fabs(p) == 1 || isinf(p)))
    return lask_akernel_fail(k, LASK_EINVAL, err,
                             "ord must be \"fro\", \"nuc\", 1, -1, 2, -2, inf or -inf for a matrix");
  int by_cols = fabs(p) == 1; /* 1: max column sum; inf: max row sum */
  int64_t outer = by_cols ? n : m, inner = by_cols ? m : n;
  double best = p > 0 ? -INFINITY : INFINITY;
  for (int64_t o = 0; o < outer; o++) {
    double acc = 0;
    for (int64_t i = 0; i < inner; i++) acc += fabs(by_cols ? x[i * n + o] : x[o * n + i]);
    best = p > 0 ? fmax(best, acc) : fmin(best, acc);
  }
  return *out = outer ? best : 0, LASK_OK;
}

static lask_status k_norm(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                          lask_err *err) {
  if (nargs < 1 || nargs > 2) return lask_akernel_fail(k, LASK_EINVAL, err, "expects a and optionally ord");
  lask_value ord = nargs == 2 ? args[1] : lask_nil();
  lask_ndarray *v = lask_ndarray_of(args[0]);
  if (v && v->ndim == 1) { /* vector p-norm */
    double p = 2, acc = 0, e;
    if (ord.type != LASK_TNIL && !lask_tonumber(ord, &p))
      return lask_akernel_fail(k, LASK_EINVAL, err, "ord must be a number for a vector");
    lask_cursor c;
    lask_cursor_init(&c, v->dtype, v->data, 1, v->shape, v->strides);
    if (isinf(p)) acc = p > 0 ? 0 : INFINITY;
    for (int64_t i = 0; i < v->shape[0]; i++) {
      lask_cursor_read(&c, LASK_F64, &e, 1);
      e = fabs(e);
      acc = isinf(p) ? (p > 0 ? fmax(acc, e) : fmin(acc, e)) : p == 0 ? acc + (e != 0) : acc + pow(e, p);
    }
    *out = lask_num(isinf(p) || p == 0 ? acc : pow(acc, 1.0 / p));
    return LASK_OK;
  }
  lask_ndarray *a = matrix_arg(k, args, 0, err);
  if (!a) return err->code;
  double r = 0;
  lask_status st = matrix_norm(k, a, ord, &r, err);
  lask_release(lask_ndarray_value(a));
  if (st == LASK_OK) *out = lask_num(r);
  return st;
}

static const lask_kernel kernels[] = {
    LASK_KERNEL_STATIC("qr", k_qr),
    LASK_KERNEL_STATIC("qr_factor", lask_linalg_qr_factor),
    LASK_KERNEL_STATIC_INTO("qr_apply", lask_linalg_qr_apply, lask_linalg_qr_apply_into),
    LASK_KERNEL_STATIC("svd", k_svd),
    LASK_KERNEL_STATIC("lu", k_lu),
    LASK_KERNEL_STATIC("solve", k_solve),
    LASK_KERNEL_STATIC("cholesky", k_cholesky),
    LASK_KERNEL_STATIC("lstsq", k_lstsq),
    LASK_KERNEL_STATIC("inv", k_inv),
    LASK_KERNEL_STATIC("norm", k_norm),
};

LASK_AKERNEL_GROUP(lask_akernels_linalg, kernels)
