/* blas_cores.c — big BLAS/LAPACK calls on the sleeping workers' cores (blas_cores.h). */
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/cores.h"
#include "core/blas_threads.h"

#include "blas_cores.h"

/* Below this many flops a call is over before more threads would pay for waking
 * (OpenBLAS keeps small products on one thread anyway). */
#define MIN_FLOPS 1e8

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static bool enabled;         /* set once, by read_env */
static _Atomic int borrowed; /* 1 while a call of the process borrows */
static _Atomic long widened; /* calls given more than one thread so far */

static void read_env(void) {
  const char *v = getenv("LASK_BLAS_BORROW");
  enabled = !(v && strcmp(v, "0") == 0);
}

bool lask_blas_cores_enabled(void) {
  pthread_once(&env_once, read_env);
  return enabled;
}

/* The engine's lending says how many cores the call may use now. */
static void set_threads(void *ctx, int cores) {
  (void)ctx;
  openblas_set_num_threads(cores);
  if (cores > 1) atomic_fetch_add(&widened, 1);
}

long lask_blas_cores_widened(void) { return atomic_load(&widened); }

int lask_blas_cores_threads(void) { return openblas_get_num_threads(); }

int lask_blas_cores_begin(double flops) {
  int max = lask_blas_threads_max(), idle = 0;
  if (flops < MIN_FLOPS || max < 2 || !lask_blas_cores_enabled()) return 0;
  if (!atomic_compare_exchange_strong(&borrowed, &idle, 1)) return 0;
  if (lask_cores_borrow(max, set_threads, NULL)) return 1;
  atomic_store(&borrowed, 0);
  return 0;
}

void lask_blas_cores_end(int b) {
  if (!b) return;
  lask_cores_return(b);
  atomic_store(&borrowed, 0);
}
