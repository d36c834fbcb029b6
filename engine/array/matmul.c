/* matmul.c — the matrix product kernels of lask.array (array_kernels.h): matmul
 * (a @ b) and matmul_sum (the blocked product's inner sum), on OpenBLAS; both
 * also straight into a block of a bigger result (their into entries: BLAS writes
 * with the result's row stride, so a chunked product needs no block of its own).
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"
#include "blas_cores.h"

/* numpy.matmul's rules for 1-D and 2-D operands: a 1-D left operand is a row, a
 * 1-D right one a column, and the added axis is dropped from the result. Floats go
 * through cblas_dgemm (cblas_sgemm when both are float32, as numpy keeps float32);
 * int64 and bool through a plain loop giving int64. An operand whose layout is C or
 * Fortran order along its two axes is handed to BLAS as is (transposed for Fortran);
 * any other is copied first (lask_akernel_mat_init). */

typedef lask_akernel_mat mat;

/* Element steps of m's rows and columns: a transposed (Fortran-order) operand steps
 * ld along its columns, as BLAS reads it. */
static void mat_steps(const mat *m, int64_t *row, int64_t *col) {
  *row = m->trans ? 1 : m->ld;
  *col = m->trans ? m->ld : 1;
}

/* out (+)= a @ b for int64 operands in C or Fortran order (a->trans, b->trans), the
 * products wrapping modulo 2^64 as numpy's int64 does; out's rows ldc apart. */
static void matmul_i64(const mat *a, const mat *b, int64_t *out, int64_t ldc, bool accumulate) {
  const int64_t *A = (const int64_t *)a->a->data, *B = (const int64_t *)b->a->data;
  int64_t m = a->rows, kk = a->cols, n = b->cols, ar, ac, br, bc;
  mat_steps(a, &ar, &ac), mat_steps(b, &br, &bc);
  for (int64_t i = 0; !accumulate && i < m; i++) memset(out + i * ldc, 0, sizeof *out * (size_t)n);
  for (int64_t i = 0; i < m; i++)
    for (int64_t p = 0; p < kk; p++) {
      uint64_t av = (uint64_t)A[i * ar + p * ac];
      for (int64_t j = 0; j < n; j++)
        out[i * ldc + j] = (int64_t)((uint64_t)out[i * ldc + j] + av * (uint64_t)B[p * br + j * bc]);
    }
}

/* out (+)= a @ b, out's rows ldc elements apart. */
static void gemm(lask_dtype dt, const mat *a, const mat *b, char *out, int64_t ldc, bool accumulate) {
  int m = (int)a->rows, n = (int)b->cols, kk = (int)a->cols;
  if (m == 0 || n == 0) return;
  if (kk == 0) {
    size_t row = lask_dtype_size(dt) * (size_t)n;
    for (int i = 0; !accumulate && i < m; i++)
      memset(out + (size_t)i * (size_t)ldc * lask_dtype_size(dt), 0, row);
    return;
  }
  enum CBLAS_TRANSPOSE ta = a->trans ? CblasTrans : CblasNoTrans, tb = b->trans ? CblasTrans : CblasNoTrans;
  int borrowed = dt == LASK_F64 || dt == LASK_F32 ? lask_blas_cores_begin(2.0 * m * (double)n * kk) : 0;
  if (dt == LASK_F64)
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, kk, 1.0, (const double *)a->a->data, (int)a->ld,
                (const double *)b->a->data, (int)b->ld, accumulate ? 1.0 : 0.0, (double *)out, (int)ldc);
  else if (dt == LASK_F32)
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, kk, 1.0f, (const float *)a->a->data, (int)a->ld,
                (const float *)b->a->data, (int)b->ld, accumulate ? 1.0f : 0.0f, (float *)out, (int)ldc);
  else
    matmul_i64(a, b, (int64_t *)out, ldc, accumulate);
  lask_blas_cores_end(borrowed);
}

lask_dtype lask_matmul_dtype(lask_dtype a, lask_dtype b) {
  if (a == LASK_F32 && b == LASK_F32) return LASK_F32;
  if (a == LASK_F32 || a == LASK_F64 || b == LASK_F32 || b == LASK_F64) return LASK_F64;
  return LASK_I64;
}

/* The result's shape for operands of ndim na and nb (m x kk times kk x n). */
static int matmul_shape(int na, int nb, int64_t m, int64_t n, int64_t *shape) {
  int nd = 0;
  if (na == 2) shape[nd++] = m;
  if (nb == 2) shape[nd++] = n;
  return nd;
}

/* Where the product's block (nd axes of shape, dtype dt) lands in dest at off, and
 * the distance of its rows in elements (*ld, for 2-D); NULL when it does not fit
 * there as rows of contiguous elements of dt (the caller then makes a block of its
 * own and copies it). */
static char *dest_block(const lask_ndarray *dest, const int64_t *off, lask_dtype dt, int nd,
                        const int64_t *shape, int64_t *ld) {
  int64_t es = (int64_t)lask_dtype_size(dt);
  if (dest->dtype != dt || dest->ndim != nd || nd < 1) return NULL;
  for (int d = 0; d < nd; d++)
    if (off[d] < 0 || off[d] + shape[d] > dest->shape[d]) return NULL;
  if (shape[nd - 1] > 1 && dest->strides[nd - 1] != es) return NULL;
  if (nd == 2) {
    *ld = dest->strides[0] / es;
    if (dest->strides[0] % es || *ld < shape[1] || *ld > INT32_MAX) return NULL;
  }
  return lask_ndarray_ptr(dest, off);
}

/* Multiplies pairs a[i] @ b[i] (i < npairs), summing them into one result: a new
 * array in *out, or (dest not NULL) straight into dest at offset off, *done set
 * then; dest is left untouched when the result would not fit there. */
static lask_status matmul_pairs(const lask_kernel *k, lask_ndarray *const *as, lask_ndarray *const *bs,
                                size_t np, const lask_ndarray *dest, const int64_t *off, bool *done,
                                lask_value *out, lask_err *err) {
  lask_dtype dt = lask_matmul_dtype(as[0]->dtype, bs[0]->dtype);
  for (size_t i = 1; i < np; i++) dt = lask_dtype_promote(dt, lask_matmul_dtype(as[i]->dtype, bs[i]->dtype));
  lask_ndarray *r = NULL;
  char *at = NULL;
  int64_t ld = 0, rshape[2];
  int rnd = -1;
  for (size_t i = 0; i < np; i++) {
    mat a, b;
    if (lask_akernel_mat_init(k, as[i], true, dt, &a, err))
      return r ? lask_release(lask_ndarray_value(r)), err->code : err->code;
    if (lask_akernel_mat_init(k, bs[i], false, dt, &b, err)) {
      lask_akernel_mat_free(&a);
      return r ? lask_release(lask_ndarray_value(r)), err->code : err->code;
    }
    int64_t shape[2];
    int nd = matmul_shape(as[i]->ndim, bs[i]->ndim, a.rows, b.cols, shape);
    lask_status st = LASK_OK;
    if (a.cols != b.rows) {
      char s1[160], s2[160];
      st = lask_akernel_fail(k, LASK_EINVAL, err, "shapes %s and %s are not aligned (%lld != %lld)",
                             lask_shape_str(as[i]->ndim, as[i]->shape, s1, sizeof s1),
                             lask_shape_str(bs[i]->ndim, bs[i]->shape, s2, sizeof s2), (long long)a.cols,
                             (long long)b.rows);
    } else if (a.rows > INT32_MAX || b.cols > INT32_MAX || a.cols > INT32_MAX) {
      st = lask_akernel_fail(k, LASK_EINVAL, err, "operands too large for BLAS");
    } else if (rnd >= 0 && (rnd != nd || memcmp(rshape, shape, sizeof shape[0] * (size_t)nd))) {
      st = lask_akernel_fail(k, LASK_EINVAL, err, "products of different shapes cannot be summed");
    } else if (rnd < 0 && dest && !(at = dest_block(dest, off, dt, nd, shape, &ld))) {
      lask_akernel_mat_free(&a), lask_akernel_mat_free(&b);
      return LASK_OK; /* does not fit dest: the caller runs the plain kernel */
    } else if (rnd < 0 && !dest && !(r = lask_ndarray_empty(dt, nd, shape, err))) {
      st = lask_akernel_relabel(k, err);
    } else {
      if (rnd < 0) {
        rnd = nd, memcpy(rshape, shape, sizeof shape);
        if (r) at = r->data;
        if (r || nd < 2) ld = b.cols; /* a 1-D result is one row or one column */
      }
      gemm(dt, &a, &b, at, ld, i > 0);
    }
    lask_akernel_mat_free(&a), lask_akernel_mat_free(&b);
    if (st) return r ? lask_release(lask_ndarray_value(r)), st : st;
  }
  if (dest)
    *done = true;
  else
    *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* matmul(a, b): a @ b. */
static lask_status k_matmul(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                            lask_err *err) {
  lask_ndarray *a, *b;
  if (lask_akernel_nargs(k, n, 2, 2, err) || lask_akernel_array(k, args, 0, &a, err) ||
      lask_akernel_array(k, args, 1, &b, err))
    return err->code;
  return matmul_pairs(k, &a, &b, 1, NULL, NULL, NULL, out, err);
}

/* matmul's into entry (kernel.h): a @ b straight into a block of dest. */
static lask_status k_matmul_into(const lask_kernel *k, const lask_value *args, int n,
                                 const lask_ndarray *dest, const int64_t *off, bool *done, lask_err *err) {
  lask_ndarray *a, *b;
  *done = false;
  if (lask_akernel_nargs(k, n, 2, 2, err) || lask_akernel_array(k, args, 0, &a, err) ||
      lask_akernel_array(k, args, 1, &b, err))
    return err->code;
  return matmul_pairs(k, &a, &b, 1, dest, off, done, NULL, err);
}

/* matmul_sum(as, bs): as[1] @ bs[1] + as[2] @ bs[2] + ..., accumulated in place by
 * BLAS (beta = 1): the blocked product's inner sum with no temporaries; into dest
 * at off when dest is not NULL (the into entry). */
static lask_status matmul_sum(const lask_kernel *k, const lask_value *args, int n, const lask_ndarray *dest,
                              const int64_t *off, bool *done, lask_value *out, lask_err *err) {
  const lask_list *la, *lb;
  if (lask_akernel_nargs(k, n, 2, 2, err) || lask_akernel_arg_arrays(k, args, 0, &la, err) ||
      lask_akernel_arg_arrays(k, args, 1, &lb, err))
    return err->code;
  if (la->n != lb->n)
    return lask_akernel_fail(k, LASK_EINVAL, err, "%zu left operands for %zu right ones", la->n, lb->n);
  if (la->n == 0) return lask_akernel_fail(k, LASK_EINVAL, err, "no products to sum");
  lask_ndarray **ops = malloc(2 * la->n * sizeof *ops);
  if (!ops) return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  for (size_t i = 0; i < la->n; i++)
    ops[i] = lask_ndarray_of(la->items[i]), ops[la->n + i] = lask_ndarray_of(lb->items[i]);
  lask_status st = matmul_pairs(k, ops, ops + la->n, la->n, dest, off, done, out, err);
  free(ops);
  return st;
}

static lask_status k_matmul_sum(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                lask_err *err) {
  return matmul_sum(k, args, n, NULL, NULL, NULL, out, err);
}

/* matmul_sum's into entry (kernel.h): the sum straight into a block of dest. */
static lask_status k_matmul_sum_into(const lask_kernel *k, const lask_value *args, int n,
                                     const lask_ndarray *dest, const int64_t *off, bool *done,
                                     lask_err *err) {
  *done = false;
  return matmul_sum(k, args, n, dest, off, done, NULL, err);
}

static const lask_kernel kernels[] = {
    LASK_KERNEL_STATIC_INTO("matmul", k_matmul, k_matmul_into),
    LASK_KERNEL_STATIC_INTO("matmul_sum", k_matmul_sum, k_matmul_sum_into),
};

LASK_AKERNEL_GROUP(lask_akernels_matmul, kernels)
