/* random_draws.c — uniform and normal draws from Philox4x32-10, many at a time.
 *
 * Draws 2j and 2j+1 of a stream come from the one Philox call of counter
 * (j, stream, 0) under the 64-bit seed (create.c says why: any chunking gives the
 * same numbers). The code is written once, on vectors of 64-bit lanes (GCC and clang
 * vector extensions), a step working on several vectors side by side, and compiled
 * three times: for AVX-512 (F and DQ), for AVX2 and for the baseline (SSE2 on x86-64,
 * whatever the target has elsewhere); lask_draws_best picks the best the processor
 * has. Every path does the same IEEE operations in the same order, with fused
 * multiply-adds where the source says so and nowhere else (ISO C mode and the pragma
 * below keep the compilers from contracting on their own; the baseline's are libm's
 * correctly rounded fma), so the bits depend neither on the processor nor on the
 * compiler. Normal draws are the Box-Muller pair of the two uniforms, with the
 * logarithm, sine and cosine computed here by fdlibm's minimax polynomials (libm's
 * are scalar calls, and differ between versions); they agree with libm to a few
 * units in the last place (tests/c/test_array_kernels.c checks it).
 */
#include "random_draws.h"

#include "core/check.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LASK_X86 1
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* GCC: off already in ISO C mode (-std=c11) */
#endif

#define LO32  0xffffffffu
#define MAGIC 0x4330000000000000u /* the bits of 2^52: 2^52 + v for v < 2^52 */

/* The loops a step runs over its vectors and rounds, unrolled so that the vectors stay
 * in registers. */
#if defined(__clang__)
#define RD_UNROLL _Pragma("unroll")
#else
#define RD_UNROLL _Pragma("GCC unroll 16")
#endif

/* Lanes below 2^53 as doubles, exactly, without a conversion instruction: two halves
 * below 2^32, each 2^52 + h read as a double minus 2^52. */
#define RD_U53_HALVES(v, f64v)                                                                               \
  (((f64v)(((v) >> 32) | MAGIC) - 0x1p52) * 0x1p32 + ((f64v)(((v)&LO32) | MAGIC) - 0x1p52))

/* RD_K, the vectors a step works on: enough independent chains for the processor to
 * overlap, as the registers allow (16 of SSE2 and AVX2, 32 of AVX-512; on AVX-512,
 * 8 vectors against 4: 0.40 -> 0.34 ns a uniform draw, 0.85 -> 0.77 a normal one,
 * in spite of some spilling).
 *
 * The baseline: SSE2's 32x32->64 multiply and square root on x86-64; elsewhere plain
 * C on two lanes (the compiler picks the instructions). The fused multiply-adds are
 * libm's fma, lane by lane (correctly rounded: the bits of the hardware's). */
#define RD_BYTES  16
#define RD_K      2
#define RD_SUFFIX base
typedef double base_f64v __attribute__((vector_size(16)));
static inline base_f64v fma_lanes_base(base_f64v a, base_f64v b, base_f64v c) {
  return (base_f64v){fma(a[0], b[0], c[0]), fma(a[1], b[1], c[1])};
}
#define RD_FMA(a, b, c) fma_lanes_base(a, b, c)
#define RD_U53(v)       RD_U53_HALVES(v, base_f64v)
#if LASK_X86
#define RD_MUL(a, b) ((__typeof__(a))_mm_mul_epu32((__m128i)(a), (__m128i)(b)))
#define RD_SQRT(v)   ((__typeof__(v))_mm_sqrt_pd((__m128d)(v)))
#else
#define RD_MUL(a, b) (((a)&LO32) * ((b)&LO32))
#define RD_SQRT(v)   sqrt_lanes_base(v)
static inline base_f64v sqrt_lanes_base(base_f64v v) { return (base_f64v){sqrt(v[0]), sqrt(v[1])}; }
#endif
#include "random_draws_lanes.h"
#undef RD_BYTES
#undef RD_K
#undef RD_SUFFIX
#undef RD_MUL
#undef RD_SQRT
#undef RD_FMA
#undef RD_U53

#if LASK_X86
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define RD_BYTES        32
#define RD_K            4
#define RD_SUFFIX       avx2
#define RD_MUL(a, b)    ((__typeof__(a))_mm256_mul_epu32((__m256i)(a), (__m256i)(b)))
#define RD_SQRT(v)      ((__typeof__(v))_mm256_sqrt_pd((__m256d)(v)))
#define RD_FMA(a, b, c) ((__typeof__(a))_mm256_fmadd_pd((__m256d)(a), (__m256d)(b), (__m256d)(c)))
#define RD_U53(v)       RD_U53_HALVES(v, f64v_avx2)
#include "random_draws_lanes.h"
#undef RD_BYTES
#undef RD_K
#undef RD_SUFFIX
#undef RD_MUL
#undef RD_SQRT
#undef RD_FMA
#undef RD_U53
#if defined(__clang__)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,fma"))), apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,fma")
#endif
#define RD_BYTES        64
#define RD_K            8
#define RD_SUFFIX       avx512
#define RD_MUL(a, b)    ((__typeof__(a))_mm512_mul_epu32((__m512i)(a), (__m512i)(b)))
#define RD_SQRT(v)      ((__typeof__(v))_mm512_sqrt_pd((__m512d)(v)))
#define RD_FMA(a, b, c) ((__typeof__(a))_mm512_fmadd_pd((__m512d)(a), (__m512d)(b), (__m512d)(c)))
#define RD_U53(v)       __builtin_convertvector((i64v_avx512)(v), f64v_avx512) /* vcvtqq2pd: exact */
#include "random_draws_lanes.h"
#undef RD_BYTES
#undef RD_K
#undef RD_SUFFIX
#undef RD_MUL
#undef RD_SQRT
#undef RD_FMA
#undef RD_U53
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

#define DRAW_ARGS                                                                                            \
  const uint64_t rk[20], uint32_t stream, uint64_t first, int64_t count, int normal, double loc,             \
      double scale, double *out
typedef void draws_fn(DRAW_ARGS);
typedef void words_fn(const uint32_t (*w)[4], int64_t n, int normal, double loc, double scale, double *out);

static draws_fn *path_fn(lask_draws_path path) {
#if LASK_X86
  if (path == LASK_DRAWS_AVX512) return draws_avx512;
  if (path == LASK_DRAWS_AVX2) return draws_avx2;
#endif
  return path == LASK_DRAWS_BASE ? draws_base : NULL;
}

static words_fn *path_words_fn(lask_draws_path path) {
#if LASK_X86
  if (path == LASK_DRAWS_AVX512) return of_words_avx512;
  if (path == LASK_DRAWS_AVX2) return of_words_avx2;
#endif
  return of_words_base;
}

int lask_draws_path_ok(lask_draws_path path) {
  if (!path_fn(path)) return 0;
#if LASK_X86
  __builtin_cpu_init();
  int fma = __builtin_cpu_supports("fma");
  if (path == LASK_DRAWS_AVX512)
    return fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  if (path == LASK_DRAWS_AVX2) return fma && __builtin_cpu_supports("avx2");
#endif
  return 1;
}

lask_draws_path lask_draws_best(void) {
  if (lask_draws_path_ok(LASK_DRAWS_AVX512)) return LASK_DRAWS_AVX512;
  if (lask_draws_path_ok(LASK_DRAWS_AVX2)) return LASK_DRAWS_AVX2;
  return LASK_DRAWS_BASE;
}

/* Philox's round keys of seed: round r adds r times Weyl's constants to each half. */
static void round_keys(uint64_t seed, uint64_t rk[20]) {
  for (uint64_t r = 0; r < 10; r++) {
    rk[2 * r] = (seed + r * 0x9E3779B9u) & LO32;
    rk[2 * r + 1] = ((seed >> 32) + r * 0xBB67AE85u) & LO32;
  }
}

void lask_draws_on(lask_draws_path path, uint64_t seed, uint32_t stream, uint64_t first, int64_t count,
                   int normal, double loc, double scale, double *out) {
  LASK_ASSERT(lask_draws_path_ok(path));
  uint64_t rk[20];
  round_keys(seed, rk);
  path_fn(path)(rk, stream, first, count, normal, loc, scale, out);
}

void lask_draws_of_words(lask_draws_path path, const uint32_t (*words)[4], int64_t n, int normal, double loc,
                         double scale, double *out) {
  LASK_ASSERT(lask_draws_path_ok(path));
  path_words_fn(path)(words, n, normal, loc, scale, out);
}

void lask_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  uint64_t rk[20];
  round_keys((uint64_t)key[1] << 32 | key[0], rk);
  philox_one_base(ctr, rk, out);
}
