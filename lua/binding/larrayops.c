/* larrayops.c — lask.core.arrayops: what lask.array needs to know of the elementwise
 * operators and the fused kernel, read from the engine (elementwise_ops.h, fused.h)
 * so that Lua restates none of it:
 *
 *   arrayops.ops[name]   {name=, arity=, rule=, kernel=, dtypes={dtype=true...},
 *                        domain=, unsupported=}: every operator, as the fused
 *                        kernel's programs name it; rule is the typing rule ("arith",
 *                        "arith_nb", "div", "float", "same", "powi", "cmp", "where",
 *                        "cast", "same_nb", "pred", "round"), kernel how the array kernels offer it
 *                        ("op", "pow", "cast", "param": (x, n), or nil: none of its own), dtypes the compute
 * dtypes it has a tile function for (astype: none, it converts) arrayops.result_type(op, types [, param]) the
 * result type of op over operand types (a list of {dt=, weak=}: weak for Lua numbers and booleans; arrays,
 * 0-d too, are strong) as the kernels will give it: dt, weak; or nil and the message why the kernels refuse
 * it. param: astype's dtype, or powi's or pow's exponent when it is a known integer (integers to a negative
 * power are refused at once) arrayops.promote(a, b)  numpy's result_type of two dtypes (concatenate, stack)
 *   arrayops.matmul_type(a, b)  the dtype of the matmul kernel's result
 *   arrayops.fused_limits {max_args=, max_tokens=, max_depth=, max_token_len=,
 *                        powi_max=}: what a fused program may hold, and the largest
 *                        |n| that pow(x, n) computes by multiplication (powi:n)
 */
#include <lauxlib.h>

#include "array/array_kernels.h"
#include "array/fused.h"
#include "larrayops.h"

static const char *const rule_names[] = {
    [LASK_EW_ARITH] = "arith",     [LASK_EW_ARITH_NB] = "arith_nb", [LASK_EW_DIV] = "div",
    [LASK_EW_FLOAT] = "float",     [LASK_EW_SAME] = "same",         [LASK_EW_POWI] = "powi",
    [LASK_EW_CMP] = "cmp",         [LASK_EW_WHERE] = "where",       [LASK_EW_CAST] = "cast",
    [LASK_EW_SAME_NB] = "same_nb", [LASK_EW_PRED] = "pred",         [LASK_EW_ROUND] = "round",
};

static const char *const kernel_names[] = {[LASK_EW_KERNEL_OP] = "op",
                                           [LASK_EW_KERNEL_POW] = "pow",
                                           [LASK_EW_KERNEL_CAST] = "cast",
                                           [LASK_EW_KERNEL_NONE] = NULL,
                                           [LASK_EW_KERNEL_PARAM] = "param"};

static void set_string(lua_State *L, const char *field, const char *s) {
  if (!s) return;
  lua_pushstring(L, s);
  lua_setfield(L, -2, field);
}

static void push_op(lua_State *L, const lask_ewop *op) {
  lua_createtable(L, 0, 7);
  set_string(L, "name", op->name);
  lua_pushinteger(L, op->arity);
  lua_setfield(L, -2, "arity");
  set_string(L, "rule", rule_names[op->rule]);
  set_string(L, "kernel", kernel_names[op->kernel]);
  lua_createtable(L, 0, 4);
  for (int dt = 0; dt < 4; dt++)
    if (op->fn[dt]) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, lask_dtype_name((lask_dtype)dt));
    }
  lua_setfield(L, -2, "dtypes");
  set_string(L, "domain", op->domain_msg);
  set_string(L, "unsupported", op->unsupported);
}

/* The dtype named by the string at idx, or a Lua error naming what. */
static lask_dtype check_dtype(lua_State *L, int idx, const char *what) {
  lask_dtype dt = LASK_F64;
  const char *name = lua_tostring(L, idx);
  if (!name || !lask_dtype_parse(name, &dt))
    luaL_error(L, "arrayops.result_type: %s is not a dtype name (float64, float32, int64, bool)", what);
  return dt;
}

/* result_type(op, types [, param]) -> dt, weak | nil, message */
static int l_result_type(lua_State *L) {
  const lask_ewop *op = lask_ewop_find(luaL_checkstring(L, 1));
  if (!op) return luaL_error(L, "arrayops.result_type: no operator '%s'", lua_tostring(L, 1));
  luaL_checktype(L, 2, LUA_TTABLE);
  if (luaL_len(L, 2) != op->arity)
    return luaL_error(L, "arrayops.result_type: %s takes %d operands, got %d", op->name, op->arity,
                      (int)luaL_len(L, 2));
  lask_ew_type t[3];
  for (int i = 0; i < op->arity; i++) {
    lua_geti(L, 2, i + 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_getfield(L, -1, "dt");
    t[i].dt = check_dtype(L, -1, "an operand's dt");
    lua_getfield(L, -2, "weak");
    t[i].weak = lua_toboolean(L, -1);
    lua_pop(L, 3);
  }
  lask_ew_param param = {0, LASK_F64};
  bool known_exponent = lua_isinteger(L, 3);
  if (known_exponent) param.n = lua_tointeger(L, 3);
  if (op->rule == LASK_EW_CAST) param.dt = check_dtype(L, 3, "astype's dtype");
  lask_ew_type res;
  lask_dtype compute;
  char buf[64];
  const char *refusal = lask_ew_result_type(op, &param, t, &res, &compute, buf, sizeof buf);
  if (!refusal && known_exponent) refusal = lask_ew_exponent_refusal(op, compute, param.n);
  if (refusal) {
    lua_pushnil(L);
    lua_pushstring(L, refusal);
    return 2;
  }
  lua_pushstring(L, lask_dtype_name(res.dt));
  lua_pushboolean(L, res.weak);
  return 2;
}

/* promote(a, b) -> numpy's result_type of two dtypes (concatenate, stack). */
static int l_promote(lua_State *L) {
  lask_dtype a = check_dtype(L, 1, "promote's first dtype"), b = check_dtype(L, 2, "promote's second dtype");
  lua_pushstring(L, lask_dtype_name(lask_dtype_promote(a, b)));
  return 1;
}

/* matmul_type(a, b) -> the dtype of the matmul kernel's result. */
static int l_matmul_type(lua_State *L) {
  lask_dtype a = check_dtype(L, 1, "matmul_type's first dtype"),
             b = check_dtype(L, 2, "matmul_type's second dtype");
  lua_pushstring(L, lask_dtype_name(lask_matmul_dtype(a, b)));
  return 1;
}

static void set_int(lua_State *L, const char *field, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, field);
}

void lask_l_open_arrayops(lua_State *L) {
  lua_createtable(L, 0, 5);
  lua_createtable(L, 0, LASK_EWOP_COUNT);
  for (int i = 0; lask_ewop_at(i); i++) {
    push_op(L, lask_ewop_at(i));
    lua_setfield(L, -2, lask_ewop_at(i)->name);
  }
  lua_setfield(L, -2, "ops");
  lua_pushcfunction(L, l_result_type);
  lua_setfield(L, -2, "result_type");
  lua_pushcfunction(L, l_promote);
  lua_setfield(L, -2, "promote");
  lua_pushcfunction(L, l_matmul_type);
  lua_setfield(L, -2, "matmul_type");
  lua_createtable(L, 0, 5);
  set_int(L, "max_args", LASK_FUSED_MAX_ARGS);
  set_int(L, "max_tokens", LASK_FUSED_MAX_TOKENS);
  set_int(L, "max_depth", LASK_FUSED_MAX_DEPTH);
  set_int(L, "max_token_len", LASK_FUSED_MAX_TOKEN_LEN);
  set_int(L, "powi_max", LASK_FUSED_POWI_MAX);
  lua_setfield(L, -2, "fused_limits");
  lua_setfield(L, -2, "arrayops");
}
