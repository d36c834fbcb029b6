/* blas_cores.c — big BLAS/LAPACK calls on the sleeping workers' cores (blas_cores.h). */
#include <cblas.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cores.h"
#include "core/blas_threads.h"

#include "blas_cores.h"

/* Below this many flops a call is over before more threads would pay for waking
 * (OpenBLAS keeps small products on one thread anyway). */
#define MIN_FLOPS 1e8

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static bool enabled, always; /* set once, by read_env */
static _Atomic int borrowed; /* 1 while a call of the process borrows */
static _Atomic long widened; /* calls given more than one thread so far */

static void read_env(void) {
  const char *v = getenv("LASK_BLAS_BORROW");
  enabled = !(v && strcmp(v, "0") == 0);
  always = v && strcmp(v, "always") == 0;
}

bool lask_blas_cores_enabled(void) {
  pthread_once(&env_once, read_env);
  return enabled;
}

/* Threads of other programs running or ready to run now (Linux's /proc: the system's,
 * the fourth field of loadavg, less this process's in state R); 0 when unknown. */
static int others_running(void) {
  FILE *f = fopen("/proc/loadavg", "r");
  int all = 0, own = 0;
  if (!f) return 0;
  if (fscanf(f, "%*f %*f %*f %d/", &all) != 1) all = 0;
  fclose(f);
  DIR *d = opendir("/proc/self/task");
  for (struct dirent *e; d && (e = readdir(d));) {
    char path[64], buf[256];
    if (e->d_name[0] == '.' || snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name) >= 64)
      continue;
    FILE *t = fopen(path, "r");
    size_t n = t ? fread(buf, 1, sizeof buf - 1, t) : 0;
    if (t) fclose(t);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* "tid (name) S ...": the name may hold anything */
    own += p && p[1] == ' ' && p[2] == 'R';
  }
  if (d) closedir(d);
  return all > own ? all - own : 0;
}

/* The engine's lending says how many cores the call may use now: as many, unless
 * other programs keep some of them busy (OpenBLAS's threads wait for each other, so a
 * thread that must share its core slows the whole call down). */
static void set_threads(void *ctx, int cores) {
  (void)ctx;
  if (cores > 1 && !always) {
    int free = (int)sysconf(_SC_NPROCESSORS_ONLN) - others_running();
    if (cores > free) cores = free > 1 ? free : 1;
  }
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
