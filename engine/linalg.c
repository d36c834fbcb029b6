/* linalg.c — dense linear algebra kernels (linalg.h) on LAPACKE and CBLAS.
 *
 * Layout trick: our arrays are C-ordered (row-major) and LAPACKE's row-major entry
 * points copy-transpose their input and output. A row-major m×n matrix is, read as
 * column-major, its transpose; so the QR of A is taken as the LQ factorisation of
 * Aᵀ, in place with no transposition at all: the reflectors land where the
 * row-major Q is formed (dorglq), and R = Lᵀ is the upper triangle of the first k
 * rows. The factorisation is LAPACK's recursive one (dgelqt3), whose recursion on
 * halves of the columns keeps the working set in cache for any block height and
 * does its work in dgemm: that is what makes tall-skinny blocks fast, where the
 * classic panel factorisation is memory-bound.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "ndarray.h"

static lask_status fail(const lask_kernel *k, lask_status code, lask_err *err, const char *what) {
  return lask_err_set(err, code, LASK_NO_NODE, "%s: %s", k->name, what);
}

/* Gives argument i as a C-contiguous float64 matrix (a copy unless it already is
 * one, then retained); checks it is 2-D and finite. */
static lask_ndarray *matrix_arg(const lask_kernel *k, const lask_value *args, int i, lask_err *err) {
  lask_ndarray *a = lask_ndarray_of(args[i]);
  if (!a) return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s: argument %d is a %s, not an array", k->name, i + 1,
                              lask_typename(args[i])), NULL;
  if (a->ndim != 2)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: argument %d must be 2-D, it has %d dimension%s", k->name,
                        i + 1, a->ndim, a->ndim == 1 ? "" : "s"), NULL;
  lask_ndarray *m = a->dtype == LASK_F64 && lask_ndarray_is_c_contiguous(a) ? (lask_retain(args[i]), a)
                                                                              : lask_ndarray_copy(a, LASK_F64, err);
  if (!m) return NULL;
  const double *x = (const double *)m->data;
  for (int64_t j = 0, n = lask_ndarray_size(m); j < n; j++)
    if (!isfinite(x[j])) {
      lask_release(lask_ndarray_value(m));
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: argument %d contains NaN or Inf", k->name, i + 1), NULL;
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

/* LAPACK's recursive LQ (Elmroth–Gustavson; cache-oblivious: its recursion keeps
 * the working set in cache whatever the block height, with the work in dgemm) and
 * the product with its Q; LAPACKE wraps neither. The size_t are gfortran's hidden
 * lengths of the character arguments. */
extern void dgelqt3_(const int *m, const int *n, double *a, const int *lda, double *t, const int *ldt, int *info);
extern void dgemlqt_(const char *side, const char *trans, const int *m, const int *n, const int *k, const int *mb,
                     const double *v, const int *ldv, const double *t, const int *ldt, double *c, const int *ldc,
                     double *work, int *info, size_t, size_t);

/* Factors the row-major m×n a (m >= n, a C-contiguous float64 copy it owns) in
 * place: a keeps the reflectors, t (n×n) their block coefficients, r (n×n) gets R. */
static int qr_factor_in_place(lask_ndarray *a, lask_ndarray *t, lask_ndarray *r) {
  int m = (int)a->shape[0], n = (int)a->shape[1], info = 0;
  double *A = (double *)a->data, *R = (double *)r->data;
  if (n > 0) dgelqt3_(&n, &m, A, &n, (double *)t->data, &n, &info); /* Aᵀ = L Q' as column-major */
  for (int64_t i = 0; info == 0 && i < n; i++)
    for (int64_t j = 0; j < n; j++) R[i * n + j] = j >= i ? A[i * n + j] : 0.0; /* R = Lᵀ */
  return info;
}

/* Q·W for a factor (reflectors v, coefficients t of an m×n QR) and W (n×k): m×k. */
static lask_ndarray *qr_apply(const lask_ndarray *v, const lask_ndarray *t, const lask_ndarray *w, lask_err *err) {
  int m = (int)v->shape[0], n = (int)v->shape[1], k = (int)w->shape[1], info = 0;
  lask_ndarray *x = new_matrix(m, k, err);
  double *work = malloc((size_t)(k > 0 ? k : 1) * (size_t)(n > 0 ? n : 1) * sizeof *work);
  if (!x || !work) {
    free(work);
    if (x) lask_release(lask_ndarray_value(x));
    return err->code ? NULL : (lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory"), NULL);
  }
  /* X row-major (m×k) is Xᵀ column-major (k×m) = [Wᵀ 0]·Q'; rows n.. of X start at zero. */
  memcpy(x->data, w->data, (size_t)n * (size_t)k * sizeof(double));
  if (n > 0 && k > 0)
    dgemlqt_("R", "N", &k, &m, &n, &n, (const double *)v->data, &n, (const double *)t->data, &n, (double *)x->data,
             &k, work, &info, 1, 1);
  free(work);
  if (info != 0) {
    lask_release(lask_ndarray_value(x));
    return lask_err_set(err, LASK_EKERNEL, LASK_NO_NODE, "applying Q failed (LAPACK info %d)", info), NULL;
  }
  return x;
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
  int info = q && r && tau ? LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)n, A, (lapack_int)n, tau) : -1;
  for (int64_t i = 0; info == 0 && i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      ((double *)r->data)[i * n + j] = j >= i ? A[i * n + j] : 0.0;
      if (j < m) ((double *)q->data)[i * m + j] = A[i * n + j];
    }
  if (info == 0 && m > 0)
    info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)m, (lapack_int)m, (double *)q->data,
                          (lapack_int)m, tau);
  free(tau), lask_release(lask_ndarray_value(a));
  if (info != 0) {
    if (q) lask_release(lask_ndarray_value(q));
    if (r) lask_release(lask_ndarray_value(r));
    return err->code ? err->code : fail(k, LASK_EKERNEL, err, "LAPACK's QR failed");
  }
  return give_list(out, 2, (lask_ndarray *[]){q, r}, err);
}

/* Factors argument 0: *a the reflectors (m×n), *t, *r; wide input goes to *wide. */
static lask_status factor_arg(const lask_kernel *k, const lask_value *args, int nargs, lask_ndarray **a,
                              lask_ndarray **t, lask_ndarray **r, lask_err *err) {
  if (nargs != 1) return fail(k, LASK_EINVAL, err, "expects 1 argument");
  if (!(*a = matrix_arg(k, args, 0, err)) || !(*a = own(*a, err))) return err->code;
  int64_t n = (*a)->shape[1];
  if ((*a)->shape[0] < n) return LASK_OK; /* the caller handles wide matrices */
  *t = new_matrix(n, n, err), *r = new_matrix(n, n, err);
  int info = *t && *r ? qr_factor_in_place(*a, *t, *r) : -1;
  if (info == 0) return LASK_OK;
  lask_ndarray *all[] = {*a, *t, *r};
  for (int i = 0; i < 3; i++)
    if (all[i]) lask_release(lask_ndarray_value(all[i]));
  return err->code ? err->code : fail(k, LASK_EKERNEL, err, "the QR factorisation failed");
}

/* qr(a) -> {Q, R}, explicit (numpy's "reduced" mode). */
static lask_status k_qr(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  lask_ndarray *a = NULL, *t = NULL, *r = NULL;
  lask_status st = factor_arg(k, args, nargs, &a, &t, &r, err);
  if (st != LASK_OK) return st;
  if (!t) return qr_wide(k, a, out, err);
  lask_ndarray *id = identity(a->shape[1], err);
  lask_ndarray *q = id ? qr_apply(a, t, id, err) : NULL;
  if (id) lask_release(lask_ndarray_value(id));
  lask_release(lask_ndarray_value(a)), lask_release(lask_ndarray_value(t));
  if (!q) return lask_release(lask_ndarray_value(r)), err->code;
  return give_list(out, 2, (lask_ndarray *[]){q, r}, err);
}

/* qr_factor(a) -> {F, R} for a tall block: F = {reflectors, T} stands for Q without
 * forming it (qr_apply does, times a small matrix: TSQR's second stage slice). */
static lask_status k_qr_factor(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                               lask_err *err) {
  lask_ndarray *a = NULL, *t = NULL, *r = NULL;
  lask_status st = factor_arg(k, args, nargs, &a, &t, &r, err);
  if (st != LASK_OK) return st;
  if (!t) {
    lask_release(lask_ndarray_value(a));
    return fail(k, LASK_EINVAL, err, "a block has fewer rows than columns (TSQR needs tall blocks)");
  }
  lask_value f;
  if ((st = give_list(&f, 2, (lask_ndarray *[]){a, t}, err)) != LASK_OK) return lask_release(lask_ndarray_value(r)), st;
  lask_list *l = lask_list_new(2);
  if (!l) return lask_release(f), lask_release(lask_ndarray_value(r)), fail(k, LASK_ENOMEM, err, "out of memory");
  l->items[0] = f, l->items[1] = lask_ndarray_value(r);
  *out = lask_objval(&l->h);
  return LASK_OK;
}

/* qr_apply(F, W) -> Q·W, for F from qr_factor and W n×k. */
static lask_status k_qr_apply(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                              lask_err *err) {
  const lask_list *f = nargs == 2 && lask_isa(args[0], &lask_list_class) ? (const lask_list *)args[0].as.o : NULL;
  lask_ndarray *v = f && f->n == 2 ? lask_ndarray_of(f->items[0]) : NULL, *t = v ? lask_ndarray_of(f->items[1]) : NULL;
  if (!t) return fail(k, LASK_EINVAL, err, "expects a factor from qr_factor and a matrix");
  lask_ndarray *w = matrix_arg(k, args, 1, err);
  if (!w) return err->code;
  if (w->shape[0] != v->shape[1]) {
    lask_release(lask_ndarray_value(w));
    return fail(k, LASK_EINVAL, err, "the matrix must have as many rows as the factor has columns");
  }
  lask_ndarray *x = qr_apply(v, t, w, err);
  lask_release(lask_ndarray_value(w));
  if (!x) return err->code;
  *out = lask_ndarray_value(x);
  return LASK_OK;
}

/* --- lists and stacking --- */

static lask_status k_item(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  if (nargs != 2 || !lask_isa(args[0], &lask_list_class) || args[1].type != LASK_TINT)
    return fail(k, LASK_EINVAL, err, "expects a list and an integer index");
  const lask_list *l = (const lask_list *)args[0].as.o;
  int64_t i = args[1].as.i;
  if (i < 0 || (size_t)i >= l->n) return fail(k, LASK_EINVAL, err, "index out of range");
  *out = lask_retain(l->items[i]);
  return LASK_OK;
}

static lask_status k_vstack(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  if (nargs != 1 || !lask_isa(args[0], &lask_list_class)) return fail(k, LASK_EINVAL, err, "expects a list of arrays");
  const lask_list *l = (const lask_list *)args[0].as.o;
  int64_t rows = 0, cols = -1;
  for (size_t i = 0; i < l->n; i++) {
    lask_ndarray *a = lask_ndarray_of(l->items[i]);
    if (!a || a->ndim != 2) return fail(k, LASK_EINVAL, err, "every item must be a 2-D array");
    if (cols >= 0 && a->shape[1] != cols) return fail(k, LASK_EINVAL, err, "arrays differ in their number of columns");
    cols = a->shape[1], rows += a->shape[0];
  }
  lask_ndarray *s = new_matrix(rows, cols < 0 ? 0 : cols, err);
  if (!s) return err->code;
  double *dst = (double *)s->data;
  for (size_t i = 0; i < l->n; i++) {
    lask_ndarray *a = lask_ndarray_of(l->items[i]);
    lask_cursor c;
    lask_cursor_init(&c, a->dtype, a->data, 2, a->shape, a->strides);
    if (lask_ndarray_size(a)) lask_cursor_read(&c, LASK_F64, dst, lask_ndarray_size(a));
    dst += lask_ndarray_size(a);
  }
  *out = lask_ndarray_value(s);
  return LASK_OK;
}

static lask_status k_rows(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  lask_ndarray *a = nargs == 3 ? lask_ndarray_of(args[0]) : NULL;
  if (!a || a->ndim != 2 || args[1].type != LASK_TINT || args[2].type != LASK_TINT)
    return fail(k, LASK_EINVAL, err, "expects a 2-D array, start and stop");
  int64_t lo = args[1].as.i, hi = args[2].as.i;
  if (lo < 0 || hi < lo || hi > a->shape[0]) return fail(k, LASK_EINVAL, err, "rows out of range");
  lask_ndarray *v = lask_ndarray_view(a->buf, a->data + lo * a->strides[0], a->dtype, 2,
                                      (int64_t[]){hi - lo, a->shape[1]}, a->strides, err);
  if (!v) return err->code;
  *out = lask_ndarray_value(v);
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

static lask_status k_svd(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  if (nargs != 1) return fail(k, LASK_EINVAL, err, "expects 1 argument");
  lask_ndarray *a = matrix_arg(k, args, 0, err);
  if (!a || !(a = own(a, err))) return err->code;
  int64_t m = a->shape[0], n = a->shape[1], kk = m < n ? m : n;
  lask_ndarray *u = new_matrix(m, kk, err), *s = lask_ndarray_new(LASK_F64, 1, &kk, err), *v = new_matrix(kk, n, err);
  int info = u && s && v ? (kk == 0 ? 0 : LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n,
                                                        (double *)a->data, (lapack_int)n, (double *)s->data,
                                                        (double *)u->data, (lapack_int)kk, (double *)v->data,
                                                        (lapack_int)n))
                         : -1;
  lask_release(lask_ndarray_value(a));
  if (!u || !s || !v || info != 0) {
    lask_ndarray *all[] = {u, s, v};
    for (int i = 0; i < 3; i++)
      if (all[i]) lask_release(lask_ndarray_value(all[i]));
    return u && s && v ? fail(k, LASK_EKERNEL, err, "the SVD did not converge") : err->code;
  }
  svd_flip((double *)u->data, m, (double *)v->data, kk, n);
  return give_list(out, 3, (lask_ndarray *[]){u, s, v}, err);
}

/* --- square systems --- */

static lask_ndarray *square_arg(const lask_kernel *k, const lask_value *args, int i, lask_err *err) {
  lask_ndarray *a = matrix_arg(k, args, i, err);
  if (a && a->shape[0] != a->shape[1]) {
    lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: argument %d must be square, it is %lld×%lld", k->name, i + 1,
                 (long long)a->shape[0], (long long)a->shape[1]);
    lask_release(lask_ndarray_value(a));
    return NULL;
  }
  return a;
}

static lask_status singular(const lask_kernel *k, int info, lask_err *err) {
  return lask_err_set(err, LASK_EKERNEL, LASK_NO_NODE, "%s: the matrix is singular (U[%d, %d] is exactly zero)", k->name,
                      info - 1, info - 1);
}

static lask_status k_lu(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  if (nargs != 1) return fail(k, LASK_EINVAL, err, "expects 1 argument");
  lask_ndarray *a = square_arg(k, args, 0, err);
  if (!a || !(a = own(a, err))) return err->code;
  int64_t n = a->shape[0];
  lapack_int *ipiv = malloc((size_t)(n ? n : 1) * sizeof *ipiv);
  lask_ndarray *p = new_matrix(n, n, err), *l = new_matrix(n, n, err);
  int info = ipiv && p && l ? (n ? LAPACKE_dgetrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)n, (double *)a->data,
                                                  (lapack_int)n, ipiv) : 0)
                            : -1;
  if (info < 0) {
    free(ipiv), lask_release(lask_ndarray_value(a));
    if (p) lask_release(lask_ndarray_value(p));
    if (l) lask_release(lask_ndarray_value(l));
    return fail(k, LASK_ENOMEM, err, "out of memory");
  }
  /* info > 0: U is singular, which LU itself allows (scipy returns it too). */
  double *A = (double *)a->data, *L = (double *)l->data, *P = (double *)p->data;
  int64_t *perm = malloc((size_t)(n ? n : 1) * sizeof *perm);
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

static lask_status k_solve(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  if (nargs < 2 || nargs > 3) return fail(k, LASK_EINVAL, err, "expects a, b and optionally \"gen\" or \"pos\"");
  int pos = nargs == 3 && lask_isa(args[2], &lask_str_class) && strcmp(((lask_str *)args[2].as.o)->data, "pos") == 0;
  lask_ndarray *bv = lask_ndarray_of(args[1]);
  int vector = bv && bv->ndim == 1;
  lask_ndarray *a = square_arg(k, args, 0, err), *b = NULL;
  if (a && bv && vector) b = lask_ndarray_copy(bv, LASK_F64, err); /* (n,) as n×1 below */
  else if (a) b = matrix_arg(k, args, 1, err);
  if (!a || !b || !(a = own(a, err)) || !(b = own(b, err))) {
    if (a) lask_release(lask_ndarray_value(a));
    if (b) lask_release(lask_ndarray_value(b));
    return err->code ? err->code : fail(k, LASK_EINVAL, err, "b must be an array");
  }
  int64_t n = a->shape[0], nrhs = vector ? 1 : b->shape[1];
  if (b->shape[0] != n) {
    lask_release(lask_ndarray_value(a)), lask_release(lask_ndarray_value(b));
    return fail(k, LASK_EINVAL, err, "a and b have different numbers of rows");
  }
  lapack_int *ipiv = malloc((size_t)(n ? n : 1) * sizeof *ipiv);
  int info = !ipiv ? -1 : n == 0 ? 0
             : pos ? LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, (lapack_int)nrhs, (double *)a->data,
                                   (lapack_int)n, (double *)b->data, (lapack_int)nrhs)
                   : LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)nrhs, (double *)a->data, (lapack_int)n,
                                   ipiv, (double *)b->data, (lapack_int)nrhs);
  free(ipiv), lask_release(lask_ndarray_value(a));
  if (info != 0) {
    lask_release(lask_ndarray_value(b));
    if (info < 0) return fail(k, LASK_ENOMEM, err, "out of memory");
    return pos ? lask_err_set(err, LASK_EKERNEL, LASK_NO_NODE, "%s: the matrix is not positive definite", k->name)
               : singular(k, info, err);
  }
  *out = lask_ndarray_value(b);
  return LASK_OK;
}

static lask_status k_cholesky(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                              lask_err *err) {
  if (nargs < 1 || nargs > 2) return fail(k, LASK_EINVAL, err, "expects a and optionally lower");
  int lower = nargs == 2 && args[1].type == LASK_TBOOL && args[1].as.b;
  lask_ndarray *a = square_arg(k, args, 0, err);
  if (!a || !(a = own(a, err))) return err->code;
  int64_t n = a->shape[0];
  double *A = (double *)a->data;
  int info = n ? LAPACKE_dpotrf(LAPACK_ROW_MAJOR, lower ? 'L' : 'U', (lapack_int)n, A, (lapack_int)n) : 0;
  if (info != 0) {
    lask_release(lask_ndarray_value(a));
    return lask_err_set(err, LASK_EKERNEL, LASK_NO_NODE, "%s: the matrix is not positive definite (leading minor %d)",
                        k->name, info);
  }
  for (int64_t i = 0; i < n; i++) /* zero the other triangle LAPACK left as it was */
    for (int64_t j = 0; j < n; j++)
      if (lower ? j > i : j < i) A[i * n + j] = 0.0;
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

static lask_status k_inv(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  if (nargs != 1) return fail(k, LASK_EINVAL, err, "expects 1 argument");
  lask_ndarray *a = square_arg(k, args, 0, err);
  if (!a || !(a = own(a, err))) return err->code;
  int64_t n = a->shape[0];
  lapack_int *ipiv = malloc((size_t)(n ? n : 1) * sizeof *ipiv);
  int info = !ipiv ? -1 : n == 0 ? 0 : LAPACKE_dgetrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)n, (double *)a->data,
                                                      (lapack_int)n, ipiv);
  if (info == 0 && n) info = LAPACKE_dgetri(LAPACK_ROW_MAJOR, (lapack_int)n, (double *)a->data, (lapack_int)n, ipiv);
  free(ipiv);
  if (info != 0) {
    lask_release(lask_ndarray_value(a));
    return info < 0 ? fail(k, LASK_ENOMEM, err, "out of memory") : singular(k, info, err);
  }
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

/* --- least squares --- */

static lask_status k_lstsq(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  if (nargs != 2) return fail(k, LASK_EINVAL, err, "expects a and b");
  lask_ndarray *bv = lask_ndarray_of(args[1]);
  int vector = bv && bv->ndim == 1;
  lask_ndarray *a = matrix_arg(k, args, 0, err), *b = NULL;
  if (a && vector) b = lask_ndarray_copy(bv, LASK_F64, err);
  else if (a) b = matrix_arg(k, args, 1, err);
  if (!a || !b || !(a = own(a, err))) {
    if (a) lask_release(lask_ndarray_value(a));
    if (b) lask_release(lask_ndarray_value(b));
    return err->code ? err->code : fail(k, LASK_EINVAL, err, "b must be an array");
  }
  int64_t m = a->shape[0], n = a->shape[1], nrhs = vector ? 1 : b->shape[1], kk = m < n ? m : n, ldb = m > n ? m : n;
  if (b->shape[0] != m) {
    lask_release(lask_ndarray_value(a)), lask_release(lask_ndarray_value(b));
    return fail(k, LASK_EINVAL, err, "a and b have different numbers of rows");
  }
  double *B = calloc((size_t)(ldb * nrhs > 0 ? ldb * nrhs : 1), sizeof *B);
  lask_ndarray *s = lask_ndarray_new(LASK_F64, 1, &kk, err);
  lapack_int rank = 0;
  int info = -1;
  if (B && s) {
    memcpy(B, b->data, (size_t)(m * nrhs) * sizeof *B);
    info = kk == 0 ? 0 : LAPACKE_dgelsd(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)n, (lapack_int)nrhs,
                                        (double *)a->data, (lapack_int)n, B, (lapack_int)nrhs, (double *)s->data, -1.0,
                                        &rank);
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
    return info > 0 ? fail(k, LASK_EKERNEL, err, "the SVD did not converge") : err->code ? err->code
                                                                                            : fail(k, LASK_ENOMEM, err,
                                                                                                   "out of memory");
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
    lask_release(lask_ndarray_value(x)), lask_release(lask_ndarray_value(res)), lask_release(lask_ndarray_value(s));
    return fail(k, LASK_ENOMEM, err, "out of memory");
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
  double *work = malloc((size_t)(m * n > 0 ? m * n : 1) * sizeof *work), *s = malloc((size_t)(kk ? kk : 1) * sizeof *s);
  if (!work || !s) return free(work), free(s), NULL;
  memcpy(work, a->data, (size_t)(m * n) * sizeof *work);
  lapack_int ld = (lapack_int)(m > n ? m : n); /* unused with jobz 'N', but LAPACKE checks it */
  int info = kk ? LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)m, (lapack_int)n, work, (lapack_int)n, s, NULL, ld,
                                 NULL, ld)
                : 0;
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
    if (!s) return fail(k, LASK_EKERNEL, err, "the SVD did not converge");
    double acc = name ? 0 : cnt ? s[0] : 0;
    for (int64_t i = 0; i < cnt; i++) acc = name ? acc + s[i] : p > 0 ? fmax(acc, s[i]) : fmin(acc, s[i]);
    free(s);
    return *out = acc, LASK_OK;
  }
  if (!lask_tonumber(ord, &p) || !(fabs(p) == 1 || isinf(p)))
    return fail(k, LASK_EINVAL, err, "ord must be \"fro\", \"nuc\", 1, -1, 2, -2, inf or -inf for a matrix");
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

static lask_status k_norm(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  if (nargs < 1 || nargs > 2) return fail(k, LASK_EINVAL, err, "expects a and optionally ord");
  lask_value ord = nargs == 2 ? args[1] : lask_nil();
  lask_ndarray *v = lask_ndarray_of(args[0]);
  if (v && v->ndim == 1) { /* vector p-norm */
    double p = 2, acc = 0, e;
    if (ord.type != LASK_TNIL && !lask_tonumber(ord, &p)) return fail(k, LASK_EINVAL, err, "ord must be a number for a vector");
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
    LASK_KERNEL_STATIC("qr", k_qr),       LASK_KERNEL_STATIC("qr_factor", k_qr_factor),
    LASK_KERNEL_STATIC("qr_apply", k_qr_apply), LASK_KERNEL_STATIC("item", k_item),         LASK_KERNEL_STATIC("vstack", k_vstack),
    LASK_KERNEL_STATIC("rows", k_rows),   LASK_KERNEL_STATIC("svd", k_svd),           LASK_KERNEL_STATIC("lu", k_lu),
    LASK_KERNEL_STATIC("solve", k_solve), LASK_KERNEL_STATIC("cholesky", k_cholesky), LASK_KERNEL_STATIC("lstsq", k_lstsq),
    LASK_KERNEL_STATIC("inv", k_inv),     LASK_KERNEL_STATIC("norm", k_norm),
};

const lask_kernel *lask_akernels_linalg(int i) {
  return i >= 0 && i < (int)(sizeof kernels / sizeof kernels[0]) ? &kernels[i] : NULL;
}
