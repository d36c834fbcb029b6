/* scalar.c — the built-in scalar kernels (add, sub, mul, div, neg, inc, sum, identity, spin).
 *
 * Scalar arithmetic follows Lua's rules, which users of the Lua surface expect:
 * integer op integer stays an integer (wrapping), anything with a float is a
 * float, and division always gives a float. When an argument is an array, add, sub,
 * mul, div, neg and inc hand over to the elementwise operators (fused.h, as the
 * elementwise array kernels do: numpy's broadcasting and dtypes); the check costs scalars one type test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fused.h"
#include "scalar.h"

static lask_status want_args(const lask_kernel *k, int nargs, int want, lask_err *err) {
  if (nargs == want) return LASK_OK;
  return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s expects %d argument%s, got %d", k->name, want,
                      want == 1 ? "" : "s", nargs);
}

static lask_status not_number(const lask_kernel *k, int i, lask_value v, lask_err *err) {
  return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s: argument %d is a %s, not a number", k->name, i + 1,
                      lask_typename(v));
}

/* True when one of the n args is an array. */
static bool any_array(const lask_value *a, int n) {
  for (int i = 0; i < n; i++)
    if (a[i].type == LASK_TOBJ && lask_ndarray_of(a[i])) return true;
  return false;
}

/* Applies elementwise operator id to the args as its array kernel does (the
 * callers have checked their number). */
static lask_status array_op(lask_ewop_id id, const lask_value *a, int n, lask_value *out, lask_err *err) {
  const lask_ewop *op = &lask_ewops[id];
  return lask_ew_apply(op->name, op, &(lask_ew_param){0, LASK_F64}, a, n, out, err);
}

enum arith { ADD, SUB, MUL };

/* a op b with Lua's integer/float rules; unsigned arithmetic makes overflow wrap. */
static lask_status arith2(const lask_kernel *k, const lask_value *a, enum arith op, lask_value *out,
                          lask_err *err) {
  if (a[0].type == LASK_TINT && a[1].type == LASK_TINT) {
    uint64_t x = (uint64_t)a[0].as.i, y = (uint64_t)a[1].as.i;
    *out = lask_int((int64_t)(op == ADD ? x + y : op == SUB ? x - y : x * y));
    return LASK_OK;
  }
  double x, y;
  if (!lask_tonumber(a[0], &x)) return not_number(k, 0, a[0], err);
  if (!lask_tonumber(a[1], &y)) return not_number(k, 1, a[1], err);
  *out = lask_num(op == ADD ? x + y : op == SUB ? x - y : x * y);
  return LASK_OK;
}

static lask_status k_add(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  if (want_args(k, n, 2, err)) return err->code;
  return any_array(a, n) ? array_op(LASK_EWOP_ADD, a, n, out, err) : arith2(k, a, ADD, out, err);
}

static lask_status k_sub(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  if (want_args(k, n, 2, err)) return err->code;
  return any_array(a, n) ? array_op(LASK_EWOP_SUB, a, n, out, err) : arith2(k, a, SUB, out, err);
}

static lask_status k_mul(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  if (want_args(k, n, 2, err)) return err->code;
  return any_array(a, n) ? array_op(LASK_EWOP_MUL, a, n, out, err) : arith2(k, a, MUL, out, err);
}

static lask_status k_div(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  double x, y;
  if (want_args(k, n, 2, err)) return err->code;
  if (any_array(a, n)) return array_op(LASK_EWOP_DIV, a, n, out, err);
  if (!lask_tonumber(a[0], &x)) return not_number(k, 0, a[0], err);
  if (!lask_tonumber(a[1], &y)) return not_number(k, 1, a[1], err);
  *out = lask_num(x / y);
  return LASK_OK;
}

static lask_status k_neg(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  if (want_args(k, n, 1, err)) return err->code;
  if (any_array(a, n)) return array_op(LASK_EWOP_NEG, a, n, out, err);
  if (a[0].type == LASK_TINT)
    *out = lask_int((int64_t)(0 - (uint64_t)a[0].as.i));
  else if (a[0].type == LASK_TNUM)
    *out = lask_num(-a[0].as.n);
  else
    return not_number(k, 0, a[0], err);
  return LASK_OK;
}

static lask_status k_inc(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  if (want_args(k, n, 1, err)) return err->code;
  lask_value args[2] = {a[0], lask_int(1)};
  return any_array(a, n) ? array_op(LASK_EWOP_ADD, args, 2, out, err) : arith2(k, args, ADD, out, err);
}

/* sum(list) or sum(a, b, ...): Lua's integer/float rules, left to right. */
static lask_status k_sum(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  const lask_value *items = a;
  size_t count = (size_t)n;
  if (n == 1 && lask_isa(a[0], &lask_list_class)) {
    const lask_list *l = (const lask_list *)a[0].as.o;
    items = l->items, count = l->n;
  }
  lask_value acc = lask_int(0);
  for (size_t i = 0; i < count; i++) {
    lask_value pair[2] = {acc, items[i]};
    if (!lask_tonumber(items[i], &(double){0})) return not_number(k, (int)i, items[i], err);
    arith2(k, pair, ADD, &acc, err);
  }
  *out = acc;
  return LASK_OK;
}

static lask_status k_identity(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                              lask_err *err) {
  if (want_args(k, n, 1, err)) return err->code;
  *out = lask_retain(a[0]);
  return LASK_OK;
}

/* spin(x, us): busy-waits us microseconds, then gives x. For benchmarks of scheduling
 * with tasks of known cost (sleeping would not occupy a core). */
static lask_status k_spin(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  double us;
  if (want_args(k, n, 2, err)) return err->code;
  if (!lask_tonumber(a[1], &us)) return not_number(k, 1, a[1], err);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do clock_gettime(CLOCK_MONOTONIC, &t);
  while ((double)(t.tv_sec - t0.tv_sec) * 1e6 + (double)(t.tv_nsec - t0.tv_nsec) * 1e-3 < us);
  *out = lask_retain(a[0]);
  return LASK_OK;
}

static const lask_kernel builtins[] = {
    LASK_KERNEL_STATIC("add", k_add),   LASK_KERNEL_STATIC("sub", k_sub),
    LASK_KERNEL_STATIC("mul", k_mul),   LASK_KERNEL_STATIC("div", k_div),
    LASK_KERNEL_STATIC("neg", k_neg),   LASK_KERNEL_STATIC("inc", k_inc),
    LASK_KERNEL_STATIC("sum", k_sum),   LASK_KERNEL_STATIC("identity", k_identity),
    LASK_KERNEL_STATIC("spin", k_spin),
};

const lask_kernel *lask_kernel_builtin(int i) {
  return i >= 0 && i < (int)(sizeof builtins / sizeof builtins[0]) ? &builtins[i] : NULL;
}

const lask_kernel *lask_kernel_find(const char *name) {
  for (int i = 0; lask_kernel_builtin(i); i++)
    if (strcmp(builtins[i].name, name) == 0) return &builtins[i];
  return NULL;
}
