/* test_random_draws.c — the draws of da.random.random and da.random.normal
 * (engine/array/random_draws.c): normal draws against the exact Box-Muller value
 * (long double libm) over many random draws and at the edges of every range the
 * code reduces (the logarithm's exponent and mantissa, the angle's quarter turns), on
 * every compiled path this processor runs; and the stream pinned, so that a change of
 * the numbers (or a compiler that gives other bits) fails here.
 * (test_array_kernels.c has Philox's known answers, the paths against each other and
 * chunking independence.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array/random_draws.h"

/* The bound checked: |draw - exact| <= TOL * max(1, r), r the radius (measured: 4.1e-16 r
 * at most over 1e7 draws, 1.3e-15 absolute). */
#define TOL 1e-15

/* The uniform in [0, 1) of two Philox words, as the draws make it. */
static long double unit_of(uint32_t hi, uint32_t lo) {
  return (long double)((((uint64_t)hi << 32) | lo) >> 11) * 0x1p-53L;
}

/* Checks 2n normal draws (loc + scale z) of words against long double Box-Muller;
 * gives the largest error seen, in units of max(1, r). */
static double check_normal(const uint32_t (*w)[4], int64_t n, double loc, double scale, const double *z) {
  double worst = 0;
  for (int64_t i = 0; i < n; i++) {
    long double r = sqrtl(-2.0L * logl(1.0L - unit_of(w[i][0], w[i][1])));
    long double t = 6.283185307179586476925286766559L * unit_of(w[i][2], w[i][3]);
    long double ref[2] = {r * cosl(t), r * sinl(t)};
    for (int k = 0; k < 2; k++) {
      double err = (double)fabsl((long double)z[2 * i + k] - (loc + scale * ref[k])) / fabs(scale);
      double rel = err / (r > 1 ? (double)r : 1.0);
      if (rel > worst) worst = rel;
      if (!(rel <= TOL))
        fail_msg("pair %lld (words %08x %08x %08x %08x) draw %d: %.17g, exact %.17Lg (error %.3g r)",
                 (long long)i, w[i][0], w[i][1], w[i][2], w[i][3], k, z[2 * i + k], loc + scale * ref[k],
                 rel);
    }
  }
  return worst;
}

/* Draws of every path this processor runs equal the base path's, bit for bit. */
static void check_paths(const uint32_t (*w)[4], int64_t n, double loc, double scale, const double *base) {
  double *other = malloc((size_t)(2 * n) * sizeof *other);
  assert_non_null(other);
  for (int p = LASK_DRAWS_AVX2; p <= LASK_DRAWS_AVX512; p++) {
    if (!lask_draws_path_ok((lask_draws_path)p)) continue;
    lask_draws_of_words((lask_draws_path)p, w, n, 1, loc, scale, other);
    assert_memory_equal(base, other, (size_t)(2 * n) * sizeof *base);
  }
  free(other);
}

/* Random draws of two seeds, standard and shifted/scaled, against the exact value. */
static void test_normal_draws_match_the_exact_box_muller(void **state) {
  (void)state;
  enum { N = 400000 };
  uint32_t(*w)[4] = malloc(N * sizeof *w);
  double *z = malloc(2 * N * sizeof *z), worst = 0;
  assert_non_null(w), assert_non_null(z);
  const uint64_t seeds[] = {0, 0x9e3779b97f4a7c15u};
  for (int s = 0; s < 2; s++) {
    uint32_t key[2] = {(uint32_t)seeds[s], (uint32_t)(seeds[s] >> 32)};
    for (uint64_t j = 0; j < N; j++) {
      uint32_t ctr[4] = {(uint32_t)j, (uint32_t)(j >> 32), 1, 0};
      lask_philox4x32_10(ctr, key, w[j]);
    }
    const double locs[] = {0, -1.5}, scales[] = {1, 3};
    for (int c = 0; c < 2; c++) {
      lask_draws_on(LASK_DRAWS_BASE, seeds[s], 1, 0, 2 * N, 1, locs[c], scales[c], z);
      double e = check_normal((const uint32_t(*)[4])w, N, locs[c], scales[c], z);
      worst = e > worst ? e : worst;
      check_paths((const uint32_t(*)[4])w, N, locs[c], scales[c], z);
    }
  }
  print_message("normal draws: largest error %.3g r over %d draws\n", worst, 8 * N);
  free(w), free(z);
}

/* Adds the uniform a of 1 - a = v 2^-53 (as its 53-bit integer) to as[0..n) when v is
 * in range; gives the new n. */
static int add_uniform(uint64_t *as, int n, int64_t v) {
  const int64_t top = 1ll << 53;
  if (v >= 1 && v <= top) as[n++] = (uint64_t)(top - v);
  return n;
}

/* Uniforms at the ends of the ranges: the radius's 1 - a at 1 (a = 0), at 2^-53 (the
 * largest radius), at and beside sqrt(1/2) 2^-k (where the logarithm's mantissa
 * wraps) for every exponent; the angle's b at 0, 1 - 2^-53 and at and beside every
 * eighth of a turn (where the quarter turn changes). */
static void test_normal_draws_at_the_edges(void **state) {
  (void)state;
  uint64_t as[600], bs[40];
  int na = 0, nb = 0;
  const int64_t top = 1ll << 53;
  na = add_uniform(as, na, top);  /* a = 0 first */
  for (int k = 0; k <= 53; k++) { /* 1 - a = v 2^-53 near sqrt(1/2) 2^-k and 2^-k */
    int64_t edge = (int64_t)(ldexp(sqrt(0.5), -k) * 0x1p53), p = top >> k;
    for (int d = -2; d <= 2; d++) na = add_uniform(as, na, edge + d);
    for (int d = -1; d <= 1; d++) na = add_uniform(as, na, p + d);
  }
  na = add_uniform(as, na, 3), na = add_uniform(as, na, top / 3);
  bs[nb++] = 0, bs[nb++] = (1ull << 53) - 1;
  for (int e = 1; e < 8; e++)
    for (int d = -1; d <= 1; d++) bs[nb++] = ((uint64_t)e << 50) + (uint64_t)d;
  int64_t n = (int64_t)na * nb;
  uint32_t(*w)[4] = malloc((size_t)n * sizeof *w);
  double *z = malloc((size_t)(2 * n) * sizeof *z);
  assert_non_null(w), assert_non_null(z);
  for (int i = 0; i < na; i++)
    for (int j = 0; j < nb; j++) {
      uint64_t a = as[i] << 11, b = bs[j] << 11 | (uint64_t)(i * 7 + j) % 2048; /* low bits dropped */
      uint32_t *q = w[i * nb + j];
      q[0] = (uint32_t)(a >> 32), q[1] = (uint32_t)a, q[2] = (uint32_t)(b >> 32), q[3] = (uint32_t)b;
    }
  lask_draws_of_words(LASK_DRAWS_BASE, (const uint32_t(*)[4])w, n, 1, 0.0, 1.0, z);
  double worst = check_normal((const uint32_t(*)[4])w, n, 0.0, 1.0, z);
  check_paths((const uint32_t(*)[4])w, n, 0.0, 1.0, z);
  for (int j = 0; j < nb; j++) assert_true(z[2 * j] == 0 && z[2 * j + 1] == 0); /* a = 0: radius 0 */
  print_message("normal draws at the edges: %lld pairs, largest error %.3g r\n", (long long)n, worst);
  free(w), free(z);
}

/* FNV-1a of the bits of count draws. */
static uint64_t hash_draws(const double *x, int64_t count) {
  uint64_t h = 0xcbf29ce484222325u;
  for (int64_t i = 0; i < count; i++) {
    uint64_t b;
    memcpy(&b, &x[i], sizeof b);
    for (int k = 0; k < 8; k++) h = (h ^ ((b >> (8 * k)) & 0xff)) * 0x100000001b3u;
  }
  return h;
}

/* The numbers themselves: a few draws and a hash of 5000 (from an odd start, so that the
 * ends go through the partial steps), on every path this processor runs. Every compiler
 * must give these bits; a deliberate change of the stream changes them here and is
 * documented in README.md ("Random numbers"). */
static void test_draws_are_pinned(void **state) {
  (void)state;
  enum { N = 5000 };
  static double x[N];
  static const double first_uniform[4] = {0x1.39d5e0a6efea9p-1, 0x1.2bf50ad5742bp-4, 0x1.f9b6424ea774dp-1,
                                          0x1.071eb4dce89cp-1};
  static const double first_normal[4] = {0x1.05f66b6d391d4p-6, 0x1.215e9675a4ce8p-3, 0x1.a7c09e39c5571p-2,
                                         0x1.4b6a9d033d717p-2};
  /* uniform: the same numbers as ever; normal: new with the fused multiply-adds (README) */
  const uint64_t hashes[2] = {0x4504f53e6642d96eu, 0xcb46242a517b8debu};
  for (int p = LASK_DRAWS_BASE; p <= LASK_DRAWS_AVX512; p++) {
    if (!lask_draws_path_ok((lask_draws_path)p)) continue;
    for (int normal = 0; normal < 2; normal++) {
      lask_draws_on((lask_draws_path)p, 42, (uint32_t)normal, 0, 4, normal, 0.0, 1.0, x);
      const double *want = normal ? first_normal : first_uniform;
      for (int i = 0; i < 4; i++)
        if (x[i] != want[i])
          fail_msg("path %d, %s draw %d: %a, pinned %a", p, normal ? "normal" : "uniform", i, x[i], want[i]);
      lask_draws_on((lask_draws_path)p, 42, (uint32_t)normal, 12345, N, normal, 0.0, 1.0, x);
      uint64_t h = hash_draws(x, N);
      if (h != hashes[normal])
        fail_msg("path %d, %s draws 12345..: hash %#llx, pinned %#llx", p, normal ? "normal" : "uniform",
                 (unsigned long long)h, (unsigned long long)hashes[normal]);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normal_draws_match_the_exact_box_muller),
      cmocka_unit_test(test_normal_draws_at_the_edges),
      cmocka_unit_test(test_draws_are_pinned),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
