/* test_deque.c — the work-stealing deque: order, growth, and every id taken once
 * under an owner racing three thieves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "core/deque.h"

#include "under_tsan.h"

#define NTHIEVES  3
#define TASK_SPIN 20

static void test_pop_is_lifo_steal_is_fifo(void **state) {
  (void)state;
  lask_deque d;
  uint32_t id = 0;
  assert_true(lask_deque_init(&d, 1));
  assert_int_equal(lask_deque_size_estimate(&d), 0);
  assert_false(lask_deque_pop(&d, &id));
  assert_int_equal(lask_deque_steal(&d, &id), LASK_STEAL_EMPTY);
  for (uint32_t i = 1; i <= 4; i++) assert_true(lask_deque_push(&d, i));
  assert_int_equal(lask_deque_size_estimate(&d), 4);
  assert_true(lask_deque_pop(&d, &id));
  assert_int_equal(id, 4);
  assert_int_equal(lask_deque_steal(&d, &id), LASK_STEAL_GOT);
  assert_int_equal(id, 1);
  assert_true(lask_deque_pop(&d, &id));
  assert_int_equal(id, 3);
  assert_int_equal(lask_deque_steal(&d, &id), LASK_STEAL_GOT);
  assert_int_equal(id, 2);
  assert_false(lask_deque_pop(&d, &id));
  assert_int_equal(lask_deque_steal(&d, &id), LASK_STEAL_EMPTY);
  assert_int_equal(lask_deque_size_estimate(&d), 0);
  lask_deque_destroy(&d);
}

/* The last id goes to pop through the same CAS thieves use; the deque must stay
 * usable after the empty pop that undoes its claim on bottom. */
static void test_last_id_and_empty_pop_keep_deque_usable(void **state) {
  (void)state;
  lask_deque d;
  uint32_t id = 0;
  assert_true(lask_deque_init(&d, 1));
  for (uint32_t round = 0; round < 10; round++) {
    assert_true(lask_deque_push(&d, round));
    assert_true(lask_deque_pop(&d, &id));
    assert_int_equal(id, round);
    assert_false(lask_deque_pop(&d, &id));
    assert_true(lask_deque_push(&d, round + 100));
    assert_int_equal(lask_deque_steal(&d, &id), LASK_STEAL_GOT);
    assert_int_equal(id, round + 100);
    assert_false(lask_deque_pop(&d, &id));
  }
  lask_deque_destroy(&d);
}

/* Growth from capacity 2 while top has moved, so the copy must wrap around. */
static void test_grows_past_initial_capacity(void **state) {
  (void)state;
  enum { N = 4998 }; /* a multiple of 3 */
  lask_deque d;
  uint32_t id = 0, next_stolen = 0, next_pushed = 0;
  assert_true(lask_deque_init(&d, 1));
  while (next_pushed < N) {
    for (int k = 0; k < 3; k++) assert_true(lask_deque_push(&d, next_pushed++));
    assert_int_equal(lask_deque_steal(&d, &id), LASK_STEAL_GOT);
    assert_int_equal(id, next_stolen++);
  }
  assert_int_equal(lask_deque_size_estimate(&d), N - next_stolen);
  for (uint32_t want = N; want-- > next_stolen;) {
    assert_true(lask_deque_pop(&d, &id));
    assert_int_equal(id, want);
  }
  assert_false(lask_deque_pop(&d, &id));
  lask_deque_destroy(&d);
}

static void test_init_rejects_absurd_capacity(void **state) {
  (void)state;
  lask_deque d;
  assert_false(lask_deque_init(&d, LASK_DEQUE_MAX_LOG2 + 1));
}

/* The stress test. The owner writes a plain (non-atomic) payload for each id
 * before pushing it, and whoever takes the id checks the payload: that is the
 * happens-before the scheduler relies on for task data, so TSan checks it too. */
typedef struct stress {
  lask_deque d;
  uint32_t n;
  uint32_t *payload;       /* plain: written by the owner before the push */
  _Atomic uint32_t *taken; /* per id: how many threads took it */
  _Atomic int done;        /* the owner pushed everything and emptied the deque */
  _Atomic uint64_t stolen, lost;
  _Atomic uint32_t bad; /* ids out of range or with a wrong payload */
} stress;

/* Records that the calling thread took id, then "runs the task" for a moment so
 * the owner does not outpace the thieves and races stay frequent. No cmocka
 * assertion here: they longjmp, which is only valid on the test's own thread. */
static void take(stress *s, uint32_t id) {
  if (id >= s->n || s->payload[id] != (id ^ 0x5a5a5a5au)) {
    atomic_fetch_add(&s->bad, 1);
    return;
  }
  atomic_fetch_add_explicit(&s->taken[id], 1, memory_order_relaxed);
  for (volatile int spin = 0; spin < TASK_SPIN; spin++) continue;
}

static void *thief(void *arg) {
  stress *s = arg;
  uint64_t stolen = 0, lost = 0;
  uint32_t id, empty = 0;
  while (!atomic_load_explicit(&s->done, memory_order_acquire)) {
    lask_steal_result r = lask_deque_steal(&s->d, &id);
    if (r == LASK_STEAL_GOT)
      take(s, id), stolen++, empty = 0;
    else if (r == LASK_STEAL_LOST)
      lost++;
    else if (++empty % 256 == 0)
      sched_yield(); /* 2 cores, 4 threads: let the owner run */
  }
  atomic_fetch_add(&s->stolen, stolen);
  atomic_fetch_add(&s->lost, lost);
  return NULL;
}

/* Pushes all ids in phases of 4096 that cycle through three patterns:
 *   0: pop after every third push (thieves take most, the deque stays short);
 *   1: pop right after each push (size 0 or 1: pop and steal race for the last id);
 *   2: bursts of 200 pushes, then pop until empty (growth, wrap-around, draining). */
static void owner_step(stress *s, uint32_t i) {
  uint32_t id;
  switch ((i / 4096) % 3) {
  case 0:
    if (i % 3 == 2 && lask_deque_pop(&s->d, &id)) take(s, id);
    break;
  case 1:
    if (lask_deque_pop(&s->d, &id)) take(s, id);
    break;
  default:
    if (i % 200 == 199)
      while (lask_deque_pop(&s->d, &id)) take(s, id);
  }
}

static void owner(stress *s) {
  uint32_t id;
  for (uint32_t i = 0; i < s->n; i++) {
    s->payload[i] = i ^ 0x5a5a5a5au;
    assert_true(lask_deque_push(&s->d, i));
    owner_step(s, i);
  }
  while (lask_deque_pop(&s->d, &id)) take(s, id);
  atomic_store_explicit(&s->done, 1, memory_order_release);
}

static uint32_t stress_size(void) {
  const char *env = getenv("LASK_STRESS_N");
  if (env) return (uint32_t)strtoul(env, NULL, 10);
  return UNDER_TSAN ? 250000 : 1000000;
}

static void test_every_id_taken_exactly_once(void **state) {
  (void)state;
  stress s = {.n = stress_size()};
  s.payload = malloc(s.n * sizeof *s.payload);
  s.taken = calloc(s.n, sizeof *s.taken);
  assert_non_null(s.payload);
  assert_non_null(s.taken);
  assert_true(lask_deque_init(&s.d, 1));
  pthread_t th[NTHIEVES];
  for (int i = 0; i < NTHIEVES; i++) assert_int_equal(pthread_create(&th[i], NULL, thief, &s), 0);
  owner(&s);
  for (int i = 0; i < NTHIEVES; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  assert_int_equal(atomic_load(&s.bad), 0);
  for (uint32_t i = 0; i < s.n; i++)
    if (atomic_load(&s.taken[i]) != 1) fail_msg("id %u taken %u times", i, atomic_load(&s.taken[i]));
  print_message("# %u ids, %llu stolen, %llu lost races\n", s.n, (unsigned long long)s.stolen,
                (unsigned long long)s.lost);
  lask_deque_destroy(&s.d);
  free(s.payload);
  free(s.taken);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pop_is_lifo_steal_is_fifo),
      cmocka_unit_test(test_last_id_and_empty_pop_keep_deque_usable),
      cmocka_unit_test(test_grows_past_initial_capacity),
      cmocka_unit_test(test_init_rejects_absurd_capacity),
      cmocka_unit_test(test_every_id_taken_exactly_once),
  };
  return cmocka_run_group_tests_name("deque", tests, NULL, NULL);
}
