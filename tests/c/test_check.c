/* test_check.c — the engine's internal checks (core/check.h): on in sanitizer
 * builds (make asan, make tsan compile with -DLASK_CHECKS), compiled out otherwise,
 * and when on, a broken invariant inside the engine reaches the check handler.
 *
 * The library and this test are built with the same flags; lask_checks_enabled()
 * tells what the library was built with, so a mismatch shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <string.h>

#include "core/check.h"
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_checks_on_in_sanitizer_builds),
      cmocka_unit_test_setup_teardown(test_assert_fires_only_with_checks, with_handler, without_handler),
      cmocka_unit_test_setup_teardown(test_release_of_dead_object_is_caught, with_handler, without_handler),
  };
  return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
