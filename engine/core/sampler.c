/* sampler.c — the resource sampling thread (see sampler.h).
 *
 * CPU time comes from the kernel's per-process CPU clock (CLOCK_PROCESS_CPUTIME_ID):
 * the same utime + stime that /proc/self/stat reports, but in nanoseconds rather
 * than 10 ms ticks, so short intervals (dt = 0.01) still give usable percentages.
 * Resident memory comes from /proc/self/statm. Both cover every thread of the
 * process. Child processes (lask.multiprocessing's workers) are found through
 * /proc/self/task/<tid>/children and read from /proc/<pid>/stat (CPU in clock
 * ticks there: children's shares are coarser).
 */
#include "sampler.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double seconds(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double lask_sampler_rss(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size, resident;
  int got = f && fscanf(f, "%lu %lu", &size, &resident) == 2;
  if (f) fclose(f);
  return got ? (double)resident * (double)sysconf(_SC_PAGESIZE) : -1;
}

/* CPU seconds (utime + stime) and resident bytes of process pid from /proc/pid/stat.
 * Returns 0 when the process is gone. Fields after the command name (which may
 * hold spaces, so parsing starts after its last ')'): state ppid pgrp session
 * tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
 * priority nice num_threads itrealvalue starttime vsize rss. */
/* The fields of /proc/pid/stat after the command name (from the state on), read
 * into buf; NULL when the process is gone. */
static const char *stat_fields(int pid, char *buf, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "re");
  if (!f) return NULL;
  size_t len = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[len] = '\0';
  const char *p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p + 2 : NULL;
}

int lask_process_stopped(int pid) {
  char buf[1024];
  const char *p = stat_fields(pid, buf, sizeof buf);
  return p && (*p == 'T' || *p == 't');
}

static int read_stat(int pid, double *cpu, double *rss) {
  char buf[1024];
  const char *p = stat_fields(pid, buf, sizeof buf);
  unsigned long utime, stime;
  long pages;
  if (!p ||
      sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %*u %ld",
             &utime, &stime, &pages) != 3)
    return 0;
  *cpu = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
  *rss = (double)pages * (double)sysconf(_SC_PAGESIZE);
  return 1;
}

/* Puts in pids the children of every thread of this process; returns their number. */
static size_t list_children(int *pids, size_t max) {
  size_t n = 0;
  DIR *tasks = opendir("/proc/self/task");
  if (!tasks) return 0;
  struct dirent *t;
  while ((t = readdir(tasks)) && n < max) {
    if (t->d_name[0] == '.') continue;
    char path[300];
    snprintf(path, sizeof path, "/proc/self/task/%s/children", t->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    int pid;
    while (n < max && fscanf(f, "%d", &pid) == 1) pids[n++] = pid;
    fclose(f);
  }
  closedir(tasks);
  return n;
}

enum { MAX_CHILDREN = 1024 };

/* Thread side: the CPU seconds the children used since the last call (children
 * that appeared since count from zero: they were forked after it) and the sum of
 * their resident sizes. Remembers each child's CPU time in s->kids. */
static void sample_children(lask_sampler *s, double *cpu, double *rss) {
  int pids[MAX_CHILDREN];
  size_t n = list_children(pids, MAX_CHILDREN), kept = 0;
  struct lask_sampler_child *now = n ? malloc(n * sizeof *now) : NULL;
  *cpu = *rss = 0;
  for (size_t i = 0; i < n && now; i++) {
    double c, r, before = 0;
    if (!read_stat(pids[i], &c, &r)) continue;
    for (size_t k = 0; k < s->nkids; k++)
      if (s->kids[k].pid == pids[i]) before = s->kids[k].cpu;
    *cpu += c > before ? c - before : 0;
    *rss += r;
    now[kept++] = (struct lask_sampler_child){pids[i], c};
  }
  free(s->kids);
  s->kids = now, s->nkids = kept;
}

/* Thread side: appends one sample; the CPU share is over the time since the last. */
static void take_sample(lask_sampler *s, double *last_time, double *last_cpu) {
  double now = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
  double wall = now - *last_time, kids_cpu, kids_rss;
  sample_children(s, &kids_cpu, &kids_rss);
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    lask_sample *grown = realloc(s->samples, cap * sizeof *grown);
    if (!grown) {
      s->incomplete = 1;
      return;
    }
    s->samples = grown, s->cap = cap;
  }
  double used = cpu - *last_cpu + kids_cpu;
  s->samples[s->n++] = (lask_sample){now, wall > 0 ? 100.0 * used / wall : 0, lask_sampler_rss() + kids_rss};
  *last_time = now, *last_cpu = cpu;
}

static struct timespec to_timespec(double t) {
  struct timespec ts;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
  return ts;
}

/* Samples at t0 + k * dt until told to stop, then once more. Deadlines are fixed
 * multiples of dt, so a late wake-up does not shift the samples after it. */
static void *sampler_main(void *arg) {
  lask_sampler *s = arg;
  double t0 = seconds(CLOCK_MONOTONIC), last_time = t0, last_cpu = seconds(CLOCK_PROCESS_CPUTIME_ID),
         unused[2];
  sample_children(s, &unused[0], &unused[1]); /* the children already there: their past is not ours */
  unsigned long k = 0;
  pthread_mutex_lock(&s->mu);
  while (!s->stop) {
    double next = t0 + (double)++k * s->dt;
    struct timespec deadline = to_timespec(next);
    int rc = 0;
    while (!s->stop && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&s->cv, &s->mu, &deadline);
    if (s->stop) break;
    pthread_mutex_unlock(&s->mu); /* reading /proc must not hold up stop */
    take_sample(s, &last_time, &last_cpu);
    pthread_mutex_lock(&s->mu);
    double behind = seconds(CLOCK_MONOTONIC) - t0;
    if (behind > (double)(k + 1) * s->dt) k = (unsigned long)(behind / s->dt); /* skip missed deadlines */
  }
  pthread_mutex_unlock(&s->mu);
  if (seconds(CLOCK_MONOTONIC) - last_time > 1e-3 || s->n == 0) take_sample(s, &last_time, &last_cpu);
  return NULL;
}

int lask_sampler_start(lask_sampler *s, double dt) {
  memset(s, 0, sizeof *s);
  s->dt = dt >= 1e-3 ? dt : 1e-3;
  pthread_condattr_t attr;
  int rc = pthread_condattr_init(&attr);
  if (rc) return rc;
  rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (!rc) rc = pthread_cond_init(&s->cv, &attr);
  pthread_condattr_destroy(&attr);
  if (rc) return rc;
  if ((rc = pthread_mutex_init(&s->mu, NULL))) {
    pthread_cond_destroy(&s->cv);
    return rc;
  }
  if ((rc = pthread_create(&s->thread, NULL, sampler_main, s))) {
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    return rc;
  }
  s->running = 1;
  return 0;
}

void lask_sampler_stop(lask_sampler *s) {
  if (!s->running) return;
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  s->running = 0;
}

void lask_sampler_free(lask_sampler *s) {
  lask_sampler_stop(s);
  free(s->samples);
  free(s->kids);
  s->samples = NULL, s->n = s->cap = 0;
  s->kids = NULL, s->nkids = 0;
}
