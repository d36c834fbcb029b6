/* test_parker.c — the event count: sleepers wake, notifies between prepare and
 * commit are not lost, and producer/consumer rounds never strand work.
 *
 * A lost wake-up shows up as a hang, so every wait on another thread has a
 * deadline that fails the test instead. Worker threads never call cmocka
 * assertions (they longjmp, valid only on the test's thread). On failure the
 * shared state is leaked on purpose: stuck threads may still be using it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "core/deque.h"
#include "core/parker.h"

#include "under_tsan.h"

#define DEADLINE_S 20 /* generous: TSan and a loaded 2-core CI machine are slow */

static struct timespec deadline_in(int seconds) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += seconds;
  return ts;
}

static bool past(const struct timespec *deadline) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return now.tv_sec > deadline->tv_sec ||
         (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Joins t, or fails the test when it is still running after DEADLINE_S. */
static void join_or_fail(pthread_t t) {
  struct timespec deadline = deadline_in(DEADLINE_S);
  int rc = pthread_timedjoin_np(t, NULL, &deadline);
  if (rc != 0) fail_msg("thread did not finish within %d s (lost wake-up?), rc=%d", DEADLINE_S, rc);
}

/* Spins (yielding) until n threads are asleep in commit, or fails. */
static void await_sleepers(lask_parker *p, uint32_t n) {
  struct timespec deadline = deadline_in(DEADLINE_S);
  while (lask_parker_sleepers(p) != n) {
    if (past(&deadline)) fail_msg("expected %u sleepers, have %u", n, lask_parker_sleepers(p));
    sched_yield();
  }
}

/* A worker that sleeps until `flag` is set, following the two-phase protocol. */
typedef struct flag_waiter {
  lask_parker p;
  _Atomic int flag;
} flag_waiter;

static void *wait_for_flag(void *arg) {
  flag_waiter *w = arg;
  while (!atomic_load(&w->flag)) {
    uint64_t ticket = lask_parker_prepare_wait(&w->p);
    if (atomic_load(&w->flag)) {
      lask_parker_cancel_wait(&w->p);
      break;
    }
    lask_parker_commit_wait(&w->p, ticket);
  }
  return NULL;
}

static flag_waiter *flag_waiter_new(void) {
  flag_waiter *w = calloc(1, sizeof *w);
  assert_non_null(w);
  assert_true(lask_parker_init(&w->p));
  return w;
}

static void flag_waiter_free(flag_waiter *w) {
  lask_parker_destroy(&w->p);
  free(w);
}

/* The waiter really blocks (notifies before it prepared are not remembered), and
 * a notify after that wakes it. */
static void test_sleeper_wakes_on_notify(void **state) {
  (void)state;
  flag_waiter *w = flag_waiter_new();
  lask_parker_notify_one(&w->p); /* nobody waiting: a no-op, not a stored token */
  lask_parker_notify_all(&w->p);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, wait_for_flag, w), 0);
  await_sleepers(&w->p, 1);
  atomic_store(&w->flag, 1);
  lask_parker_notify_one(&w->p);
  join_or_fail(t);
  assert_int_equal(lask_parker_sleepers(&w->p), 0);
  flag_waiter_free(w);
}

/* prepare, notify, commit on one thread: commit must return at once. Run on a
 * helper thread so a bug fails the test instead of hanging it. */
static void *prepare_notify_commit(void *arg) {
  lask_parker *p = arg;
  uint64_t ticket = lask_parker_prepare_wait(p);
  lask_parker_notify_one(p);
  lask_parker_commit_wait(p, ticket);
  ticket = lask_parker_prepare_wait(p);
  lask_parker_notify_all(p);
  lask_parker_commit_wait(p, ticket);
  return NULL;
}

static void test_notify_between_prepare_and_commit_prevents_sleep(void **state) {
  (void)state;
  lask_parker *p = malloc(sizeof *p);
  assert_non_null(p);
  assert_true(lask_parker_init(p));
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, prepare_notify_commit, p), 0);
  join_or_fail(t);
  lask_parker_destroy(p);
  free(p);
}

/* The same from another thread, with the waiter stalled between its re-check and
 * its commit (the window where a naive "check, then sleep" loses the wake-up):
 * the waiter prepares, the test thread notifies, only then the waiter commits. */
typedef struct stalled {
  lask_parker p;
  _Atomic int prepared, notified;
} stalled;

static void *prepare_stall_commit(void *arg) {
  stalled *s = arg;
  uint64_t ticket = lask_parker_prepare_wait(&s->p);
  atomic_store(&s->prepared, 1);
  while (!atomic_load(&s->notified)) sched_yield();
  lask_parker_commit_wait(&s->p, ticket); /* sleeps forever if the notify was lost */
  return NULL;
}

static void test_notify_from_other_thread_before_commit(void **state) {
  (void)state;
  stalled *s = calloc(1, sizeof *s);
  assert_non_null(s);
  assert_true(lask_parker_init(&s->p));
  for (int i = 0; i < 20; i++) {
    atomic_store(&s->prepared, 0);
    atomic_store(&s->notified, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, prepare_stall_commit, s), 0);
    while (!atomic_load(&s->prepared)) sched_yield();
    lask_parker_notify_one(&s->p);
    atomic_store(&s->notified, 1);
    join_or_fail(t);
  }
  assert_int_equal(lask_parker_sleepers(&s->p), 0);
  lask_parker_destroy(&s->p);
  free(s);
}

/* notify_all wakes every sleeper. */
static void test_notify_all_wakes_everyone(void **state) {
  (void)state;
  enum { N = 4 };
  flag_waiter *w = flag_waiter_new();
  pthread_t t[N];
  for (int i = 0; i < N; i++) assert_int_equal(pthread_create(&t[i], NULL, wait_for_flag, w), 0);
  await_sleepers(&w->p, N);
  atomic_store(&w->flag, 1);
  lask_parker_notify_all(&w->p);
  for (int i = 0; i < N; i++) join_or_fail(t[i]);
  flag_waiter_free(w);
}

/* Producer/consumer rounds. The producer pushes a few ids to its deque, notifies
 * once per id, then waits until the consumers have taken them all before the
 * next round. Consumers steal; when they find nothing they park. A lost wake-up
 * leaves ids in the deque with every consumer asleep: the producer's wait then
 * passes its deadline and the test fails (a final notify_all would hide it). */
enum { MAX_CONSUMERS = 4 };

typedef struct pc {
  lask_deque d;
  lask_parker p;
  _Atomic uint32_t consumed;
  _Atomic int stop;
  _Atomic uint32_t *taken; /* per id */
  uint32_t n;
} pc;

static bool consume_one(pc *s) {
  uint32_t id;
  lask_steal_result r;
  while ((r = lask_deque_steal(&s->d, &id)) == LASK_STEAL_LOST) continue;
  if (r == LASK_STEAL_EMPTY) return false;
  if (id < s->n) atomic_fetch_add(&s->taken[id], 1);
  atomic_fetch_add_explicit(&s->consumed, 1, memory_order_release);
  return true;
}

static void *consumer(void *arg) {
  pc *s = arg;
  for (;;) {
    if (consume_one(s)) continue;
    uint64_t ticket = lask_parker_prepare_wait(&s->p);
    if (atomic_load(&s->stop)) {
      lask_parker_cancel_wait(&s->p);
      return NULL;
    }
    if (lask_deque_size_estimate(&s->d) > 0) {
      lask_parker_cancel_wait(&s->p);
      continue;
    }
    lask_parker_commit_wait(&s->p, ticket);
  }
}

/* Runs the rounds; returns false when the consumers stopped making progress. */
static bool produce(pc *s, uint32_t *produced) {
  struct timespec deadline = deadline_in(DEADLINE_S);
  unsigned seed = 12345;
  for (*produced = 0; *produced < s->n;) {
    uint32_t burst = 1 + rand_r(&seed) % 4;
    for (uint32_t k = 0; k < burst && *produced < s->n; k++) {
      if (!lask_deque_push(&s->d, (*produced)++)) return false;
      lask_parker_notify_one(&s->p);
    }
    while (atomic_load_explicit(&s->consumed, memory_order_acquire) != *produced) {
      if (past(&deadline)) return false;
      sched_yield();
    }
  }
  return true;
}

/* One consumer is the most sensitive to a lost wake-up (nobody else can pick the
 * work up); four on two cores mix sleeping, waking and racing thieves. */
static void run_rounds(int nconsumers) {
  pc *s = calloc(1, sizeof *s);
  assert_non_null(s);
  s->n = UNDER_TSAN ? 5000 : 50000;
  s->taken = calloc(s->n, sizeof *s->taken);
  assert_non_null(s->taken);
  assert_true(lask_deque_init(&s->d, 2));
  assert_true(lask_parker_init(&s->p));
  pthread_t t[MAX_CONSUMERS];
  for (int i = 0; i < nconsumers; i++) assert_int_equal(pthread_create(&t[i], NULL, consumer, s), 0);
  uint32_t produced;
  if (!produce(s, &produced))
    fail_msg("stuck after %u of %u ids: %u consumed, %zu queued, %u asleep", produced, s->n,
             atomic_load(&s->consumed), lask_deque_size_estimate(&s->d), lask_parker_sleepers(&s->p));
  atomic_store(&s->stop, 1);
  lask_parker_notify_all(&s->p);
  for (int i = 0; i < nconsumers; i++) join_or_fail(t[i]);
  for (uint32_t i = 0; i < s->n; i++)
    if (atomic_load(&s->taken[i]) != 1) fail_msg("id %u taken %u times", i, atomic_load(&s->taken[i]));
  lask_deque_destroy(&s->d);
  lask_parker_destroy(&s->p);
  free(s->taken);
  free(s);
}

static void test_rounds_with_one_consumer(void **state) {
  (void)state;
  run_rounds(1);
}

static void test_rounds_with_four_consumers(void **state) {
  (void)state;
  run_rounds(MAX_CONSUMERS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sleeper_wakes_on_notify),
      cmocka_unit_test(test_notify_between_prepare_and_commit_prevents_sleep),
      cmocka_unit_test(test_notify_from_other_thread_before_commit),
      cmocka_unit_test(test_notify_all_wakes_everyone),
      cmocka_unit_test(test_rounds_with_one_consumer),
      cmocka_unit_test(test_rounds_with_four_consumers),
  };
  return cmocka_run_group_tests_name("parker", tests, NULL, NULL);
}
