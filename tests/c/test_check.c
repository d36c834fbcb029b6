/* test_check.c — the engine's internal checks (core/check.h): on in sanitizer
 * builds (make asan, make tsan compile with -DLASK_CHECKS), compiled out otherwise,
 * and when on, a broken invariant inside the engine reaches the check handler. The
 * whole-structure checkers (graph CSR, heap order) are tested in every build.
 *
 * The library and this test are built with the same flags; lask_checks_enabled()
 * tells what the library was built with, so a mismatch shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/deque.h"
#include "core/run_state.h"
#include "lask.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

static int fired;
static char last_cond[256];

static void record(const char *cond, const char *file, int line) {
  (void)file, (void)line;
  fired++;
  strncpy(last_cond, cond, sizeof last_cond - 1);
}

static int with_handler(void **state) {
  (void)state;
  fired = 0, last_cond[0] = '\0';
  lask_check_set_handler(record);
  return 0;
}

static int without_handler(void **state) {
  (void)state;
  lask_check_set_handler(NULL);
  return 0;
}

/* The library was built as this test was, and sanitizer builds have the checks. */
static void test_checks_on_in_sanitizer_builds(void **state) {
  (void)state;
#ifdef LASK_CHECKS
  assert_true(lask_checks_enabled());
#else
  assert_false(lask_checks_enabled());
#endif
  if (UNDER_SANITIZER) assert_true(lask_checks_enabled());
}

/* On: a false condition reaches the handler with its text. Off: it is not even
 * evaluated. */
static void test_assert_fires_only_with_checks(void **state) {
  (void)state;
  int evaluated = 0;
  LASK_ASSERT(++evaluated > 0);
  LASK_ASSERT(evaluated < 0);
#ifdef LASK_CHECKS
  assert_int_equal(evaluated, 1);
  assert_int_equal(fired, 1);
  assert_string_equal(last_cond, "evaluated < 0");
#else
  assert_int_equal(evaluated, 0);
  assert_int_equal(fired, 0);
#endif
}

/* An object whose storage outlives its references, so releasing it once too often
 * is a bug the engine can see without touching freed memory. */
static int destroyed;
static void note_destroy(lask_obj *o) {
  (void)o;
  destroyed++;
}
static const lask_class immortal_class = {"immortal", note_destroy};

/* A real invariant inside the engine: releasing an object whose count is 0. */
static void test_release_of_dead_object_is_caught(void **state) {
  (void)state;
  lask_obj o;
  lask_obj_init(&o, &immortal_class);
  lask_release(lask_objval(&o));
  assert_int_equal(destroyed, 1);
  assert_int_equal(fired, 0);
  lask_release(lask_objval(&o)); /* one release too many */
  assert_int_equal(fired, lask_checks_enabled() ? 1 : 0);
  assert_int_equal(destroyed, 1);
}

/* y = inc(x), x = 1, z = add(x, y): node ids x 0, y 1, z 2. */
static lask_graph *small_graph(void) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t x = lask_gb_node(b), y = lask_gb_node(b), z = lask_gb_node(b);
  lask_gb_begin(b, x), lask_gb_const(b, lask_int(1)), lask_gb_end(b);
  lask_gb_begin(b, y), lask_gb_const(b, lask_objval((lask_obj *)&lask_kernel_find("inc")->h));
  lask_gb_key(b, x), lask_gb_call(b, 1), lask_gb_end(b);
  lask_gb_begin(b, z), lask_gb_const(b, lask_objval((lask_obj *)&lask_kernel_find("add")->h));
  lask_gb_key(b, x), lask_gb_key(b, y), lask_gb_call(b, 2), lask_gb_end(b);
  lask_err err;
  lask_graph *g = lask_gb_finish(b, &err);
  assert_non_null(g);
  return g;
}

/* The CSR checker accepts what the builder makes and rejects each kind of damage. */
static void test_graph_check_finds_broken_csr(void **state) {
  (void)state;
  lask_graph *g = small_graph();
  assert_true(lask_graph_check(g));
  uint32_t saved = g->deps[0];
  g->deps[0] = 7; /* an id out of range */
  assert_false(lask_graph_check(g));
  g->deps[0] = 2; /* in range, but y's dependents do not list it: asymmetric */
  assert_false(lask_graph_check(g));
  g->deps[0] = saved;
  saved = g->out_off[1];
  g->out_off[1] = g->out_off[2] + 1; /* offsets going down */
  assert_false(lask_graph_check(g));
  g->out_off[1] = saved;
  assert_true(lask_graph_check(g));
  lask_graph_free(g);
}

static void test_heap_order_checker(void **state) {
  (void)state;
  uint32_t prio[] = {5, 3, 9, 1, 7};
  lask_heap h = {.prio = prio};
  for (uint32_t i = 0; i < 5; i++) assert_true(lask_heap_push(&h, i));
  assert_true(lask_heap_ordered(&h));
  uint32_t t = h.ids[0];
  h.ids[0] = h.ids[h.n - 1], h.ids[h.n - 1] = t;
  assert_false(lask_heap_ordered(&h));
  free(h.ids);
}

/* A node finished twice drops its dependencies' holds below 0: caught (the values
 * are nil, as no task ran, so nothing is freed twice). */
static void test_state_hold_underflow_is_caught(void **state) {
  (void)state;
  lask_graph *g = small_graph();
  uint32_t out = 2;
  lask_state s;
  lask_err err;
  assert_int_equal(lask_state_init(&s, g, &out, 1, &err), LASK_OK);
  lask_state_release_deps(&s, 1, NULL); /* y done: x's hold 2 -> 1 */
  lask_state_release_deps(&s, 2, NULL); /* z done: x 1 -> 0, y 1 -> 0 */
  assert_int_equal(fired, 0);
  lask_state_release_deps(&s, 1, NULL); /* y "done" again: x 0 -> underflow */
  assert_int_equal(fired, lask_checks_enabled() ? 1 : 0);
  lask_state_free(&s);
  lask_graph_free(g);
}

/* The deque's owner-only calls never overlap: one that starts while another is
 * under way (simulated by the counter the check keeps) fires. */
static void test_deque_second_owner_is_caught(void **state) {
  (void)state;
  lask_deque d;
  uint32_t id;
  assert_true(lask_deque_init(&d, 2));
  assert_true(lask_deque_push(&d, 1));
  assert_int_equal(fired, 0);
#ifdef LASK_CHECKS
  atomic_store(&d.owner_calls, 1); /* as if another thread were inside push */
#endif
  assert_true(lask_deque_pop(&d, &id)); /* without checks: nothing counts, nothing fires */
  assert_int_equal(fired, lask_checks_enabled() ? 1 : 0);
  lask_deque_destroy(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_checks_on_in_sanitizer_builds),
      cmocka_unit_test_setup_teardown(test_assert_fires_only_with_checks, with_handler, without_handler),
      cmocka_unit_test_setup_teardown(test_release_of_dead_object_is_caught, with_handler, without_handler),
      cmocka_unit_test(test_graph_check_finds_broken_csr),
      cmocka_unit_test(test_heap_order_checker),
      cmocka_unit_test_setup_teardown(test_state_hold_underflow_is_caught, with_handler, without_handler),
      cmocka_unit_test_setup_teardown(test_deque_second_owner_is_caught, with_handler, without_handler),
  };
  return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
