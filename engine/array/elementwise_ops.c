/* elementwise_ops.c — the elementwise operators (elementwise_ops.h): their tile
 * loops, written once per operator for every dtype it supports, their table, made
 * from the list LASK_EWOPS, and their typing rule.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elementwise_ops.h"

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
 * negative N is the reciprocal (floats only: for integers it is a domain error,
 * which lask.array reports before running, lask_ew_exponent_refusal). */
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

/* --- numpy's other common ufuncs (LASK_EWOPS_UFUNCS) --- */

/* A unary tile function with input type T and output type OT. */
#define EW_UNARY_TO(NAME, T, OT, EXPR)                                                                       \
  EW_CLONES static int NAME(int64_t n, void *out, const void *const *in, const lask_ew_param *p) {           \
    (void)p;                                                                                                 \
    OT *restrict o = out;                                                                                    \
    const T *restrict a = in[0];                                                                             \
    EW_LOOP(T x = a[i]; o[i] = (OT)(EXPR));                                                                  \
    return 0;                                                                                                \
  }

/* A float function: f64 with F, f32 with F##f. */
#define EW_MATH(NAME, F)                                                                                     \
  EW_UNARY(NAME##_f64, double, F(x))                                                                         \
  EW_UNARY(NAME##_f32, float, F##f(x))

EW_MATH(log1p, log1p)
EW_MATH(expm1, expm1)
EW_MATH(exp2, exp2)
EW_MATH(log2, log2)
EW_MATH(log10, log10)
EW_MATH(cbrt, cbrt)
EW_MATH(tan, tan)
EW_MATH(asin, asin)
EW_MATH(acos, acos)
EW_MATH(atan, atan)
EW_MATH(sinh, sinh)
EW_MATH(cosh, cosh)
EW_MATH(asinh, asinh)
EW_MATH(acosh, acosh)
EW_MATH(atanh, atanh)
EW_MATH(floor, floor)
EW_MATH(ceil, ceil)
EW_MATH(trunc, trunc)
EW_MATH(rint, rint)

#define EW_PI 3.141592653589793238462643383279502884
EW_UNARY(deg2rad_f64, double, x *(EW_PI / 180.0))
EW_UNARY(deg2rad_f32, float, x *(float)(EW_PI / 180.0))
EW_UNARY(rad2deg_f64, double, x *(180.0 / EW_PI))
EW_UNARY(rad2deg_f32, float, x *(float)(180.0 / EW_PI))

/* sign: -1, 0 or 1 (+0 for either zero, NaN for NaN, as numpy). */
EW_UNARY(sign_f64, double, x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : x)
EW_UNARY(sign_f32, float, x > 0 ? 1.0f : x < 0 ? -1.0f : x == 0 ? 0.0f : x)
EW_UNARY(sign_i64, int64_t, (x > 0) - (x < 0))

/* reciprocal: integers divide 1 by x, truncating (1/0 is INT64_MIN, numpy's result on x86). */
EW_UNARY(recip_f64, double, 1.0 / x)
EW_UNARY(recip_f32, float, 1.0f / x)
EW_UNARY(recip_i64, int64_t, x == 0 ? INT64_MIN : x == 1 || x == -1 ? x : 0)

/* Predicates: a tile of the operand's dtype in, bools out. */
EW_UNARY_TO(isnan_f64, double, boolbyte, x != x)
EW_UNARY_TO(isnan_f32, float, boolbyte, x != x)
EW_UNARY_TO(isinf_f64, double, boolbyte, fabs(x) == INFINITY)
EW_UNARY_TO(isinf_f32, float, boolbyte, fabsf(x) == INFINITY)
EW_UNARY_TO(isfinite_f64, double, boolbyte, x - x == 0)
EW_UNARY_TO(isfinite_f32, float, boolbyte, x - x == 0)
EW_UNARY_TO(false_i64, int64_t, boolbyte, 0 * x)
EW_UNARY_TO(false_b, boolbyte, boolbyte, 0 * x)
EW_UNARY_TO(true_i64, int64_t, boolbyte, 1 + 0 * x)
EW_UNARY_TO(true_b, boolbyte, boolbyte, 1 + 0 * x)
EW_UNARY_TO(signbit_f64, double, boolbyte, signbit(x) != 0)
EW_UNARY_TO(signbit_f32, float, boolbyte, signbit(x) != 0)
EW_UNARY_TO(signbit_i64, int64_t, boolbyte, x < 0)
EW_UNARY_TO(lnot_f64, double, boolbyte, x == 0)
EW_UNARY_TO(lnot_f32, float, boolbyte, x == 0)
EW_UNARY_TO(lnot_i64, int64_t, boolbyte, x == 0)
EW_UNARY_TO(lnot_b, boolbyte, boolbyte, x == 0)

/* Logical operators: any dtype, truth as x != 0 (NaN is true, as in numpy). */
#define EW_LOGICAL(NAME, OP)                                                                                 \
  EW_BINARY(NAME##_f64, double, boolbyte, (x != 0) OP(y != 0))                                               \
  EW_BINARY(NAME##_f32, float, boolbyte, (x != 0) OP(y != 0))                                                \
  EW_BINARY(NAME##_i64, int64_t, boolbyte, (x != 0) OP(y != 0))                                              \
  EW_BINARY(NAME##_b, boolbyte, boolbyte, (x != 0) OP(y != 0))

EW_LOGICAL(land, &)
EW_LOGICAL(lor, |)
EW_LOGICAL(lxor, ^)

/* Bitwise operators on integers and bools; shifts as numpy's (a shift by 64 or more,
 * or by a negative amount, gives 0, or -1 for a negative x shifted right). */
EW_BINARY(band_i64, int64_t, int64_t, x &y)
EW_BINARY(band_b, boolbyte, boolbyte, B(x) & B(y))
EW_BINARY(bor_i64, int64_t, int64_t, x | y)
EW_BINARY(bor_b, boolbyte, boolbyte, B(x) | B(y))
EW_BINARY(bxor_i64, int64_t, int64_t, x ^ y)
EW_BINARY(bxor_b, boolbyte, boolbyte, B(x) ^ B(y))
EW_UNARY(invert_i64, int64_t, ~x)
EW_BINARY(shl_i64, int64_t, int64_t, (uint64_t)y < 64 ? (int64_t)((uint64_t)x << (uint64_t)y) : 0)
EW_BINARY(shr_i64, int64_t, int64_t, (uint64_t)y < 64 ? x >> (uint64_t)y : (x < 0 ? -1 : 0))

/* log(exp(x) + exp(y)) without overflow, as numpy's npy_logaddexp. */
static inline double logaddexp_d(double x, double y) {
  if (x == y) return x + 0.693147180559945309417232121458176568; /* handles infinities of one sign */
  double t = x - y;
  return t > 0 ? x + log1p(exp(-t)) : t <= 0 ? y + log1p(exp(t)) : t;
}

static inline double logaddexp2_d(double x, double y) {
  const double log2e = 1.442695040888963407359924681001892137;
  if (x == y) return x + 1;
  double t = x - y;
  return t > 0 ? x + log1p(exp2(-t)) * log2e : t <= 0 ? y + log1p(exp2(t)) * log2e : t;
}

/* C's fmod for integers: the dividend's sign; 0 for a zero divisor (numpy's result). */
static inline int64_t fmod_i64s(int64_t x, int64_t y) { return y == 0 || y == -1 ? 0 : x % y; }

EW_BINARY(atan2_f64, double, double, atan2(x, y))
EW_BINARY(atan2_f32, float, float, atan2f(x, y))
EW_BINARY(hypot_f64, double, double, hypot(x, y))
EW_BINARY(hypot_f32, float, float, hypotf(x, y))
EW_BINARY(copysign_f64, double, double, copysign(x, y))
EW_BINARY(copysign_f32, float, float, copysignf(x, y))
EW_BINARY(nextafter_f64, double, double, nextafter(x, y))
EW_BINARY(nextafter_f32, float, float, nextafterf(x, y))
EW_BINARY(logaddexp_f64, double, double, logaddexp_d(x, y))
EW_BINARY(logaddexp_f32, float, float, logaddexp_d(x, y))
EW_BINARY(logaddexp2_f64, double, double, logaddexp2_d(x, y))
EW_BINARY(logaddexp2_f32, float, float, logaddexp2_d(x, y))
EW_BINARY(fmod_f64, double, double, fmod(x, y))
EW_BINARY(fmod_f32, float, float, fmodf(x, y))
EW_BINARY(fmod_i64, int64_t, int64_t, fmod_i64s(x, y))
EW_BINARY(fmin_f64, double, double, fmin(x, y))
EW_BINARY(fmin_f32, float, float, fminf(x, y))
EW_BINARY(fmax_f64, double, double, fmax(x, y))
EW_BINARY(fmax_f32, float, float, fmaxf(x, y))

/* round:D — numpy's around: half to even (rint) after scaling by 10^D, in the
 * operand's dtype; integers are unchanged for D >= 0 and go through float64 for
 * D < 0, as in numpy (150 to -2 decimals is 200, 250 is 200). */
static double pow10_d(int64_t d) {
  double r = 1;
  for (int64_t k = 0; k < d && r < INFINITY; k++) r *= 10;
  return r;
}

#define EW_ROUND_FLOAT(NAME, T, RINT)                                                                        \
  static int NAME(int64_t n, void *out, const void *const *in, const lask_ew_param *p) {                     \
    T *restrict o = out;                                                                                     \
    const T *restrict a = in[0];                                                                             \
    T f = (T)pow10_d(p->n < 0 ? -p->n : p->n);                                                               \
    if (p->n >= 0)                                                                                           \
      EW_LOOP(o[i] = RINT(a[i] * f) / f);                                                                    \
    else                                                                                                     \
      EW_LOOP(o[i] = RINT(a[i] / f) * f);                                                                    \
    return 0;                                                                                                \
  }

EW_ROUND_FLOAT(round_f64, double, rint)
EW_ROUND_FLOAT(round_f32, float, rintf)

static int round_i64(int64_t n, void *out, const void *const *in, const lask_ew_param *p) {
  int64_t *restrict o = out;
  const int64_t *restrict a = in[0];
  if (p->n >= 0) {
    memcpy(o, a, (size_t)n * sizeof *o);
    return 0;
  }
  double f = pow10_d(-p->n);
  for (int64_t i = 0; i < n; i++) {
    double r = rint((double)a[i] / f) * f;
    o[i] = r >= -9.2233720368547758e18 && r < 9.2233720368547758e18 ? (int64_t)r : INT64_MIN;
  }
  return 0;
}

static const char neg_pow_msg[] = "integers to negative integer powers are not allowed";

/* The tile functions are indexed by lask_dtype: F64, F32, I64, BOOL. */
const lask_ewop lask_ewops[LASK_EWOP_COUNT] = {
#define EWOP_ENTRY(ID, NAME, ARITY, RULE, KERNEL, F64, F32, I64, BOOL, DOMAIN, UNSUPPORTED)                  \
  [LASK_EWOP_##ID] = {NAME,   ARITY,      LASK_EW_##RULE, LASK_EW_KERNEL_##KERNEL, {F64, F32, I64, BOOL},    \
                      DOMAIN, UNSUPPORTED},
    LASK_EWOPS(EWOP_ENTRY)
#undef EWOP_ENTRY
};

const lask_ewop *lask_ewop_at(int i) { return i >= 0 && i < LASK_EWOP_COUNT ? &lask_ewops[i] : NULL; }

const lask_ewop *lask_ewop_find(const char *name) {
  for (int i = 0; i < LASK_EWOP_COUNT; i++)
    if (strcmp(lask_ewops[i].name, name) == 0) return &lask_ewops[i];
  return NULL;
}

/* --- typing --- */

static int kind(lask_dtype dt) { return dt == LASK_BOOL ? 0 : dt == LASK_I64 ? 1 : 2; }

lask_ew_type lask_ew_promote(lask_ew_type a, lask_ew_type b) {
  if (a.weak == b.weak) return (lask_ew_type){lask_dtype_promote(a.dt, b.dt), a.weak};
  lask_ew_type strong = a.weak ? b : a, weak = a.weak ? a : b;
  return (lask_ew_type){kind(weak.dt) > kind(strong.dt) ? lask_dtype_promote(strong.dt, weak.dt) : strong.dt,
                        false};
}

const char *lask_ew_result_type(const lask_ewop *op, const lask_ew_param *param, const lask_ew_type *t,
                                lask_ew_type *res, lask_dtype *compute, char *buf, size_t size) {
  lask_ew_type r = op->arity >= 2 ? lask_ew_promote(t[0], t[1]) : t[0];
  lask_dtype cd = r.dt;
  switch (op->rule) {
  case LASK_EW_ARITH: break;
  case LASK_EW_ARITH_NB: cd = cd == LASK_BOOL ? LASK_I64 : cd; break;
  case LASK_EW_DIV: cd = kind(cd) < 2 ? LASK_F64 : cd; break;
  case LASK_EW_FLOAT: cd = cd == LASK_F32 ? LASK_F32 : LASK_F64; break;
  case LASK_EW_SAME: break;
  case LASK_EW_POWI: cd = cd == LASK_BOOL ? LASK_I64 : cd; break;
  case LASK_EW_CMP: break;
  case LASK_EW_SAME_NB: cd = cd == LASK_BOOL ? LASK_I64 : cd; break;
  case LASK_EW_PRED: break;
  case LASK_EW_ROUND: break;
  case LASK_EW_WHERE: r = lask_ew_promote(t[1], t[2]), r.weak = r.weak && t[0].weak, cd = r.dt; break;
  case LASK_EW_CAST: /* a cast scalar stays a scalar (numpy's np.float32(x) is weak too) */
    *compute = cd;
    *res = (lask_ew_type){param->dt, r.weak};
    return NULL;
  }
  if (!op->fn[cd]) {
    if (op->unsupported) return op->unsupported;
    snprintf(buf, size, "not supported for dtype %s", lask_dtype_name(cd));
    return buf;
  }
  *compute = cd;
  *res = (lask_ew_type){op->rule == LASK_EW_CMP || op->rule == LASK_EW_PRED ? LASK_BOOL : cd, r.weak};
  return NULL;
}

const char *lask_ew_exponent_refusal(const lask_ewop *op, lask_dtype compute, int64_t exponent) {
  bool is_pow = op == &lask_ewops[LASK_EWOP_POW] || op == &lask_ewops[LASK_EWOP_POWI];
  return is_pow && compute == LASK_I64 && exponent < 0 ? op->domain_msg : NULL;
}
