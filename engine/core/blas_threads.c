/* blas_threads.c — OpenBLAS's thread count, once per process (blas_threads.h). */
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>

#include "blas_threads.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic int before; /* set once, by single */

static void single(void) {
  atomic_store(&before, openblas_get_num_threads());
  openblas_set_num_threads(1);
}

void lask_blas_threads_single(void) { pthread_once(&once, single); }

/* Only when needed: after a fork OpenBLAS's pool is down (its fork handler), and any
 * set would start it again in the worker process. */
void lask_blas_threads_single_again(void) {
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

int lask_blas_threads_max(void) { return atomic_load(&before); }
