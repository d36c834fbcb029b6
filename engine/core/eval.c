/* eval.c — the argument-program interpreter.
 *
 * A value stack with an ownership bit per slot: KEY, CONST and INT push borrowed
 * values (the results array and the graph own them; an INT's integer owns nothing), LIST and CALL push values
 * they made, which are released once consumed. Heads stay borrowed constants, so
 * calling a kernel costs no reference counting at all.
 */
#include "eval.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernel.h"

typedef struct slot {
  lask_value v;
  bool owned;
} slot;

enum { STACK_LOCAL = 16 };

/* The value a KEY, CONST or INT word w pushes (borrowed). */
static inline lask_value word_value(const lask_graph *g, uint32_t w, const lask_value *results) {
  uint32_t op = LASK_OP(w), a = LASK_OPERAND(w);
  LASK_ASSERT(op == LASK_OP_KEY || op == LASK_OP_CONST || op == LASK_OP_INT);
  return op == LASK_OP_KEY ? results[a] : op == LASK_OP_CONST ? g->consts[a] : lask_int(lask_op_int(w));
}

static void drop(slot *s) {
  if (s->owned) lask_release(s->v);
}

/* Calls head(argv[0..nargs)) for node id: a native kernel, or the host's call. */
static lask_status call_args(uint32_t id, lask_value head, const lask_value *argv, uint32_t nargs,
                             const lask_host_ops *host, lask_value *out, lask_err *err) {
  lask_status st;
  *out = lask_nil();
  if (lask_isa(head, &lask_kernel_class)) {
    const lask_kernel *k = (const lask_kernel *)head.as.o;
    st = k->fn(k, argv, (int)nargs, out, err);
    if (st != LASK_OK && err->code == LASK_OK) /* the status decides, even when a kernel forgot the message */
      lask_err_set(err, st, id, "%s failed (%s)", k->name, lask_strstatus(st));
  } else if (host && host->call) {
    st = host->call(host->ctx, id, head, argv, (int)nargs, out, err);
  } else {
    st = lask_err_set(err, LASK_ETYPE, id, "task head is a %s, not a native kernel", lask_typename(head));
  }
  if (st != LASK_OK) {
    *out = lask_nil();
    if (err->node == LASK_NO_NODE) err->node = id;
  }
  return st;
}

/* Calls the head base[0] with the args base[1..nargs]. */
static lask_status call(uint32_t id, slot *base, uint32_t nargs, const lask_host_ops *host, lask_value *out,
                        lask_err *err) {
  lask_value argv_local[STACK_LOCAL], *argv = argv_local;
  if (nargs > STACK_LOCAL && !(argv = malloc(nargs * sizeof *argv)))
    return lask_err_set(err, LASK_ENOMEM, id, "out of memory calling a task");
  for (uint32_t i = 0; i < nargs; i++) argv[i] = base[1 + i].v;
  lask_status st = call_args(id, base[0].v, argv, nargs, host, out, err);
  if (argv != argv_local) free(argv);
  return st;
}

static lask_status make_list(slot *base, uint32_t n, lask_value *out, uint32_t id, lask_err *err) {
  lask_list *l = lask_list_new(n);
  if (!l) return lask_err_set(err, LASK_ENOMEM, id, "out of memory building a list");
  for (uint32_t i = 0; i < n; i++) {
    l->items[i] = base[i].owned ? base[i].v : lask_retain(base[i].v);
    base[i].owned = false; /* moved into the list */
  }
  *out = lask_objval(&l->h);
  return LASK_OK;
}

lask_status lask_eval(const lask_graph *g, uint32_t id, const lask_value *results, const lask_host_ops *host,
                      lask_value *out, lask_err *err) {
  const uint32_t *code = g->code + g->code_off[id];
  uint32_t len = g->code_len[id];
  if (len == 1 && LASK_OP(code[0]) != LASK_OP_CALL && LASK_OP(code[0]) != LASK_OP_LIST) {
    /* literal or alias: the common cheap case */
    *out = lask_retain(word_value(g, code[0], results));
    return LASK_OK;
  }
  if (len >= 2 && len - 2 <= STACK_LOCAL && LASK_OP(code[len - 1]) == LASK_OP_CALL &&
      LASK_OPERAND(code[len - 1]) == len - 2 && LASK_OP(code[0]) == LASK_OP_CONST) {
    /* a flat call: head(key or constant, ...) */
    lask_value argv[STACK_LOCAL];
    uint32_t n = len - 2, i = 0;
    for (; i < n; i++) {
      uint32_t w = code[1 + i];
      if (LASK_OP(w) == LASK_OP_LIST || LASK_OP(w) == LASK_OP_CALL) break; /* nested: the general path */
      argv[i] = word_value(g, w, results);
    }
    if (i == n) return call_args(id, g->consts[LASK_OPERAND(code[0])], argv, n, host, out, err);
  }
  slot local[STACK_LOCAL], *stack = local;
  if (len > STACK_LOCAL && !(stack = malloc(len * sizeof *stack)))
    return lask_err_set(err, LASK_ENOMEM, id, "out of memory evaluating a task");
  size_t sp = 0;
  lask_status st = LASK_OK;
  for (uint32_t k = 0; k < len && st == LASK_OK; k++) {
    uint32_t op = LASK_OP(code[k]), a = LASK_OPERAND(code[k]);
    lask_value v;
    if (op != LASK_OP_LIST && op != LASK_OP_CALL) {
      stack[sp++] = (slot){word_value(g, code[k], results), false};
      continue;
    }
    size_t base = sp - a - (op == LASK_OP_CALL);
    st = op == LASK_OP_LIST ? make_list(stack + base, a, &v, id, err)
                            : call(id, stack + base, a, host, &v, err);
    for (size_t i = base; i < sp; i++) drop(&stack[i]);
    sp = base;
    if (st == LASK_OK) stack[sp++] = (slot){v, true};
  }
  if (st == LASK_OK) {
    *out = stack[0].owned ? stack[0].v : lask_retain(stack[0].v);
  } else {
    for (size_t i = 0; i < sp; i++) drop(&stack[i]);
    *out = lask_nil();
    if (err->node == LASK_NO_NODE) err->node = id;
  }
  if (stack != local) free(stack);
  return st;
}
