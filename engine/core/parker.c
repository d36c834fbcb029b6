/* parker.c — the event count.
 *
 * State: `waiters` counts the threads inside a prepare ... cancel/commit bracket;
 * `epoch` counts the notifies that found a waiter. A notify that reads no waiter
 * does nothing else, which is what makes it cheap for a busy pool.
 *
 * Mutex and condition variable, not a futex: the engine is meant to be embedded
 * in any pthreads host (Linux or not), ThreadSanitizer understands them, and
 * they are only reached on the slow path, where the sleep or wake system call
 * costs more than the lock. A futex would let commit sleep on `epoch` itself and
 * save the lock, not the system call.
 *
 * Why no wake-up is lost. Let a worker W prepare (increment waiters, fence F_W,
 * read the ticket), re-check the queues and commit, while a producer N pushes
 * work and notifies (fence F_N, read waiters, and if nonzero: lock, bump epoch,
 * signal, unlock). The seq_cst fences F_W and F_N are totally ordered (C11
 * 7.17.4: a write sequenced before one fence is seen by a read sequenced after a
 * later fence, or a newer value is).
 *   1. F_N before F_W: W's re-check reads N's push (or a later state where some
 *      other thread already took the work). W cancels; nobody needs waking.
 *   2. F_W before F_N, and N reads waiters == 0: N read W's increment or a newer
 *      value. Every change of waiters is a +1 followed, on the same thread, by a
 *      -1, so zero means W's -1 came first: W already left that wait, awake, and
 *      will look at the queues again before it can sleep again. Each later wait
 *      of W either has its fence after F_N (case 1) or has ended too.
 *   3. F_W before F_N, and N reads waiters > 0: N bumps epoch under the mutex.
 *      W's ticket predates the bump: had W read the bumped epoch, that acquire
 *      load would have synchronised with the release bump, N's push would have
 *      been visible to W's re-check, and W would have cancelled. So in commit W
 *      either compares after the bump and returns, or compared before it and is
 *      already blocked in pthread_cond_wait, which released the mutex atomically
 *      with blocking: N's signal (sent under the mutex) wakes W or, for
 *      notify_one, another sleeper. Whichever wakes then scans the queues after
 *      taking the mutex N released, so it sees the work.
 * Hence whenever work is pushed and notified, some thread that is or will be
 * awake sees it. Spurious returns from commit are allowed and harmless.
 */
#include "parker.h"

/* GCC >= 12 warns (-Wtsan, an error with -Werror) that ThreadSanitizer does not
 * model atomic_thread_fence wherever a fence gets inlined. The fence still runs
 * (TSan's hook executes a full barrier); only happens-before through it is not
 * tracked, and nothing in this file relies on that for plain data. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

bool lask_parker_init(lask_parker *p) {
  if (pthread_mutex_init(&p->mu, NULL) != 0) return false;
  if (pthread_cond_init(&p->cv, NULL) != 0) {
    pthread_mutex_destroy(&p->mu);
    return false;
  }
  atomic_init(&p->waiters, 0);
  atomic_init(&p->epoch, 0);
  p->sleepers = 0;
  return true;
}

void lask_parker_destroy(lask_parker *p) {
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
}

uint64_t lask_parker_prepare_wait(lask_parker *p) {
  /* relaxed: the fence after it gives the order the proof needs. */
  atomic_fetch_add_explicit(&p->waiters, 1, memory_order_relaxed);
  /* F_W: orders our increment before the caller's re-check of the queues. A seq_cst
   * RMW alone would not order the later relaxed/acquire loads on every machine. */
  atomic_thread_fence(memory_order_seq_cst);
  /* acquire: pairs with the release bump in wake (case 3 of the proof). */
  return atomic_load_explicit(&p->epoch, memory_order_acquire);
}

void lask_parker_cancel_wait(lask_parker *p) {
  /* relaxed: the count only has to be coherent (case 2 of the proof). */
  atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_relaxed);
}

void lask_parker_commit_wait(lask_parker *p, uint64_t ticket) {
  /* Fast exit without the lock when a notify already came (relaxed: a hint only,
   * the decision to sleep is made under the mutex below). */
  if (atomic_load_explicit(&p->epoch, memory_order_relaxed) == ticket) {
    pthread_mutex_lock(&p->mu);
    /* relaxed: every bump happens under mu, which orders it with this load. */
    while (atomic_load_explicit(&p->epoch, memory_order_relaxed) == ticket) {
      p->sleepers++;
      pthread_cond_wait(&p->cv, &p->mu);
      p->sleepers--;
    }
    pthread_mutex_unlock(&p->mu);
  }
  atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_relaxed);
}

/* F_N, then the waiter count: the whole cost of a notify when nobody waits. */
static bool anyone_waiting(lask_parker *p) {
  /* seq_cst: orders the caller's push before our read of waiters (cases 1-2). */
  atomic_thread_fence(memory_order_seq_cst);
  return atomic_load_explicit(&p->waiters, memory_order_relaxed) != 0;
}

/* Bumps the epoch and wakes one or all sleepers. The signal is sent while holding
 * the mutex: sent after unlocking, it could wake a thread that started sleeping
 * after the bump (on the new epoch, so it sleeps again) instead of an old one. */
static void wake(lask_parker *p, bool all) {
  pthread_mutex_lock(&p->mu);
  /* release: a prepare that reads the new epoch sees the caller's work (case 3). */
  atomic_fetch_add_explicit(&p->epoch, 1, memory_order_release);
  if (p->sleepers > 0) {
    if (all)
      pthread_cond_broadcast(&p->cv);
    else
      pthread_cond_signal(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
}

void lask_parker_notify_one(lask_parker *p) {
  if (anyone_waiting(p)) wake(p, false);
}

void lask_parker_notify_all(lask_parker *p) {
  if (anyone_waiting(p)) wake(p, true);
}

uint32_t lask_parker_sleepers(lask_parker *p) {
  pthread_mutex_lock(&p->mu);
  uint32_t n = p->sleepers;
  pthread_mutex_unlock(&p->mu);
  return n;
}
