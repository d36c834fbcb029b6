/* test_graph.c — the graph builder (lask_gb_*), its CSR edges and host flags, its
 * errors, lask_graph_cycle and lask_order, through the public headers only.
 *
 * Programs are checked word by word against the encoding graph.h documents, and
 * built graphs are evaluated (lask_eval, lask_run on no engine) so that every
 * structural check is backed by a computed value. Objects put into graphs are of
 * a counted class: each test ends by asserting that none is left alive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lask.h"
#include "core/order.h"

/* --- counted objects: every one made must be destroyed --- */

typedef struct counted {
  lask_obj h;
  int64_t v;
} counted;

static _Atomic int counted_live;

static void counted_destroy(lask_obj *o) {
  atomic_fetch_sub(&counted_live, 1);
  free(o);
}

static const lask_class counted_class = {"counted", counted_destroy};

static lask_value counted_new(int64_t v) {
  counted *c = malloc(sizeof *c);
  assert_non_null(c);
  lask_obj_init(&c->h, &counted_class);
  c->v = v;
  atomic_fetch_add(&counted_live, 1);
  return lask_objval(&c->h);
}

static lask_value str(const char *s) {
  lask_str *p = lask_str_new(s, strlen(s));
  assert_non_null(p);
  return lask_objval(&p->h);
}

static lask_value kernel(const char *name) {
  const lask_kernel *k = lask_kernel_find(name);
  assert_non_null(k);
  return lask_objval((lask_obj *)&k->h);
}

/* --- emitting and inspecting programs --- */

static void emit_literal(lask_graph_builder *b, uint32_t id, lask_value v) {
  lask_gb_begin(b, id);
  lask_gb_const(b, v);
  lask_gb_end(b);
}

/* id = kname(KEY a) */
static void emit_call1(lask_graph_builder *b, uint32_t id, const char *kname, uint32_t a) {
  lask_gb_begin(b, id);
  lask_gb_const(b, kernel(kname));
  lask_gb_key(b, a);
  lask_gb_call(b, 1);
  lask_gb_end(b);
}

/* id = kname(KEY a, KEY c) */
static void emit_call2(lask_graph_builder *b, uint32_t id, const char *kname, uint32_t a, uint32_t c) {
  lask_gb_begin(b, id);
  lask_gb_const(b, kernel(kname));
  lask_gb_key(b, a);
  lask_gb_key(b, c);
  lask_gb_call(b, 2);
  lask_gb_end(b);
}

static lask_graph *finish_ok(lask_graph_builder *b) {
  lask_err err;
  lask_graph *g = lask_gb_finish(b, &err);
  if (!g) fail_msg("lask_gb_finish: %s (node %u)", err.msg, err.node);
  return g;
}

static uint32_t word(const lask_graph *g, uint32_t id, uint32_t k) {
  assert_true(k < g->code_len[id]);
  return g->code[g->code_off[id] + k];
}

static void assert_word(const lask_graph *g, uint32_t id, uint32_t k, unsigned op, uint32_t operand) {
  uint32_t w = word(g, id, k);
  assert_int_equal(LASK_OP(w), op);
  assert_int_equal(LASK_OPERAND(w), operand);
}

/* The constant that word k of node id pushes (from the pool, or an integer in the code). */
static lask_value const_at(const lask_graph *g, uint32_t id, uint32_t k) {
  uint32_t w = word(g, id, k);
  if (LASK_OP(w) == LASK_OP_INT) return lask_int(lask_op_int(w));
  assert_int_equal(LASK_OP(w), LASK_OP_CONST);
  assert_true(LASK_OPERAND(w) < g->nconsts);
  return g->consts[LASK_OPERAND(w)];
}

static void assert_kernel_const(const lask_graph *g, uint32_t id, uint32_t k, const char *name) {
  lask_value v = const_at(g, id, k);
  assert_true(lask_isa(v, &lask_kernel_class));
  assert_ptr_equal(v.as.o, &lask_kernel_find(name)->h);
}

static void assert_deps(const lask_graph *g, uint32_t id, const uint32_t *want, uint32_t n) {
  assert_int_equal(g->dep_off[id + 1] - g->dep_off[id], n);
  for (uint32_t k = 0; k < n; k++) assert_int_equal(g->deps[g->dep_off[id] + k], want[k]);
}

static void assert_outs(const lask_graph *g, uint32_t id, const uint32_t *want, uint32_t n) {
  assert_int_equal(g->out_off[id + 1] - g->out_off[id], n);
  for (uint32_t k = 0; k < n; k++) assert_int_equal(g->outs[g->out_off[id] + k], want[k]);
}

static int depends_on(const lask_graph *g, uint32_t v, uint32_t d) {
  for (uint32_t e = g->dep_off[v]; e < g->dep_off[v + 1]; e++)
    if (g->deps[e] == d) return 1;
  return 0;
}

/* Evaluates node id with lask_eval over results and checks it gives the integer want. */
static void assert_eval_int(const lask_graph *g, uint32_t id, const lask_value *results, int64_t want) {
  lask_value out;
  lask_err err;
  lask_err_clear(&err);
  if (lask_eval(g, id, results, NULL, &out, &err) != LASK_OK) fail_msg("lask_eval #%u: %s", id, err.msg);
  assert_int_equal(out.type, LASK_TINT);
  assert_int_equal(out.as.i, want);
}

static void test_named_literals_and_aliases(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  assert_non_null(b);
  uint32_t x = lask_gb_named(b, "x");
  assert_int_equal(lask_gb_named(b, "x"), x);
  uint32_t anon = lask_gb_node(b);
  uint32_t y = lask_gb_named(b, "y"), w = lask_gb_named(b, "w");
  assert_int_equal(lask_gb_count(b), 4);
  assert_true(x != anon && anon != y && y != w && x != y);
  emit_literal(b, x, lask_int(1));
  lask_gb_begin(b, anon);
  lask_gb_key(b, x);
  lask_gb_end(b);
  emit_literal(b, y, str("hello"));
  lask_gb_begin(b, w); /* an alias of an alias */
  lask_gb_key(b, anon);
  lask_gb_end(b);
  lask_graph *g = finish_ok(b);

  assert_int_equal(g->n, 4);
  assert_int_equal(lask_graph_find(g, "x"), x);
  assert_int_equal(lask_graph_find(g, "y"), y);
  assert_int_equal(lask_graph_find(g, "w"), w);
  assert_int_equal(lask_graph_find(g, "nope"), LASK_NO_NODE);
  char buf[32];
  assert_string_equal(lask_graph_name(g, x, buf, sizeof buf), "x");
  assert_string_equal(lask_graph_name(g, anon, buf, sizeof buf), "#1");

  assert_int_equal(g->code_len[x], 1);
  lask_value one = const_at(g, x, 0);
  assert_int_equal(one.type, LASK_TINT);
  assert_int_equal(one.as.i, 1);
  assert_int_equal(g->code_len[anon], 1);
  assert_word(g, anon, 0, LASK_OP_KEY, x);
  lask_value hello = const_at(g, y, 0);
  assert_true(lask_isa(hello, &lask_str_class));
  assert_string_equal(((lask_str *)hello.as.o)->data, "hello");
  assert_word(g, w, 0, LASK_OP_KEY, anon);

  assert_deps(g, x, NULL, 0);
  assert_deps(g, anon, &x, 1);
  assert_deps(g, w, &anon, 1);
  assert_outs(g, x, &anon, 1);
  assert_outs(g, anon, &w, 1);
  for (uint32_t i = 0; i < g->n; i++) assert_int_equal(g->flags[i], 0);

  lask_value results[4] = {lask_int(1), lask_int(1), lask_nil(), lask_nil()};
  assert_eval_int(g, anon, results, 1);
  lask_value out;
  lask_err err;
  assert_int_equal(lask_eval(g, y, results, NULL, &out, &err), LASK_OK);
  assert_ptr_equal(out.as.o, hello.as.o); /* a literal gives the graph's own object, retained */
  assert_int_equal(atomic_load(&hello.as.o->refs), 2);
  lask_release(out);
  assert_int_equal(atomic_load(&hello.as.o->refs), 1);
  lask_graph_free(g);
}

/* Names given only after many unnamed nodes, and to many nodes past the builder's
 * first growth: every one is found again. */
static void test_names_after_unnamed_nodes(void **state) {
  (void)state;
  enum { ANON = 40, NAMED = 1000 };
  lask_graph_builder *b = lask_gb_new();
  for (uint32_t i = 0; i < ANON; i++) emit_literal(b, lask_gb_node(b), lask_int(i));
  char name[32];
  for (uint32_t i = 0; i < NAMED; i++) {
    snprintf(name, sizeof name, "node-%u", i);
    uint32_t id = lask_gb_named(b, name);
    assert_int_equal(id, ANON + i + (i + 2) / 3);
    emit_literal(b, id, lask_int(ANON + i));
    if (i % 3 == 0) emit_literal(b, lask_gb_node(b), lask_int(-1)); /* unnamed ones in between */
  }
  lask_graph *g = finish_ok(b);
  char buf[32];
  for (uint32_t i = 0; i < NAMED; i++) {
    snprintf(name, sizeof name, "node-%u", i);
    uint32_t id = lask_graph_find(g, name);
    assert_int_equal(id, ANON + i + (i + 2) / 3);
    assert_string_equal(lask_graph_name(g, id, buf, sizeof buf), name);
    assert_int_equal(const_at(g, id, 0).as.i, ANON + i);
  }
  assert_string_equal(lask_graph_name(g, 3, buf, sizeof buf), "#3");
  lask_graph_free(g);
}

/* Names that differ only in how their trailing number is written ("n7", "n07",
 * "n007"), numbers of every length (none, 19 and 25 digits, more than a block's
 * run), all-digit and empty names, digits after bytes above 0x7f (UTF-8): each is its own node, asked again
 * it is the same node, and the finished graph finds each by its name. */
static void test_numbered_names_stay_distinct(void **state) {
  (void)state;
  static const char *const fixed[] = {"",
                                      "0",
                                      "00",
                                      "7",
                                      "07",
                                      "n",
                                      "n7",
                                      "n07",
                                      "n007",
                                      "n0000000000000000007",
                                      "n1234567890123456789012345",
                                      "n1234567890123456789012346",
                                      "7n",
                                      "n-8",
                                      "n-16",
                                      "n-24",
                                      "abcdefg9",
                                      "abcdefg\xba"
                                      "9",
                                      "abcdefg\xba"
                                      "09",
                                      "abcdef\xc3\xa9"
                                      "9",
                                      "\xba"
                                      "99999999",
                                      "\xba"
                                      "9999999",
                                      "1\xba"
                                      "9999999",
                                      "12345678",
                                      "012345678",
                                      "123456789"};
  enum { NFIXED = sizeof fixed / sizeof fixed[0], RUN = 300 };
  char names[NFIXED + RUN][32];
  for (uint32_t i = 0; i < NFIXED; i++) snprintf(names[i], sizeof names[i], "%s", fixed[i]);
  for (uint32_t i = 0; i < RUN; i++) snprintf(names[NFIXED + i], sizeof names[0], "n%u", i * 8 + 1);
  lask_graph_builder *b = lask_gb_new();
  for (uint32_t i = 0; i < NFIXED + RUN; i++) {
    uint32_t id = lask_gb_named(b, names[i]);
    assert_int_equal(id, i);
    emit_literal(b, id, lask_int(i));
  }
  for (uint32_t i = 0; i < NFIXED + RUN; i++) assert_int_equal(lask_gb_named(b, names[i]), i);
  lask_graph *g = finish_ok(b);
  for (uint32_t i = 0; i < NFIXED + RUN; i++) {
    assert_int_equal(lask_graph_find(g, names[i]), i);
    assert_int_equal(const_at(g, i, 0).as.i, i);
  }
  lask_graph_free(g);
}

/* A chain's kernel is one constant however long the chain (its integers live in
 * the code: LASK_OP_INT).
 * Constants used by many nodes are shared, and values that look alike stay apart:
 * 1 and 1.0 and true, 0.0 and -0.0, NaN, nil, strings with the same text (two
 * objects), each node reads back exactly its own. */
static void test_repeated_constants_are_shared_not_confused(void **state) {
  (void)state;
  enum { ROUNDS = 50, KINDS = 8 };
  lask_graph_builder *b = lask_gb_new();
  for (uint32_t r = 0; r < ROUNDS; r++)
    for (uint32_t k = 0; k < KINDS; k++) {
      lask_value v = k == 0   ? lask_int(1)
                     : k == 1 ? lask_num(1.0)
                     : k == 2 ? lask_bool(true)
                     : k == 3 ? lask_num(0.0)
                     : k == 4 ? lask_num(-0.0)
                     : k == 5 ? lask_num(NAN)
                     : k == 6 ? lask_nil()
                              : lask_objval(&lask_str_new("s", 1)->h);
      emit_literal(b, lask_gb_node(b), v);
    }
  lask_graph *g = finish_ok(b);
  assert_true(g->nconsts < ROUNDS * KINDS / 2); /* shared, mostly: the cache is a heuristic */
  for (uint32_t r = 0; r < ROUNDS; r++)
    for (uint32_t k = 0; k < KINDS; k++) {
      lask_value v = const_at(g, r * KINDS + k, 0);
      static const uint8_t types[] = {LASK_TINT, LASK_TNUM, LASK_TBOOL, LASK_TNUM,
                                      LASK_TNUM, LASK_TNUM, LASK_TNIL,  LASK_TOBJ};
      assert_int_equal(v.type, types[k]);
      if (k == 0) assert_int_equal(v.as.i, 1);
      if (k == 1) assert_true(v.as.n == 1.0);
      if (k == 3 || k == 4) assert_true(v.as.n == 0.0 && signbit(v.as.n) == (k == 4));
      if (k == 5) assert_true(isnan(v.as.n));
    }
  lask_graph_free(g);
  b = lask_gb_new();
  const lask_kernel *add = lask_kernel_find("add");
  for (uint32_t i = 0; i < 1000; i++) {
    lask_gb_begin(b, lask_gb_node(b));
    lask_gb_const(b, lask_objval((lask_obj *)&add->h));
    if (i)
      lask_gb_key(b, i - 1);
    else
      lask_gb_const(b, lask_int(0));
    lask_gb_const(b, lask_int(1));
    lask_gb_call(b, 2);
    lask_gb_end(b);
  }
  g = finish_ok(b);
  assert_int_equal(g->nconsts, 1); /* add; 0 and 1 are in the code */
  lask_graph_free(g);
}

/* z = add(inc(x), add(inc(10), x)) and l = sum([x, z, 7]): postfix code, one
 * dependency however often a key is used. */
static void test_nested_calls_and_lists(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  uint32_t x = lask_gb_named(b, "x"), z = lask_gb_named(b, "z"), l = lask_gb_named(b, "l");
  emit_literal(b, x, lask_int(1));
  lask_gb_begin(b, z);
  lask_gb_const(b, kernel("add"));
  lask_gb_const(b, kernel("inc"));
  lask_gb_key(b, x);
  lask_gb_call(b, 1);
  lask_gb_const(b, kernel("add"));
  lask_gb_const(b, kernel("inc"));
  lask_gb_const(b, lask_int(10));
  lask_gb_call(b, 1);
  lask_gb_key(b, x);
  lask_gb_call(b, 2);
  lask_gb_call(b, 2);
  lask_gb_end(b);
  lask_gb_begin(b, l);
  lask_gb_const(b, kernel("sum"));
  lask_gb_key(b, x);
  lask_gb_key(b, z);
  lask_gb_const(b, lask_int(7));
  lask_gb_list(b, 3);
  lask_gb_call(b, 1);
  lask_gb_end(b);
  lask_graph *g = finish_ok(b);

  assert_int_equal(g->code_len[z], 11);
  assert_kernel_const(g, z, 0, "add");
  assert_kernel_const(g, z, 1, "inc");
  assert_word(g, z, 2, LASK_OP_KEY, x);
  assert_word(g, z, 3, LASK_OP_CALL, 1);
  assert_kernel_const(g, z, 4, "add");
  assert_kernel_const(g, z, 5, "inc");
  assert_int_equal(const_at(g, z, 6).as.i, 10);
  assert_word(g, z, 7, LASK_OP_CALL, 1);
  assert_word(g, z, 8, LASK_OP_KEY, x);
  assert_word(g, z, 9, LASK_OP_CALL, 2);
  assert_word(g, z, 10, LASK_OP_CALL, 2);
  assert_int_equal(g->code_len[l], 6);
  assert_word(g, l, 4, LASK_OP_LIST, 3);
  assert_word(g, l, 5, LASK_OP_CALL, 1);

  uint32_t deps_l[] = {x, z}, outs_x[] = {z, l};
  assert_deps(g, z, &x, 1);
  assert_deps(g, l, deps_l, 2);
  assert_outs(g, x, outs_x, 2);
  assert_outs(g, z, &l, 1);
  assert_int_equal(g->flags[z], 0);
  assert_int_equal(g->flags[l], 0);

  lask_value results[3] = {lask_nil(), lask_nil(), lask_nil()};
  results[x] = lask_int(1);
  assert_eval_int(g, z, results, 14); /* (1+1) + ((10+1) + 1) */
  results[z] = lask_int(14);
  assert_eval_int(g, l, results, 22);
  lask_graph_free(g);
}

/* A constant added once and referenced by several nodes is stored once and
 * freed once, with the graph. */
static void test_shared_constants(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  uint32_t c = lask_gb_add_const(b, counted_new(42));
  uint32_t unused = lask_gb_add_const(b, counted_new(7)); /* never emitted: still owned */
  uint32_t idk = lask_gb_add_const(b, kernel("identity"));
  assert_true(c != UINT32_MAX && unused != UINT32_MAX && idk != UINT32_MAX);
  assert_true(c != unused && c != idk);
  assert_int_equal(atomic_load(&counted_live), 2);
  uint32_t a = lask_gb_node(b), d = lask_gb_node(b), lit = lask_gb_node(b);
  for (uint32_t id = a; id <= d; id++) {
    lask_gb_begin(b, id);
    lask_gb_const_ref(b, idk);
    lask_gb_const_ref(b, c);
    lask_gb_call(b, 1);
    lask_gb_end(b);
  }
  lask_gb_begin(b, lit);
  lask_gb_const_ref(b, c);
  lask_gb_end(b);
  lask_graph *g = finish_ok(b);

  assert_int_equal(g->nconsts, 3);
  assert_word(g, a, 1, LASK_OP_CONST, c);
  assert_word(g, d, 1, LASK_OP_CONST, c);
  assert_word(g, lit, 0, LASK_OP_CONST, c);
  assert_word(g, a, 0, LASK_OP_CONST, idk);
  lask_value shared = g->consts[c];
  assert_true(lask_isa(shared, &counted_class));
  assert_int_equal(((counted *)shared.as.o)->v, 42);

  lask_value outs[3];
  lask_err err;
  assert_int_equal(lask_eval(g, a, NULL, NULL, &outs[0], &err), LASK_OK);
  assert_int_equal(lask_eval(g, d, NULL, NULL, &outs[1], &err), LASK_OK);
  assert_int_equal(lask_eval(g, lit, NULL, NULL, &outs[2], &err), LASK_OK);
  for (int k = 0; k < 3; k++) assert_ptr_equal(outs[k].as.o, shared.as.o);
  assert_int_equal(atomic_load(&shared.as.o->refs), 4);
  for (int k = 0; k < 3; k++) lask_release(outs[k]);
  assert_int_equal(atomic_load(&shared.as.o->refs), 1);
  lask_graph_free(g);
  assert_int_equal(atomic_load(&counted_live), 0);
}

/* A diamond with a fan-in: deps are distinct and in first-use order, dependents
 * in id order, and both CSR arrays hold the same edges. */
static void test_csr_dependencies_and_dependents(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  uint32_t a = lask_gb_named(b, "a"), bb = lask_gb_named(b, "b"), c = lask_gb_named(b, "c");
  uint32_t d = lask_gb_named(b, "d"), e = lask_gb_named(b, "e"), lone = lask_gb_named(b, "lone");
  emit_literal(b, a, lask_int(3));
  emit_call1(b, bb, "inc", a);
  emit_call1(b, c, "neg", a);
  lask_gb_begin(b, d); /* d = add(c, add(b, c)) */
  lask_gb_const(b, kernel("add"));
  lask_gb_key(b, c);
  lask_gb_const(b, kernel("add"));
  lask_gb_key(b, bb);
  lask_gb_key(b, c);
  lask_gb_call(b, 2);
  lask_gb_call(b, 2);
  lask_gb_end(b);
  lask_gb_begin(b, e); /* e = sum([a, d, a]) */
  lask_gb_const(b, kernel("sum"));
  lask_gb_key(b, a);
  lask_gb_key(b, d);
  lask_gb_key(b, a);
  lask_gb_list(b, 3);
  lask_gb_call(b, 1);
  lask_gb_end(b);
  emit_literal(b, lone, lask_num(0.5));
  lask_graph *g = finish_ok(b);

  uint32_t deps_d[] = {c, bb}, deps_e[] = {a, d}, outs_a[] = {bb, c, e}, outs_c[] = {d};
  assert_deps(g, a, NULL, 0);
  assert_deps(g, bb, &a, 1);
  assert_deps(g, c, &a, 1);
  assert_deps(g, d, deps_d, 2);
  assert_deps(g, e, deps_e, 2);
  assert_deps(g, lone, NULL, 0);
  assert_outs(g, a, outs_a, 3);
  assert_outs(g, bb, &d, 1);
  assert_outs(g, c, outs_c, 1);
  assert_outs(g, d, &e, 1);
  assert_outs(g, e, NULL, 0);
  assert_outs(g, lone, NULL, 0);
  assert_int_equal(g->dep_off[g->n], 6);
  assert_int_equal(g->out_off[g->n], 6);
  for (uint32_t v = 0; v < g->n; v++)
    for (uint32_t k = g->out_off[v]; k < g->out_off[v + 1]; k++) assert_true(depends_on(g, g->outs[k], v));

  lask_value results[6] = {lask_int(3), lask_int(4), lask_int(-3), lask_nil(), lask_nil(), lask_nil()};
  assert_eval_int(g, d, results, -3 + 4 - 3);
  results[d] = lask_int(-2);
  assert_eval_int(g, e, results, 3 - 2 + 3);
  lask_graph_free(g);
}

/* LASK_NODE_HOST marks exactly the nodes with a CALL whose head is not a kernel,
 * however deep the call; non-kernel values elsewhere do not count. */
static void test_host_flag(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  uint32_t x = lask_gb_node(b);
  emit_literal(b, x, lask_int(2));
  enum { STR_HEAD, KERNEL_ONLY, NESTED_HOST, STR_ARG, KEY_HEAD, INT_HEAD, STR_LITERAL, LIST_OF_STR, NCASES };
  uint32_t id[NCASES];
  for (int k = 0; k < NCASES; k++) id[k] = lask_gb_node(b);

  lask_gb_begin(b, id[STR_HEAD]); /* "double"(x) */
  lask_gb_const(b, str("double"));
  lask_gb_key(b, x);
  lask_gb_call(b, 1);
  lask_gb_end(b);
  lask_gb_begin(b, id[KERNEL_ONLY]); /* add(inc(x), x) */
  lask_gb_const(b, kernel("add"));
  lask_gb_const(b, kernel("inc"));
  lask_gb_key(b, x);
  lask_gb_call(b, 1);
  lask_gb_key(b, x);
  lask_gb_call(b, 2);
  lask_gb_end(b);
  lask_gb_begin(b, id[NESTED_HOST]); /* add(x, sum(["double"(x)])) */
  lask_gb_const(b, kernel("add"));
  lask_gb_key(b, x);
  lask_gb_const(b, kernel("sum"));
  lask_gb_const(b, str("double"));
  lask_gb_key(b, x);
  lask_gb_call(b, 1);
  lask_gb_list(b, 1);
  lask_gb_call(b, 1);
  lask_gb_call(b, 2);
  lask_gb_end(b);
  lask_gb_begin(b, id[STR_ARG]); /* identity("double") */
  lask_gb_const(b, kernel("identity"));
  lask_gb_const(b, str("double"));
  lask_gb_call(b, 1);
  lask_gb_end(b);
  lask_gb_begin(b, id[KEY_HEAD]); /* (value of x)(x): the head is only known at run time */
  lask_gb_key(b, x);
  lask_gb_key(b, x);
  lask_gb_call(b, 1);
  lask_gb_end(b);
  lask_gb_begin(b, id[INT_HEAD]); /* 5() */
  lask_gb_const(b, lask_int(5));
  lask_gb_call(b, 0);
  lask_gb_end(b);
  emit_literal(b, id[STR_LITERAL], str("double"));
  lask_gb_begin(b, id[LIST_OF_STR]);
  lask_gb_const(b, str("double"));
  lask_gb_key(b, x);
  lask_gb_list(b, 2);
  lask_gb_end(b);
  lask_graph *g = finish_ok(b);

  const uint8_t want[NCASES] = {[STR_HEAD] = LASK_NODE_HOST,
                                [NESTED_HOST] = LASK_NODE_HOST,
                                [KEY_HEAD] = LASK_NODE_HOST,
                                [INT_HEAD] = LASK_NODE_HOST};
  assert_int_equal(g->flags[x], 0);
  for (int k = 0; k < NCASES; k++)
    if ((g->flags[id[k]] & LASK_NODE_HOST) != want[k])
      fail_msg("case %d: flags %u, want %u", k, g->flags[id[k]], want[k]);

  /* Without host ops a host node fails at its node with ETYPE; native ones run. */
  lask_value results[1 + NCASES] = {lask_int(2)}, out;
  lask_err err;
  lask_err_clear(&err);
  assert_int_equal(lask_eval(g, id[STR_HEAD], results, NULL, &out, &err), LASK_ETYPE);
  assert_int_equal(err.node, id[STR_HEAD]);
  assert_int_equal(out.type, LASK_TNIL);
  assert_non_null(strstr(err.msg, "string"));
  assert_eval_int(g, id[KERNEL_ONLY], results, 5);
  lask_graph_free(g);
}

/* Builds a program with one mistake (by `mistake`) and checks that finish
 * reports it with code and node, and frees everything the builder held. */
enum mistake {
  NEVER_DEFINED,
  TWO_VALUES,
  NO_VALUE,
  CALL_UNDERFLOW,
  UNKNOWN_NODE,
  DEFINED_TWICE,
  UNKNOWN_CONST
};

static void emit_mistake(lask_graph_builder *b, enum mistake m, uint32_t x, uint32_t y) {
  lask_gb_begin(b, y);
  if (m == NO_VALUE) {
    lask_gb_end(b);
    return;
  }
  lask_gb_const(b, kernel("add"));
  lask_gb_key(b, x);
  if (m == UNKNOWN_NODE)
    lask_gb_key(b, 17);
  else if (m == UNKNOWN_CONST)
    lask_gb_const_ref(b, 99);
  else if (m != CALL_UNDERFLOW)
    lask_gb_key(b, x);
  lask_gb_call(b, 2); /* CALL_UNDERFLOW: pops add and x, then nothing is left for a third */
  if (m == TWO_VALUES) lask_gb_const(b, counted_new(2));
  lask_gb_end(b);
  if (m == DEFINED_TWICE) emit_literal(b, x, counted_new(3));
}

static void build_with(enum mistake m) {
  lask_graph_builder *b = lask_gb_new();
  uint32_t x = lask_gb_named(b, "x"), y = lask_gb_named(b, "y"), z = lask_gb_named(b, "z");
  emit_literal(b, x, counted_new(1));
  if (m != NEVER_DEFINED) emit_mistake(b, m, x, y);
  emit_literal(b, z, counted_new(4));
  lask_err err;
  lask_err_clear(&err);
  assert_null(lask_gb_finish(b, &err));
  assert_int_equal(err.code, m == NEVER_DEFINED ? LASK_EMISSING : LASK_EINVAL);
  if (m != DEFINED_TWICE) assert_int_equal(err.node, y);
  const char *want[] = {[NEVER_DEFINED] = "'y'",
                        [TWO_VALUES] = "exactly one value",
                        [NO_VALUE] = "exactly one value",
                        [CALL_UNDERFLOW] = "pops more",
                        [UNKNOWN_NODE] = "unknown node",
                        [DEFINED_TWICE] = "twice",
                        [UNKNOWN_CONST] = "unknown constant"};
  if (!strstr(err.msg, want[m])) fail_msg("mistake %d: message '%s' lacks '%s'", m, err.msg, want[m]);
}

static void test_builder_errors(void **state) {
  (void)state;
  for (int m = NEVER_DEFINED; m <= UNKNOWN_CONST; m++) {
    build_with((enum mistake)m);
    if (atomic_load(&counted_live) != 0) fail_msg("mistake %d: %d constants leaked", m, counted_live);
  }
}

/* The first error sticks: later mistakes do not overwrite its report. */
static void test_builder_error_is_sticky(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  uint32_t x = lask_gb_node(b);
  lask_gb_begin(b, x);
  lask_gb_key(b, 1000); /* first mistake */
  lask_gb_end(b);
  lask_gb_begin(b, 5000); /* no such node */
  lask_gb_const(b, counted_new(9));
  lask_gb_end(b);
  lask_err err;
  assert_null(lask_gb_finish(b, &err));
  assert_int_equal(err.code, LASK_EINVAL);
  assert_non_null(strstr(err.msg, "unknown node"));
  assert_int_equal(atomic_load(&counted_live), 0);
}

/* Builder errors name the node they concern: by its name, or "#i" without one. */
static void test_builder_errors_name_the_node(void **state) {
  (void)state;
  const char *want[] = {"node 'left-over': a node's program must leave exactly one value",
                        "node #1: a node's program must leave exactly one value",
                        "node 'twice': node defined twice", "node 'x': reference to an unknown node"};
  for (int m = 0; m < 4; m++) {
    lask_graph_builder *b = lask_gb_new();
    uint32_t a = lask_gb_named(b, "a");
    lask_gb_begin(b, a);
    lask_gb_const(b, lask_int(1));
    lask_gb_end(b);
    if (m < 2) { /* a program that leaves two values */
      uint32_t id = m == 0 ? lask_gb_named(b, "left-over") : lask_gb_node(b);
      lask_gb_begin(b, id);
      lask_gb_const(b, lask_int(1));
      lask_gb_const(b, lask_int(2));
      lask_gb_end(b);
    } else if (m == 2) {
      uint32_t id = lask_gb_named(b, "twice");
      for (int k = 0; k < 2; k++) {
        lask_gb_begin(b, id);
        lask_gb_const(b, lask_int(1));
        lask_gb_end(b);
      }
    } else {
      uint32_t id = lask_gb_named(b, "x");
      lask_gb_begin(b, id);
      lask_gb_key(b, 1000);
      lask_gb_end(b);
    }
    lask_err err;
    assert_null(lask_gb_finish(b, &err));
    if (strcmp(err.msg, want[m]) != 0) fail_msg("mistake %d: '%s', want '%s'", m, err.msg, want[m]);
    assert_int_equal(err.node, 1); /* a is node 0 */
  }
}

static void test_empty_graph(void **state) {
  (void)state;
  lask_graph *g = finish_ok(lask_gb_new());
  assert_int_equal(g->n, 0);
  uint32_t *ids = (uint32_t *)1, prio[1];
  size_t len = 9;
  assert_int_equal(lask_graph_cycle(g, &ids, &len), LASK_OK);
  assert_null(ids);
  assert_int_equal(len, 0);
  lask_err err;
  assert_int_equal(lask_order(g, prio, &err), LASK_OK);
  lask_value none[1];
  assert_int_equal(lask_run(NULL, g, NULL, 0, NULL, none, &err), LASK_OK);
  lask_graph_free(g);
}

/* Checks that ids[0..len) is a cycle of g in dependency order. */
static void assert_cycle(const lask_graph *g, const uint32_t *ids, size_t len) {
  assert_non_null(ids);
  assert_true(len >= 1 && len <= g->n);
  uint8_t *seen = calloc(g->n, 1);
  assert_non_null(seen);
  for (size_t k = 0; k < len; k++) {
    assert_true(ids[k] < g->n);
    if (!depends_on(g, ids[k], ids[(k + 1) % len]))
      fail_msg("cycle[%zu] = #%u does not depend on #%u", k, ids[k], ids[(k + 1) % len]);
    if (seen[ids[k]]++) fail_msg("#%u twice in the cycle", ids[k]);
  }
  free(seen);
}

static void test_cycles(void **state) {
  (void)state;
  /* 0..9 a chain; 10 -> 11 -> 12 -> 10 a cycle; 13 depends on the cycle; 14 on itself. */
  lask_graph_builder *b = lask_gb_new();
  for (int i = 0; i < 15; i++) lask_gb_node(b);
  emit_literal(b, 0, lask_int(0));
  for (uint32_t i = 1; i < 10; i++) emit_call1(b, i, "inc", i - 1);
  emit_call2(b, 10, "add", 9, 11);
  emit_call1(b, 11, "inc", 12);
  emit_call1(b, 12, "inc", 10);
  emit_call1(b, 13, "inc", 11);
  emit_call2(b, 14, "add", 14, 0);
  lask_graph *g = finish_ok(b); /* cycles are not a builder error */
  uint32_t *ids;
  size_t len;
  assert_int_equal(lask_graph_cycle(g, &ids, &len), LASK_OK);
  assert_cycle(g, ids, len);
  if (len == 1) {
    assert_int_equal(ids[0], 14);
  } else {
    assert_int_equal(len, 3);
    uint32_t seen = 0;
    for (size_t k = 0; k < len; k++) seen |= 1u << (ids[k] - 10);
    assert_int_equal(seen, 7);
  }
  free(ids);
  uint32_t prio[15];
  lask_err err;
  assert_int_equal(lask_order(g, prio, &err), LASK_ECYCLE);
  assert_int_equal(err.code, LASK_ECYCLE);
  lask_graph_free(g);

  b = lask_gb_new(); /* the self-loop alone */
  uint32_t s = lask_gb_node(b);
  emit_call2(b, s, "add", s, s);
  g = finish_ok(b);
  assert_int_equal(lask_graph_cycle(g, &ids, &len), LASK_OK);
  assert_int_equal(len, 1);
  assert_int_equal(ids[0], s);
  free(ids);
  lask_graph_free(g);
}

static void test_acyclic_has_no_cycle(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new(); /* diamond plus a node shared by two levels */
  for (int i = 0; i < 5; i++) lask_gb_node(b);
  emit_literal(b, 4, lask_int(1));
  emit_call1(b, 3, "inc", 4);
  emit_call2(b, 2, "add", 4, 3);
  emit_call2(b, 1, "add", 3, 4);
  emit_call2(b, 0, "add", 1, 2);
  lask_graph *g = finish_ok(b);
  uint32_t *ids = (uint32_t *)1;
  size_t len = 5;
  assert_int_equal(lask_graph_cycle(g, &ids, &len), LASK_OK);
  assert_null(ids);
  assert_int_equal(len, 0);
  lask_graph_free(g);
}

/* --- order --- */

static uint32_t rng_next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static uint32_t *order_of(const lask_graph *g) {
  uint32_t *prio = malloc((g->n ? g->n : 1) * sizeof *prio);
  assert_non_null(prio);
  lask_err err;
  if (lask_order(g, prio, &err) != LASK_OK) fail_msg("lask_order: %s", err.msg);
  return prio;
}

/* prio is a permutation of 0..n-1 that puts every dependency before its dependents. */
static void assert_valid_order(const lask_graph *g, const uint32_t *prio) {
  uint8_t *seen = calloc(g->n ? g->n : 1, 1);
  assert_non_null(seen);
  for (uint32_t i = 0; i < g->n; i++) {
    assert_true(prio[i] < g->n);
    assert_false(seen[prio[i]]);
    seen[prio[i]] = 1;
    for (uint32_t e = g->dep_off[i]; e < g->dep_off[i + 1]; e++)
      if (prio[g->deps[e]] >= prio[i]) fail_msg("#%u runs before its dependency #%u", i, g->deps[e]);
  }
  free(seen);
}

/* Random DAGs whose ids are shuffled relative to their topological order. */
static void test_order_is_topological_permutation(void **state) {
  (void)state;
  uint64_t seed = 12345;
  for (int round = 0; round < 20; round++) {
    uint32_t n = 1 + rng_next(&seed) % 3000;
    uint32_t *perm = malloc(n * sizeof *perm); /* perm[topological position] = id */
    for (uint32_t i = 0; i < n; i++) perm[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
      uint32_t j = rng_next(&seed) % (i + 1), t = perm[i];
      perm[i] = perm[j], perm[j] = t;
    }
    lask_graph_builder *b = lask_gb_new();
    for (uint32_t i = 0; i < n; i++) lask_gb_node(b);
    uint32_t sum = lask_gb_add_const(b, kernel("sum"));
    for (uint32_t p = 0; p < n; p++) { /* sum of up to 6 earlier nodes, repeats allowed */
      uint32_t fan = p ? rng_next(&seed) % 7 : 0;
      lask_gb_begin(b, perm[p]);
      if (fan == 0) {
        lask_gb_const(b, lask_int(p));
      } else {
        lask_gb_const_ref(b, sum);
        for (uint32_t k = 0; k < fan; k++) lask_gb_key(b, perm[rng_next(&seed) % p]);
        lask_gb_call(b, fan);
      }
      lask_gb_end(b);
    }
    lask_graph *g = finish_ok(b);
    uint32_t *prio = order_of(g);
    assert_valid_order(g, prio);
    free(prio), free(perm);
    lask_graph_free(g);
  }
}

/* x_i chunks of a shared input, s_i = sum([x_i]), total = sum([s_0..s_3]): the walk
 * goes block by block, data, x0, s0, x1, s1, ..., total, whatever the ids. */
static void test_order_walks_reduction_block_by_block(void **state) {
  (void)state;
  enum { K = 4 };
  lask_graph_builder *b = lask_gb_new();
  uint32_t total = lask_gb_node(b), s[K], x[K];
  for (int i = K - 1; i >= 0; i--) s[i] = lask_gb_node(b); /* ids in no helpful order */
  for (int i = 0; i < K; i++) x[i] = lask_gb_node(b);
  uint32_t data = lask_gb_node(b);
  emit_literal(b, data, lask_int(100));
  for (int i = 0; i < K; i++) {
    lask_gb_begin(b, x[i]);
    lask_gb_const(b, kernel("add"));
    lask_gb_key(b, data);
    lask_gb_const(b, lask_int(i));
    lask_gb_call(b, 2);
    lask_gb_end(b);
    lask_gb_begin(b, s[i]);
    lask_gb_const(b, kernel("sum"));
    lask_gb_key(b, x[i]);
    lask_gb_list(b, 1);
    lask_gb_call(b, 1);
    lask_gb_end(b);
  }
  lask_gb_begin(b, total);
  lask_gb_const(b, kernel("sum"));
  for (int i = 0; i < K; i++) lask_gb_key(b, s[i]);
  lask_gb_list(b, K);
  lask_gb_call(b, 1);
  lask_gb_end(b);
  lask_graph *g = finish_ok(b);
  uint32_t *prio = order_of(g);
  assert_valid_order(g, prio);
  assert_int_equal(prio[data], 0);
  for (uint32_t i = 0; i < K; i++) {
    assert_int_equal(prio[x[i]], 1 + 2 * i);
    assert_int_equal(prio[s[i]], 2 + 2 * i);
  }
  assert_int_equal(prio[total], 1 + 2 * K);

  uint32_t out = total; /* and the sync run follows it: 4*100 + 0+1+2+3 */
  lask_value v;
  lask_err err;
  assert_int_equal(lask_run(NULL, g, &out, 1, NULL, &v, &err), LASK_OK);
  assert_int_equal(v.as.i, 406);
  free(prio);
  lask_graph_free(g);
}

/* z = add(small, big): the heavier argument's subgraph is walked first. */
static void test_order_heaviest_first(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  uint32_t small = lask_gb_node(b), c0 = lask_gb_node(b), c1 = lask_gb_node(b), c2 = lask_gb_node(b);
  uint32_t z = lask_gb_node(b);
  emit_literal(b, small, lask_int(1));
  emit_literal(b, c0, lask_int(1));
  emit_call1(b, c1, "inc", c0);
  emit_call1(b, c2, "inc", c1);
  emit_call2(b, z, "add", small, c2);
  lask_graph *g = finish_ok(b);
  uint32_t *prio = order_of(g);
  assert_int_equal(prio[c0], 0);
  assert_int_equal(prio[c1], 1);
  assert_int_equal(prio[c2], 2);
  assert_int_equal(prio[small], 3);
  assert_int_equal(prio[z], 4);
  free(prio);
  lask_graph_free(g);
}

/* Two roots, requested first by id: the first root's subgraph comes first. */
static void test_order_roots_in_id_order(void **state) {
  (void)state;
  lask_graph_builder *b = lask_gb_new();
  uint32_t r0 = lask_gb_node(b), r1 = lask_gb_node(b), a = lask_gb_node(b), c = lask_gb_node(b);
  emit_literal(b, a, lask_int(1));
  emit_literal(b, c, lask_int(2));
  emit_call1(b, r0, "inc", c);
  emit_call1(b, r1, "inc", a);
  lask_graph *g = finish_ok(b);
  uint32_t *prio = order_of(g);
  assert_int_equal(prio[c], 0);
  assert_int_equal(prio[r0], 1);
  assert_int_equal(prio[a], 2);
  assert_int_equal(prio[r1], 3);
  free(prio);
  lask_graph_free(g);
}

/* A 1,000,000-node chain, ids in both directions: built, checked for cycles,
 * ordered and run without recursion deep enough to overflow the stack. */
static lask_graph *chain(uint32_t n, int reversed) {
  lask_graph_builder *b = lask_gb_new();
  for (uint32_t i = 0; i < n; i++) lask_gb_node(b);
  uint32_t inc = lask_gb_add_const(b, kernel("inc"));
  for (uint32_t k = 0; k < n; k++) {
    uint32_t id = reversed ? n - 1 - k : k;
    lask_gb_begin(b, id);
    if (k == 0) {
      lask_gb_const(b, lask_int(0));
    } else {
      lask_gb_const_ref(b, inc);
      lask_gb_key(b, reversed ? id + 1 : id - 1);
      lask_gb_call(b, 1);
    }
    lask_gb_end(b);
  }
  return finish_ok(b);
}

static void test_million_node_chain(void **state) {
  (void)state;
  enum { N = 1000000 };
  for (int reversed = 0; reversed <= 1; reversed++) {
    lask_graph *g = chain(N, reversed);
    assert_int_equal(g->n, N);
    assert_int_equal(g->dep_off[N], N - 1);
    uint32_t *ids;
    size_t len;
    assert_int_equal(lask_graph_cycle(g, &ids, &len), LASK_OK);
    assert_null(ids);
    uint32_t *prio = order_of(g);
    for (uint32_t i = 0; i < N; i++)
      if (prio[i] != (reversed ? N - 1 - i : i)) fail_msg("prio[%u] = %u", i, prio[i]);
    uint32_t last = reversed ? 0 : N - 1;
    lask_value v;
    lask_err err;
    assert_int_equal(lask_run(NULL, g, &last, 1, NULL, &v, &err), LASK_OK);
    assert_int_equal(v.type, LASK_TINT);
    assert_int_equal(v.as.i, N - 1);
    free(prio);
    lask_graph_free(g);
  }

  /* And a cycle closing the whole chain is found without recursion too. */
  lask_graph_builder *b = lask_gb_new();
  for (uint32_t i = 0; i < N; i++) lask_gb_node(b);
  uint32_t inc = lask_gb_add_const(b, kernel("inc"));
  for (uint32_t i = 0; i < N; i++) {
    lask_gb_begin(b, i);
    lask_gb_const_ref(b, inc);
    lask_gb_key(b, (i + N - 1) % N);
    lask_gb_call(b, 1);
    lask_gb_end(b);
  }
  lask_graph *g = finish_ok(b);
  uint32_t *ids;
  size_t len;
  assert_int_equal(lask_graph_cycle(g, &ids, &len), LASK_OK);
  assert_int_equal(len, N);
  assert_cycle(g, ids, len);
  free(ids);
  lask_graph_free(g);
}

/* --- the same graph however it is built: in id order (edges made while emitting) or
 * not (edges made from the code by lask_gb_finish), with any lask_gb_reserve hint --- */

/* A random program: a head (the kernel sum, or a string: a host node, or a node's value)
 * called on a list of items, each a KEY (repeats likely), an integer, or inc(KEY). */
enum { ITEM_KEY, ITEM_INT, ITEM_INC };
typedef struct spec_node {
  int head; /* 0 sum, 1 the string "f", 2 KEY of node head_key */
  uint32_t head_key, nitems;
  uint8_t kind[40];
  uint32_t arg[40];
} spec_node;

static unsigned test_seed(void) {
  const char *env = getenv("LASK_TEST_SEED");
  unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
  print_message("graph build orders: seed %u (LASK_TEST_SEED=%u to replay)\n", seed, seed);
  return seed;
}

static void random_spec(spec_node *spec, uint32_t n, unsigned *seed) {
  for (uint32_t i = 0; i < n; i++) {
    spec_node *s = &spec[i];
    uint32_t near = (uint32_t)rand_r(seed) % 4 + 1; /* a few ids: repeats */
    s->head = rand_r(seed) % 6 == 0 ? 1 + rand_r(seed) % 2 : 0;
    s->head_key = (uint32_t)rand_r(seed) % n;
    s->nitems = (uint32_t)rand_r(seed) % (rand_r(seed) % 3 ? 5 : 40);
    for (uint32_t k = 0; k < s->nitems; k++) {
      s->kind[k] = (uint8_t)(rand_r(seed) % 3);
      s->arg[k] =
          rand_r(seed) % 2 ? (uint32_t)rand_r(seed) % n : (i + near * (uint32_t)(rand_r(seed) % 2)) % n;
    }
  }
}

/* Adds nodes until id exists (as lask.key graphs add the nodes they meet). */
static void need_node(lask_graph_builder *b, uint32_t id) {
  while (lask_gb_count(b) <= id) lask_gb_node(b);
}

static void emit_spec(lask_graph_builder *b, uint32_t i, const spec_node *s, bool lazy) {
  lask_gb_begin(b, i);
  if (s->head == 0) lask_gb_const(b, kernel("sum"));
  if (s->head == 1) lask_gb_const(b, str("f"));
  if (s->head == 2) {
    if (lazy) need_node(b, s->head_key);
    lask_gb_key(b, s->head_key);
  }
  for (uint32_t k = 0; k < s->nitems; k++) {
    if (s->kind[k] == ITEM_INT) {
      lask_gb_const(b, lask_int(s->arg[k]));
      continue;
    }
    if (s->kind[k] == ITEM_INC) lask_gb_const(b, kernel("inc"));
    if (lazy) need_node(b, s->arg[k]);
    lask_gb_key(b, s->arg[k]);
    if (s->kind[k] == ITEM_INC) lask_gb_call(b, 1);
  }
  lask_gb_list(b, s->nitems);
  lask_gb_call(b, 1);
  lask_gb_end(b);
}

/* Builds spec in the order order[0..n) (NULL: id order, nodes added as met), after
 * lask_gb_reserve(b, hint, hint * 4) unless hint is 0. */
static lask_graph *build_spec(const spec_node *spec, uint32_t n, const uint32_t *order, size_t hint) {
  lask_graph_builder *b = lask_gb_new();
  if (hint) lask_gb_reserve(b, hint, hint * 4);
  if (order)
    need_node(b, n - 1);
  else
    need_node(b, 0);
  for (uint32_t k = 0; k < n; k++) {
    uint32_t i = order ? order[k] : k;
    need_node(b, i);
    emit_spec(b, i, &spec[i], !order);
  }
  need_node(b, n - 1);
  return finish_ok(b);
}

/* g against spec, computed another way: the dependencies are the distinct KEY operands
 * in first-use order, the dependents every node listing d, in id order; host the
 * programs whose head is not the kernel sum. */
static void assert_spec_graph(const lask_graph *g, const spec_node *spec, uint32_t n) {
  assert_int_equal(g->n, n);
  uint32_t want[41], nwant;
  size_t edges = 0;
  for (uint32_t i = 0; i < n; i++) {
    const spec_node *s = &spec[i];
    nwant = 0;
    uint32_t keys[41], nkeys = 0;
    if (s->head == 2) keys[nkeys++] = s->head_key;
    for (uint32_t k = 0; k < s->nitems; k++)
      if (s->kind[k] != ITEM_INT) keys[nkeys++] = s->arg[k];
    for (uint32_t k = 0; k < nkeys; k++) {
      bool seen = false;
      for (uint32_t j = 0; j < nwant; j++) seen |= want[j] == keys[k];
      if (!seen) want[nwant++] = keys[k];
    }
    assert_deps(g, i, want, nwant);
    edges += nwant;
    if ((g->flags[i] & LASK_NODE_HOST) != (s->head ? LASK_NODE_HOST : 0))
      fail_msg("#%u: flags %u, head %d", i, g->flags[i], s->head);
    /* the program, word by word: head, items, LIST, CALL */
    uint32_t k = 0;
    if (s->head == 0) assert_kernel_const(g, i, k++, "sum");
    if (s->head == 1) assert_int_equal(const_at(g, i, k++).type, LASK_TOBJ);
    if (s->head == 2) assert_word(g, i, k++, LASK_OP_KEY, s->head_key);
    for (uint32_t j = 0; j < s->nitems; j++) {
      if (s->kind[j] == ITEM_INT) {
        assert_int_equal(const_at(g, i, k++).as.i, s->arg[j]);
        continue;
      }
      if (s->kind[j] == ITEM_INC) assert_kernel_const(g, i, k++, "inc");
      assert_word(g, i, k++, LASK_OP_KEY, s->arg[j]);
      if (s->kind[j] == ITEM_INC) assert_word(g, i, k++, LASK_OP_CALL, 1);
    }
    assert_word(g, i, k++, LASK_OP_LIST, s->nitems);
    assert_word(g, i, k++, LASK_OP_CALL, 1);
    assert_int_equal(g->code_len[i], k);
  }
  assert_int_equal(g->dep_off[n], edges);
  assert_int_equal(g->out_off[n], edges);
  for (uint32_t d = 0; d < n; d++) { /* dependents: every v depending on d, increasing */
    uint32_t k = g->out_off[d];
    for (uint32_t v = 0; v < n; v++)
      if (depends_on(g, v, d)) {
        if (k >= g->out_off[d + 1] || g->outs[k] != v) fail_msg("#%u's dependents lack #%u", d, v);
        k++;
      }
    assert_int_equal(k, g->out_off[d + 1]);
  }
  assert_true(lask_graph_check(g));
}

static void test_edges_same_in_any_build_order(void **state) {
  (void)state;
  unsigned seed = test_seed();
  for (int trial = 0; trial < 40; trial++) {
    uint32_t n = 1 + (uint32_t)rand_r(&seed) % (trial < 20 ? 20 : 400);
    spec_node *spec = malloc(n * sizeof *spec);
    uint32_t *order = malloc(n * sizeof *order);
    assert_non_null(spec), assert_non_null(order);
    random_spec(spec, n, &seed);
    for (uint32_t i = 0; i < n; i++) order[i] = n - 1 - i; /* reversed, then shuffled on odd trials */
    for (uint32_t i = n; i > 1 && trial % 2; i--) {
      uint32_t j = (uint32_t)rand_r(&seed) % i, t = order[i - 1];
      order[i - 1] = order[j], order[j] = t;
    }
    const size_t hints[] = {0, 1, n / 2 + 1, n, (size_t)n * 10};
    for (size_t h = 0; h < sizeof hints / sizeof hints[0]; h++) {
      lask_graph *g = build_spec(spec, n, NULL, hints[h]); /* in id order */
      assert_spec_graph(g, spec, n);
      lask_graph_free(g);
    }
    lask_graph *g = build_spec(spec, n, order, 0); /* out of order */
    assert_spec_graph(g, spec, n);
    lask_graph_free(g);
    free(spec), free(order);
  }
}

/* Names after the name map and the node arrays grew (no hint, one too small, one too
 * large): each name is its own node, asked again it is the same node, and the graph
 * finds it; the 100k-node fan-in has the same edges whatever the hint. */
static void test_names_and_edges_with_any_reserve_hint(void **state) {
  (void)state;
  enum { N = 100000 };
  char(*names)[16] = malloc(N * sizeof *names);
  assert_non_null(names);
  for (uint32_t i = 0; i < N; i++) snprintf(names[i], sizeof names[i], i % 3 ? "t-%u" : "x%u_", i);
  const size_t hints[] = {0, 1, 1000, N, 8 * N};
  lask_graph_builder *b0 = lask_gb_new();
  lask_gb_reserve(NULL, 10, 10); /* no builder: nothing */
  lask_gb_reserve(b0, 0, 0);
  lask_gb_free(b0);
  for (size_t h = 0; h < sizeof hints / sizeof hints[0]; h++) {
    lask_graph_builder *b = lask_gb_new();
    lask_gb_reserve(b, hints[h], hints[h] * 4);
    for (uint32_t i = 0; i < N; i++) assert_int_equal(lask_gb_named(b, names[i]), i);
    lask_gb_reserve(b, hints[h] / 2, 0); /* a later, smaller hint changes nothing */
    for (uint32_t i = 0; i < N; i += 7) assert_int_equal(lask_gb_named(b, names[i]), i);
    for (uint32_t i = 0; i + 1 < N; i++) emit_literal(b, i, lask_int(i));
    lask_gb_begin(b, N - 1); /* the last sums every other one: a fan-in of N - 1 */
    lask_gb_const(b, kernel("sum"));
    for (uint32_t i = 0; i + 1 < N; i++) lask_gb_key(b, i);
    lask_gb_key(b, 0); /* a repeat: no second edge */
    lask_gb_list(b, N);
    lask_gb_call(b, 1);
    lask_gb_end(b);
    lask_graph *g = finish_ok(b);
    assert_int_equal(g->dep_off[N], N - 1);
    assert_int_equal(g->dep_off[N - 1], 0);
    for (uint32_t i = 0; i + 1 < N; i++) {
      assert_int_equal(g->deps[i], i);
      assert_int_equal(g->out_off[i + 1] - g->out_off[i], 1);
      assert_int_equal(g->outs[g->out_off[i]], N - 1);
    }
    for (uint32_t i = 0; i < N; i += 997) {
      assert_int_equal(lask_graph_find(g, names[i]), i);
      char buf[24];
      assert_string_equal(lask_graph_name(g, i, buf, sizeof buf), names[i]);
    }
    assert_int_equal(lask_graph_find(g, "t-100000"), LASK_NO_NODE);
    lask_value v;
    lask_err err;
    uint32_t root = N - 1;
    assert_int_equal(lask_run(NULL, g, &root, 1, NULL, &v, &err), LASK_OK);
    assert_int_equal(v.type, LASK_TINT);
    assert_int_equal(v.as.i, (int64_t)(N - 1) * (N - 2) / 2 + 0);
    lask_graph_free(g);
  }
  free(names);
}

/* A program with thousands of dependencies, most of them on nodes added while it is
 * emitted (as lask.key graphs add the nodes they meet), each named twice: one edge
 * each, in first-use order, and the sum over them right. */
static void test_many_dependencies_on_nodes_added_midway(void **state) {
  (void)state;
  enum { FIRST = 10, MORE = 5000 };
  for (int named = 0; named <= 1; named++) {
    lask_graph_builder *b = lask_gb_new();
    char name[32];
    for (uint32_t i = 0; i < FIRST; i++) {
      snprintf(name, sizeof name, "n%u", i);
      assert_int_equal(named ? lask_gb_named(b, name) : lask_gb_node(b), i);
    }
    emit_literal(b, 0, lask_int(0));
    lask_gb_begin(b, 1); /* sum([#0, #2 .. #FIRST+MORE-1, and each again]) */
    lask_gb_const(b, kernel("sum"));
    uint32_t nitems = 0;
    lask_gb_key(b, 0), nitems++;
    for (uint32_t i = 2; i < FIRST + MORE; i++) {
      if (i >= FIRST) {
        snprintf(name, sizeof name, "n%u", i);
        assert_int_equal(named ? lask_gb_named(b, name) : lask_gb_node(b), i);
      }
      lask_gb_key(b, i), nitems++;
      lask_gb_key(b, i - 1), nitems++; /* a repeat (of #1 itself once: a cycle, not run) */
    }
    lask_gb_list(b, nitems);
    lask_gb_call(b, 1);
    lask_gb_end(b);
    for (uint32_t i = 2; i < FIRST + MORE; i++) emit_literal(b, i, lask_int(i));
    lask_graph *g = finish_ok(b);
    assert_int_equal(g->dep_off[2] - g->dep_off[1], FIRST + MORE);
    assert_int_equal(g->deps[g->dep_off[1]], 0);
    assert_int_equal(g->deps[g->dep_off[1] + 1], 2);
    assert_int_equal(g->deps[g->dep_off[1] + 2], 1);
    for (uint32_t k = 3; k < FIRST + MORE; k++) assert_int_equal(g->deps[g->dep_off[1] + k], k);
    for (uint32_t i = 2; i < FIRST + MORE; i++) assert_outs(g, i, (const uint32_t[]){1}, 1);
    assert_true(lask_graph_check(g));
    if (named) assert_int_equal(lask_graph_find(g, "n4000"), 4000);
    lask_graph_free(g);
  }
}

/* Numbered names whose numbers all fall on the same slot of their run (multiples of 8,
 * or 8k + 7, so a probe's steps a line apart meet only each other), and names whose runs
 * are all taken: each its own node, found again after the map grew, with or without a
 * hint. */
/* Name i of test_names_crowding_one_slot_of_their_runs. */
static void crowding_name(char *buf, size_t size, uint32_t i) {
  snprintf(buf, size,
           i % 3 == 0   ? "c%u"
           : i % 3 == 1 ? "dd-%u"
                        : "longer-prefix-%u",
           i % 3 == 2 ? i / 3 * 8 + 7 : i / 3 * 8);
}

static void test_names_crowding_one_slot_of_their_runs(void **state) {
  (void)state;
  enum { N = 60000 };
  for (size_t hint = 0; hint <= N; hint += N) {
    lask_graph_builder *b = lask_gb_new();
    lask_gb_reserve(b, hint, 0);
    char name[32];
    for (uint32_t i = 0; i < N; i++) {
      crowding_name(name, sizeof name, i);
      assert_int_equal(lask_gb_named(b, name), i);
    }
    for (uint32_t i = 0; i < N; i++) {
      crowding_name(name, sizeof name, i);
      assert_int_equal(lask_gb_named(b, name), i);
      emit_literal(b, i, lask_int(i));
    }
    assert_int_equal(lask_gb_count(b), N);
    lask_graph *g = finish_ok(b);
    assert_int_equal(lask_graph_find(g, "c8"), 3);
    assert_int_equal(lask_graph_find(g, "longer-prefix-15"), 5);
    assert_int_equal(lask_graph_find(g, "c9"), LASK_NO_NODE);
    lask_graph_free(g);
  }
}

static int teardown_check_counted(void **state) {
  (void)state;
  int left = atomic_load(&counted_live);
  atomic_store(&counted_live, 0);
  if (left) fprintf(stderr, "# %d counted objects still alive\n", left);
  return left ? -1 : 0;
}

#define T(f) cmocka_unit_test_teardown(f, teardown_check_counted)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_named_literals_and_aliases),
      T(test_names_after_unnamed_nodes),
      T(test_numbered_names_stay_distinct),
      T(test_repeated_constants_are_shared_not_confused),
      T(test_nested_calls_and_lists),
      T(test_shared_constants),
      T(test_csr_dependencies_and_dependents),
      T(test_host_flag),
      T(test_builder_errors),
      T(test_builder_error_is_sticky),
      T(test_empty_graph),
      T(test_cycles),
      T(test_acyclic_has_no_cycle),
      T(test_order_is_topological_permutation),
      T(test_order_walks_reduction_block_by_block),
      T(test_order_heaviest_first),
      T(test_order_roots_in_id_order),
      T(test_million_node_chain),
      T(test_builder_errors_name_the_node),
      T(test_edges_same_in_any_build_order),
      T(test_names_and_edges_with_any_reserve_hint),
      T(test_many_dependencies_on_nodes_added_midway),
      T(test_names_crowding_one_slot_of_their_runs),
  };
  return cmocka_run_group_tests_name("graph", tests, NULL, NULL);
}
