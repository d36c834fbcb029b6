/* elementwise_ops.h — the elementwise operators: their table, their typing rule and
 * their tile functions, shared by the fused kernel (fused.c), the elementwise array
 * kernels (elementwise.c) and the Lua binding, which exports the table and the rule
 * to lask.array (internal to the engine, not API).
 *
 * An operator is a name, an arity, a typing rule and one tile function per compute
 * dtype. A tile function computes n results from n contiguous operand values
 * (operands already converted to the compute dtype, except where's condition, which
 * is bool); it never sees strides, broadcasting or the shape: fused.c gathers tiles
 * and elementwise_ops.c only writes straight loops. Operands and output never
 * overlap.
 */
#ifndef LASK_ELEMENTWISE_OPS_H
#define LASK_ELEMENTWISE_OPS_H

#include <stddef.h>

#include "core/kernel.h"
#include "ndarray.h"

/* Parameters carried by a program token: N of powi:N, the dtype of astype:D. */
typedef struct lask_ew_param {
  int64_t n;
  lask_dtype dt;
} lask_ew_param;

/* Computes out[0..n) from in[k][0..n); returns 0, or 1 on a domain error (the
 * operator's domain_msg says which). */
typedef int (*lask_ew_fn)(int64_t n, void *out, const void *const *in, const lask_ew_param *p);

typedef enum lask_ew_rule {
  LASK_EW_ARITH,    /* binary: operands promote to a common dtype, result in it */
  LASK_EW_ARITH_NB, /* as ARITH, but bool operands compute as int64 (mod, pow, floor_divide) */
  LASK_EW_DIV,      /* binary: common dtype, then ints and bools compute as float64 */
  LASK_EW_FLOAT,    /* unary math: float32 stays float32, everything else float64 */
  LASK_EW_SAME,     /* unary, result in the operand's dtype (neg, abs) */
  LASK_EW_POWI,     /* unary x^N (powi:N): the operand's dtype, bool as int64 */
  LASK_EW_CMP,      /* binary: common dtype, bool result */
  LASK_EW_WHERE,    /* where(cond, x, y): cond as bool, x and y in their common dtype */
  LASK_EW_CAST,     /* unary astype:D: any dtype to D (no tile function: lask_convert) */
  LASK_EW_SAME_NB,  /* unary, the operand's dtype, bool computing as int64 (reciprocal) */
  LASK_EW_PRED,     /* unary predicate: computes in the operand's dtype, bool result (isnan) */
  LASK_EW_ROUND,    /* unary round:D (D decimals): the operand's dtype */
} lask_ew_rule;

/* How an operator is offered as an array kernel (elementwise.c): OP, a kernel of its
 * own name applying it; POW, the pow kernel (powi for small integer exponents);
 * CAST, the astype kernel (the dtype as its second argument); NONE, no kernel of its
 * own (powi: reached through pow and fused programs); PARAM (below). */
#define LASK_EW_KERNEL_OP   0
#define LASK_EW_KERNEL_POW  1
#define LASK_EW_KERNEL_CAST 2
#define LASK_EW_KERNEL_NONE 3
/* PARAM: a kernel of its own name taking (x, n), n the integer parameter (round:D). */
#define LASK_EW_KERNEL_PARAM 4

/* The operators, the only list of them: X(ID, name, arity, rule, kernel, tile
 * functions for float64, float32, int64 and bool (NULL: unsupported dtype), what a
 * domain error means, the message for an unsupported dtype (NULL: a generic one)).
 * It makes the enum of operator indices below, the table (elementwise_ops.c) and
 * the elementwise kernels (elementwise.c). */
#define LASK_EWOPS(X)                                                                                        \
  X(ADD, "add", 2, ARITH, OP, add_f64, add_f32, add_i64, add_b, NULL, NULL)                                  \
  X(SUB, "sub", 2, ARITH, OP, sub_f64, sub_f32, sub_i64, NULL, NULL,                                         \
    "numpy boolean subtract is not supported (use not_equal for xor)")                                       \
  X(MUL, "mul", 2, ARITH, OP, mul_f64, mul_f32, mul_i64, mul_b, NULL, NULL)                                  \
  X(DIV, "div", 2, DIV, OP, div_f64, div_f32, NULL, NULL, NULL, NULL)                                        \
  X(MOD, "mod", 2, ARITH_NB, OP, mod_f64s, mod_f32s, mod_i64s, NULL, NULL, NULL)                             \
  X(POW, "pow", 2, ARITH_NB, POW, pow_f64, pow_f32, pow_i64, NULL, neg_pow_msg, NULL)                        \
  X(NEG, "neg", 1, SAME, OP, neg_f64, neg_f32, neg_i64, NULL, NULL,                                          \
    "numpy boolean negative is not supported (use equal(x, false) for not)")                                 \
  X(ABS, "abs", 1, SAME, OP, abs_f64, abs_f32, abs_i64, abs_b, NULL, NULL)                                   \
  X(EXP, "exp", 1, FLOAT, OP, exp_f64, exp_f32, NULL, NULL, NULL, NULL)                                      \
  X(LOG, "log", 1, FLOAT, OP, log_f64, log_f32, NULL, NULL, NULL, NULL)                                      \
  X(SQRT, "sqrt", 1, FLOAT, OP, sqrt_f64, sqrt_f32, NULL, NULL, NULL, NULL)                                  \
  X(SIN, "sin", 1, FLOAT, OP, sin_f64, sin_f32, NULL, NULL, NULL, NULL)                                      \
  X(COS, "cos", 1, FLOAT, OP, cos_f64, cos_f32, NULL, NULL, NULL, NULL)                                      \
  X(TANH, "tanh", 1, FLOAT, OP, tanh_f64, tanh_f32, NULL, NULL, NULL, NULL)                                  \
  X(MAXIMUM, "maximum", 2, ARITH, OP, max_f64, max_f32, max_i64, add_b, NULL, NULL)                          \
  X(MINIMUM, "minimum", 2, ARITH, OP, min_f64, min_f32, min_i64, mul_b, NULL, NULL)                          \
  X(WHERE, "where", 3, WHERE, OP, where_f64, where_f32, where_i64, where_b, NULL, NULL)                      \
  X(LESS, "less", 2, CMP, OP, lt_f64, lt_f32, lt_i64, lt_b, NULL, NULL)                                      \
  X(LESS_EQUAL, "less_equal", 2, CMP, OP, le_f64, le_f32, le_i64, le_b, NULL, NULL)                          \
  X(GREATER, "greater", 2, CMP, OP, gt_f64, gt_f32, gt_i64, gt_b, NULL, NULL)                                \
  X(GREATER_EQUAL, "greater_equal", 2, CMP, OP, ge_f64, ge_f32, ge_i64, ge_b, NULL, NULL)                    \
  X(EQUAL, "equal", 2, CMP, OP, eq_f64, eq_f32, eq_i64, eq_b, NULL, NULL)                                    \
  X(NOT_EQUAL, "not_equal", 2, CMP, OP, ne_f64, ne_f32, ne_i64, ne_b, NULL, NULL)                            \
  X(POWI, "powi", 1, POWI, NONE, powi_f64, powi_f32, powi_i64, NULL, neg_pow_msg, NULL)                      \
  X(ASTYPE, "astype", 1, CAST, CAST, NULL, NULL, NULL, NULL, NULL, NULL)                                     \
  X(FLOOR_DIVIDE, "floor_divide", 2, ARITH_NB, OP, floordiv_f64s, floordiv_f32s, floordiv_i64s, NULL, NULL,  \
    NULL)                                                                                                    \
  LASK_EWOPS_UFUNCS(X)

/* numpy's other common ufuncs (numpy's names; ufuncs.lua offers them as da.NAME). */
#define LASK_EW_NOT_BITWISE                                                                                  \
  "bitwise operations need integer or boolean operands (numpy: not supported for floats)"
#define LASK_EWOPS_UFUNCS(X)                                                                                 \
  X(LOG1P, "log1p", 1, FLOAT, OP, log1p_f64, log1p_f32, NULL, NULL, NULL, NULL)                              \
  X(EXPM1, "expm1", 1, FLOAT, OP, expm1_f64, expm1_f32, NULL, NULL, NULL, NULL)                              \
  X(EXP2, "exp2", 1, FLOAT, OP, exp2_f64, exp2_f32, NULL, NULL, NULL, NULL)                                  \
  X(LOG2, "log2", 1, FLOAT, OP, log2_f64, log2_f32, NULL, NULL, NULL, NULL)                                  \
  X(LOG10, "log10", 1, FLOAT, OP, log10_f64, log10_f32, NULL, NULL, NULL, NULL)                              \
  X(CBRT, "cbrt", 1, FLOAT, OP, cbrt_f64, cbrt_f32, NULL, NULL, NULL, NULL)                                  \
  X(TAN, "tan", 1, FLOAT, OP, tan_f64, tan_f32, NULL, NULL, NULL, NULL)                                      \
  X(ARCSIN, "arcsin", 1, FLOAT, OP, asin_f64, asin_f32, NULL, NULL, NULL, NULL)                              \
  X(ARCCOS, "arccos", 1, FLOAT, OP, acos_f64, acos_f32, NULL, NULL, NULL, NULL)                              \
  X(ARCTAN, "arctan", 1, FLOAT, OP, atan_f64, atan_f32, NULL, NULL, NULL, NULL)                              \
  X(SINH, "sinh", 1, FLOAT, OP, sinh_f64, sinh_f32, NULL, NULL, NULL, NULL)                                  \
  X(COSH, "cosh", 1, FLOAT, OP, cosh_f64, cosh_f32, NULL, NULL, NULL, NULL)                                  \
  X(ARCSINH, "arcsinh", 1, FLOAT, OP, asinh_f64, asinh_f32, NULL, NULL, NULL, NULL)                          \
  X(ARCCOSH, "arccosh", 1, FLOAT, OP, acosh_f64, acosh_f32, NULL, NULL, NULL, NULL)                          \
  X(ARCTANH, "arctanh", 1, FLOAT, OP, atanh_f64, atanh_f32, NULL, NULL, NULL, NULL)                          \
  X(DEG2RAD, "deg2rad", 1, FLOAT, OP, deg2rad_f64, deg2rad_f32, NULL, NULL, NULL, NULL)                      \
  X(RAD2DEG, "rad2deg", 1, FLOAT, OP, rad2deg_f64, rad2deg_f32, NULL, NULL, NULL, NULL)                      \
  X(FLOOR, "floor", 1, FLOAT, OP, floor_f64, floor_f32, NULL, NULL, NULL, NULL)                              \
  X(CEIL, "ceil", 1, FLOAT, OP, ceil_f64, ceil_f32, NULL, NULL, NULL, NULL)                                  \
  X(TRUNC, "trunc", 1, FLOAT, OP, trunc_f64, trunc_f32, NULL, NULL, NULL, NULL)                              \
  X(RINT, "rint", 1, FLOAT, OP, rint_f64, rint_f32, NULL, NULL, NULL, NULL)                                  \
  X(FABS, "fabs", 1, FLOAT, OP, abs_f64, abs_f32, NULL, NULL, NULL, NULL)                                    \
  X(ROUND, "round", 1, ROUND, PARAM, round_f64, round_f32, round_i64, NULL, NULL,                            \
    "numpy round is not supported for booleans")                                                             \
  X(SIGN, "sign", 1, SAME, OP, sign_f64, sign_f32, sign_i64, NULL, NULL,                                     \
    "numpy sign is not supported for booleans")                                                              \
  X(RECIPROCAL, "reciprocal", 1, SAME_NB, OP, recip_f64, recip_f32, recip_i64, NULL, NULL, NULL)             \
  X(ISNAN, "isnan", 1, PRED, OP, isnan_f64, isnan_f32, false_i64, false_b, NULL, NULL)                       \
  X(ISINF, "isinf", 1, PRED, OP, isinf_f64, isinf_f32, false_i64, false_b, NULL, NULL)                       \
  X(ISFINITE, "isfinite", 1, PRED, OP, isfinite_f64, isfinite_f32, true_i64, true_b, NULL, NULL)             \
  X(SIGNBIT, "signbit", 1, PRED, OP, signbit_f64, signbit_f32, signbit_i64, false_b, NULL, NULL)             \
  X(LOGICAL_NOT, "logical_not", 1, PRED, OP, lnot_f64, lnot_f32, lnot_i64, lnot_b, NULL, NULL)               \
  X(LOGICAL_AND, "logical_and", 2, CMP, OP, land_f64, land_f32, land_i64, land_b, NULL, NULL)                \
  X(LOGICAL_OR, "logical_or", 2, CMP, OP, lor_f64, lor_f32, lor_i64, lor_b, NULL, NULL)                      \
  X(LOGICAL_XOR, "logical_xor", 2, CMP, OP, lxor_f64, lxor_f32, lxor_i64, lxor_b, NULL, NULL)                \
  X(BITWISE_AND, "bitwise_and", 2, ARITH, OP, NULL, NULL, band_i64, band_b, NULL, LASK_EW_NOT_BITWISE)       \
  X(BITWISE_OR, "bitwise_or", 2, ARITH, OP, NULL, NULL, bor_i64, bor_b, NULL, LASK_EW_NOT_BITWISE)           \
  X(BITWISE_XOR, "bitwise_xor", 2, ARITH, OP, NULL, NULL, bxor_i64, bxor_b, NULL, LASK_EW_NOT_BITWISE)       \
  X(INVERT, "invert", 1, SAME, OP, NULL, NULL, invert_i64, lnot_b, NULL, LASK_EW_NOT_BITWISE)                \
  X(LEFT_SHIFT, "left_shift", 2, ARITH_NB, OP, NULL, NULL, shl_i64, NULL, NULL, LASK_EW_NOT_BITWISE)         \
  X(RIGHT_SHIFT, "right_shift", 2, ARITH_NB, OP, NULL, NULL, shr_i64, NULL, NULL, LASK_EW_NOT_BITWISE)       \
  X(ARCTAN2, "arctan2", 2, DIV, OP, atan2_f64, atan2_f32, NULL, NULL, NULL, NULL)                            \
  X(HYPOT, "hypot", 2, DIV, OP, hypot_f64, hypot_f32, NULL, NULL, NULL, NULL)                                \
  X(COPYSIGN, "copysign", 2, DIV, OP, copysign_f64, copysign_f32, NULL, NULL, NULL, NULL)                    \
  X(NEXTAFTER, "nextafter", 2, DIV, OP, nextafter_f64, nextafter_f32, NULL, NULL, NULL, NULL)                \
  X(LOGADDEXP, "logaddexp", 2, DIV, OP, logaddexp_f64, logaddexp_f32, NULL, NULL, NULL, NULL)                \
  X(LOGADDEXP2, "logaddexp2", 2, DIV, OP, logaddexp2_f64, logaddexp2_f32, NULL, NULL, NULL, NULL)            \
  X(FMOD, "fmod", 2, ARITH_NB, OP, fmod_f64, fmod_f32, fmod_i64, NULL, NULL, NULL)                           \
  X(FMIN, "fmin", 2, ARITH, OP, fmin_f64, fmin_f32, min_i64, mul_b, NULL, NULL)                              \
  X(FMAX, "fmax", 2, ARITH, OP, fmax_f64, fmax_f32, max_i64, add_b, NULL, NULL)

/* Operator indices into lask_ewops: LASK_EWOP_ADD, ..., and LASK_EWOP_COUNT. */
typedef enum lask_ewop_id {
#define LASK_EWOP_ENUM(ID, ...) LASK_EWOP_##ID,
  LASK_EWOPS(LASK_EWOP_ENUM)
#undef LASK_EWOP_ENUM
      LASK_EWOP_COUNT
} lask_ewop_id;

typedef struct lask_ewop {
  const char *name;
  int arity;
  lask_ew_rule rule;
  int kernel;              /* LASK_EW_KERNEL_*: how the array kernels offer it */
  lask_ew_fn fn[4];        /* indexed by the compute dtype; NULL: unsupported dtype */
  const char *domain_msg;  /* what a domain error means, or NULL */
  const char *unsupported; /* message for a NULL fn, or NULL for the generic one */
} lask_ewop;

/* The table of operators, indexed by lask_ewop_id. */
extern const lask_ewop lask_ewops[LASK_EWOP_COUNT];

/* The operator called name (an exact match), or NULL. */
const lask_ewop *lask_ewop_find(const char *name);

/* The i-th operator (0-based), or NULL past the last. */
const lask_ewop *lask_ewop_at(int i);

/* A value's type as typing sees it: its dtype, and whether it is weak (a Lua number
 * or boolean: numpy's Python scalars, which never widen an array's dtype within a
 * kind). Arrays are strong, 0-d ones too, as in numpy 2 (numpy 1.24 made 0-d
 * arrays weak). */
typedef struct lask_ew_type {
  lask_dtype dt;
  bool weak;
} lask_ew_type;

/* numpy 1.24's promotion of two operand types with value-based scalars: a weak
 * operand only changes the result when its kind (bool < int < float) is higher. */
lask_ew_type lask_ew_promote(lask_ew_type a, lask_ew_type b);

/* The typing rule: the result type of op over operand types t[0..op->arity) (param:
 * the dtype of astype:D) in *res, and the dtype op computes in in *compute. Returns
 * NULL, or why op refuses these operands (op->unsupported, or a generic message
 * written into buf[0..size)). */
const char *lask_ew_result_type(const lask_ewop *op, const lask_ew_param *param, const lask_ew_type *t,
                                lask_ew_type *res, lask_dtype *compute, char *buf, size_t size);

/* The message when op fails on every element for an integer exponent known ahead
 * (pow, or powi:N, with integer operands and a negative exponent: numpy's error), or
 * NULL. The kernels find this element by element; a caller that types before the
 * data exists (lask.array) may refuse the operation at once. */
const char *lask_ew_exponent_refusal(const lask_ewop *op, lask_dtype compute, int64_t exponent);

#endif
