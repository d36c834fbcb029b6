/* test_threaded.c — the threaded scheduler against references: random DAGs
 * checked against a naive evaluation and against LASK_SCHED_SYNC, million-node
 * graphs of three shapes, true parallelism, prompt stops on error, engines reused,
 * shared, nested and freed, and two engines running at once in one process.
 *
 * Random graphs come from a seed printed as "# seed N" (set LASK_SEED=N to replay
 * one). Threads other than the test's own never call cmocka assertions: they count
 * what went wrong, and the test asserts the counts. Sizes shrink under
 * ThreadSanitizer, which is an order of magnitude slower. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cblas.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lask.h"

#include "under_tsan.h"

#define BIG (UNDER_TSAN ? 20000u : 1000000u) /* nodes in the stress graphs */

static unsigned seed;

/* --- helpers --- */

static uint64_t rng_state;

static uint32_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static uint32_t below(uint32_t n) { return rnd() % n; }

static lask_value builtin(const char *name) {
  const lask_kernel *k = lask_kernel_find(name);
  assert_non_null(k);
  return lask_objval((lask_obj *)&k->h);
}

static lask_engine *engine_new(int workers) {
  lask_err err;
  lask_engine *e = lask_engine_new(workers, &err);
  if (!e) fail_msg("lask_engine_new(%d): %s", workers, err.msg);
  return e;
}

static lask_graph *finish_ok(lask_graph_builder *b) {
  lask_err err;
  lask_graph *g = lask_gb_finish(b, &err);
  if (!g) fail_msg("lask_gb_finish: %s", err.msg);
  return g;
}

static lask_status run(lask_engine *e, lask_sched sched, const lask_graph *g, const uint32_t *outs, size_t n,
                       lask_value *results, lask_err *err) {
  lask_run_opts o = {.sched = sched};
  return lask_run(e, g, outs, n, &o, results, err);
}

static int64_t run_int(lask_engine *e, const lask_graph *g, uint32_t out) {
  lask_value v;
  lask_err err;
  if (run(e, LASK_SCHED_THREADED, g, &out, 1, &v, &err) != LASK_OK) fail_msg("run: %s", err.msg);
  assert_int_equal(v.type, LASK_TINT);
  return v.as.i;
}

/* The number of threads of this process. */
static int thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  assert_non_null(d);
  int n = 0;
  for (struct dirent *de; (de = readdir(d));)
    if (de->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* --- random DAGs and their naive evaluation --- */

enum kind { LIT, ALIAS, ADD, ADDK, MUL, IDENT, SUMLIST, SUMARGS, NESTED, NKINDS };

typedef struct rnode {
  enum kind kind;
  int64_t lit;
  uint32_t nargs, first; /* arguments: arg[first .. first + nargs), topological positions */
} rnode;

typedef struct rdag {
  uint32_t n;
  rnode *nodes;   /* by topological position */
  uint32_t *arg;  /* argument pool */
  uint32_t *id;   /* id[position]: node ids are a random permutation */
  uint64_t *want; /* naive values by position, wrapping like the kernels */
} rdag;

/* Fan-in: mostly small, sometimes wide (past the evaluator's 16-slot stack). */
static uint32_t fan_in(uint32_t p) {
  uint32_t r = below(100), k = r < 70 ? 1 + below(4) : r < 95 ? 1 + below(20) : 1 + below(200);
  return p && k > 0 ? k : 0;
}

/* A dependency of position p: often a recent node (long chains), else any earlier one. */
static uint32_t pick(uint32_t p) { return below(3) ? p - 1 - below(p < 8 ? p : 8) : below(p); }

static void rdag_make(rdag *d, uint32_t n) {
  d->n = n;
  d->nodes = malloc(n * sizeof *d->nodes);
  d->id = malloc(n * sizeof *d->id);
  d->want = malloc(n * sizeof *d->want);
  size_t cap = 1024, used = 0;
  d->arg = malloc(cap * sizeof *d->arg);
  for (uint32_t i = 0; i < n; i++) d->id[i] = i;
  for (uint32_t i = n - 1; i > 0; i--) {
    uint32_t j = below(i + 1), t = d->id[i];
    d->id[i] = d->id[j], d->id[j] = t;
  }
  for (uint32_t p = 0; p < n; p++) {
    rnode *v = &d->nodes[p];
    v->kind = p == 0 ? LIT : (enum kind)below(NKINDS);
    v->lit = (int64_t)below(201) - 100;
    v->nargs = v->kind == LIT                             ? 0
               : v->kind == SUMLIST || v->kind == SUMARGS ? fan_in(p)
               : v->kind == ADD || v->kind == MUL         ? 2
               : v->kind == NESTED                        ? 3
                                                          : 1;
    if (used + v->nargs > cap) cap = 2 * (used + v->nargs), d->arg = realloc(d->arg, cap * sizeof *d->arg);
    v->first = (uint32_t)used;
    for (uint32_t k = 0; k < v->nargs; k++) d->arg[used++] = pick(p);
  }
}

static uint64_t rdag_value(const rdag *d, uint32_t p) {
  const rnode *v = &d->nodes[p];
  const uint32_t *a = d->arg + v->first;
  const uint64_t *w = d->want;
  uint64_t acc = v->kind == SUMLIST ? (uint64_t)v->lit : 0; /* the list ends with the literal */
  switch (v->kind) {
  case LIT: return (uint64_t)v->lit;
  case ALIAS:
  case IDENT: return w[a[0]];
  case ADD: return w[a[0]] + w[a[1]];
  case ADDK: return w[a[0]] + (uint64_t)v->lit;
  case MUL: return w[a[0]] * w[a[1]];
  case NESTED: return w[a[0]] + w[a[1]] * w[a[2]];
  case SUMLIST:
  case SUMARGS:
    for (uint32_t k = 0; k < v->nargs; k++) acc += w[a[k]];
    return acc;
  case NKINDS: break;
  }
  return 0;
}

static void emit_node(lask_graph_builder *b, const rdag *d, uint32_t p, const uint32_t *k) {
  const rnode *v = &d->nodes[p];
  const uint32_t *a = d->arg + v->first;
  lask_gb_begin(b, d->id[p]);
  switch (v->kind) {
  case LIT: lask_gb_const(b, lask_int(v->lit)); break;
  case ALIAS: lask_gb_key(b, d->id[a[0]]); break;
  case ADDK:
    lask_gb_const_ref(b, k[ADD]), lask_gb_key(b, d->id[a[0]]), lask_gb_const(b, lask_int(v->lit));
    lask_gb_call(b, 2);
    break;
  case NESTED: /* add(a, mul(b, identity(c))) */
    lask_gb_const_ref(b, k[ADD]), lask_gb_key(b, d->id[a[0]]);
    lask_gb_const_ref(b, k[MUL]), lask_gb_key(b, d->id[a[1]]);
    lask_gb_const_ref(b, k[IDENT]), lask_gb_key(b, d->id[a[2]]);
    lask_gb_call(b, 1), lask_gb_call(b, 2), lask_gb_call(b, 2);
    break;
  case SUMLIST:
    lask_gb_const_ref(b, k[SUMARGS]);
    for (uint32_t i = 0; i < v->nargs; i++) lask_gb_key(b, d->id[a[i]]);
    lask_gb_const(b, lask_int(v->lit));
    lask_gb_list(b, v->nargs + 1);
    lask_gb_call(b, 1);
    break;
  default: /* ADD, MUL, IDENT, SUMARGS: head(KEY...) */
    lask_gb_const_ref(b, k[v->kind]);
    for (uint32_t i = 0; i < v->nargs; i++) lask_gb_key(b, d->id[a[i]]);
    lask_gb_call(b, v->nargs);
  }
  lask_gb_end(b);
}

static lask_graph *rdag_build(rdag *d) {
  lask_graph_builder *b = lask_gb_new();
  for (uint32_t i = 0; i < d->n; i++) lask_gb_node(b);
  uint32_t k[NKINDS] = {0};
  k[ADD] = lask_gb_add_const(b, builtin("add"));
  k[MUL] = lask_gb_add_const(b, builtin("mul"));
  k[IDENT] = lask_gb_add_const(b, builtin("identity"));
  k[SUMARGS] = lask_gb_add_const(b, builtin("sum"));
  for (uint32_t p = 0; p < d->n; p++) emit_node(b, d, p, k), d->want[p] = rdag_value(d, p);
  return finish_ok(b);
}

static void rdag_free(rdag *d) { free(d->nodes), free(d->arg), free(d->id), free(d->want); }

/* Requests 1..8 random nodes (repeats allowed) and the last one; checks every
 * scheduler against the naive values. */
static void check_random_dag(uint32_t n, lask_engine *const *engines, int nengines) {
  rdag d;
  rdag_make(&d, n);
  lask_graph *g = rdag_build(&d);
  uint32_t nouts = 1 + below(8), outs[9], pos[9];
  for (uint32_t k = 0; k < nouts; k++) pos[k] = below(n), outs[k] = d.id[pos[k]];
  pos[nouts] = n - 1, outs[nouts] = d.id[n - 1], nouts++;
  lask_value ref[9], got[9];
  lask_err err;
  if (run(NULL, LASK_SCHED_SYNC, g, outs, nouts, ref, &err) != LASK_OK)
    fail_msg("seed %u, n %u: sync run failed: %s", seed, n, err.msg);
  for (uint32_t k = 0; k < nouts; k++)
    if (ref[k].type != LASK_TINT || (uint64_t)ref[k].as.i != d.want[pos[k]])
      fail_msg("seed %u, n %u: sync gives %lld for #%u, naive %lld", seed, n, (long long)ref[k].as.i, outs[k],
               (long long)d.want[pos[k]]);
  for (int e = 0; e < nengines; e++) {
    if (run(engines[e], LASK_SCHED_THREADED, g, outs, nouts, got, &err) != LASK_OK)
      fail_msg("seed %u, n %u, %d workers: %s", seed, n, lask_engine_workers(engines[e]), err.msg);
    for (uint32_t k = 0; k < nouts; k++) {
      if (got[k].type != LASK_TINT || got[k].as.i != ref[k].as.i)
        fail_msg("seed %u, n %u, %d workers: #%u is %lld, sync %lld", seed, n,
                 lask_engine_workers(engines[e]), outs[k], (long long)got[k].as.i, (long long)ref[k].as.i);
      lask_release(got[k]);
    }
  }
  lask_graph_free(g);
  rdag_free(&d);
}

static void test_random_dags_match_sync_and_naive(void **state) {
  (void)state;
  lask_engine *engines[3] = {engine_new(1), engine_new(2), engine_new(3)};
  rng_state = seed;
  int rounds = UNDER_TSAN ? 12 : 40;
  check_random_dag(1, engines, 3);
  check_random_dag(2, engines, 3);
  check_random_dag(5000, engines, 3);
  for (int r = 0; r < rounds; r++) check_random_dag(1 + below(r % 4 ? 500 : 5000), engines, 3);
  for (int k = 0; k < 3; k++) lask_engine_free(engines[k]);
}

/* --- million-node graphs --- */

/* x_0 = 0, x_i = inc(x_{i-1}): the last is n-1. */
static lask_graph *chain(uint32_t n, uint32_t *out) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t inc = lask_gb_add_const(b, builtin("inc"));
  for (uint32_t i = 0; i < n; i++) {
    lask_gb_begin(b, lask_gb_node(b));
    if (i == 0) {
      lask_gb_const(b, lask_int(0));
    } else {
      lask_gb_const_ref(b, inc), lask_gb_key(b, i - 1);
      lask_gb_call(b, 1);
    }
    lask_gb_end(b);
  }
  *out = n - 1;
  return finish_ok(b);
}

/* n tasks head(i), i = 0..n-1 (nodes 0..n-1), and one sum over their list (node
 * *total). The graph takes head. */
static lask_graph *fan_in_of(lask_value head, uint32_t n, uint32_t *total) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t kc = lask_gb_add_const(b, head);
  for (uint32_t i = 0; i < n; i++) {
    lask_gb_begin(b, lask_gb_node(b));
    lask_gb_const_ref(b, kc), lask_gb_const(b, lask_int(i));
    lask_gb_call(b, 1);
    lask_gb_end(b);
  }
  *total = lask_gb_node(b);
  lask_gb_begin(b, *total);
  lask_gb_const(b, builtin("sum"));
  for (uint32_t i = 0; i < n; i++) lask_gb_key(b, i);
  lask_gb_list(b, n);
  lask_gb_call(b, 1);
  lask_gb_end(b);
  return finish_ok(b);
}

/* x_i = inc(i) for i < n-1, total = sum([x_0, ...]): n(n-1)/2. */
static lask_graph *fan_in_sum(uint32_t n, uint32_t *out) { return fan_in_of(builtin("inc"), n - 1, out); }

/* n/2 leaves inc(i), then add() of pairs level by level (an odd one out is carried
 * up): the root is the sum of 1..n/2. */
static lask_graph *tree(uint32_t n, uint32_t *out) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t inc = lask_gb_add_const(b, builtin("inc")), add = lask_gb_add_const(b, builtin("add"));
  uint32_t width = n / 2, *level = malloc(width * sizeof *level);
  for (uint32_t i = 0; i < width; i++) {
    lask_gb_begin(b, level[i] = lask_gb_node(b));
    lask_gb_const_ref(b, inc), lask_gb_const(b, lask_int(i));
    lask_gb_call(b, 1);
    lask_gb_end(b);
  }
  while (width > 1) {
    uint32_t w2 = 0;
    for (uint32_t i = 0; i + 1 < width; i += 2) {
      uint32_t id = lask_gb_node(b);
      lask_gb_begin(b, id);
      lask_gb_const_ref(b, add), lask_gb_key(b, level[i]), lask_gb_key(b, level[i + 1]);
      lask_gb_call(b, 2);
      lask_gb_end(b);
      level[w2++] = id;
    }
    if (width % 2) level[w2++] = level[width - 1];
    width = w2;
  }
  *out = level[0];
  free(level);
  return finish_ok(b);
}

static void stress(const char *shape, lask_graph *(*make)(uint32_t, uint32_t *), int64_t want, int runs) {
  uint32_t out;
  lask_graph *g = make(BIG, &out);
  assert_true(g->n >= BIG - 1 && g->n <= BIG);
  lask_engine *e = engine_new(2);
  double t0 = now_s();
  for (int r = 0; r < runs; r++) {
    int64_t got = run_int(e, g, out);
    if (got != want) fail_msg("%s run %d: %lld, want %lld", shape, r, (long long)got, (long long)want);
  }
  print_message("# %s: %u nodes, %.0f ns/task threaded (2 workers)\n", shape, g->n,
                (now_s() - t0) / runs / g->n * 1e9);
  lask_engine_free(e);
  lask_graph_free(g);
}

static void test_stress_chain(void **state) {
  (void)state;
  stress("chain", chain, (int64_t)BIG - 1, 3);
}

static void test_stress_fan_in(void **state) {
  (void)state;
  stress("fan-in", fan_in_sum, (int64_t)BIG * (BIG - 1) / 2, 3);
}

static void test_stress_tree(void **state) {
  (void)state;
  int64_t leaves = BIG / 2;
  stress("tree", tree, leaves * (leaves + 1) / 2, 3);
}

/* --- parallelism, errors, reuse --- */

typedef struct busy {
  _Atomic int active, peak, calls;
  double us;
} busy;

/* busy(x): spins k->data's us microseconds with the number of running busy tasks
 * counted; gives x. */
static lask_status k_busy(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  (void)n, (void)err;
  busy *s = k->data;
  int now = atomic_fetch_add(&s->active, 1) + 1, peak = atomic_load(&s->peak);
  while (now > peak && !atomic_compare_exchange_weak(&s->peak, &peak, now)) continue;
  atomic_fetch_add(&s->calls, 1);
  double t0 = now_s();
  while ((now_s() - t0) * 1e6 < s->us) continue;
  atomic_fetch_sub(&s->active, 1);
  *out = lask_retain(a[0]);
  return LASK_OK;
}

/* L tasks busy(i) summed: with two workers, two of them run at the same time, also
 * when there are only two or three (the roots are claimed a few at a time, fewer as
 * fewer are left: the last ones never all go to one worker). */
static void test_two_workers_overlap(void **state) {
  (void)state;
  const int sizes[] = {2, 3, 2000};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    int L = sizes[k];
    busy s = {.us = L < 10 ? 20000 : 10};
    uint32_t total;
    lask_graph *g =
        fan_in_of(lask_objval(&lask_kernel_new("busy", k_busy, &s, NULL)->h), (uint32_t)L, &total);
    lask_engine *e1 = engine_new(1), *e2 = engine_new(2);
    assert_int_equal(run_int(e1, g, total), L * (L - 1) / 2);
    assert_int_equal(atomic_load(&s.peak), 1); /* one worker: never two at once */
    int tries = 0;
    while (atomic_load(&s.peak) < 2 && tries++ < 10) assert_int_equal(run_int(e2, g, total), L * (L - 1) / 2);
    print_message("# %d tasks: two workers overlapped after %d run(s)\n", L, tries);
    assert_int_equal(atomic_load(&s.peak), 2);
    assert_int_equal(atomic_load(&s.calls), L * (1 + tries));
    lask_engine_free(e1), lask_engine_free(e2);
    lask_graph_free(g);
  }
}

typedef struct leaves {
  _Atomic int failed, started, late;
  int64_t bad; /* the leaf that fails */
} leaves;

/* leaf(i): i, or an error for i == bad; counts starts after that error ("late"). */
static lask_status k_leaf(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  (void)n;
  leaves *s = k->data;
  atomic_fetch_add(&s->started, 1);
  if (atomic_load(&s->failed)) atomic_fetch_add(&s->late, 1);
  if (a[0].as.i == s->bad) {
    atomic_store(&s->failed, 1);
    return lask_err_set(err, LASK_EKERNEL, LASK_NO_NODE, "leaf %lld failed", (long long)s->bad);
  }
  *out = lask_retain(a[0]);
  return LASK_OK;
}

static lask_graph *leaf_fan_in(uint32_t n, leaves *s, uint32_t *total) {
  return fan_in_of(lask_objval(&lask_kernel_new("leaf", k_leaf, s, NULL)->h), n, total);
}

/* One leaf of a big fan-in fails: the run stops at once (hardly any task starts
 * after the failure), reports it, and the engine serves the next run. */
static void test_error_stops_big_fan_in(void **state) {
  (void)state;
  enum {
    PROMPT = 1000
  }; /* leaves that may start after the failure: ~50 µs of work (each takes ~50 ns), vs 200000 */
  uint32_t n = UNDER_TSAN ? 20000 : 200000, total;
  leaves s = {.bad = n / 3};
  lask_graph *g = leaf_fan_in(n, &s, &total);
  for (int workers = 2; workers <= 3; workers++) {
    lask_engine *e = engine_new(workers);
    /* The failing thread may be preempted between its kernel's failure and the
     * engine's noticing it (often so with more workers than cores), and others
     * then run on meanwhile: the best of a few attempts must be prompt. */
    for (int attempt = 0; attempt < 5; attempt++) {
      atomic_store(&s.failed, 0), atomic_store(&s.started, 0), atomic_store(&s.late, 0);
      lask_value v = lask_int(-777);
      lask_err err;
      assert_int_equal(run(e, LASK_SCHED_THREADED, g, &total, 1, &v, &err), LASK_EKERNEL);
      assert_int_equal(err.node, (uint32_t)s.bad);
      char want[64];
      snprintf(want, sizeof want, "leaf %lld failed", (long long)s.bad);
      assert_string_equal(err.msg, want);
      assert_int_equal(v.as.i, -777);
      print_message("# %d workers: %d of %u leaves started, %d after the failure\n", workers, s.started, n,
                    s.late);
      if (atomic_load(&s.late) <= PROMPT && (uint32_t)atomic_load(&s.started) < n) break;
    }
    assert_true(atomic_load(&s.late) <= PROMPT);
    assert_true((uint32_t)atomic_load(&s.started) < n);

    s.bad = -1; /* the same engine, a run without the error */
    assert_int_equal(run_int(e, g, total), (int64_t)n * (n - 1) / 2);
    s.bad = n / 3;
    lask_engine_free(e);
  }
  lask_graph_free(g);
}

/* Many runs in a row on one engine: every result right, no thread made per run,
 * and all the engine's threads gone when it is freed. */
static void test_many_runs_one_engine(void **state) {
  (void)state;
  int base = thread_count(), runs = UNDER_TSAN ? 300 : 3000;
  uint32_t out;
  lask_graph *small = chain(20, &out);
  lask_engine *e = engine_new(3);
  int with_engine = thread_count();
  assert_true(with_engine > base);
  for (int r = 0; r < runs; r++) {
    lask_value v;
    lask_err err;
    lask_sched sched = r % 5 == 4 ? LASK_SCHED_SYNC : LASK_SCHED_THREADED;
    if (run(e, sched, small, &out, 1, &v, &err) != LASK_OK) fail_msg("run %d: %s", r, err.msg);
    if (v.as.i != 19) fail_msg("run %d gives %lld", r, (long long)v.as.i);
  }
  assert_int_equal(thread_count(), with_engine);
  lask_engine_free(e);
  assert_int_equal(thread_count(), base);
  lask_graph_free(small);
}

/* Engines freed right after creation (their threads may not have started yet). */
static void test_engine_freed_at_once(void **state) {
  (void)state;
  int base = thread_count();
  for (int i = 0; i < (UNDER_TSAN ? 50 : 300); i++) {
    lask_engine *e = engine_new(1 + i % 4);
    assert_int_equal(lask_engine_workers(e), 1 + i % 4);
    lask_engine_free(e);
  }
  assert_int_equal(thread_count(), base);
}

/* --- several host threads, nested runs --- */

typedef struct sharer {
  lask_engine *e;
  const lask_graph *g;
  uint32_t out;
  int64_t want;
  int runs, wrong;
} sharer;

static void *share_runs(void *arg) {
  sharer *s = arg;
  for (int r = 0; r < s->runs; r++) {
    lask_value v;
    lask_err err;
    if (run(s->e, LASK_SCHED_THREADED, s->g, &s->out, 1, &v, &err) != LASK_OK || v.as.i != s->want)
      s->wrong++;
  }
  return NULL;
}

static void *own_engine_runs(void *arg) {
  sharer *s = arg;
  lask_err err;
  if (!(s->e = lask_engine_new(2, &err))) {
    s->wrong = s->runs;
    return NULL;
  }
  share_runs(s);
  lask_engine_free(s->e);
  return NULL;
}

/* Two host threads run body (share_runs or own_engine_runs) on one tree graph, with
 * e as their engine (NULL: each makes its own); every value must be right. */
static void two_host_threads(lask_engine *e, void *(*body)(void *)) {
  uint32_t out, n = UNDER_TSAN ? 2000 : 20000;
  lask_graph *g = tree(n, &out);
  int64_t leaves = n / 2;
  sharer s[2];
  pthread_t th[2];
  for (int i = 0; i < 2; i++) {
    s[i] = (sharer){e, g, out, leaves * (leaves + 1) / 2, UNDER_TSAN ? 20 : 100, 0};
    assert_int_equal(pthread_create(&th[i], NULL, body, &s[i]), 0);
  }
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  assert_int_equal(s[0].wrong, 0);
  assert_int_equal(s[1].wrong, 0);
  lask_graph_free(g);
}

/* Two host threads share one engine: one gets the pool, the other runs on its own
 * thread; both always get the right values. */
static void test_two_host_threads_share_engine(void **state) {
  (void)state;
  lask_engine *e = engine_new(2);
  two_host_threads(e, share_runs);
  lask_engine_free(e);
}

/* Two engines in one process, made and run at once from two host threads: both
 * always right, and OpenBLAS single-threaded once they started (set once per
 * process, not per run, so the engines do not race on it). */
static void test_two_engines_at_once(void **state) {
  (void)state;
  two_host_threads(NULL, own_engine_runs);
  assert_int_equal(openblas_get_num_threads(), 1);
}

typedef struct nested {
  lask_engine *e;
  const lask_graph *inner;
  uint32_t out;
} nested;

/* inner(x): x + the value of a whole inner graph, run on the same engine. */
static lask_status k_inner(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  (void)n;
  const nested *s = k->data;
  lask_value v;
  lask_run_opts o = {.sched = LASK_SCHED_THREADED};
  lask_status st = lask_run(s->e, s->inner, &s->out, 1, &o, &v, err);
  if (st != LASK_OK) return st;
  *out = lask_int(a[0].as.i + v.as.i);
  return LASK_OK;
}

/* Kernels that run graphs themselves on the engine running them. */
static void test_nested_runs(void **state) {
  (void)state;
  enum { L = 64 };
  uint32_t inner_out;
  lask_graph *inner = chain(100, &inner_out);
  lask_engine *e = engine_new(3);
  nested s = {e, inner, inner_out};
  uint32_t total;
  lask_graph *g = fan_in_of(lask_objval(&lask_kernel_new("inner", k_inner, &s, NULL)->h), L, &total);
  assert_int_equal(run_int(e, g, total), L * (L - 1) / 2 + L * 99);
  lask_engine_free(e);
  lask_graph_free(g);
  lask_graph_free(inner);
}

int main(void) {
  const char *env = getenv("LASK_SEED");
  seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
  printf("# seed %u\n", seed);
  fflush(stdout);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_dags_match_sync_and_naive),
      cmocka_unit_test(test_stress_chain),
      cmocka_unit_test(test_stress_fan_in),
      cmocka_unit_test(test_stress_tree),
      cmocka_unit_test(test_two_workers_overlap),
      cmocka_unit_test(test_error_stops_big_fan_in),
      cmocka_unit_test(test_many_runs_one_engine),
      cmocka_unit_test(test_engine_freed_at_once),
      cmocka_unit_test(test_two_host_threads_share_engine),
      cmocka_unit_test(test_two_engines_at_once),
      cmocka_unit_test(test_nested_runs),
  };
  return cmocka_run_group_tests_name("threaded", tests, NULL, NULL);
}
