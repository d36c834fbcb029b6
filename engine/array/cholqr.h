/* cholqr.h — the SVD of a tall matrix by CholeskyQR2 (Fukaya, Nakatsukasa, Yanagisawa
 * & Yamamoto 2014), all level-3 BLAS, with Householder TSQR as its fallback, chosen
 * while the graph runs. lua/lask/array/linalg.lua builds the graph, per row block
 * A_i of x (m×n):
 *
 *   gram(A_i)                    G_i = A_iᵀA_i (dsyrk)
 *   cholqr_r1({G_i})             R1 = chol(ΣG_i), or nil (see below)
 *   cholqr_step(A_i, R1)         {Q1_i = A_i R1⁻¹, Q1_iᵀQ1_i} (dtrsm, dsyrk), nil when R1 is
 *   cholqr_top({step_i}, R1)     {R = R2 R1, R2 = chol(ΣQ1_iᵀQ1_i)}, or nil
 *   cholqr_house(A_i, top)       qr_factor(A_i) when top is nil (TSQR), else nil
 *   cholqr_merge({house_i}, top) {R, R2, nil} or, TSQR, {R, nil, F}: the houses' R merged
 *   svd(R) ... U_R
 *   cholqr_w(merge, U_R)         R2⁻¹ U_R, or F's Q·U_R (TSQR's second stage), or U_R
 *   cholqr_u(step_i, house_i, w, i)   block i of U: Q1_i·w, or Q_i·(w's slice i)
 *
 * The rule: CholeskyQR2 when the Cholesky factorisation of xᵀx succeeds, R1's
 * condition number estimate (1-norm, dtrcon) is at most LASK_CHOLQR_MAX_COND, and the
 * first pass left Q1 close enough to orthonormal that the second makes it so to
 * rounding (‖Q1ᵀQ1 − I‖_F <= LASK_CHOLQR_MAX_DEPARTURE; then Q = Q1 R2⁻¹ is
 * orthonormal and x = Q R to a few units of rounding, as TSQR's). Otherwise (an
 * ill-conditioned or rank-deficient x, NaN or Inf, overflow in xᵀx) TSQR's
 * Householder factors, bit for bit those of lask.array.linalg.tsqr's blocks.
 */
#ifndef LASK_CHOLQR_H
#define LASK_CHOLQR_H

/* The largest estimated condition number of R1 that CholeskyQR2 takes on: the
 * Gram matrix squares it, and CholeskyQR2 is stable up to about 1e7-1e8. */
#define LASK_CHOLQR_MAX_COND 1e7

/* The largest ‖Q1ᵀQ1 − I‖_F after the first pass that the second may correct. */
#define LASK_CHOLQR_MAX_DEPARTURE 0.5

/* The group of these kernels is lask_akernels_cholqr (array_kernels.h). */

#endif
