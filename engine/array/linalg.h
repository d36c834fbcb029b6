/* linalg.h — dense linear algebra kernels on OpenBLAS and LAPACKE.
 *
 * These are array kernels (array_kernels.h conventions) over 2-D arrays, computed in
 * float64; the chunked algorithms (TSQR, SVD through TSQR, randomized SVD) are
 * graphs of them that lua/lask/array/linalg.lua builds.
 *
 *   qr(a)                 list {Q, R}: reduced QR (Q m×k, R k×n, k = min(m, n))
 *   qr_factor(a)          list {F, R} for a tall block (m >= n): F = {reflectors, T}
 *                         stands for Q without forming it
 *   qr_apply(F, W)        Q·W (m×k) for W n×k: TSQR forms each block's Q (or U) once,
 *                         times its slice of the second stage
 *   item(list, i)         element i (0-based) of a list (operator.getitem on a tuple)
 *   vstack(list)          2-D arrays stacked by rows
 *   rows(a, start, stop)  the rows [start, stop) of a (a view)
 *   svd(a)                list {U, S, V}: thin SVD (dgesdd) with deterministic signs:
 *                         the largest-magnitude entry of each row of V is positive
 *   lu(a)                 list {P, L, U} with A = P L U (dgetrf)
 *   solve(a, b, assume)   x with a x = b; assume "gen" (dgesv) or "pos" (dposv)
 *   cholesky(a, lower)    the Cholesky factor: lower L (A = L Lᵀ) or upper U (A = Uᵀ U)
 *   lstsq(a, b)           list {x, residuals, rank, s} (dgelsd), as numpy.linalg.lstsq
 *   inv(a)                the inverse (dgetrf + dgetri)
 *   norm(a, ord)          ord: "fro", "nuc", 1, 2, -1, -2, inf, -inf (matrices); any p for vectors
 * Errors are clear: a singular or non-positive-definite matrix, a non-square
 * matrix where one is needed, mismatched shapes, NaN or Inf in the input.
 */
#ifndef LASK_LINALG_H
#define LASK_LINALG_H

#include "array_kernels.h"

/* The group of these kernels is lask_akernels_linalg (array_kernels.h). */

/* qr_factor, qr_apply and qr_apply's into entry (kernel.h's signatures), for the
 * kernels that fall back on TSQR (cholqr.c); errors are named after k. */
lask_status lask_linalg_qr_factor(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                                  lask_err *err);
lask_status lask_linalg_qr_apply(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                                 lask_err *err);
lask_status lask_linalg_qr_apply_into(const lask_kernel *k, const lask_value *args, int nargs,
                                      const lask_ndarray *dest, const int64_t *offset, bool *done,
                                      lask_err *err);

/* In place: the Cholesky factor of the n×n row-major symmetric a (its lower or upper
 * triangle read), the other triangle zeroed; idle workers' cores lent to the call.
 * Returns LAPACK's info: 0, or k > 0 when the leading minor k is not positive. */
int lask_linalg_cholesky_in_place(double *a, int64_t n, bool lower);

#endif
