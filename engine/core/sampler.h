/* sampler.h — a thread that samples this process's CPU use and resident memory.
 *
 * Used by lask.diagnostics.ResourceProfiler. Pure C and pthreads: the sampling
 * thread never touches Lua. It appends samples to an array that only it writes
 * while it runs; the owner reads them after lask_sampler_stop, which joins the
 * thread (the join orders every write before the reads, so no lock guards them).
 *
 * Each sample is taken at a multiple of dt after the start, plus one when stopped:
 *   time  seconds on CLOCK_MONOTONIC (the clock of lask.clock)
 *   cpu   CPU time of the whole process, and of its child processes (worker
 *         processes of lask.multiprocessing), over the interval since the previous
 *         sample, in percent of one core (200 is two cores busy)
 *   mem   resident set size in bytes of the process plus its children (pages a
 *         forked child still shares count twice, as Dask's psutil sum does)
 */
#ifndef LASK_SAMPLER_H
#define LASK_SAMPLER_H

#include <pthread.h>
#include <stddef.h>

typedef struct lask_sample {
  double time, cpu, mem;
} lask_sample;

typedef struct lask_sampler {
  pthread_t thread;
  pthread_mutex_t mu; /* guards stop, and the wake-up through cv */
  pthread_cond_t cv;  /* on CLOCK_MONOTONIC, so the wait ends at each sample's time */
  int stop;
  int running; /* a thread was started and not yet joined (owner only) */
  double dt;
  /* written by the thread while it runs, read by the owner after the join: */
  lask_sample *samples;
  size_t n, cap;
  int incomplete; /* a sample was dropped: out of memory */
  /* the thread's own: CPU seconds of each child at the last sample */
  struct lask_sampler_child {
    int pid;
    double cpu;
  } * kids;
  size_t nkids;
} lask_sampler;

/* Initialises s and starts its thread, sampling every dt seconds (at least 1 ms).
 * Returns 0, or an errno code when the thread could not be made (s then needs no
 * lask_sampler_stop, and lask_sampler_free is still safe). */
int lask_sampler_start(lask_sampler *s, double dt);

/* Stops and joins the thread (after one last sample). Safe to call twice. */
void lask_sampler_stop(lask_sampler *s);

/* Stops the thread if it runs and frees the samples. */
void lask_sampler_free(lask_sampler *s);

/* Reads the resident set size of this process in bytes; -1 when /proc can't say. */
double lask_sampler_rss(void);

/* True when process pid is stopped (state T or t in /proc/pid/stat: SIGSTOP,
 * SIGTSTP, a debugger); 0 when it runs or is gone. */
int lask_process_stopped(int pid);

#endif
