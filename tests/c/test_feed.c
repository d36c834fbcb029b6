/* test_feed.c — a fed threaded run (engine/core/feed.h): input nodes wait for values
 * given by the feed's poll, on the calling thread; output nodes' values are handed
 * to the feed; a poll that fails stops the run with its error; a node fed twice or
 * not an input is refused; only the threaded scheduler runs fed graphs. No MPI and
 * no Lua: the feed is a fake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "core/feed.h"
#include "lask.h"

enum { IN0, IN1, A, B, C, NNODES };

typedef struct fake {
  pthread_t main;
  int polls, fail_at_poll, off_thread;
  uint32_t feed_bad; /* a node to feed that is no input (LASK_NO_NODE: none) */
  lask_status bad_status;
  uint32_t out_node;
  int64_t out_value;
  int outs;
} fake;

static lask_status fake_poll(void *ctx, lask_feeder *f, int *progress, lask_err *err) {
  fake *k = ctx;
  if (!pthread_equal(pthread_self(), k->main)) k->off_thread++;
  k->polls++;
  if (k->polls == k->fail_at_poll) return lask_err_set(err, LASK_EHOST, LASK_NO_NODE, "the network is down");
  if (k->polls == 3 && k->feed_bad != LASK_NO_NODE) {
    k->bad_status = lask_feed_value(f, k->feed_bad, lask_int(1), err);
    return k->bad_status;
  }
  lask_status st = LASK_OK;
  if (k->polls == 5) st = lask_feed_value(f, IN0, lask_int(5), err), *progress = 1;
  if (k->polls == 10) st = lask_feed_value(f, IN1, lask_int(100), err), *progress = 1;
  return st;
}

static lask_status fake_out(void *ctx, uint32_t node, lask_value v, lask_err *err) {
  fake *k = ctx;
  (void)err;
  if (!pthread_equal(pthread_self(), k->main)) k->off_thread++;
  k->outs++, k->out_node = node, k->out_value = v.as.i;
  return LASK_OK;
}

/* in0, in1: inputs (placeholders 0); a = in0 + 1; b = a + in1 (an output); c = b + 10. */
static lask_graph *graph(void) {
  lask_graph_builder *b = lask_gb_new();
  const lask_kernel *add = lask_kernel_find("add");
  for (int i = 0; i < NNODES; i++) lask_gb_node(b);
  for (int i = IN0; i <= IN1; i++)
    lask_gb_begin(b, (uint32_t)i), lask_gb_const(b, lask_int(0)), lask_gb_end(b);
  const uint32_t arg[][2] = {{IN0, 0}, {A, IN1}, {B, 0}};
  const int64_t lit[] = {1, 0, 10};
  for (int i = 0; i < 3; i++) {
    lask_gb_begin(b, (uint32_t)(A + i));
    lask_gb_const(b, lask_kernel_value(add));
    lask_gb_key(b, arg[i][0]);
    if (i == 1)
      lask_gb_key(b, arg[i][1]);
    else
      lask_gb_const(b, lask_int(lit[i]));
    lask_gb_call(b, 2);
    lask_gb_end(b);
  }
  lask_err err;
  lask_graph *g = lask_gb_finish(b, &err);
  if (!g) fail_msg("lask_gb_finish: %s", err.msg);
  return g;
}

static const uint8_t FLAGS[NNODES] = {LASK_FEED_IN, LASK_FEED_IN, 0, LASK_FEED_OUT, 0};

static lask_status run(lask_sched sched, fake *k, lask_value *v, lask_err *err) {
  lask_err e0;
  lask_engine *e = lask_engine_new(3, &e0);
  assert_non_null(e);
  lask_graph *g = graph();
  lask_feed feed = {.ctx = k, .flags = FLAGS, .poll = fake_poll, .out = fake_out};
  lask_run_opts o = {.sched = sched, .feed = &feed};
  uint32_t outs[] = {C};
  lask_status st = lask_run(e, g, outs, 1, &o, v, err);
  lask_graph_free(g);
  lask_engine_free(e);
  return st;
}

static fake new_fake(void) { return (fake){.main = pthread_self(), .feed_bad = LASK_NO_NODE}; }

static void test_inputs_wait_for_their_values_and_outputs_leave(void **state) {
  (void)state;
  fake k = new_fake();
  lask_value v;
  lask_err err;
  assert_int_equal(run(LASK_SCHED_THREADED, &k, &v, &err), LASK_OK);
  assert_int_equal(v.as.i, 5 + 1 + 100 + 10);
  assert_true(k.polls >= 10);
  assert_int_equal(k.outs, 1); /* b, once, with its value */
  assert_int_equal(k.out_node, B);
  assert_int_equal(k.out_value, 106);
  assert_int_equal(k.off_thread, 0); /* poll and out on the calling thread only */
}

static void test_a_failing_poll_stops_the_run(void **state) {
  (void)state;
  fake k = new_fake();
  k.fail_at_poll = 7; /* after in0 came, before in1 */
  lask_value v;
  lask_err err;
  assert_int_equal(run(LASK_SCHED_THREADED, &k, &v, &err), LASK_EHOST);
  assert_string_equal(err.msg, "the network is down");
  assert_int_equal(k.outs, 0);
}

static void test_feeding_what_is_no_input_is_refused(void **state) {
  (void)state;
  fake k = new_fake();
  k.feed_bad = A;
  lask_value v;
  lask_err err;
  assert_int_equal(run(LASK_SCHED_THREADED, &k, &v, &err), LASK_EINVAL);
  assert_int_equal(k.bad_status, LASK_EINVAL);
  assert_int_equal(err.node, A);
}

static void test_only_the_threaded_scheduler_runs_fed_graphs(void **state) {
  (void)state;
  fake k = new_fake();
  lask_value v;
  lask_err err;
  assert_int_equal(run(LASK_SCHED_SYNC, &k, &v, &err), LASK_EINVAL);
  assert_int_equal(k.polls, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inputs_wait_for_their_values_and_outputs_leave),
      cmocka_unit_test(test_a_failing_poll_stops_the_run),
      cmocka_unit_test(test_feeding_what_is_no_input_is_refused),
      cmocka_unit_test(test_only_the_threaded_scheduler_runs_fed_graphs),
  };
  return cmocka_run_group_tests_name("feed", tests, NULL, NULL);
}
