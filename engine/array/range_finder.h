/* range_finder.h — the kernels of svd_compressed's randomized range finder (Halko,
 * Martinsson & Tropp 2011), on OpenBLAS and LAPACKE. Array kernels (array_kernels.h
 * conventions), float64; lua/lask/array/linalg.lua builds the power iterations
 * from them:
 *
 *   power_step(xs, wt, r0, r1)   the sum over the row blocks x of the list xs of
 *                                (wt[r0:r1] xᵀ) x: rows r0..r1-1 of (xᵀx w)ᵀ for
 *                                wt = wᵀ (l×n) and x the row blocks of a matrix
 *                                (each m_i×n); one power iteration's share of a task
 *   orth_rows(a)                 for a l×n (l <= n): l×n orthonormal rows spanning
 *                                the row space of a (Householder QR of aᵀ)
 * NaN or Inf in the data is reported (power_step checks its result, so a bad x is
 * caught without a pass over it).
 */
#ifndef LASK_RANGE_H
#define LASK_RANGE_H

#include "array_kernels.h"

/* The group of these kernels is lask_akernels_range (array_kernels.h). */

#endif
