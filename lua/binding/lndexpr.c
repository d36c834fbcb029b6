/* lndexpr.c — elementwise operators on lask.ndarray values, recorded instead of
 * run: `a * 0.25 + b * 0.5` (lndarray.c's operators) or K.add(a, b) (calling an
 * operator kernel, lvalue.c) gives a pending lask.ndarray holding the expression
 * (array/ewexpr.h) with its dtype and shape known; the first use of its data
 * evaluates all of it in one fused pass (lndwrap.c). So the ndarray arithmetic of
 * a block function costs one pass over memory and one new array, however many
 * operators it has, instead of one pass and one full-size temporary per operator.
 *
 * Nothing else changes for the user: the result's dtype, shape and values (bit for
 * bit), and the errors, raised by the operator that causes them with the kernel's
 * words. Operations that could fail on the data, or read an array whose memory may
 * change (a file mapping), run at once, as before. An expression is bounded
 * (LASK_EWEXPR_MAX_NODES nodes, LASK_FUSED_MAX_ARGS arrays): an operand that would
 * make it bigger is evaluated first, and its array enters instead.
 */
#include "binding.h"

/* The operand at idx: a pending lask.ndarray's expression, an array or a scalar;
 * false for anything else. */
static bool operand_at(lua_State *L, int idx, lask_ewexpr_operand *o) {
  o->expr = lask_l_topending(L, idx), o->value = lask_nil();
  if (o->expr) return true;
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER:
    o->value = lua_isinteger(L, idx) ? lask_int(lua_tointeger(L, idx)) : lask_num(lua_tonumber(L, idx));
    return true;
  case LUA_TBOOLEAN: o->value = lask_bool(lua_toboolean(L, idx)); return true;
  default: {
    lask_ndarray *a = lask_l_tondarray(L, idx); /* not pending here: never evaluates */
    if (a) o->value = lask_ndarray_value(a);    /* borrowed: the stack holds it */
    return a != NULL;
  }
  }
}

/* Runs k over the n values from first on, as before there were pending arrays
 * (operands evaluated), and pushes its result; raises its error. */
static void run_now(lua_State *L, const lask_kernel *k, int first, int n) {
  lask_value args[3], out = lask_nil();
  for (int i = 0; i < n; i++) {
    lask_ewexpr_operand o;
    lask_l_tondarray(L, first + i); /* evaluates it when pending */
    operand_at(L, first + i, &o);
    args[i] = o.value;
  }
  lask_err err;
  lask_err_clear(&err);
  if (k->fn(k, args, n, &out, &err) != LASK_OK) luaL_error(L, "%s", err.msg);
  if (lask_ndarray_of(out)) {
    lask_l_pushndarray(L, lask_ndarray_of(out));
    lask_release(out);
  } else if (out.type == LASK_TBOOL) {
    lua_pushboolean(L, out.as.b);
  } else if (out.type == LASK_TINT) {
    lua_pushinteger(L, out.as.i);
  } else {
    lua_pushnumber(L, out.as.n);
  }
}

int lask_l_ndarray_apply(lua_State *L, const lask_kernel *k, int first, int n) {
  lask_dtype dt;
  int x_ndim = -1, nops, nargs;
  const int64_t *shape;
  if (n < 1 || !lask_l_ndarray_layout(L, first, &dt, &x_ndim, &shape)) x_ndim = -1;
  lask_ewexpr_operand second = {NULL, lask_nil()};
  if (n >= 2) operand_at(L, first + 1, &second);
  lask_ew_param param;
  const lask_ewop *op =
      lask_ew_kernel_operator(k, x_ndim, second.expr ? lask_nil() : second.value, &param, &nops, &nargs);
  if (!op || n != nargs) return 0;
  lask_ewexpr_operand ops[3];
  bool any_array = false;
  for (int i = 0; i < nops; i++) {
    if (!operand_at(L, first + i, &ops[i])) return 0;
    any_array = any_array || ops[i].expr || lask_ndarray_of(ops[i].value);
  }
  if (!any_array) return 0;
  while (!lask_ewexpr_fits(op, ops)) { /* evaluate the biggest operand expression first */
    int big = 0;
    for (int i = 1; i < nops; i++)
      if ((ops[i].expr ? ops[i].expr->nnodes : 0) > (ops[big].expr ? ops[big].expr->nnodes : 0)) big = i;
    lask_l_tondarray(L, first + big);
    for (int i = 0; i < nops; i++) operand_at(L, first + i, &ops[i]);
  }
  lask_ewexpr **slot = lask_l_pushpending(L);
  lask_err err;
  lask_err_clear(&err);
  if (lask_ewexpr_apply(k->name, op, &param, ops, slot, &err) != LASK_OK) luaL_error(L, "%s", err.msg);
  if (*slot) return 1;
  lua_pop(L, 1);
  run_now(L, k, first, n);
  return 1;
}
