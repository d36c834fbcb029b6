/* blas_cores.h — a big BLAS/LAPACK call of a task that runs alone uses the sleeping
 * workers' cores through OpenBLAS's own threads (engine/core/cores.h lends them).
 *
 *   int b = lask_blas_cores_begin(flops);  ... cblas_dgemm / LAPACKE_dgesdd ...
 *   lask_blas_cores_end(b);
 *
 * OpenBLAS's thread count is the process's (its 0.3.21 has no per-call count), so at
 * most one call in the process borrows at a time; the count goes up only while every
 * other worker of the run sleeps, and back to 1 as soon as one wakes to take work
 * (OpenBLAS reads it at each BLAS call, also those inside a LAPACK routine). At most
 * lask_blas_threads_max() threads, and no more than the cores other programs leave
 * free when they are lent (Linux's /proc: threads running or ready to run).
 * LASK_BLAS_BORROW in the environment (read once): "0" turns borrowing off (every
 * call then runs on its task's core alone), "always" lends the cores however busy
 * the machine is.
 */
#ifndef LASK_BLAS_CORES_H
#define LASK_BLAS_CORES_H

#include <stdbool.h>

#include "core/api.h"

LASK_BEGIN_DECLS

/* Before a BLAS/LAPACK call of about flops floating-point operations: borrows the
 * sleeping workers' cores for it when the call is big enough and the task runs alone
 * in a threaded run. Returns what to give lask_blas_cores_end (0: nothing borrowed). */
int lask_blas_cores_begin(double flops);

/* After the call: OpenBLAS back to one thread, the borrow ended. */
void lask_blas_cores_end(int borrowed);

/* Whether LASK_BLAS_BORROW lets calls borrow (it is not "0"). */
bool lask_blas_cores_enabled(void);

/* How many times so far a call of the process was given more than one thread (for
 * tests and diagnostics). */
long lask_blas_cores_widened(void);

/* OpenBLAS's thread count now (1 unless a call borrows). */
int lask_blas_cores_threads(void);

LASK_END_DECLS

#endif
