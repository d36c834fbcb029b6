/* akernels_elementwise.c — the elementwise operators (their tile loops, written once
 * per operator for every dtype it supports) and the elementwise array kernels.
 *
 * Semantics are numpy's over float64, float32, int64 and bool: integer arithmetic
 * wraps (computed unsigned: no undefined overflow), integer mod by zero gives 0,
 * mod has the sign of the divisor (floored, as numpy and Lua), maximum/minimum
 * propagate NaN, bool add/mul/maximum/minimum are or/and/or/and, bool subtract and
 * negative are errors, and integers to negative integer powers are errors.
 *
 * The tile loops are plain counted loops over contiguous memory, written for the
 * vectoriser. GCC's -O2 cost model ("very cheap") refuses any loop that needs an
 * epilogue or a runtime alias check, which is every loop here, so this file asks
 * GCC for its "cheap" model (clang vectorises such loops at -O2 anyway); tiles are
 * long enough (fused.c: 256 elements) for the checks to cost nothing.
 *
 * With operands in L1, a fused program is bound by the vector width rather than by
 * memory, and the build targets baseline x86-64 (SSE2). On x86-64 every tile
 * function is therefore also compiled for AVX2 and picked at load time by the CPU
 * (target_clones: an ifunc). The results are the same bits either way: the loops
 * use only IEEE basic operations, and no FMA (which AVX2 does not imply).
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=cheap")
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"
#include "elementwise.h"

typedef uint8_t boolbyte;

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define LASK_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define LASK_SANITIZED 1
#endif

/* Not under sanitizers: an ifunc resolver runs before their runtime is set up, and
 * ThreadSanitizer crashes at start-up on one. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(LASK_SANITIZED)
#define EW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define EW_CLONES
#endif

#define EW_LOOP(BODY)                                                                                        \
  do {                                                                                                       \
    for (int64_t i = 0; i < n; i++) {                                                                        \
      BODY;                                                                                                  \
    }                                                                                                        \
  } while (0)

/* A binary tile function: o[i] = EXPR over x = a[i], y = b[i], of input type T and output type OT. */
#define EW_BINARY(NAME, T, OT, EXPR)                                                                         \
  EW_CLONES static int NAME(int64_t n, void *out, const void *const *in, const lask_ew_param *p) {           \
    (void)p;                                                                                                 \
    OT *restrict o = out;                                                                                    \
    const T *restrict a = in[0], *restrict b = in[1];                                                        \
    EW_LOOP(T x = a[i]; T y = b[i]; o[i] = (OT)(EXPR));                                                      \
    return 0;                                                                                                \
  }

#define EW_UNARY(NAME, T, EXPR)                                                                              \
  EW_CLONES static int NAME(int64_t n, void *out, const void *const *in, const lask_ew_param *p) {           \
    (void)p;                                                                                                 \
    T *restrict o = out;                                                                                     \
    const T *restrict a = in[0];                                                                             \
    EW_LOOP(T x = a[i]; o[i] = (T)(EXPR));                                                                   \
    return 0;                                                                                                \
  }

/* Wrapping integer arithmetic. */
static inline int64_t wrap_add(int64_t x, int64_t y) { return (int64_t)((uint64_t)x + (uint64_t)y); }
static inline int64_t wrap_sub(int64_t x, int64_t y) { return (int64_t)((uint64_t)x - (uint64_t)y); }
static inline int64_t wrap_mul(int64_t x, int64_t y) { return (int64_t)((uint64_t)x * (uint64_t)y); }

/* numpy's remainder: floored, the divisor's sign; 0 for a zero divisor. */
static inline int64_t mod_i64(int64_t x, int64_t y) {
  if (y == 0 || y == -1) return 0;
  int64_t r = x % y;
  return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
}

static inline double mod_f64(double x, double y) {
  double m = fmod(x, y);
  if (y == 0) return m;
  if (m != 0) return (y < 0) != (m < 0) ? m + y : m;
  return copysign(0.0, y);
}

static inline float mod_f32(float x, float y) {
  float m = fmodf(x, y);
  if (y == 0) return m;
  if (m != 0) return (y < 0) != (m < 0) ? m + y : m;
  return copysignf(0.0f, y);
}

/* Floor division as numpy's floor_divide (its npy_divmod): the quotient rounded
 * toward -inf, computed from fmod so that 1 // 0.1 is 9, as in Python; x / 0 for
 * a zero divisor (inf or nan). */
static inline double floordiv_f64(double x, double y) {
  if (y == 0) return x / y;
  double m = fmod(x, y), d = (x - m) / y;
  if (m != 0 && (y < 0) != (m < 0)) d -= 1.0;
  if (d == 0) return copysign(0.0, x / y);
  double f = floor(d);
  return d - f > 0.5 ? f + 1.0 : f;
}

static inline float floordiv_f32(float x, float y) { return (float)floordiv_f64(x, y); }

/* Integer floor division; 0 for a zero divisor (numpy's result, without its
 * warning); INT64_MIN // -1 wraps to INT64_MIN. */
static inline int64_t floordiv_i64(int64_t x, int64_t y) {
  if (y == 0) return 0;
  if (y == -1) return (int64_t)(0 - (uint64_t)x);
  int64_t q = x / y;
  return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q;
}

/* x^e for e >= 0 by repeated squaring, wrapping. */
static inline int64_t ipow(int64_t x, uint64_t e) {
  uint64_t r = 1, b = (uint64_t)x;
  for (; e; e >>= 1, b *= b)
    if (e & 1) r *= b;
  return (int64_t)r;
}

#define B(v) ((v) != 0)

EW_BINARY(add_f64, double, double, x + y)
EW_BINARY(add_f32, float, float, x + y)
EW_BINARY(add_i64, int64_t, int64_t, wrap_add(x, y))
EW_BINARY(add_b, boolbyte, boolbyte, B(x) | B(y))
EW_BINARY(sub_f64, double, double, x - y)
EW_BINARY(sub_f32, float, float, x - y)
EW_BINARY(sub_i64, int64_t, int64_t, wrap_sub(x, y))
EW_BINARY(mul_f64, double, double, (x) * (y))
EW_BINARY(mul_f32, float, float, (x) * (y))
EW_BINARY(mul_i64, int64_t, int64_t, wrap_mul(x, y))
EW_BINARY(mul_b, boolbyte, boolbyte, B(x) & B(y))
EW_BINARY(div_f64, double, double, x / y)
EW_BINARY(div_f32, float, float, x / y)
EW_BINARY(mod_f64s, double, double, mod_f64(x, y))
EW_BINARY(mod_f32s, float, float, mod_f32(x, y))
EW_BINARY(mod_i64s, int64_t, int64_t, mod_i64(x, y))
EW_BINARY(floordiv_f64s, double, double, floordiv_f64(x, y))
EW_BINARY(floordiv_f32s, float, float, floordiv_f32(x, y))
EW_BINARY(floordiv_i64s, int64_t, int64_t, floordiv_i64(x, y))
EW_BINARY(pow_f64, double, double, pow(x, y))
EW_BINARY(pow_f32, float, float, powf(x, y))
EW_BINARY(max_f64, double, double, ((x >= y) | (x != x)) ? x : y)
EW_BINARY(max_f32, float, float, ((x >= y) | (x != x)) ? x : y)
EW_BINARY(max_i64, int64_t, int64_t, x > y ? x : y)
EW_BINARY(min_f64, double, double, ((x <= y) | (x != x)) ? x : y)
EW_BINARY(min_f32, float, float, ((x <= y) | (x != x)) ? x : y)
EW_BINARY(min_i64, int64_t, int64_t, x < y ? x : y)

/* Integer pow checks its exponents: a negative one is numpy's error. */
static int pow_i64(int64_t n, void *out, const void *const *in, const lask_ew_param *p) {
  (void)p;
  int64_t *restrict o = out;
  const int64_t *restrict a = in[0], *restrict b = in[1];
  for (int64_t i = 0; i < n; i++) {
    if (b[i] < 0) return 1;
    o[i] = ipow(a[i], (uint64_t)b[i]);
  }
  return 0;
}

/* Comparisons: a tile of each dtype in, bools out. */
#define EW_COMPARE(NAME, OP)                                                                                 \
  EW_BINARY(NAME##_f64, double, boolbyte, x OP y)                                                            \
  EW_BINARY(NAME##_f32, float, boolbyte, x OP y)                                                             \
  EW_BINARY(NAME##_i64, int64_t, boolbyte, x OP y)                                                           \
  EW_BINARY(NAME##_b, boolbyte, boolbyte, B(x) OP B(y))

EW_COMPARE(lt, <)
EW_COMPARE(le, <=)
EW_COMPARE(gt, >)
EW_COMPARE(ge, >=)
EW_COMPARE(eq, ==)
EW_COMPARE(ne, !=)

EW_UNARY(neg_f64, double, -x)
EW_UNARY(neg_f32, float, -x)
EW_UNARY(neg_i64, int64_t, wrap_sub(0, x))
EW_UNARY(abs_f64, double, fabs(x))
EW_UNARY(abs_f32, float, fabsf(x))
EW_UNARY(abs_i64, int64_t, x < 0 ? wrap_sub(0, x) : x)
EW_UNARY(abs_b, boolbyte, B(x))
EW_UNARY(exp_f64, double, exp(x))
EW_UNARY(exp_f32, float, expf(x))
EW_UNARY(log_f64, double, log(x))
EW_UNARY(log_f32, float, logf(x))
EW_UNARY(sqrt_f64, double, sqrt(x))
EW_UNARY(sqrt_f32, float, sqrtf(x))
EW_UNARY(sin_f64, double, sin(x))
EW_UNARY(sin_f32, float, sinf(x))
EW_UNARY(cos_f64, double, cos(x))
EW_UNARY(cos_f32, float, cosf(x))
EW_UNARY(tanh_f64, double, tanh(x))
EW_UNARY(tanh_f32, float, tanhf(x))

/* where(c, x, y): the condition tile is bool, x and y in the compute dtype. */
#define EW_WHERE(NAME, T)                                                                                    \
  EW_CLONES static int NAME(int64_t n, void *out, const void *const *in, const lask_ew_param *p) {           \
    (void)p;                                                                                                 \
    T *restrict o = out;                                                                                     \
    const boolbyte *restrict c = in[0];                                                                      \
    const T *restrict a = in[1], *restrict b = in[2];                                                        \
    EW_LOOP(o[i] = c[i] ? a[i] : b[i]);                                                                      \
    return 0;                                                                                                \
  }

EW_WHERE(where_f64, double)
EW_WHERE(where_f32, float)
EW_WHERE(where_i64, int64_t)
EW_WHERE(where_b, boolbyte)

/* powi:N — x^N by repeated multiplication: exact for integers, and for floats the
 * rounding of N-1 products (numpy's pow rounds once; the two differ in the last
 * bits for N >= 3). Small powers get straight loops the compiler vectorises; a
 * negative N is the reciprocal (floats only: typing rejects it for integers). */
#define EW_POWI_FLOAT(NAME, T)                                                                               \
  EW_CLONES static int NAME(int64_t n, void *out, const void *const *in, const lask_ew_param *p) {           \
    T *restrict o = out;                                                                                     \
    const T *restrict a = in[0];                                                                             \
    uint64_t e = p->n < 0 ? 0 - (uint64_t)p->n : (uint64_t)p->n;                                             \
    if (e == 1)                                                                                              \
      EW_LOOP(o[i] = a[i]);                                                                                  \
    else if (e == 2)                                                                                         \
      EW_LOOP(T x = a[i]; o[i] = x * x);                                                                     \
    else if (e == 3)                                                                                         \
      EW_LOOP(T x = a[i]; o[i] = x * x * x);                                                                 \
    else if (e == 4)                                                                                         \
      EW_LOOP(T x = a[i]; T x2 = x * x; o[i] = x2 * x2);                                                     \
    else                                                                                                     \
      for (int64_t i = 0; i < n; i++) {                                                                      \
        T r = 1, b = a[i];                                                                                   \
        for (uint64_t k = e; k; k >>= 1, b *= b)                                                             \
          if (k & 1) r *= b;                                                                                 \
        o[i] = r;                                                                                            \
      }                                                                                                      \
    if (p->n < 0) EW_LOOP(o[i] = (T)1 / o[i]);                                                               \
    return 0;                                                                                                \
  }

EW_POWI_FLOAT(powi_f64, double)
EW_POWI_FLOAT(powi_f32, float)

static int powi_i64(int64_t n, void *out, const void *const *in, const lask_ew_param *p) {
  int64_t *restrict o = out;
  const int64_t *restrict a = in[0];
  if (p->n < 0) return 1;
  for (int64_t i = 0; i < n; i++) o[i] = ipow(a[i], (uint64_t)p->n);
  return 0;
}

/* Indexed by lask_dtype: F64, F32, I64, BOOL. */
#define FNS(f64, f32, i64, b)                                                                                \
  { f64, f32, i64, b }

static const char neg_pow_msg[] = "integers to negative integer powers are not allowed";

static const lask_ewop ops[] = {
    {"add", 2, LASK_EW_ARITH, FNS(add_f64, add_f32, add_i64, add_b), NULL, NULL},
    {"sub", 2, LASK_EW_ARITH, FNS(sub_f64, sub_f32, sub_i64, NULL), NULL,
     "numpy boolean subtract is not supported (use not_equal for xor)"},
    {"mul", 2, LASK_EW_ARITH, FNS(mul_f64, mul_f32, mul_i64, mul_b), NULL, NULL},
    {"div", 2, LASK_EW_DIV, FNS(div_f64, div_f32, NULL, NULL), NULL, NULL},
    {"mod", 2, LASK_EW_ARITH_NB, FNS(mod_f64s, mod_f32s, mod_i64s, NULL), NULL, NULL},
    {"pow", 2, LASK_EW_ARITH_NB, FNS(pow_f64, pow_f32, pow_i64, NULL), neg_pow_msg, NULL},
    {"neg", 1, LASK_EW_SAME, FNS(neg_f64, neg_f32, neg_i64, NULL), NULL,
     "numpy boolean negative is not supported (use equal(x, false) for not)"},
    {"abs", 1, LASK_EW_SAME, FNS(abs_f64, abs_f32, abs_i64, abs_b), NULL, NULL},
    {"exp", 1, LASK_EW_FLOAT, FNS(exp_f64, exp_f32, NULL, NULL), NULL, NULL},
    {"log", 1, LASK_EW_FLOAT, FNS(log_f64, log_f32, NULL, NULL), NULL, NULL},
    {"sqrt", 1, LASK_EW_FLOAT, FNS(sqrt_f64, sqrt_f32, NULL, NULL), NULL, NULL},
    {"sin", 1, LASK_EW_FLOAT, FNS(sin_f64, sin_f32, NULL, NULL), NULL, NULL},
    {"cos", 1, LASK_EW_FLOAT, FNS(cos_f64, cos_f32, NULL, NULL), NULL, NULL},
    {"tanh", 1, LASK_EW_FLOAT, FNS(tanh_f64, tanh_f32, NULL, NULL), NULL, NULL},
    {"maximum", 2, LASK_EW_ARITH, FNS(max_f64, max_f32, max_i64, add_b), NULL, NULL},
    {"minimum", 2, LASK_EW_ARITH, FNS(min_f64, min_f32, min_i64, mul_b), NULL, NULL},
    {"where", 3, LASK_EW_WHERE, FNS(where_f64, where_f32, where_i64, where_b), NULL, NULL},
    {"less", 2, LASK_EW_CMP, FNS(lt_f64, lt_f32, lt_i64, lt_b), NULL, NULL},
    {"less_equal", 2, LASK_EW_CMP, FNS(le_f64, le_f32, le_i64, le_b), NULL, NULL},
    {"greater", 2, LASK_EW_CMP, FNS(gt_f64, gt_f32, gt_i64, gt_b), NULL, NULL},
    {"greater_equal", 2, LASK_EW_CMP, FNS(ge_f64, ge_f32, ge_i64, ge_b), NULL, NULL},
    {"equal", 2, LASK_EW_CMP, FNS(eq_f64, eq_f32, eq_i64, eq_b), NULL, NULL},
    {"not_equal", 2, LASK_EW_CMP, FNS(ne_f64, ne_f32, ne_i64, ne_b), NULL, NULL},
    {"powi", 1, LASK_EW_POWI, FNS(powi_f64, powi_f32, powi_i64, NULL), neg_pow_msg, NULL},
    {"astype", 1, LASK_EW_CAST, FNS(NULL, NULL, NULL, NULL), NULL, NULL},
    {"floor_divide", 2, LASK_EW_ARITH_NB, FNS(floordiv_f64s, floordiv_f32s, floordiv_i64s, NULL), NULL, NULL},
};

#define NOPS ((int)(sizeof ops / sizeof ops[0]))

const lask_ewop *lask_ewop_at(int i) { return i >= 0 && i < NOPS ? &ops[i] : NULL; }

const lask_ewop *lask_ewop_find(const char *name) {
  for (int i = 0; i < NOPS; i++)
    if (strcmp(ops[i].name, name) == 0) return &ops[i];
  return NULL;
}

/* --- the kernels --- */

static lask_status want_args(const lask_kernel *k, int nargs, int want, lask_err *err) {
  if (nargs == want) return LASK_OK;
  return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s expects %d argument%s, got %d", k->name, want,
                      want == 1 ? "" : "s", nargs);
}

/* An operator kernel: k->data is its lask_ewop. */
static lask_status k_op(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                        lask_err *err) {
  const lask_ewop *op = k->data;
  if (want_args(k, nargs, op->arity, err)) return err->code;
  return lask_ew_apply(k->name, op, &(lask_ew_param){0, LASK_F64}, args, nargs, out, err);
}

/* pow(x, n) with an array x (not 0-d: that one is weak and promotes like a scalar)
 * and a small integer scalar n multiplies (powi:n); the result dtype is pow's. */
static lask_status k_pow(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                         lask_err *err) {
  if (want_args(k, nargs, 2, err)) return err->code;
  const lask_ndarray *x = lask_ndarray_of(args[0]);
  if (x && x->ndim > 0 && args[1].type == LASK_TINT && args[1].as.i >= -16 && args[1].as.i <= 16)
    return lask_ew_apply(k->name, lask_ewop_find("powi"), &(lask_ew_param){args[1].as.i, LASK_F64}, args, 1,
                         out, err);
  return lask_ew_apply(k->name, lask_ewop_find("pow"), &(lask_ew_param){0, LASK_F64}, args, 2, out, err);
}

/* astype(x, dtype) */
static lask_status k_astype(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                            lask_err *err) {
  lask_ew_param p = {0, LASK_F64};
  if (want_args(k, nargs, 2, err)) return err->code;
  if (!lask_isa(args[1], &lask_str_class) || !lask_dtype_parse(((const lask_str *)args[1].as.o)->data, &p.dt))
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE,
                        "astype: argument 2 must be a dtype name (float64, float32, int64, bool), got a %s",
                        lask_typename(args[1]));
  return lask_ew_apply(k->name, lask_ewop_find("astype"), &p, args, 1, out, err);
}

/* fused(program, x1, x2, ...) */
static lask_status k_fused(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                           lask_err *err) {
  if (nargs < 1 || !lask_isa(args[0], &lask_str_class))
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: argument 1 must be the program (a string)",
                        k->name);
  return lask_fused_eval_program(k->name, ((const lask_str *)args[0].as.o)->data, args + 1, nargs - 1, out,
                                 err);
}

#define OPK(name, i)                                                                                         \
  { {&lask_kernel_class, LASK_REFS_STATIC}, name, k_op, (void *)&ops[i], NULL, NULL }

/* One kernel per operator (index into ops[]), but powi (reached through pow and
 * fused programs), and astype, which takes its dtype as an argument. */
static const lask_kernel kernels[] = {
    OPK("add", 0),
    OPK("sub", 1),
    OPK("mul", 2),
    OPK("div", 3),
    OPK("mod", 4),
    LASK_KERNEL_STATIC("pow", k_pow),
    OPK("neg", 6),
    OPK("abs", 7),
    OPK("exp", 8),
    OPK("log", 9),
    OPK("sqrt", 10),
    OPK("sin", 11),
    OPK("cos", 12),
    OPK("tanh", 13),
    OPK("maximum", 14),
    OPK("minimum", 15),
    OPK("where", 16),
    OPK("less", 17),
    OPK("less_equal", 18),
    OPK("greater", 19),
    OPK("greater_equal", 20),
    OPK("equal", 21),
    OPK("not_equal", 22),
    LASK_KERNEL_STATIC("astype", k_astype),
    LASK_KERNEL_STATIC("fused", k_fused),
    OPK("floor_divide", 25),
};

#define NKERNELS ((int)(sizeof kernels / sizeof kernels[0]))

const lask_kernel *lask_akernels_elementwise(int i) { return i >= 0 && i < NKERNELS ? &kernels[i] : NULL; }
