/* blas_threads.h — OpenBLAS's thread count, which is the process's: set to 1 when the
 * first engine starts (the scheduler owns the cores: a BLAS call inside a task must
 * not start OpenBLAS's own threads on top of the workers), and what it was before.
 * A task that runs alone raises it while it calls BLAS (engine/array/blas_cores.h).
 */
#ifndef LASK_BLAS_THREADS_H
#define LASK_BLAS_THREADS_H

/* Once per process, before the first pool starts: notes OpenBLAS's thread count and
 * sets it to 1, for good (setting it per run raced between engines). */
void lask_blas_threads_single(void);

/* Sets OpenBLAS's thread count back to 1 (a forked worker process, whose parent may
 * have been lending cores to a call when it forked). */
void lask_blas_threads_single_again(void);

/* OpenBLAS's thread count before lask_blas_threads_single set it to 1
 * (OPENBLAS_NUM_THREADS, or one per core); 0 before any engine started. */
int lask_blas_threads_max(void);

#endif
