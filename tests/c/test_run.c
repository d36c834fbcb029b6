/* test_run.c — lask_run and lask_get through the C API: results of both
 * schedulers on engines of 1, 2 and 4 workers, errors, cycles, interrupts, host
 * ops, callbacks, and the release of every value (intermediates as soon as their
 * last dependent has run).
 *
 * Values that matter for memory are "counted" objects made by custom kernels
 * (lask_kernel_new): their class counts the live ones and the peak, and every test
 * ends (teardown) by asserting none is left. Callbacks and host calls check the
 * thread they run on themselves and count violations instead of asserting, since
 * cmocka's assertions are only valid on the test's own thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lask.h"

static const int engine_sizes[] = {1, 2, 4};
#define NSIZES 3

/* --- counted objects --- */

typedef struct counted {
  lask_obj h;
  int64_t v;
} counted;

static _Atomic int counted_live, counted_peak;

static void counted_destroy(lask_obj *o) {
  atomic_fetch_sub(&counted_live, 1);
  free(o);
}

static const lask_class counted_class = {"counted", counted_destroy};

static void reset_peak(void) { atomic_store(&counted_peak, atomic_load(&counted_live)); }

static lask_obj *counted_new(int64_t v) {
  counted *c = malloc(sizeof *c);
  if (!c) return NULL;
  lask_obj_init(&c->h, &counted_class);
  c->v = v;
  int now = atomic_fetch_add(&counted_live, 1) + 1, peak = atomic_load(&counted_peak);
  while (now > peak && !atomic_compare_exchange_weak(&counted_peak, &peak, now)) continue;
  return &c->h;
}

static int64_t counted_value(lask_value v) {
  assert_true(lask_isa(v, &counted_class));
  return ((counted *)v.as.o)->v;
}

/* --- custom kernels, made with lask_kernel_new --- */

static _Atomic int kernels_freed;
static void note_free(void *data) {
  (void)data;
  atomic_fetch_add(&kernels_freed, 1);
}

/* make(i): a counted object holding the integer i. */
static lask_status k_make(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  if (n != 1 || a[0].type != LASK_TINT)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s wants one integer", k->name);
  lask_obj *o = counted_new(a[0].as.i);
  if (!o) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory");
  *out = lask_objval(o);
  return LASK_OK;
}

/* next(c): a new counted object holding c's integer + 1. */
static lask_status k_next(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  if (n != 1 || !lask_isa(a[0], &counted_class))
    return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s wants a counted object", k->name);
  lask_obj *o = counted_new(((const counted *)a[0].as.o)->v + 1);
  if (!o) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory");
  *out = lask_objval(o);
  return LASK_OK;
}

/* unwrap(c): c's integer. */
static lask_status k_unwrap(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                            lask_err *err) {
  if (n != 1 || !lask_isa(a[0], &counted_class))
    return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s wants a counted object", k->name);
  *out = lask_int(((const counted *)a[0].as.o)->v);
  return LASK_OK;
}

/* boom(x): always fails, naming x. */
static lask_status k_boom(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  (void)out;
  return lask_err_set(err, LASK_EKERNEL, LASK_NO_NODE, "%s: exploded on %lld", k->name,
                      n > 0 && a[0].type == LASK_TINT ? (long long)a[0].as.i : -1LL);
}

/* trip(x): sets the interrupt flag in k->data, gives x. */
static lask_status k_trip(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  (void)n, (void)err;
  atomic_store((_Atomic int *)k->data, 1);
  *out = lask_retain(a[0]);
  return LASK_OK;
}

/* Counts calls in *(k->data), gives its argument. */
static lask_status k_tally(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  (void)n, (void)err;
  atomic_fetch_add((_Atomic int *)k->data, 1);
  *out = lask_retain(a[0]);
  return LASK_OK;
}

static lask_value new_kernel(const char *name, lask_kernel_fn fn, void *data) {
  lask_kernel *k = lask_kernel_new(name, fn, data, note_free);
  assert_non_null(k);
  return lask_objval(&k->h);
}

static lask_value builtin(const char *name) {
  const lask_kernel *k = lask_kernel_find(name);
  assert_non_null(k);
  return lask_objval((lask_obj *)&k->h);
}

static lask_value str(const char *s) {
  lask_str *p = lask_str_new(s, strlen(s));
  assert_non_null(p);
  return lask_objval(&p->h);
}

/* --- building --- */

static void emit_literal(lask_graph_builder *b, uint32_t id, lask_value v) {
  lask_gb_begin(b, id);
  lask_gb_const(b, v);
  lask_gb_end(b);
}

/* id = head(args...) where each arg is a KEY (>= 0) or the integer constant -1 - arg. */
static void emit_call(lask_graph_builder *b, uint32_t id, uint32_t head, int nargs, const int64_t *args) {
  lask_gb_begin(b, id);
  lask_gb_const_ref(b, head);
  for (int k = 0; k < nargs; k++)
    if (args[k] >= 0)
      lask_gb_key(b, (uint32_t)args[k]);
    else
      lask_gb_const(b, lask_int(-1 - args[k]));
  lask_gb_call(b, (uint32_t)nargs);
  lask_gb_end(b);
}

static void emit1(lask_graph_builder *b, uint32_t id, uint32_t head, int64_t a) {
  emit_call(b, id, head, 1, &a);
}

static void emit2(lask_graph_builder *b, uint32_t id, uint32_t head, int64_t a, int64_t c) {
  int64_t args[2] = {a, c};
  emit_call(b, id, head, 2, args);
}

#define LIT(i) (-1 - (int64_t)(i)) /* an integer constant argument for emit_call */

/* id = sum([KEY ids[0], ..., KEY ids[n-1]]) */
static void emit_sum_list(lask_graph_builder *b, uint32_t id, const uint32_t *ids, uint32_t n) {
  lask_gb_begin(b, id);
  lask_gb_const(b, builtin("sum"));
  for (uint32_t k = 0; k < n; k++) lask_gb_key(b, ids[k]);
  lask_gb_list(b, n);
  lask_gb_call(b, 1);
  lask_gb_end(b);
}

static lask_graph *finish_ok(lask_graph_builder *b) {
  lask_err err;
  lask_graph *g = lask_gb_finish(b, &err);
  if (!g) fail_msg("lask_gb_finish: %s", err.msg);
  return g;
}

/* x = 1, bad = add(x, "oops"), top = inc(bad): a kernel error at bad. named 0: no
 * names; 1: "x", "bad-node" and "top"; 2: only "top". */
static lask_graph *add_oops_graph(int named, uint32_t *bad, uint32_t *top) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t x = named == 1 ? lask_gb_named(b, "x") : lask_gb_node(b);
  *bad = named == 1 ? lask_gb_named(b, "bad-node") : lask_gb_node(b);
  *top = named ? lask_gb_named(b, "top") : lask_gb_node(b);
  emit_literal(b, x, lask_int(1));
  lask_gb_begin(b, *bad);
  lask_gb_const(b, builtin("add"));
  lask_gb_key(b, x);
  lask_gb_const(b, str("oops"));
  lask_gb_call(b, 2);
  lask_gb_end(b);
  emit1(b, *top, lask_gb_add_const(b, builtin("inc")), *bad);
  return finish_ok(b);
}

/* The talk's graph: x = 1, y = inc(x), z = add(y, 10), named. */
static lask_graph *talk_graph(void) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t x = lask_gb_named(b, "x"), y = lask_gb_named(b, "y"), z = lask_gb_named(b, "z");
  uint32_t inc = lask_gb_add_const(b, builtin("inc")), add = lask_gb_add_const(b, builtin("add"));
  emit_literal(b, x, lask_int(1));
  emit1(b, y, inc, x);
  emit2(b, z, add, y, LIT(10));
  return finish_ok(b);
}

/* --- running --- */

typedef struct config {
  lask_sched sched;
  int workers; /* engine size; 0: no engine */
} config;

/* Every (scheduler, engine) pair: sync on no engine and on each size, threaded on each size. */
#define NCONFIGS (1 + 2 * NSIZES)
static config config_at(int k) {
  if (k == 0) return (config){LASK_SCHED_SYNC, 0};
  k--;
  return (config){k % 2 ? LASK_SCHED_THREADED : LASK_SCHED_SYNC, engine_sizes[k / 2]};
}

static lask_engine *engine_new(int workers) {
  if (!workers) return NULL;
  lask_err err;
  lask_engine *e = lask_engine_new(workers, &err);
  if (!e) fail_msg("lask_engine_new(%d): %s", workers, err.msg);
  return e;
}

static lask_status run_with(config c, const lask_graph *g, const uint32_t *outs, size_t n, lask_run_opts *o,
                            lask_value *results, lask_err *err) {
  lask_engine *e = engine_new(c.workers);
  lask_run_opts defaults = {0};
  if (!o) o = &defaults;
  o->sched = c.sched;
  lask_status st = lask_run(e, g, outs, n, o, results, err);
  lask_engine_free(e);
  return st;
}

static void release_all(lask_value *v, size_t n) {
  for (size_t k = 0; k < n; k++) lask_release(v[k]);
}

static void test_engines(void **state) {
  (void)state;
  for (int k = 0; k < NSIZES; k++) {
    lask_engine *e = engine_new(engine_sizes[k]);
    assert_int_equal(lask_engine_workers(e), engine_sizes[k]);
    lask_engine_free(e);
  }
  lask_err err;
  lask_engine *e = lask_engine_new(0, &err);
  assert_non_null(e);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  assert_int_equal(lask_engine_workers(e), cores > 0 ? cores : 1);
  lask_engine_free(e);
  lask_err_clear(&err);
  assert_null(lask_engine_new(-1, &err));
  assert_int_equal(err.code, LASK_EINVAL);
}

static void test_talk_graph(void **state) {
  (void)state;
  lask_graph *g = talk_graph();
  uint32_t outs[3] = {lask_graph_find(g, "z"), lask_graph_find(g, "y"), lask_graph_find(g, "x")};
  for (int k = 0; k < NCONFIGS; k++) {
    lask_value r[3];
    lask_err err;
    assert_int_equal(run_with(config_at(k), g, outs, 3, NULL, r, &err), LASK_OK);
    assert_int_equal(err.code, LASK_OK);
    assert_int_equal(r[0].type, LASK_TINT);
    assert_int_equal(r[0].as.i, 12);
    assert_int_equal(r[1].as.i, 2);
    assert_int_equal(r[2].as.i, 1);
  }
  lask_value z; /* no options at all, and a threaded run with no engine: both run synchronously */
  lask_err err;
  assert_int_equal(lask_run(NULL, g, outs, 1, NULL, &z, &err), LASK_OK);
  assert_int_equal(z.as.i, 12);
  lask_run_opts o = {.sched = LASK_SCHED_THREADED};
  assert_int_equal(lask_run(NULL, g, outs, 1, &o, &z, &err), LASK_OK);
  assert_int_equal(z.as.i, 12);
  lask_graph_free(g);
}

/* The same node requested twice gives two references to one object; requested
 * intermediates survive; the run keeps none of them. */
static void test_multiple_outputs(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  uint32_t make = lask_gb_add_const(b, new_kernel("make", k_make, NULL));
  uint32_t next = lask_gb_add_const(b, new_kernel("next", k_next, NULL));
  uint32_t a = lask_gb_node(b), c = lask_gb_node(b), d = lask_gb_node(b);
  emit1(b, a, make, LIT(5));
  emit1(b, c, next, a);
  emit1(b, d, next, c);
  lask_graph *g = finish_ok(b);
  uint32_t outs[4] = {d, d, a, d};
  for (int k = 0; k < NCONFIGS; k++) {
    lask_value r[4];
    lask_err err;
    assert_int_equal(run_with(config_at(k), g, outs, 4, NULL, r, &err), LASK_OK);
    assert_int_equal(counted_value(r[0]), 7);
    assert_ptr_equal(r[1].as.o, r[0].as.o);
    assert_ptr_equal(r[3].as.o, r[0].as.o);
    assert_int_equal(atomic_load(&r[0].as.o->refs), 3);
    assert_int_equal(counted_value(r[2]), 5);
    assert_int_equal(atomic_load(&r[2].as.o->refs), 1);
    assert_int_equal(atomic_load(&counted_live), 2); /* c, unrequested, is gone */
    release_all(r, 4);
    assert_int_equal(atomic_load(&counted_live), 0);
  }
  lask_value none[1];
  lask_err err;
  assert_int_equal(lask_run(NULL, g, outs, 0, NULL, none, &err), LASK_OK);
  atomic_store(&kernels_freed, 0);
  lask_graph_free(g);
  assert_int_equal(atomic_load(&kernels_freed), 2); /* the graph held the only references */
}

/* Integers small enough live in the code (LASK_OP_INT), others in the pool: both
 * give the same values, as literals, as a kernel's arguments, inside lists and
 * lists of lists, on every scheduler; at either side of the code's bounds too. */
static void test_integers_in_code_and_pool(void **state) {
  (void)state;
  const int64_t vals[] = {0,
                          1,
                          -1,
                          7,
                          -123456789,
                          LASK_INT_MAX,
                          LASK_INT_MIN,
                          LASK_INT_MAX + 1,
                          LASK_INT_MIN - 1,
                          INT32_MAX,
                          INT32_MIN,
                          INT64_MAX,
                          INT64_MIN};
  enum { NV = sizeof vals / sizeof *vals, PER = 3 };
  lask_graph_builder *b = lask_gb_new();
  uint32_t outs[NV * PER];
  for (uint32_t k = 0; k < NV; k++) {
    uint32_t lit = outs[k * PER] = lask_gb_node(b), arg = outs[k * PER + 1] = lask_gb_node(b),
             nest = outs[k * PER + 2] = lask_gb_node(b);
    emit_literal(b, lit, lask_int(vals[k]));
    lask_gb_begin(b, arg); /* add(v, 0): the flat call */
    lask_gb_const(b, builtin("add"));
    lask_gb_const(b, lask_int(vals[k]));
    lask_gb_const(b, lask_int(0));
    lask_gb_call(b, 2);
    lask_gb_end(b);
    lask_gb_begin(b, nest); /* [[v, key lit], v]: the general path */
    lask_gb_const(b, lask_int(vals[k]));
    lask_gb_key(b, lit);
    lask_gb_list(b, 2);
    lask_gb_const(b, lask_int(vals[k]));
    lask_gb_list(b, 2);
    lask_gb_end(b);
  }
  lask_graph *g = finish_ok(b);
  uint32_t in_code = 0;
  for (uint32_t i = 0; i < g->n; i++)
    for (uint32_t w = 0; w < g->code_len[i]; w++)
      in_code += LASK_OP(g->code[g->code_off[i] + w]) == LASK_OP_INT;
  assert_true(in_code > 0 && g->nconsts < NV); /* both kinds are there */
  for (int c = 0; c < NCONFIGS; c++) {
    lask_value r[NV * PER];
    lask_err err;
    assert_int_equal(run_with(config_at(c), g, outs, NV * PER, NULL, r, &err), LASK_OK);
    for (uint32_t k = 0; k < NV; k++) {
      assert_int_equal(r[k * PER].type, LASK_TINT);
      assert_int_equal(r[k * PER].as.i, vals[k]);
      assert_int_equal(r[k * PER + 1].type, LASK_TINT);
      assert_int_equal(r[k * PER + 1].as.i, vals[k]);
      lask_list *outer = (lask_list *)r[k * PER + 2].as.o, *inner = (lask_list *)outer->items[0].as.o;
      assert_int_equal(outer->items[1].as.i, vals[k]);
      assert_int_equal(inner->items[0].as.i, vals[k]);
      assert_int_equal(inner->items[1].as.i, vals[k]);
    }
    release_all(r, NV * PER);
  }
  lask_graph_free(g);
}

/* sum over lists of keys and constants; a list as a result. */
static void test_lists_into_sum(void **state) {
  (void)state;
  enum { L = 100 };
  lask_graph_builder *b = lask_gb_new();
  uint32_t mul = lask_gb_add_const(b, builtin("mul")), x[L];
  for (int i = 0; i < L; i++) x[i] = lask_gb_node(b);
  uint32_t total = lask_gb_node(b), mixed = lask_gb_node(b), list = lask_gb_node(b), empty = lask_gb_node(b);
  for (int i = 0; i < L; i++) emit2(b, x[i], mul, LIT(i), LIT(i));
  emit_sum_list(b, total, x, L);
  lask_gb_begin(b, mixed); /* sum([total, 0.5, x[3]]) */
  lask_gb_const(b, builtin("sum"));
  lask_gb_key(b, total);
  lask_gb_const(b, lask_num(0.5));
  lask_gb_key(b, x[3]);
  lask_gb_list(b, 3);
  lask_gb_call(b, 1);
  lask_gb_end(b);
  lask_gb_begin(b, list); /* [x[2], "s", [x[4]]] */
  lask_gb_key(b, x[2]);
  lask_gb_const(b, str("s"));
  lask_gb_key(b, x[4]);
  lask_gb_list(b, 1);
  lask_gb_list(b, 3);
  lask_gb_end(b);
  lask_gb_begin(b, empty); /* sum([]) */
  lask_gb_const(b, builtin("sum"));
  lask_gb_list(b, 0);
  lask_gb_call(b, 1);
  lask_gb_end(b);
  lask_graph *g = finish_ok(b);
  uint32_t outs[4] = {total, mixed, list, empty};
  for (int k = 0; k < NCONFIGS; k++) {
    lask_value r[4];
    lask_err err;
    assert_int_equal(run_with(config_at(k), g, outs, 4, NULL, r, &err), LASK_OK);
    assert_int_equal(r[3].type, LASK_TINT);
    assert_int_equal(r[3].as.i, 0);
    assert_int_equal(r[0].type, LASK_TINT);
    assert_int_equal(r[0].as.i, (L - 1) * L * (2 * L - 1) / 6);
    assert_int_equal(r[1].type, LASK_TNUM);
    assert_true(r[1].as.n == 328350 + 0.5 + 9);
    assert_true(lask_isa(r[2], &lask_list_class));
    const lask_list *l = (const lask_list *)r[2].as.o;
    assert_int_equal(l->n, 3);
    assert_int_equal(l->items[0].as.i, 4);
    assert_string_equal(((lask_str *)l->items[1].as.o)->data, "s");
    assert_true(lask_isa(l->items[2], &lask_list_class));
    assert_int_equal(((const lask_list *)l->items[2].as.o)->items[0].as.i, 16);
    release_all(r, 4);
  }
  lask_graph_free(g);
}

/* A reduction with one failing node among many good ones: boom(77) (how 0) or
 * inc(x, 2) (otherwise). */
static lask_graph *failing_graph(uint32_t *bad, uint32_t *top, int how) {
  enum { L = 400 };
  lask_graph_builder *b = lask_gb_new();
  uint32_t make = lask_gb_add_const(b, new_kernel("make", k_make, NULL));
  uint32_t unwrap = lask_gb_add_const(b, new_kernel("unwrap", k_unwrap, NULL));
  uint32_t boom = lask_gb_add_const(b, new_kernel("boom", k_boom, NULL));
  uint32_t inc = lask_gb_add_const(b, builtin("inc"));
  uint32_t x[L], s[L];
  for (int i = 0; i < L; i++) x[i] = lask_gb_node(b), s[i] = lask_gb_node(b);
  *top = lask_gb_node(b);
  for (int i = 0; i < L; i++) {
    emit1(b, x[i], make, LIT(i));
    if (i != L / 2)
      emit1(b, s[i], unwrap, x[i]);
    else if (how == 0)
      emit1(b, s[i], boom, LIT(77));
    else
      emit2(b, s[i], inc, x[i], LIT(2));
  }
  *bad = s[L / 2];
  emit_sum_list(b, *top, s, L);
  return finish_ok(b);
}

static void test_kernel_errors(void **state) {
  (void)state;
  const char *want[] = {"boom: exploded on 77", "add: argument 2 is a string, not a number",
                        "inc expects 1 argument, got 2"};
  const lask_status codes[] = {LASK_EKERNEL, LASK_ETYPE, LASK_EINVAL};
  for (int how = 0; how < 3; how++) {
    uint32_t bad, top;
    lask_graph *g;
    if (how == 1) { /* add(1, "oops") */
      g = add_oops_graph(0, &bad, &top);
    } else {
      g = failing_graph(&bad, &top, how);
    }
    for (int k = 0; k < NCONFIGS; k++) {
      lask_value r[1] = {lask_int(-777)};
      lask_err err;
      lask_status st = run_with(config_at(k), g, &top, 1, NULL, r, &err);
      assert_int_equal(st, codes[how]);
      assert_int_equal(err.code, codes[how]);
      assert_int_equal(err.node, bad);
      if (!strstr(err.msg, want[how])) fail_msg("message '%s' lacks '%s'", err.msg, want[how]);
      assert_int_equal(r[0].as.i, -777); /* nothing given */
      assert_int_equal(atomic_load(&counted_live), 0);
    }
    lask_graph_free(g);
  }
}

/* A graph x = make(9) plus one node failing in the middle of its program:
 *   which 0: sum([make(1), next(x), boom(3), make(4)])
 *   which 1: identity([make(1), x], 5), a list made, then a failing call. */
static lask_graph *failing_program(int which, uint32_t *node) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t make = lask_gb_add_const(b, new_kernel("make", k_make, NULL));
  uint32_t next = lask_gb_add_const(b, new_kernel("next", k_next, NULL));
  uint32_t boom = lask_gb_add_const(b, new_kernel("boom", k_boom, NULL));
  uint32_t x = lask_gb_node(b);
  emit1(b, x, make, LIT(9));
  lask_gb_begin(b, *node = lask_gb_node(b));
  lask_gb_const(b, builtin(which ? "identity" : "sum"));
  lask_gb_const_ref(b, make), lask_gb_const(b, lask_int(1)), lask_gb_call(b, 1);
  if (which) {
    lask_gb_key(b, x);
    lask_gb_list(b, 2);
    lask_gb_const(b, lask_int(5));
    lask_gb_call(b, 2);
  } else {
    lask_gb_const_ref(b, next), lask_gb_key(b, x), lask_gb_call(b, 1);
    lask_gb_const_ref(b, boom), lask_gb_const(b, lask_int(3)), lask_gb_call(b, 1);
    lask_gb_const_ref(b, make), lask_gb_const(b, lask_int(4)), lask_gb_call(b, 1);
    lask_gb_list(b, 4);
    lask_gb_call(b, 1);
  }
  lask_gb_end(b);
  return finish_ok(b);
}

/* The values already made for a failing program are released. */
static void test_failure_releases_temporaries(void **state) {
  (void)state;
  for (int which = 0; which < 2; which++) {
    uint32_t node;
    lask_graph *g = failing_program(which, &node);
    for (int k = 0; k < NCONFIGS; k++) {
      lask_value r;
      lask_err err;
      assert_int_equal(run_with(config_at(k), g, &node, 1, NULL, &r, &err),
                       which ? LASK_EINVAL : LASK_EKERNEL);
      assert_int_equal(err.node, node);
      assert_string_equal(err.msg, which ? "identity expects 1 argument, got 2" : "boom: exploded on 3");
      assert_int_equal(atomic_load(&counted_live), 0);
    }
    lask_graph_free(g);
  }
}

/* silent(x): fails with LASK_EKERNEL without filling err. */
static lask_status k_silent(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                            lask_err *err) {
  (void)k, (void)a, (void)n, (void)out, (void)err;
  return LASK_EKERNEL;
}

/* The status a kernel returns decides that it failed, even when it forgot to fill
 * err: the run fails with that code at that node, never succeeds with nil results. */
static void test_kernel_status_wins_over_unfilled_err(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  uint32_t silent = lask_gb_add_const(b, new_kernel("silent", k_silent, NULL));
  uint32_t inc = lask_gb_add_const(b, builtin("inc"));
  uint32_t x = lask_gb_node(b), y = lask_gb_node(b);
  emit1(b, x, silent, LIT(1));
  emit1(b, y, inc, x);
  lask_graph *g = finish_ok(b);
  char wrong[256] = "";
  for (int k = 0; k < NCONFIGS && !wrong[0]; k++) {
    lask_value r = lask_int(-777);
    lask_err err;
    lask_status st = run_with(config_at(k), g, &y, 1, NULL, &r, &err);
    if (st == LASK_OK) release_all(&r, 1);
    if (st != LASK_EKERNEL || err.code != LASK_EKERNEL || err.node != x)
      snprintf(wrong, sizeof wrong, "config %d: status %d, err.code %d, err.node %u; want %d at #%u", k, st,
               err.code, err.node, LASK_EKERNEL, x);
  }
  lask_graph_free(g); /* before failing, so that only the failure is reported */
  if (wrong[0]) fail_msg("%s", wrong);
}

static void test_cycle_is_ECYCLE(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  uint32_t inc = lask_gb_add_const(b, builtin("inc")), add = lask_gb_add_const(b, builtin("add"));
  uint32_t x = lask_gb_node(b), a = lask_gb_node(b), c = lask_gb_node(b), top = lask_gb_node(b);
  emit_literal(b, x, lask_int(1));
  emit2(b, a, add, x, c);
  emit1(b, c, inc, a);
  emit1(b, top, inc, c);
  lask_graph *g = finish_ok(b);
  for (int k = 0; k < NCONFIGS; k++) {
    lask_value r[1] = {lask_int(-777)};
    lask_err err;
    assert_int_equal(run_with(config_at(k), g, &x, 1, NULL, r, &err), LASK_ECYCLE);
    assert_int_equal(err.code, LASK_ECYCLE);
    assert_int_equal(r[0].as.i, -777);
  }
  lask_graph_free(g);
}

static void test_bad_output_id(void **state) {
  (void)state;
  lask_graph *g = talk_graph();
  uint32_t outs[2] = {0, 3};
  lask_value r[2];
  lask_err err;
  assert_int_equal(run_with((config){LASK_SCHED_THREADED, 2}, g, outs, 2, NULL, r, &err), LASK_EINVAL);
  assert_int_equal(err.code, LASK_EINVAL);
  lask_graph_free(g);
}

/* A chain of counted objects: each is released as soon as the next is made, so
 * at most two are ever alive, on any scheduler. */
static void test_chain_releases_intermediates(void **state) {
  (void)state;
  enum { N = 3000 };
  lask_graph_builder *b = lask_gb_new();
  uint32_t make = lask_gb_add_const(b, new_kernel("make", k_make, NULL));
  uint32_t next = lask_gb_add_const(b, new_kernel("next", k_next, NULL));
  for (uint32_t i = 0; i < N; i++) lask_gb_node(b);
  emit1(b, 0, make, LIT(0));
  for (uint32_t i = 1; i < N; i++) emit1(b, i, next, i - 1);
  lask_graph *g = finish_ok(b);
  uint32_t last = N - 1;
  for (int k = 0; k < NCONFIGS; k++) {
    reset_peak();
    lask_value r;
    lask_err err;
    assert_int_equal(run_with(config_at(k), g, &last, 1, NULL, &r, &err), LASK_OK);
    assert_int_equal(counted_value(r), N - 1);
    assert_int_equal(atomic_load(&counted_live), 1);
    if (atomic_load(&counted_peak) > 2) fail_msg("config %d: %d values alive at once", k, counted_peak);
    lask_release(r);
  }
  lask_graph_free(g);
}

/* Chunks x_i = make(i), partial results s_i = unwrap(x_i), total = sum([s...]):
 * walked block by block, each x_i dies before the next is made (sync), and only a
 * few per worker are alive at once (threaded). A requested chunk survives. */
static void test_reduction_releases_chunks(void **state) {
  (void)state;
  enum { K = 1000 };
  lask_graph_builder *b = lask_gb_new();
  uint32_t make = lask_gb_add_const(b, new_kernel("make", k_make, NULL));
  uint32_t unwrap = lask_gb_add_const(b, new_kernel("unwrap", k_unwrap, NULL));
  uint32_t x[K], s[K], total = lask_gb_node(b);
  for (int i = 0; i < K; i++) s[i] = lask_gb_node(b);
  for (int i = 0; i < K; i++) x[i] = lask_gb_node(b);
  for (int i = 0; i < K; i++) emit1(b, x[i], make, LIT(i)), emit1(b, s[i], unwrap, x[i]);
  emit_sum_list(b, total, s, K);
  lask_graph *g = finish_ok(b);
  for (int k = 0; k < NCONFIGS; k++) {
    config c = config_at(k);
    reset_peak();
    uint32_t outs[2] = {total, x[K / 3]};
    lask_value r[2];
    lask_err err;
    assert_int_equal(run_with(c, g, outs, 1, NULL, r, &err), LASK_OK);
    assert_int_equal(r[0].as.i, (int64_t)K * (K - 1) / 2);
    int peak = atomic_load(&counted_peak), bound = c.sched == LASK_SCHED_SYNC ? 1 : 4 * c.workers;
    if (peak > bound) fail_msg("config %d: %d chunks alive at once (bound %d)", k, peak, bound);
    assert_int_equal(atomic_load(&counted_live), 0);

    reset_peak();
    assert_int_equal(run_with(c, g, outs, 2, NULL, r, &err), LASK_OK);
    assert_int_equal(r[0].as.i, (int64_t)K * (K - 1) / 2);
    assert_int_equal(counted_value(r[1]), K / 3);
    assert_int_equal(atomic_load(&counted_live), 1);
    lask_release(r[1]);
  }
  lask_graph_free(g);
}

/* A flag set before the run stops it before anything is given. */
static void test_interrupt_before_run(void **state) {
  (void)state;
  _Atomic int flag = 1, calls = 0;
  lask_graph_builder *b = lask_gb_new();
  uint32_t tally = lask_gb_add_const(b, new_kernel("tally", k_tally, &calls));
  uint32_t make = lask_gb_add_const(b, new_kernel("make", k_make, NULL));
  uint32_t x = lask_gb_node(b), y = lask_gb_node(b), z = lask_gb_node(b);
  emit1(b, x, make, LIT(1));
  emit1(b, y, tally, x);
  emit1(b, z, tally, y);
  lask_graph *g = finish_ok(b);
  for (int k = 0; k < NCONFIGS; k++) {
    lask_run_opts o = {.interrupt = &flag};
    lask_value r = lask_int(-777);
    lask_err err;
    assert_int_equal(run_with(config_at(k), g, &z, 1, &o, &r, &err), LASK_EINTR);
    assert_int_equal(err.code, LASK_EINTR);
    assert_int_equal(r.as.i, -777);
    assert_true(atomic_load(&calls) <= 1); /* at most the first task may have run */
    assert_int_equal(atomic_load(&counted_live), 0);
    atomic_store(&calls, 0);
  }
  lask_graph_free(g);
}

/* A kernel in a chain sets the flag: the run stops right after it. */
static void test_interrupt_during_run(void **state) {
  (void)state;
  enum { N = 2000, TRIP = 500 };
  _Atomic int flag = 0, calls = 0;
  lask_graph_builder *b = lask_gb_new();
  uint32_t tally = lask_gb_add_const(b, new_kernel("tally", k_tally, &calls));
  uint32_t trip = lask_gb_add_const(b, new_kernel("trip", k_trip, &flag));
  uint32_t make = lask_gb_add_const(b, new_kernel("make", k_make, NULL));
  for (uint32_t i = 0; i < N; i++) lask_gb_node(b);
  emit1(b, 0, make, LIT(0));
  for (uint32_t i = 1; i < N; i++) emit1(b, i, i == TRIP ? trip : tally, i - 1);
  lask_graph *g = finish_ok(b);
  uint32_t last = N - 1;
  for (int k = 0; k < NCONFIGS; k++) {
    lask_run_opts o = {.interrupt = &flag};
    lask_value r = lask_int(-777);
    lask_err err;
    atomic_store(&flag, 0), atomic_store(&calls, 0);
    assert_int_equal(run_with(config_at(k), g, &last, 1, &o, &r, &err), LASK_EINTR);
    assert_int_equal(r.as.i, -777);
    if (atomic_load(&calls) != TRIP - 1)
      fail_msg("config %d: %d tasks after the trip", k, calls - (TRIP - 1));
    assert_int_equal(atomic_load(&counted_live), 0);
  }
  lask_graph_free(g);
}

/* --- host ops --- */

typedef struct host_ctx {
  pthread_t owner;
  _Atomic int calls, wrong_thread, wrong_head;
  uint32_t fail_node; /* fails this node with LASK_EHOST, or LASK_NO_NODE */
} host_ctx;

/* "double"(x) = 2x, only on the owner thread. */
static lask_status host_call(void *ctx, uint32_t node, lask_value head, const lask_value *args, int nargs,
                             lask_value *out, lask_err *err) {
  host_ctx *h = ctx;
  atomic_fetch_add(&h->calls, 1);
  if (!pthread_equal(pthread_self(), h->owner)) atomic_fetch_add(&h->wrong_thread, 1);
  if (!lask_isa(head, &lask_str_class) || strcmp(((lask_str *)head.as.o)->data, "double") != 0 ||
      nargs != 1 || args[0].type != LASK_TINT) {
    atomic_fetch_add(&h->wrong_head, 1);
    return lask_err_set(err, LASK_EHOST, node, "unexpected host call");
  }
  if (node == h->fail_node)
    return lask_err_set(err, LASK_EHOST, node, "double refused %lld", (long long)args[0].as.i);
  *out = lask_int(2 * args[0].as.i);
  return LASK_OK;
}

/* x_i = inc(i - 1) (native), d_i = "double"(x_i) (host), total = sum([d...]) (native),
 * one node add(1, "double"(x_0)) with the host call nested in a native one, and a
 * root "double"(21). */
static lask_graph *host_graph(uint32_t L, uint32_t *d, uint32_t *total, uint32_t *nested, uint32_t *root) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t inc = lask_gb_add_const(b, builtin("inc")), dbl = lask_gb_add_const(b, str("double"));
  uint32_t *x = malloc(L * sizeof *x);
  for (uint32_t i = 0; i < L; i++) x[i] = lask_gb_node(b), d[i] = lask_gb_node(b);
  *total = lask_gb_node(b), *nested = lask_gb_node(b), *root = lask_gb_node(b);
  emit1(b, *root, dbl, LIT(21)); /* a host task with no dependencies */
  for (uint32_t i = 0; i < L; i++) emit1(b, x[i], inc, LIT(i)), emit1(b, d[i], dbl, x[i]);
  emit_sum_list(b, *total, d, L);
  lask_gb_begin(b, *nested);
  lask_gb_const(b, builtin("add"));
  lask_gb_const(b, lask_int(1));
  lask_gb_const_ref(b, dbl);
  lask_gb_key(b, x[0]);
  lask_gb_call(b, 1);
  lask_gb_call(b, 2);
  lask_gb_end(b);
  free(x);
  return finish_ok(b);
}

static void test_host_ops(void **state) {
  (void)state;
  enum { L = 300 };
  uint32_t d[L], total, nested, root;
  lask_graph *g = host_graph(L, d, &total, &nested, &root);
  assert_int_equal(g->flags[root] & LASK_NODE_HOST, LASK_NODE_HOST);
  assert_int_equal(g->flags[d[0]] & LASK_NODE_HOST, LASK_NODE_HOST);
  assert_int_equal(g->flags[nested] & LASK_NODE_HOST, LASK_NODE_HOST);
  assert_int_equal(g->flags[total] & LASK_NODE_HOST, 0);
  for (int k = 0; k < NCONFIGS; k++) {
    host_ctx h = {.owner = pthread_self(), .fail_node = LASK_NO_NODE};
    lask_host_ops ops = {&h, host_call};
    lask_run_opts o = {.host = &ops};
    uint32_t outs[4] = {total, nested, d[7], root};
    lask_value r[4];
    lask_err err;
    assert_int_equal(run_with(config_at(k), g, outs, 4, &o, r, &err), LASK_OK);
    assert_int_equal(r[3].as.i, 42);
    assert_int_equal(r[0].as.i, (int64_t)L * (L + 1));
    assert_int_equal(r[1].as.i, 3);
    assert_int_equal(r[2].as.i, 16);
    assert_int_equal(atomic_load(&h.calls), L + 2);
    assert_int_equal(atomic_load(&h.wrong_thread), 0);
    assert_int_equal(atomic_load(&h.wrong_head), 0);

    h.fail_node = d[L / 2], atomic_store(&h.calls, 0);
    r[0] = lask_int(-777);
    assert_int_equal(run_with(config_at(k), g, outs, 1, &o, r, &err), LASK_EHOST);
    assert_int_equal(err.node, d[L / 2]);
    assert_string_equal(err.msg, "double refused 151");
    assert_int_equal(r[0].as.i, -777);
    assert_int_equal(atomic_load(&h.wrong_thread), 0);
  }
  /* No host ops: the host node cannot run. */
  lask_value r;
  lask_err err;
  assert_int_equal(run_with((config){LASK_SCHED_THREADED, 2}, g, &total, 1, NULL, &r, &err), LASK_ETYPE);
  assert_true(err.node == nested || err.node == root || (err.node >= d[0] && err.node <= d[L - 1]));
  lask_graph_free(g);
}

/* While the calling thread runs a host task, the pool's threads run the native roots:
 * the host never keeps roots it claimed waiting behind its host tasks. N native roots
 * count themselves; each feeds a host task that waits (5 s at most) until every root
 * has run, so the host, blocked in the first of them, needs the pool to run all the
 * others, the ones it might have claimed too. */
static _Atomic int roots_ran;

static lask_status k_count_root(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                                lask_err *err) {
  (void)k, (void)n, (void)err;
  atomic_fetch_add(&roots_ran, 1);
  *out = a[0];
  return LASK_OK;
}

static lask_status host_wait_roots(void *ctx, uint32_t node, lask_value head, const lask_value *args,
                                   int nargs, lask_value *out, lask_err *err) {
  (void)head, (void)args, (void)nargs;
  int want = *(const int *)ctx;
  for (int waited_ms = 0; atomic_load(&roots_ran) < want; waited_ms++) {
    if (waited_ms == 5000)
      return lask_err_set(err, LASK_EHOST, node, "roots left waiting: %d of %d ran", atomic_load(&roots_ran),
                          want);
    usleep(1000);
  }
  *out = lask_int(want);
  return LASK_OK;
}

static void test_host_tasks_leave_roots_to_the_pool(void **state) {
  (void)state;
  enum { N = 2000 };
  lask_graph_builder *b = lask_gb_new();
  uint32_t count = lask_gb_add_const(b, new_kernel("count_root", k_count_root, NULL));
  uint32_t wait = lask_gb_add_const(b, str("wait"));
  uint32_t *h = malloc(N * sizeof *h), total = lask_gb_node(b);
  for (uint32_t i = 0; i < N; i++) {
    uint32_t r = lask_gb_node(b);
    h[i] = lask_gb_node(b);
    emit1(b, r, count, LIT(i));
    emit1(b, h[i], wait, r);
  }
  emit_sum_list(b, total, h, N);
  lask_graph *g = finish_ok(b);
  free(h);
  for (int k = 0; k < NCONFIGS; k++) {
    config c = config_at(k);
    if (c.sched != LASK_SCHED_THREADED || c.workers < 2) continue; /* the host alone would wait for itself */
    int want = N;
    lask_host_ops ops = {&want, host_wait_roots};
    lask_run_opts o = {.host = &ops};
    lask_value r;
    lask_err err;
    atomic_store(&roots_ran, 0);
    lask_status st = run_with(c, g, &total, 1, &o, &r, &err);
    if (st != LASK_OK) fail_msg("%d workers: %s", c.workers, err.msg);
    assert_int_equal(r.as.i, (int64_t)N * N);
  }
  lask_graph_free(g);
}

/* --- callbacks --- */

typedef struct cb_ctx {
  pthread_t owner;
  int nworkers;
  const lask_graph *g;
  uint32_t n;
  uint8_t *phase; /* per node: 0 before, 1 started, 2 finished */
  const int64_t *expect;
  uint32_t stop_at, stop_after; /* pretask / posttask of this node returns 1, stopping the run */
  _Atomic int wrong_thread, bad_phase, bad_worker, bad_value, pre, post;
} cb_ctx;

static int on_pre(void *ctx, uint32_t node) {
  cb_ctx *c = ctx;
  atomic_fetch_add(&c->pre, 1);
  if (!pthread_equal(pthread_self(), c->owner)) return atomic_fetch_add(&c->wrong_thread, 1), 0;
  if (node >= c->n || c->phase[node] != 0) return atomic_fetch_add(&c->bad_phase, 1), 0;
  for (uint32_t e = c->g->dep_off[node]; e < c->g->dep_off[node + 1]; e++)
    if (c->phase[c->g->deps[e]] != 2) atomic_fetch_add(&c->bad_phase, 1); /* posttask of deps first */
  c->phase[node] = 1;
  return node == c->stop_at;
}

static int on_post(void *ctx, uint32_t node, lask_value result, int worker) {
  cb_ctx *c = ctx;
  atomic_fetch_add(&c->post, 1);
  if (!pthread_equal(pthread_self(), c->owner)) return atomic_fetch_add(&c->wrong_thread, 1), 0;
  if (node >= c->n || c->phase[node] != 1) return atomic_fetch_add(&c->bad_phase, 1), 0;
  c->phase[node] = 2;
  if (worker < 0 || worker >= c->nworkers) atomic_fetch_add(&c->bad_worker, 1);
  if (result.type != LASK_TINT || result.as.i != c->expect[node]) atomic_fetch_add(&c->bad_value, 1);
  return node == c->stop_after;
}

/* L leaves, M pairwise sums of leaves, one total: values known in advance. */
static lask_graph *callback_graph(uint32_t L, uint32_t M, int64_t *expect, uint32_t *top) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t add = lask_gb_add_const(b, builtin("add")), inc = lask_gb_add_const(b, builtin("inc"));
  uint32_t *mids = malloc(M * sizeof *mids);
  for (uint32_t i = 0; i < L; i++) emit1(b, lask_gb_node(b), inc, LIT(i)), expect[i] = i + 1;
  for (uint32_t j = 0; j < M; j++) {
    uint32_t a = (j * 7) % L, c = (j * 13 + 5) % L;
    mids[j] = lask_gb_node(b);
    emit2(b, mids[j], add, a, c);
    expect[mids[j]] = expect[a] + expect[c];
  }
  *top = lask_gb_node(b);
  emit_sum_list(b, *top, mids, M);
  expect[*top] = 0;
  for (uint32_t j = 0; j < M; j++) expect[*top] += expect[mids[j]];
  free(mids);
  return finish_ok(b);
}

static void check_callbacks(config c, int num_workers, const lask_graph *g, const int64_t *expect,
                            uint32_t top) {
  int used = c.sched == LASK_SCHED_SYNC                   ? 1
             : num_workers > 0 && num_workers < c.workers ? num_workers
                                                          : c.workers;
  cb_ctx ctx = {.owner = pthread_self(), .nworkers = used, .g = g, .n = g->n, .expect = expect};
  ctx.stop_at = ctx.stop_after = LASK_NO_NODE;
  ctx.phase = calloc(g->n, 1);
  lask_callbacks cbs = {&ctx, on_pre, on_post};
  lask_run_opts o = {.callbacks = &cbs, .num_workers = num_workers};
  lask_value r;
  lask_err err;
  assert_int_equal(run_with(c, g, &top, 1, &o, &r, &err), LASK_OK);
  assert_int_equal(r.as.i, expect[top]);
  assert_int_equal(atomic_load(&ctx.pre), g->n);
  assert_int_equal(atomic_load(&ctx.post), g->n);
  assert_int_equal(atomic_load(&ctx.wrong_thread), 0);
  assert_int_equal(atomic_load(&ctx.bad_phase), 0);
  assert_int_equal(atomic_load(&ctx.bad_worker), 0);
  assert_int_equal(atomic_load(&ctx.bad_value), 0);
  for (uint32_t i = 0; i < g->n; i++) assert_int_equal(ctx.phase[i], 2);
  free(ctx.phase);
}

static void test_callbacks(void **state) {
  (void)state;
  enum { L = 500, M = 1500 };
  int64_t *expect = malloc((L + M + 1) * sizeof *expect);
  uint32_t top;
  lask_graph *g = callback_graph(L, M, expect, &top);
  for (int k = 0; k < NCONFIGS; k++) check_callbacks(config_at(k), 0, g, expect, top);
  check_callbacks((config){LASK_SCHED_THREADED, 4}, 2, g, expect, top); /* part of the pool */
  check_callbacks((config){LASK_SCHED_THREADED, 4}, 1, g, expect, top);
  check_callbacks((config){LASK_SCHED_THREADED, 2}, 10, g, expect, top); /* more than there are */

  cb_ctx ctx = {
      .owner = pthread_self(), .nworkers = 4, .g = g, .n = g->n, .expect = expect}; /* posttask only */
  ctx.stop_at = ctx.stop_after = LASK_NO_NODE;
  ctx.phase = calloc(g->n, 1);
  lask_callbacks cbs = {&ctx, NULL, on_post};
  lask_run_opts o = {.callbacks = &cbs};
  lask_value r;
  lask_err err;
  assert_int_equal(run_with((config){LASK_SCHED_THREADED, 4}, g, &top, 1, &o, &r, &err), LASK_OK);
  assert_int_equal(r.as.i, expect[top]);
  assert_int_equal(atomic_load(&ctx.post), g->n);
  assert_int_equal(atomic_load(&ctx.wrong_thread), 0);
  assert_int_equal(atomic_load(&ctx.bad_phase), g->n); /* never started: phase stays 0 */
  free(ctx.phase);
  lask_graph_free(g);
  free(expect);
}

/* A callback that returns non-zero stops the run with LASK_EHOST at its node. */
static void test_callback_stops_run(void **state) {
  (void)state;
  enum { L = 300, M = 900 };
  int64_t *expect = malloc((L + M + 1) * sizeof *expect);
  uint32_t top;
  lask_graph *g = callback_graph(L, M, expect, &top);
  for (int k = 0; k < NCONFIGS; k++)
    for (int post = 0; post <= 1; post++) {
      cb_ctx ctx = {.owner = pthread_self(), .nworkers = 4, .g = g, .n = g->n, .expect = expect};
      ctx.stop_at = post ? LASK_NO_NODE : L + M / 2;
      ctx.stop_after = post ? L / 2 : LASK_NO_NODE;
      ctx.phase = calloc(g->n, 1);
      lask_callbacks cbs = {&ctx, on_pre, on_post};
      lask_run_opts o = {.callbacks = &cbs};
      lask_value r = lask_int(-777);
      lask_err err;
      assert_int_equal(run_with(config_at(k), g, &top, 1, &o, &r, &err), LASK_EHOST);
      assert_int_equal(err.code, LASK_EHOST);
      assert_int_equal(err.node, post ? L / 2 : L + M / 2);
      assert_int_equal(r.as.i, -777);
      assert_true(ctx.phase[top] != 2); /* the run did not go on to the end */
      assert_int_equal(atomic_load(&ctx.wrong_thread), 0);
      free(ctx.phase);
    }
  lask_graph_free(g);
  free(expect);
}

/* --- lask_get --- */

static void test_get_by_names(void **state) {
  (void)state;
  lask_graph *g = talk_graph();
  for (int k = 0; k < NSIZES; k++) {
    lask_engine *e = engine_new(engine_sizes[k]);
    const char *names[] = {"z", "x", "z", "y"};
    lask_value r[4];
    lask_err err;
    assert_int_equal(lask_get(e, g, names, 4, r, &err), LASK_OK);
    assert_int_equal(r[0].as.i, 12);
    assert_int_equal(r[1].as.i, 1);
    assert_int_equal(r[2].as.i, 12);
    assert_int_equal(r[3].as.i, 2);
    const char *missing[] = {"z", "nope"};
    r[0] = lask_int(-777);
    assert_int_equal(lask_get(e, g, missing, 2, r, &err), LASK_EMISSING);
    assert_non_null(strstr(err.msg, "'nope'"));
    assert_int_equal(r[0].as.i, -777);
    lask_engine_free(e);
  }
  lask_graph_builder *b = lask_gb_new(); /* a graph with no names at all */
  emit_literal(b, lask_gb_node(b), lask_int(1));
  lask_graph *anon = finish_ok(b);
  lask_engine *e = engine_new(2);
  const char *names[] = {"x"};
  lask_value r;
  lask_err err;
  assert_int_equal(lask_get(e, anon, names, 1, &r, &err), LASK_EMISSING);
  lask_engine_free(e);
  lask_graph_free(anon);
  lask_graph_free(g);
}

/* A ring of n nodes named <prefix>0 .. <prefix>n-1, each inc of the next, and "top"
 * depending on the first. */
static lask_graph *named_ring(int n, const char *prefix) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t inc = lask_gb_add_const(b, builtin("inc"));
  uint32_t *ids = malloc((size_t)n * sizeof *ids);
  assert_non_null(ids);
  char name[32];
  for (int i = 0; i < n; i++) {
    snprintf(name, sizeof name, "%s%d", prefix, i);
    ids[i] = lask_gb_named(b, name);
  }
  for (int i = 0; i < n; i++) emit1(b, ids[i], inc, ids[(i + 1) % n]);
  emit1(b, lask_gb_named(b, "top"), inc, ids[0]);
  free(ids);
  return finish_ok(b);
}

static int count_of(const char *s, const char *part) {
  int n = 0;
  for (const char *p = strstr(s, part); p; p = strstr(p + strlen(part), part)) n++;
  return n;
}

/* lask_get's errors name the failing node by its name ("#i" without one), and a cycle
 * by its path: every node of a short one, the count, first and last of a long one. */
static void test_get_errors_name_nodes_and_cycles(void **state) {
  (void)state;
  lask_engine *e = engine_new(2);
  lask_err err;
  lask_value r;
  { /* bad = add(x, "oops"): lask_get names the node; lask_run leaves it to err.node */
    uint32_t bad, top;
    lask_graph *g = add_oops_graph(1, &bad, &top);
    const char *names[] = {"top"};
    assert_int_equal(lask_get(e, g, names, 1, &r, &err), LASK_ETYPE);
    assert_string_equal(err.msg, "node 'bad-node': add: argument 2 is a string, not a number");
    assert_int_equal(err.node, bad);
    assert_int_equal(lask_run(e, g, &top, 1, NULL, &r, &err), LASK_ETYPE);
    assert_string_equal(err.msg, "add: argument 2 is a string, not a number");
    assert_int_equal(err.node, bad);
    lask_graph_free(g);
    g = add_oops_graph(2, &bad, &top); /* bad has no name: its number */
    char want[96];
    snprintf(want, sizeof want, "node #%u: add: argument 2 is a string, not a number", (unsigned)bad);
    assert_int_equal(lask_get(e, g, names, 1, &r, &err), LASK_ETYPE);
    assert_string_equal(err.msg, want);
    lask_graph_free(g);
  }
  { /* a short cycle: every node, closing on the first */
    lask_graph *g = named_ring(3, "k");
    const char *names[] = {"top"};
    assert_int_equal(lask_get(e, g, names, 1, &r, &err), LASK_ECYCLE);
    char buf[24];
    const char *first = lask_graph_name(g, err.node, buf, sizeof buf);
    char closing[64];
    snprintf(closing, sizeof closing, " -> %s", first);
    if (strncmp(err.msg, "the graph has a cycle: ", 23) != 0) fail_msg("message '%s'", err.msg);
    size_t len = strlen(err.msg);
    assert_true(len > strlen(closing) && strcmp(err.msg + len - strlen(closing), closing) == 0);
    for (int i = 0; i < 3; i++) {
      char name[8];
      snprintf(name, sizeof name, "k%d", i);
      if (count_of(err.msg, name) != (strcmp(name, first) == 0 ? 2 : 1))
        fail_msg("'%s' in '%s'", name, err.msg);
    }
    assert_int_equal(count_of(err.msg, " -> "), 3);
    /* the same message from lask_run and lask_order */
    uint32_t top = lask_graph_find(g, "top");
    lask_err err2;
    assert_int_equal(lask_run(e, g, &top, 1, NULL, &r, &err2), LASK_ECYCLE);
    assert_string_equal(err.msg, err2.msg);
    lask_graph_free(g);
  }
  { /* a ring of 100: its count, the first 10 and last 5 names, the rest elided */
    lask_graph *g = named_ring(100, "ring");
    const char *names[] = {"top"};
    assert_int_equal(lask_get(e, g, names, 1, &r, &err), LASK_ECYCLE);
    if (strncmp(err.msg, "the graph has a cycle of 100 nodes: ", 36) != 0) fail_msg("message '%s'", err.msg);
    assert_non_null(strstr(err.msg, " -> … (85 more) … -> "));
    assert_int_equal(count_of(err.msg, " -> "), 16);
    assert_int_equal(count_of(err.msg, "ring"), 16);
    lask_graph_free(g);
  }
  { /* a self-loop */
    lask_graph *g = named_ring(1, "self");
    const char *names[] = {"self0"};
    assert_int_equal(lask_get(e, g, names, 1, &r, &err), LASK_ECYCLE);
    assert_string_equal(err.msg, "the graph has a cycle: self0 -> self0");
    lask_graph_free(g);
  }
  lask_engine_free(e);
}

static int setup_counts(void **state) {
  (void)state;
  atomic_store(&counted_live, 0);
  atomic_store(&counted_peak, 0);
  return 0;
}

static int teardown_counts(void **state) {
  (void)state;
  int left = atomic_load(&counted_live);
  if (left) fprintf(stderr, "# %d counted objects still alive\n", left);
  return left ? -1 : 0;
}

/* --- misuse of the C API: an error, never a crash --- */

static void test_api_misuse_is_an_error(void **state) {
  (void)state;
  lask_err err;
  lask_value out[1];
  lask_engine *e = lask_engine_new(2, &err);
  assert_non_null(e);
  const char *names[] = {"z"};
  assert_int_equal(lask_get(e, NULL, names, 1, out, &err), LASK_EINVAL);
  assert_string_equal(err.msg, "lask_get: the graph is NULL");
  assert_int_equal(lask_run(e, NULL, (uint32_t[]){0}, 1, NULL, out, &err), LASK_EINVAL);
  lask_graph *g = talk_graph();
  assert_int_equal(lask_get(e, g, NULL, 1, out, &err), LASK_EINVAL);
  assert_int_equal(lask_get(e, g, (const char *[]){NULL}, 1, out, &err), LASK_EINVAL);
  assert_int_equal(lask_get(e, g, names, 1, out, &err), LASK_OK); /* still usable */
  assert_int_equal(out[0].as.i, 12);
  lask_graph_free(g);

  lask_graph_builder *b = lask_gb_new(); /* begin twice: the first program never ended */
  uint32_t x = lask_gb_node(b), y = lask_gb_node(b);
  lask_gb_begin(b, x);
  lask_gb_begin(b, y);
  assert_null(lask_gb_finish(b, &err));
  assert_non_null(strstr(err.msg, "was not ended"));
  b = lask_gb_new(); /* end without begin */
  x = lask_gb_node(b);
  emit_literal(b, x, lask_int(1));
  lask_gb_end(b);
  assert_null(lask_gb_finish(b, &err));
  assert_non_null(strstr(err.msg, "no node's program was begun"));
  lask_engine_free(e);
  lask_engine_free(NULL);
}

/* Misuse of the builder past its entry points: each case ends in lask_gb_finish
 * with an error naming it, never a crash, and every constant handed over (a counted
 * object) is released. */
static void misuse_null_name(lask_graph_builder *b) { lask_gb_named(b, NULL); }
static void misuse_unknown_node(lask_graph_builder *b) {
  uint32_t x = lask_gb_node(b);
  lask_gb_begin(b, x);
  lask_gb_key(b, 7);
  lask_gb_end(b);
}
static void misuse_unknown_constant(lask_graph_builder *b) {
  uint32_t x = lask_gb_node(b);
  lask_gb_begin(b, x);
  lask_gb_const_ref(b, 3);
  lask_gb_end(b);
}
static void misuse_pops_too_much(lask_graph_builder *b) {
  uint32_t x = lask_gb_node(b);
  lask_gb_begin(b, x);
  lask_gb_const(b, lask_objval(counted_new(1)));
  lask_gb_call(b, 2);
  lask_gb_end(b);
}
static void misuse_outside(lask_graph_builder *b) {
  lask_gb_node(b);
  lask_gb_const(b, lask_objval(counted_new(1))); /* no begin: the constant is still released */
}
static void misuse_defined_twice(lask_graph_builder *b) {
  uint32_t x = lask_gb_node(b);
  emit_literal(b, x, lask_objval(counted_new(1)));
  emit_literal(b, x, lask_objval(counted_new(2)));
}
static void misuse_two_values(lask_graph_builder *b) {
  uint32_t x = lask_gb_node(b);
  lask_gb_begin(b, x);
  lask_gb_const(b, lask_int(1));
  lask_gb_const(b, lask_objval(counted_new(2)));
  lask_gb_end(b);
}
static void misuse_unknown_begin(lask_graph_builder *b) { lask_gb_begin(b, 5); }
static void misuse_never_ended(lask_graph_builder *b) {
  uint32_t x = lask_gb_node(b);
  lask_gb_begin(b, x);
  lask_gb_const(b, lask_objval(counted_new(1)));
}
static void misuse_list_of_nothing(lask_graph_builder *b) {
  uint32_t x = lask_gb_node(b);
  lask_gb_begin(b, x);
  lask_gb_list(b, 1);
  lask_gb_end(b);
}

static void test_builder_misuse_is_an_error(void **state) {
  (void)state;
  static const struct {
    void (*misuse)(lask_graph_builder *);
    const char *msg;
  } cases[] = {
      {misuse_null_name, "lask_gb_named: the name is NULL"},
      {misuse_unknown_node, "reference to an unknown node"},
      {misuse_unknown_constant, "reference to an unknown constant"},
      {misuse_pops_too_much, "program pops more values than it pushed"},
      {misuse_outside, "instruction outside a node's program"},
      {misuse_defined_twice, "node defined twice"},
      {misuse_two_values, "a node's program must leave exactly one value"},
      {misuse_unknown_begin, "no such node"},
      {misuse_never_ended, "lask_gb_finish: node #0's program was begun but not ended"},
      {misuse_list_of_nothing, "program pops more values than it pushed"},
  };
  lask_err err;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lask_graph_builder *b = lask_gb_new();
    cases[i].misuse(b);
    for (int k = 0; k < 3; k++) /* calls after the error change nothing, and leak nothing */
      lask_gb_node(b), lask_gb_add_const(b, lask_objval(counted_new(k)));
    assert_null(lask_gb_finish(b, &err));
    /* the cause, after the node's name where the mistake concerns a node ("node #0: ...") */
    if (!strstr(err.msg, cases[i].msg))
      fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err.msg, cases[i].msg);
    assert_int_equal(atomic_load(&counted_live), 0);
  }
  /* a NULL builder (lask_gb_new out of memory): every call a no-op, constants released */
  assert_int_equal(lask_gb_node(NULL), LASK_NO_NODE);
  assert_int_equal(lask_gb_named(NULL, "x"), LASK_NO_NODE);
  assert_int_equal(lask_gb_count(NULL), 0);
  assert_int_equal(lask_gb_add_const(NULL, lask_objval(counted_new(1))), UINT32_MAX);
  lask_gb_begin(NULL, 0), lask_gb_key(NULL, 0), lask_gb_const(NULL, lask_objval(counted_new(2)));
  lask_gb_const_ref(NULL, 0), lask_gb_list(NULL, 0), lask_gb_call(NULL, 0), lask_gb_end(NULL);
  assert_int_equal(atomic_load(&counted_live), 0);
  assert_null(lask_gb_finish(NULL, &err));
  assert_int_equal(err.code, LASK_ENOMEM);
  lask_gb_free(NULL);
  /* a NULL err: the status alone tells */
  assert_int_equal(lask_run(NULL, NULL, NULL, 0, NULL, NULL, NULL), LASK_EINVAL);
  assert_int_equal(lask_get(NULL, NULL, NULL, 0, NULL, NULL), LASK_EINVAL);
  lask_graph *g = talk_graph();
  lask_value out[1];
  assert_int_equal(lask_run(NULL, g, (uint32_t[]){99}, 1, NULL, out, NULL), LASK_EINVAL);
  assert_int_equal(lask_get(NULL, g, (const char *[]){"nope"}, 1, out, NULL), LASK_EMISSING);
  lask_graph_free(g);
}

/* hold(x): waits until *(k->data) is set, then gives x. */
static lask_status k_hold(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  (void)n, (void)err;
  while (!atomic_load((_Atomic int *)k->data)) usleep(1000);
  *out = lask_retain(a[0]);
  return LASK_OK;
}

typedef struct free_during {
  lask_engine *e;
  _Atomic int *release;
} free_during;

static void *free_engine_then_release(void *arg) {
  free_during *f = arg;
  usleep(20000); /* the run has started: its tasks wait on *release */
  lask_engine_free(f->e);
  atomic_store(f->release, 1);
  return NULL;
}

/* lask_engine_free from another thread while a run uses the engine: the run ends
 * normally, and the engine is freed at its end (ASan sees no use after free). */
static void test_engine_free_during_a_run(void **state) {
  (void)state;
  lask_err err;
  _Atomic int release = 0;
  lask_engine *e = lask_engine_new(4, &err);
  assert_non_null(e);
  lask_graph_builder *b = lask_gb_new();
  uint32_t hold = lask_gb_add_const(b, new_kernel("hold", k_hold, &release));
  uint32_t ids[16];
  for (int i = 0; i < 16; i++) emit1(b, ids[i] = lask_gb_node(b), hold, LIT(i));
  uint32_t total = lask_gb_node(b);
  emit_sum_list(b, total, ids, 16);
  lask_graph *g = finish_ok(b);
  pthread_t t;
  free_during f = {e, &release};
  assert_int_equal(pthread_create(&t, NULL, free_engine_then_release, &f), 0);
  lask_value out;
  lask_run_opts o = {.sched = LASK_SCHED_THREADED};
  assert_int_equal(lask_run(e, g, &total, 1, &o, &out, &err), LASK_OK);
  assert_int_equal(out.as.i, 120);
  pthread_join(t, NULL);
  lask_graph_free(g);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_counts, teardown_counts)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_engines),
      T(test_talk_graph),
      T(test_multiple_outputs),
      T(test_lists_into_sum),
      T(test_integers_in_code_and_pool),
      T(test_kernel_errors),
      T(test_failure_releases_temporaries),
      T(test_kernel_status_wins_over_unfilled_err),
      T(test_cycle_is_ECYCLE),
      T(test_bad_output_id),
      T(test_chain_releases_intermediates),
      T(test_reduction_releases_chunks),
      T(test_interrupt_before_run),
      T(test_interrupt_during_run),
      T(test_host_ops),
      T(test_host_tasks_leave_roots_to_the_pool),
      T(test_callbacks),
      T(test_callback_stops_run),
      T(test_get_by_names),
      T(test_get_errors_name_nodes_and_cycles),
      T(test_api_misuse_is_an_error),
      T(test_builder_misuse_is_an_error),
      T(test_engine_free_during_a_run),
  };
  return cmocka_run_group_tests_name("run", tests, NULL, NULL);
}
