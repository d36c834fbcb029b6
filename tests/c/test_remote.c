/* test_remote.c — the remote scheduler (LASK_SCHED_REMOTE) through a fake transport.
 *
 * The fake's workers live on the test's thread, each with its own value table: a
 * send applies the forgets and stores the values sent, a receive runs one
 * outstanding task (of a worker chosen at random, so answers come in any order)
 * with lask_eval over that worker's table. The fake counts what a correct
 * scheduler never does (a value sent to a worker that has it, or twice; a forget
 * of a value the worker lacks; a task run without one of its inputs; a literal
 * sent; a second task to a busy worker) and each test asserts there was none,
 * besides its own results. Random graphs print their seed (LASK_SEED replays).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/transport.h"
#include "lask.h"

enum { MAXW = 8 };

/* --- the fake transport --- */

typedef struct fworker {
  lask_value *vals; /* its value table */
  uint32_t running; /* its task, or LASK_NO_NODE */
  int live, peak;   /* values it holds now, and at most */
  int dead;
} fworker;

typedef struct event {
  char kind; /* 'p' pretask, 's' sent, 'r' answered, 'P' posttask */
  uint32_t node;
  int worker;
} event;

typedef struct fake {
  const lask_graph *g;
  int nw;
  fworker w[MAXW];
  uint8_t *sent; /* sent[id * MAXW + w]: how often id's value went to w */
  unsigned rng;
  int violations;
  char why[256]; /* the first violation */
  int value_sends, forgets, tasks_sent, replies;
  uint32_t die_on;     /* the worker running this node dies (LASK_NO_NODE: none) */
  uint32_t stop_pre;   /* pretask asks to stop at this node (LASK_NO_NODE: none) */
  int timeout_one_in;  /* receive gives up once in this many calls (0: never) */
  int interrupt_after; /* replies before the interrupt flag is set (0: never) */
  _Atomic int interrupt;
  int sends_after_interrupt;
  double zero; /* the trace's zero: replies say their task ran from zero+1 to zero+2 */
  event ev[4096];
  size_t nev;
} fake;

static void violation(fake *f, const char *fmt, ...) {
  if (f->violations++) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->why, sizeof f->why, fmt, ap);
  va_end(ap);
}

static void note(fake *f, char kind, uint32_t node, int worker) {
  if (f->nev < sizeof f->ev / sizeof f->ev[0]) f->ev[f->nev++] = (event){kind, node, worker};
}

static int calls_nothing(const lask_graph *g, uint32_t id) {
  return g->code_len[id] == 1 && LASK_OP(g->code[g->code_off[id]]) != LASK_OP_CALL;
}

static void take_value(fake *f, int w, uint32_t id, lask_value v) {
  fworker *wk = &f->w[w];
  if (wk->vals[id].type != LASK_TNIL) violation(f, "worker %d was sent #%u, which it has", w, id);
  if (++f->sent[id * MAXW + w] > 1) violation(f, "worker %d was sent #%u twice", w, id);
  lask_release(wk->vals[id]);
  wk->vals[id] = lask_retain(v);
  wk->live++, f->value_sends++;
}

static lask_status fake_send(void *ctx, int w, uint32_t node, const uint32_t *forget, size_t nforget,
                             const uint32_t *ids, const lask_value *vals, size_t ndeps, lask_err *err) {
  fake *f = ctx;
  fworker *wk = &f->w[w];
  (void)err;
  note(f, 's', node, w);
  f->sends_after_interrupt += atomic_load(&f->interrupt);
  if (wk->running != LASK_NO_NODE || wk->dead)
    violation(f, "worker %d given #%u while busy or dead", w, node);
  if (calls_nothing(f->g, node)) violation(f, "literal or alias #%u sent to a worker", node);
  for (size_t k = 0; k < nforget; k++) {
    if (wk->vals[forget[k]].type == LASK_TNIL)
      violation(f, "worker %d told to forget #%u it lacks", w, forget[k]);
    lask_release(wk->vals[forget[k]]);
    wk->vals[forget[k]] = lask_nil();
    wk->live--, f->forgets++;
  }
  for (size_t k = 0; k < ndeps; k++) take_value(f, w, ids[k], vals[k]);
  if (wk->live > wk->peak) wk->peak = wk->live;
  wk->running = node;
  f->tasks_sent++;
  return LASK_OK;
}

/* Worker w runs its task and answers. */
static void run_task(fake *f, int w, lask_reply *rep) {
  fworker *wk = &f->w[w];
  uint32_t node = wk->running;
  const lask_graph *g = f->g;
  wk->running = LASK_NO_NODE;
  *rep =
      (lask_reply){.worker = w, .node = node, .value = lask_nil(), .start = f->zero + 1, .end = f->zero + 2};
  lask_err_clear(&rep->err);
  note(f, 'r', node, w);
  if (node == f->die_on) {
    wk->dead = 1;
    rep->status = lask_err_set(&rep->err, LASK_EHOST, node, "worker %d died", w);
    return;
  }
  for (uint32_t e = g->dep_off[node]; e < g->dep_off[node + 1]; e++)
    if (wk->vals[g->deps[e]].type == LASK_TNIL)
      violation(f, "worker %d ran #%u without #%u", w, node, g->deps[e]);
  rep->status = lask_eval(g, node, wk->vals, NULL, &wk->vals[node], &rep->err);
  if (rep->status != LASK_OK) return;
  rep->value = lask_retain(wk->vals[node]);
  if (++wk->live > wk->peak) wk->peak = wk->live;
}

static int fake_receive(void *ctx, int timeout_ms, lask_reply *rep) {
  fake *f = ctx;
  int busy[MAXW], n = 0;
  (void)timeout_ms;
  if (f->timeout_one_in && rand_r(&f->rng) % (unsigned)f->timeout_one_in == 0) return 0;
  for (int w = 0; w < f->nw; w++)
    if (f->w[w].running != LASK_NO_NODE) busy[n++] = w;
  if (!n) {
    violation(f, "receive called with no task out");
    return 0;
  }
  run_task(f, busy[rand_r(&f->rng) % (unsigned)n], rep);
  if (++f->replies == f->interrupt_after) atomic_store(&f->interrupt, 1);
  return 1;
}

static void fake_init(fake *f, const lask_graph *g, int nw, unsigned seed) {
  memset(f, 0, sizeof *f);
  f->g = g, f->nw = nw, f->rng = seed, f->die_on = LASK_NO_NODE, f->stop_pre = LASK_NO_NODE;
  f->sent = calloc((size_t)g->n * MAXW + 1, 1);
  assert_non_null(f->sent);
  for (int w = 0; w < nw; w++) {
    f->w[w].vals = calloc(g->n + 1, sizeof(lask_value));
    assert_non_null(f->w[w].vals);
    f->w[w].running = LASK_NO_NODE;
  }
}

static void fake_free(fake *f) {
  for (int w = 0; w < f->nw; w++) {
    for (uint32_t i = 0; i < f->g->n; i++) lask_release(f->w[w].vals[i]);
    free(f->w[w].vals);
  }
  free(f->sent);
}

static void assert_no_violation(const fake *f) {
  if (f->violations) fail_msg("%d violations, the first: %s", f->violations, f->why);
}

/* --- callbacks: logged, pretask may ask to stop --- */

static int on_pre(void *ctx, uint32_t node) {
  fake *f = ctx;
  note(f, 'p', node, -1);
  return node == f->stop_pre;
}

static int on_post(void *ctx, uint32_t node, lask_value result, int worker) {
  fake *f = ctx;
  (void)result;
  note(f, 'P', node, worker);
  return 0;
}

/* Runs g remotely on f's workers, with callbacks logging into f. */
static lask_status run_remote(fake *f, const uint32_t *outs, size_t n, lask_trace *trace, lask_value *results,
                              lask_err *err) {
  lask_transport t = {.ctx = f, .nworkers = f->nw, .send = fake_send, .receive = fake_receive};
  lask_callbacks cb = {.ctx = f, .pretask = on_pre, .posttask = on_post};
  lask_run_opts o = {.sched = LASK_SCHED_REMOTE,
                     .transport = &t,
                     .callbacks = &cb,
                     .interrupt = &f->interrupt,
                     .trace = trace};
  return lask_run(NULL, f->g, outs, n, &o, results, err);
}

/* --- graphs --- */

static uint32_t head(lask_graph_builder *b, const char *name) {
  const lask_kernel *k = lask_kernel_find(name);
  assert_non_null(k);
  return lask_gb_add_const(b, lask_objval((lask_obj *)&k->h));
}

static void emit_literal(lask_graph_builder *b, uint32_t id, int64_t v) {
  lask_gb_begin(b, id);
  lask_gb_const(b, lask_int(v));
  lask_gb_end(b);
}

/* id = h(keys[0..n)) */
static void emit_call(lask_graph_builder *b, uint32_t id, uint32_t h, const uint32_t *keys, uint32_t n) {
  lask_gb_begin(b, id);
  lask_gb_const_ref(b, h);
  for (uint32_t k = 0; k < n; k++) lask_gb_key(b, keys[k]);
  lask_gb_call(b, n);
  lask_gb_end(b);
}

static lask_graph *finish(lask_graph_builder *b) {
  lask_err err;
  lask_graph *g = lask_gb_finish(b, &err);
  if (!g) fail_msg("lask_gb_finish: %s", err.msg);
  return g;
}

/* A random DAG of n nodes: literals, aliases, inc, add and sum over a list. */
static lask_graph *random_graph(unsigned *rng, uint32_t n) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t inc = head(b, "inc"), add = head(b, "add"), sum = head(b, "sum");
  for (uint32_t i = 0; i < n; i++) {
    uint32_t id = lask_gb_node(b), d[3];
    for (int k = 0; k < 3; k++) d[k] = i ? (uint32_t)rand_r(rng) % i : 0;
    unsigned kind = i == 0 || rand_r(rng) % 6 == 0 ? 0 : 1 + (unsigned)rand_r(rng) % 4;
    if (kind == 0) emit_literal(b, id, rand_r(rng) % 100);
    if (kind == 1) lask_gb_begin(b, id), lask_gb_key(b, d[0]), lask_gb_end(b); /* an alias */
    if (kind == 2) emit_call(b, id, inc, d, 1);
    if (kind == 3) emit_call(b, id, add, d, 2);
    if (kind == 4) {
      lask_gb_begin(b, id);
      lask_gb_const_ref(b, sum);
      for (int k = 0; k < 3; k++) lask_gb_key(b, d[k]);
      lask_gb_const(b, lask_int(1));
      lask_gb_list(b, 4);
      lask_gb_call(b, 1);
      lask_gb_end(b);
    }
  }
  return finish(b);
}

/* nchains chains of len incs, each from its own literal; chain c's end is ends[c]. */
static lask_graph *chains(int nchains, int len, uint32_t *ends) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t inc = head(b, "inc");
  for (int c = 0; c < nchains; c++) {
    uint32_t prev = lask_gb_node(b);
    emit_literal(b, prev, 1000 * c);
    for (int i = 0; i < len; i++) {
      uint32_t id = lask_gb_node(b);
      emit_call(b, id, inc, &prev, 1);
      prev = id;
    }
    ends[c] = prev;
  }
  return finish(b);
}

static uint32_t count_remote(const lask_graph *g) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < g->n; i++) n += !calls_nothing(g, i);
  return n;
}

/* --- tests --- */

static unsigned test_seed(void) {
  const char *s = getenv("LASK_SEED");
  unsigned seed = s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
  printf("# test_remote seed %u (set LASK_SEED to replay)\n", seed);
  return seed;
}

/* Random graphs give what LASK_SCHED_SYNC gives; every task is sent once. */
static void test_random_graphs_match_sync(void **state) {
  (void)state;
  unsigned rng = test_seed();
  for (int round = 0; round < 200; round++) {
    lask_graph *g = random_graph(&rng, 1 + (uint32_t)rand_r(&rng) % 120);
    uint32_t outs[3] = {g->n - 1, (uint32_t)rand_r(&rng) % g->n, 0};
    lask_value want[3], got[3];
    lask_err err;
    lask_run_opts sync = {.sched = LASK_SCHED_SYNC};
    assert_int_equal(lask_run(NULL, g, outs, 3, &sync, want, &err), LASK_OK);
    fake f;
    fake_init(&f, g, 1 + rand_r(&rng) % 4, rng);
    f.timeout_one_in = round % 2 ? 3 : 0;
    lask_status st = run_remote(&f, outs, 3, NULL, got, &err);
    if (st != LASK_OK) fail_msg("round %d: %s", round, err.msg);
    assert_no_violation(&f);
    assert_int_equal(f.tasks_sent, count_remote(g));
    for (int k = 0; k < 3; k++) {
      assert_int_equal(got[k].type, LASK_TINT);
      assert_int_equal(got[k].as.i, want[k].as.i);
      lask_release(got[k]), lask_release(want[k]);
    }
    fake_free(&f);
    lask_graph_free(g);
  }
}

/* A chain on one worker: each value goes out once, and forgets keep two at a time. */
static void test_forgets_arrive(void **state) {
  (void)state;
  uint32_t end;
  lask_graph *g = chains(1, 100, &end);
  fake f;
  fake_init(&f, g, 1, 1);
  lask_value r;
  lask_err err;
  assert_int_equal(run_remote(&f, &end, 1, NULL, &r, &err), LASK_OK);
  assert_int_equal(r.as.i, 100);
  assert_no_violation(&f);
  assert_int_equal(f.value_sends, 1); /* the literal */
  assert_int_equal(f.forgets, 99);    /* #0..#98: #99's forget was still queued at the end */
  assert_int_equal(f.w[0].peak, 2);   /* without forgets it would hold all 101 */
  fake_free(&f);
  lask_graph_free(g);
}

/* Three chains on two workers stay where they started: only the literals move. */
static void test_chains_stay_on_their_worker(void **state) {
  (void)state;
  uint32_t ends[3];
  lask_graph *g = chains(3, 20, ends);
  for (unsigned seed = 1; seed <= 20; seed++) {
    fake f;
    fake_init(&f, g, 2, seed);
    lask_value r[3];
    lask_err err;
    assert_int_equal(run_remote(&f, ends, 3, NULL, r, &err), LASK_OK);
    for (int c = 0; c < 3; c++) assert_int_equal(r[c].as.i, 1000 * c + 20);
    assert_no_violation(&f);
    assert_int_equal(f.value_sends, 3);
    fake_free(&f);
  }
  lask_graph_free(g);
}

/* Callbacks: pretask, send, answer, posttask in that order for each task, posttask
 * naming the worker that ran it; none for literals and aliases. */
static void test_callback_order(void **state) {
  (void)state;
  unsigned rng = 7;
  lask_graph *g = random_graph(&rng, 80);
  uint32_t out = g->n - 1;
  fake f;
  fake_init(&f, g, 3, 3);
  lask_value r;
  lask_err err;
  assert_int_equal(run_remote(&f, &out, 1, NULL, &r, &err), LASK_OK);
  lask_release(r);
  assert_no_violation(&f);
  uint8_t *stage = calloc(g->n, 1);
  int *where = calloc(g->n, sizeof *where);
  static const char order[] = "psrP";
  for (size_t i = 0; i < f.nev; i++) {
    event e = f.ev[i];
    if (order[stage[e.node]] != e.kind) fail_msg("#%u: '%c' after %d steps", e.node, e.kind, stage[e.node]);
    if (e.kind == 's') where[e.node] = e.worker;
    if (e.kind == 'P') assert_int_equal(e.worker, where[e.node]);
    stage[e.node]++;
  }
  for (uint32_t i = 0; i < g->n; i++) assert_int_equal(stage[i], calls_nothing(g, i) ? 0 : 4);
  free(stage), free(where);
  fake_free(&f);
  lask_graph_free(g);
}

static lask_status k_boom(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  (void)k, (void)a, (void)n, (void)out;
  return lask_err_set(err, LASK_EKERNEL, LASK_NO_NODE, "exploded");
}

/* x = 1, y = inc(x), z = boom(y) (boom: a kernel that fails), w = add(z, y). */
static lask_graph *boom_graph(uint32_t *y, uint32_t *z, uint32_t *w) {
  lask_graph_builder *b = lask_gb_new();
  lask_kernel *boom = lask_kernel_new("boom", k_boom, NULL, NULL);
  assert_non_null(boom);
  uint32_t hb = lask_gb_add_const(b, lask_objval(&boom->h));
  uint32_t inc = head(b, "inc"), add = head(b, "add"), x = lask_gb_node(b);
  *y = lask_gb_node(b), *z = lask_gb_node(b), *w = lask_gb_node(b);
  emit_literal(b, x, 1);
  emit_call(b, *y, inc, &x, 1);
  emit_call(b, *z, hb, y, 1);
  uint32_t zy[2] = {*z, *y};
  emit_call(b, *w, add, zy, 2);
  return finish(b);
}

/* Runs f's graph for outs[0..n), which must fail and give nothing; frees the graph
 * and f's workers (its counts stay readable). Returns the status. */
static lask_status run_failing(fake *f, const uint32_t *outs, size_t n, lask_err *err) {
  lask_value r[4] = {lask_int(-1), lask_int(-1), lask_int(-1), lask_int(-1)};
  assert_true(n <= 4);
  lask_status st = run_remote(f, outs, n, NULL, r, err);
  assert_int_not_equal(st, LASK_OK);
  assert_int_equal(err->code, st);
  for (size_t k = 0; k < n; k++) assert_int_equal(r[k].as.i, -1);
  assert_no_violation(f);
  fake_free(f);
  lask_graph_free((lask_graph *)f->g);
  return st;
}

/* An error answer fails the run on the task's node, with its message: the kernel's
 * error on z, or a worker's death on y (the task it was running). */
static void test_error_answers_fail_run(void **state) {
  (void)state;
  for (int dies = 0; dies < 2; dies++) {
    uint32_t y, z, w;
    fake f;
    fake_init(&f, boom_graph(&y, &z, &w), 2, 5);
    f.die_on = dies ? y : LASK_NO_NODE;
    lask_err err;
    assert_int_equal(run_failing(&f, &w, 1, &err), dies ? LASK_EHOST : LASK_EKERNEL);
    assert_int_equal(err.node, dies ? y : z);
    assert_non_null(strstr(err.msg, dies ? "died" : "exploded"));
    assert_int_equal(f.tasks_sent, dies ? 1 : 2);
  }
}

/* The interrupt stops the run after the answer that raised it: nothing more is sent. */
static void test_interrupt(void **state) {
  (void)state;
  uint32_t ends[4];
  fake f;
  fake_init(&f, chains(4, 10, ends), 2, 9);
  f.interrupt_after = 5;
  lask_err err;
  assert_int_equal(run_failing(&f, ends, 4, &err), LASK_EINTR);
  assert_int_equal(f.replies, 5);
  assert_int_equal(f.sends_after_interrupt, 0);
}

/* A pretask that asks to stop fails the run on its node before the task is sent. */
static void test_pretask_stops_run(void **state) {
  (void)state;
  uint32_t ends[1];
  fake f;
  fake_init(&f, chains(1, 10, ends), 1, 1);
  f.stop_pre = 5;
  lask_err err;
  assert_int_equal(run_failing(&f, ends, 1, &err), LASK_EHOST);
  assert_int_equal(err.node, 5);
  assert_int_equal(f.tasks_sent, 4); /* #1..#4 */
}

/* Trace: one event per task on the worker that ran it, times moved to the trace's zero. */
static void test_trace(void **state) {
  (void)state;
  uint32_t ends[2];
  lask_graph *g = chains(2, 15, ends);
  lask_trace *t = lask_trace_new();
  fake f;
  fake_init(&f, g, 3, 11);
  f.zero = lask_trace_zero(t);
  lask_value r[2];
  lask_err err;
  assert_int_equal(run_remote(&f, ends, 2, t, r, &err), LASK_OK);
  assert_int_equal(lask_trace_count(t), 30);
  for (size_t i = 0; i < 30; i++) {
    const lask_trace_event *e = lask_trace_event_at(t, i);
    assert_true(e->start > 0.999 && e->start < 1.001 && e->end > 1.999 && e->end < 2.001);
    int sent_to = -1;
    for (size_t k = 0; k < f.nev; k++)
      if (f.ev[k].kind == 's' && f.ev[k].node == e->node) sent_to = f.ev[k].worker;
    assert_int_equal((int)e->worker, sent_to);
  }
  lask_trace_free(t);
  fake_free(&f);
  lask_graph_free(g);
}

/* A remote run needs a transport with workers. */
static void test_needs_transport(void **state) {
  (void)state;
  uint32_t end;
  lask_graph *g = chains(1, 2, &end);
  lask_value r;
  lask_err err;
  lask_run_opts o = {.sched = LASK_SCHED_REMOTE};
  assert_int_equal(lask_run(NULL, g, &end, 1, &o, &r, &err), LASK_EINVAL);
  lask_transport none = {.nworkers = 0, .send = fake_send, .receive = fake_receive};
  o.transport = &none;
  assert_int_equal(lask_run(NULL, g, &end, 1, &o, &r, &err), LASK_EINVAL);
  lask_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_graphs_match_sync),
      cmocka_unit_test(test_forgets_arrive),
      cmocka_unit_test(test_chains_stay_on_their_worker),
      cmocka_unit_test(test_callback_order),
      cmocka_unit_test(test_error_answers_fail_run),
      cmocka_unit_test(test_interrupt),
      cmocka_unit_test(test_pretask_stops_run),
      cmocka_unit_test(test_trace),
      cmocka_unit_test(test_needs_transport),
  };
  return cmocka_run_group_tests_name("remote", tests, NULL, NULL);
}
