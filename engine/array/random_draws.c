/* random_draws.c — uniform and normal draws from Philox4x32-10, 16 at a time.
 *
 * Draws 2j and 2j+1 of a stream come from the one Philox call of counter
 * (j, stream, 0) under the 64-bit seed (create.c says why: any chunking gives the
 * same numbers). The code is written once, on vectors of 8 lanes (GCC and clang
 * vector extensions), and compiled three times: for AVX-512, for AVX2 and for the
 * baseline (SSE2 on x86-64, whatever the target has elsewhere); the first call picks
 * the best the processor has. Every path does the same IEEE operations in the same
 * order (no fused multiply-add: ISO C mode and the pragma below keep contraction
 * off), so the bits do not depend on the processor. Normal draws are the Box-Muller
 * pair of the two uniforms, with the logarithm, sine and cosine computed here by
 * polynomials (libm's are scalar calls, and differ between versions); they agree with
 * libm to a few units in the last place (tests/c/test_array_kernels.c checks it).
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

/* The baseline: SSE2's 32x32->64 multiply and square root on x86-64; elsewhere plain
 * C on two lanes (the compiler picks the instructions). */
#define RD_BYTES  16
#define RD_SUFFIX base
#if LASK_X86
#define RD_MUL(a, b) ((__typeof__(a))_mm_mul_epu32((__m128i)(a), (__m128i)(b)))
#define RD_SQRT(v)   ((__typeof__(v))_mm_sqrt_pd((__m128d)(v)))
#else
#define RD_MUL(a, b) ((a) * (b))
#define RD_SQRT(v)   sqrt_lanes_base(v)
typedef double sqrt_f64v_base __attribute__((vector_size(16)));
static inline sqrt_f64v_base sqrt_lanes_base(sqrt_f64v_base v) {
  v[0] = sqrt(v[0]), v[1] = sqrt(v[1]);
  return v;
}
#endif
#include "random_draws_lanes.h"
#undef RD_BYTES
#undef RD_SUFFIX
#undef RD_MUL
#undef RD_SQRT

#if LASK_X86
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif
#define RD_BYTES     32
#define RD_SUFFIX    avx2
#define RD_MUL(a, b) ((__typeof__(a))_mm256_mul_epu32((__m256i)(a), (__m256i)(b)))
#define RD_SQRT(v)   ((__typeof__(v))_mm256_sqrt_pd((__m256d)(v)))
#include "random_draws_lanes.h"
#undef RD_BYTES
#undef RD_SUFFIX
#undef RD_MUL
#undef RD_SQRT
#if defined(__clang__)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif
#define RD_BYTES     64
#define RD_SUFFIX    avx512
#define RD_MUL(a, b) ((__typeof__(a))_mm512_mul_epu32((__m512i)(a), (__m512i)(b)))
#define RD_SQRT(v)   ((__typeof__(v))_mm512_sqrt_pd((__m512d)(v)))
#include "random_draws_lanes.h"
#undef RD_BYTES
#undef RD_SUFFIX
#undef RD_MUL
#undef RD_SQRT
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

#define DRAW_ARGS                                                                                            \
  uint64_t seed, uint32_t stream, uint64_t first, int64_t count, int normal, double loc, double scale,       \
      double *out
typedef void draws_fn(DRAW_ARGS);

static draws_fn *path_fn(lask_draws_path path) {
#if LASK_X86
  if (path == LASK_DRAWS_AVX512) return draws_avx512;
  if (path == LASK_DRAWS_AVX2) return draws_avx2;
#endif
  return path == LASK_DRAWS_BASE ? draws_base : NULL;
}

lask_draws_path lask_draws_best(void) {
#if LASK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return LASK_DRAWS_AVX512;
  if (__builtin_cpu_supports("avx2")) return LASK_DRAWS_AVX2;
#endif
  return LASK_DRAWS_BASE;
}

int lask_draws_path_ok(lask_draws_path path) {
  if (!path_fn(path)) return 0;
  lask_draws_path best = lask_draws_best();
  return path == LASK_DRAWS_BASE || (path == LASK_DRAWS_AVX2 && best != LASK_DRAWS_BASE) || path == best;
}

void lask_draws_on(lask_draws_path path, uint64_t seed, uint32_t stream, uint64_t first, int64_t count,
                   int normal, double loc, double scale, double *out) {
  LASK_ASSERT(lask_draws_path_ok(path));
  path_fn(path)(seed, stream, first, count, normal, loc, scale, out);
}

void lask_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  philox_one_base(ctr, (uint64_t)key[1] << 32 | key[0], out);
}
