/* parker.h — an event count: idle workers sleep without spinning, and no wake-up
 * is lost.
 *
 * After D. Vyukov's eventcount and Taskflow's Notifier (itself from Eigen's
 * EventCount). A worker cannot simply "sleep until there is work": work pushed
 * between its last look and its sleep would go unnoticed. The two-phase wait
 * closes that window:
 *
 *   worker (found no work)                     producer
 *     t = lask_parker_prepare_wait(p);           push work (atomics, e.g. a deque)
 *     if (any work, or a reason to stop)         lask_parker_notify_one(p);
 *       lask_parker_cancel_wait(p);
 *     else
 *       lask_parker_commit_wait(p, t);
 *
 * commit sleeps unless some notify happened after the prepare; then the worker
 * goes back to its loop (a wake-up promises nothing: it may find no work). The
 * re-check between prepare and commit must look at every condition a notifier
 * signals (all queues, the shutdown flag), through atomics or under a lock.
 * Why this loses no wake-up is proved in parker.c.
 *
 * Notifying is cheap when nobody waits: one fence and one atomic load, no lock,
 * no system call. A notify when nobody is waiting is not remembered: the event
 * count counts events, it does not store them (the queues do).
 */
#ifndef LASK_PARKER_H
#define LASK_PARKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct lask_parker {
  _Atomic uint32_t waiters; /* threads between prepare and the end of cancel/commit */
  _Atomic uint64_t epoch;   /* bumped by each notify that finds waiters; under mu */
  pthread_mutex_t mu;       /* guards the epoch check-then-sleep against a notify */
  pthread_cond_t cv;
  uint32_t sleepers; /* under mu: threads blocked in commit, for tests and statistics */
} lask_parker;

/* Initialises p. Returns false when the system lacks resources for the mutex or
 * the condition variable (nothing to destroy then). */
bool lask_parker_init(lask_parker *p);

/* Frees p's mutex and condition variable. No thread may be waiting. */
void lask_parker_destroy(lask_parker *p);

/* Any thread, before its final look for work. Announces the thread as a waiter
 * and returns the ticket to pass to commit. Must be followed by exactly one
 * cancel or commit on the same thread. */
uint64_t lask_parker_prepare_wait(lask_parker *p);

/* Any thread that prepared: it found work after all and will not sleep. */
void lask_parker_cancel_wait(lask_parker *p);

/* Any thread that prepared with this ticket: sleeps until a notify that happens
 * after the prepare; returns at once if one already did. */
void lask_parker_commit_wait(lask_parker *p, uint64_t ticket);

/* Any thread, after making work (or a stop condition) visible. Wakes one sleeper
 * if any, and keeps every thread between prepare and commit from sleeping. */
void lask_parker_notify_one(lask_parker *p);

/* Any thread. As notify_one, but wakes every sleeper (shutdown, or many tasks). */
void lask_parker_notify_all(lask_parker *p);

/* Any thread. How many threads are asleep in commit right now (takes the lock:
 * for tests and statistics, not for scheduling decisions). */
uint32_t lask_parker_sleepers(lask_parker *p);

#endif
