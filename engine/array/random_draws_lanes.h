/* random_draws_lanes.h — the draws on vectors of RD_BYTES bytes: included by
 * random_draws.c once per path, with
 *   RD_BYTES          16, 32 or 64: the vector width (2, 4 or 8 lanes of 64 bits)
 *   RD_K              how many vectors a step works on side by side (independent
 *                     chains of arithmetic for the processor to overlap)
 *   RD_SUFFIX         the path's name, appended to every name defined here
 *   RD_MUL(a, b)      the 64-bit products of the lanes' low 32 bits
 *   RD_SQRT(v)        the correctly rounded square roots of the lanes
 *   RD_FMA(a, b, c)   a * b + c rounded once (fused multiply-add), lane-wise
 *   RD_U53(v)         lanes below 2^53 as doubles, exactly
 * and the path's instruction set enabled around the inclusion. Every path does the
 * same IEEE operations per lane, in the same order, and the helpers are exact or
 * correctly rounded: the same bits. */
#define RD_CAT2(a, b) a##_##b
#define RD_CAT(a, b)  RD_CAT2(a, b)
#define RD(name)      RD_CAT(name, RD_SUFFIX)

enum { RD(L) = RD_BYTES / 8 };
typedef uint64_t RD(u64v) __attribute__((vector_size(RD_BYTES)));
typedef int64_t RD(i64v) __attribute__((vector_size(RD_BYTES)));
typedef double RD(f64v) __attribute__((vector_size(RD_BYTES)));

#define u64v   RD(u64v)
#define i64v   RD(i64v)
#define f64v   RD(f64v)
#define L      RD(L)
#define U(x)   ((u64v){0} + (x)) /* every lane x */
#define F(x)   ((f64v){0} + (x))
#define INLINE static inline __attribute__((always_inline))
/* stmt (over vector k) for each of the first kk vectors, unrolled */
#define EACH(stmt)                                                                                           \
  RD_UNROLL for (int k = 0; k < kk; k++) { stmt; }

/* The Philox state of K vectors of counters: words x[0..3] (the low 32 bits of each
 * lane count; the high bits are don't-care until the end, RD_MUL ignores them). */
typedef struct RD(philox_state) {
  u64v x[4][RD_K];
} RD(philox_state);

/* Philox4x32-10 on st's first kk vectors under the round keys rk (rk[2r], rk[2r+1]:
 * round r's key). Each round: (x0, x1, x2, x3) <- (hi(x2 m1) ^ x1 ^ k0, lo(x2 m1), hi(x0 m0) ^ x3 ^ k1,
 * lo(x0 m0)); lo is kept as the whole product (its high half is don't-care). */
INLINE void RD(philox)(RD(philox_state) * st, int kk, const uint64_t rk[20]) {
  const u64v m0 = U(0xD2511F53u), m1 = U(0xCD9E8D57u);
  RD_UNROLL
  for (int r = 0; r < 10; r++) {
    u64v k0 = U(rk[2 * r]), k1 = U(rk[2 * r + 1]);
    RD_UNROLL
    for (int k = 0; k < kk; k++) {
      u64v p0 = RD_MUL(st->x[0][k], m0), p1 = RD_MUL(st->x[2][k], m1);
      st->x[0][k] = (p1 >> 32) ^ st->x[1][k] ^ k0, st->x[1][k] = p1;
      st->x[2][k] = (p0 >> 32) ^ st->x[3][k] ^ k1, st->x[3][k] = p0;
    }
  }
}

/* Philox4x32-10 of one counter (lane 0), for the known-answer tests. */
INLINE void RD(philox_one)(const uint32_t ctr[4], const uint64_t rk[20], uint32_t out[4]) {
  RD(philox_state) st;
  for (int w = 0; w < 4; w++) st.x[w][0] = U(ctr[w]);
  RD(philox)(&st, 1, rk);
  for (int w = 0; w < 4; w++) out[w] = (uint32_t)st.x[w][0][0];
}

/* The 64 bits hi:lo of two Philox words (lo's high half is don't-care). */
INLINE u64v RD(join)(u64v hi, u64v lo) { return (hi << 32) | (lo & LO32); }

/* The double in [0, 1) of the words hi, lo: ((hi << 32 | lo) >> 11) * 2^-53, exactly. */
INLINE f64v RD(unit)(u64v hi, u64v lo) { return RD_U53(RD(join)(hi, lo) >> 11) * 0x1p-53; }

/* y[k] = -2 log(w[k]) for w[k] in [2^-53, 1] (fdlibm's e_log.c, fused): w = 2^e m with m
 * in [sqrt(1/2), sqrt(2)) taken apart by integer arithmetic; log m = 2 atanh(s), s =
 * (m - 1) / (m + 1), |s| < 0.1716, whose odd series is fdlibm's minimax polynomial
 * (error below 2^-58). The polynomial's steps each run over the kk vectors before
 * the next, kk independent chains side by side (with GCC 5% faster than a vector at a
 * time; with clang 10% slower). */
INLINE void RD(neg2log)(int kk, const f64v *w, f64v *y) {
  const uint64_t sqrt_half = 0x3fe6a09e667f3bcdu, bias = 1024ull << 52;
  f64v e[RD_K], s[RD_K], z[RD_K], p[RD_K];
  EACH(u64v ix = (u64v)w[k]; u64v t = ix - (sqrt_half - bias); /* (e + 1024) << 52 | the rest */
       f64v m = (f64v)(ix + bias - (t & (0xfffull << 52)));
       e[k] = (f64v)((t >> 52) | MAGIC) - (0x1p52 + 1024.0); /* exact */
       f64v f = m - 1.0; s[k] = f / (f + 2.0); z[k] = s[k] * s[k])
  /* -2 Lg7 .. -2 Lg1, then -4 */
  EACH(p[k] = RD_FMA(F(-2 * 1.479819860511658591e-01), z[k], F(-2 * 1.531383769920937332e-01)))
  EACH(p[k] = RD_FMA(p[k], z[k], F(-2 * 1.818357216161805012e-01)))
  EACH(p[k] = RD_FMA(p[k], z[k], F(-2 * 2.222219843214978396e-01)))
  EACH(p[k] = RD_FMA(p[k], z[k], F(-2 * 2.857142874366239149e-01)))
  EACH(p[k] = RD_FMA(p[k], z[k], F(-2 * 3.999999999940941908e-01)))
  EACH(p[k] = RD_FMA(p[k], z[k], F(-2 * 6.666666666666735130e-01)))
  EACH(p[k] = RD_FMA(p[k], z[k], F(-4.0)))
  /* -2 ln 2 = hi + lo, hi with 32 trailing zero bits: e * hi is exact */
  EACH(y[k] = RD_FMA(e[k], F(-2 * 6.93147180369123816490e-01),
                     RD_FMA(e[k], F(-2 * 1.90821492927058770002e-10), s[k] * p[k])))
}

/* The sine and cosine of 2 pi u, u = v 2^-53 the uniform of the words hi, lo: the
 * quarter turn q = round(4u) and r = u - q/4 in [-1/8, 1/8) come from the integer v
 * exactly, x = 2 pi r, fdlibm's minimax polynomials on [-pi/4, pi/4] (k_sin.c,
 * k_cos.c; error below 2^-58); q's signs go into x (the sine's polynomial is odd, to
 * the bit) and the cosine, then odd q swap the two. */
INLINE void RD(sincos_turn)(u64v hi, u64v lo, f64v *sin_out, f64v *cos_out) {
  const uint64_t sign = 1ull << 63;
  /* w = (v + 2^50) << 11 mod 2^64: q mod 4 in its top two bits, (r 2^53 + 2^50) << 11
   * below them */
  u64v w = ((hi + (1u << 29)) << 32) | (lo & LO32), w1 = w << 1;
  f64v x = ((f64v)(((w >> 11) & ((1ull << 51) - 1)) | MAGIC) - 0x1.4p52) * (6.283185307179586 * 0x1p-53);
  x = (f64v)((u64v)x ^ ((w ^ w1) & sign)); /* -x for q = 1, 2 */
  f64v z = x * x;
  f64v s = F(1.58969099521155010221e-10);
  s = RD_FMA(s, z, F(-2.50507602534068634195e-08)), s = RD_FMA(s, z, F(2.75573137070700676789e-06));
  s = RD_FMA(s, z, F(-1.98412698298579493134e-04)), s = RD_FMA(s, z, F(8.33333333332248946124e-03));
  s = RD_FMA(s, z, F(-1.66666666666666324348e-01));
  s = RD_FMA(x * z, s, x);
  f64v c = F(-1.13596475577881948265e-11);
  c = RD_FMA(c, z, F(2.08757232129817482790e-09)), c = RD_FMA(c, z, F(-2.75573143513906633035e-07));
  c = RD_FMA(c, z, F(2.48015872894767294178e-05)), c = RD_FMA(c, z, F(-1.38888888888741095749e-03));
  c = RD_FMA(c, z, F(4.16666666666666019037e-02));
  c = RD_FMA(z * z, c, RD_FMA(z, F(-0.5), F(1.0)));
  c = (f64v)((u64v)c ^ (w & sign));   /* -cos for q = 2, 3 */
  u64v swap = (u64v)((i64v)w1 >> 63); /* odd q: sine and cosine trade places */
  *sin_out = (f64v)(((u64v)c & swap) | ((u64v)s & ~swap));
  *cos_out = (f64v)(((u64v)s & swap) | ((u64v)c & ~swap));
}

/* The draws of the Philox outputs in st's first kk vectors (vector k, lane l: the words
 * of pair kL + l) into out[2(kL + l)] and out[2(kL + l) + 1]: uniform, or normal
 * (loc + scale z). */
INLINE void RD(finish)(RD(philox_state) * st, int kk, int normal, double loc, double scale, double *out) {
  f64v a[RD_K], b[RD_K];
  if (!normal) {
    RD_UNROLL
    for (int k = 0; k < kk; k++)
      a[k] = RD(unit)(st->x[0][k], st->x[1][k]), b[k] = RD(unit)(st->x[2][k], st->x[3][k]);
  } else {
    /* Box-Muller: radius sqrt(-2 log(1 - a)) (1 - a in (0, 1]: exact, the log finite),
     * angle 2 pi b; draws loc + scale r cos, loc + scale r sin */
    f64v y[RD_K], w[RD_K];
    RD_UNROLL
    for (int k = 0; k < kk; k++) /* 1 - a = 1 - v 2^-53, exactly */
      w[k] = RD_FMA(RD_U53(RD(join)(st->x[0][k], st->x[1][k]) >> 11), F(-0x1p-53), F(1.0));
    RD(neg2log)(kk, w, y);
    RD_UNROLL
    for (int k = 0; k < kk; k++) {
      f64v sn, cs;
      RD(sincos_turn)(st->x[2][k], st->x[3][k], &sn, &cs);
      f64v sr = RD_SQRT(y[k]) * scale;
      a[k] = RD_FMA(sr, cs, F(loc)), b[k] = RD_FMA(sr, sn, F(loc));
    }
  }
  RD_UNROLL
  for (int k = 0; k < kk; k++)
    for (int l = 0; l < L; l++) out[2 * (k * L + l)] = a[k][l], out[2 * (k * L + l) + 1] = b[k][l];
}

/* The draws of counters j .. j+kk*L-1 of stream under the round keys rk: counter
 * j + k*L + l (vector k, lane l) gives out[2(kL + l)] and out[2(kL + l) + 1]. */
INLINE void RD(step)(u64v iota, uint64_t j, int kk, uint64_t stream, const uint64_t rk[20], int normal,
                     double loc, double scale, double *out) {
  RD(philox_state) st;
  RD_UNROLL
  for (int k = 0; k < kk; k++) {
    u64v c = iota + (j + (uint64_t)(k * L));
    st.x[0][k] = c, st.x[1][k] = c >> 32, st.x[2][k] = U(stream), st.x[3][k] = U(0);
  }
  RD(philox)(&st, kk, rk);
  RD(finish)(&st, kk, normal, loc, scale, out);
}

/* The draws of n given Philox outputs w[i] (2n draws into out), as RD(draws) makes
 * them from its counters' (the tests' way to reach any uniform). */
static void RD(of_words)(const uint32_t (*w)[4], int64_t n, int normal, double loc, double scale,
                         double *out) {
  enum { PAIRS = RD_K * L };
  double buf[2 * PAIRS];
  for (int64_t i0 = 0; i0 < n; i0 += PAIRS) {
    RD(philox_state) st;
    int64_t m = n - i0 < PAIRS ? n - i0 : PAIRS;
    for (int64_t i = 0; i < PAIRS; i++)
      for (int v = 0; v < 4; v++) st.x[v][i / L][i % L] = i < m ? w[i0 + i][v] : 0;
    RD(finish)(&st, RD_K, normal, loc, scale, buf);
    memcpy(out + 2 * i0, buf, (size_t)(2 * m) * sizeof *buf);
  }
}

/* Draws first .. first+count-1 under the round keys rk: whole steps of K vectors
 * (when big) straight into out, the rest a vector at a time through a buffer (so a short
 * run makes at most 2L - 1 draws it does not keep). normal and big are constants where
 * this is inlined: one loop for each. */
INLINE void RD(draws_loop)(const uint64_t rk[20], uint32_t stream, uint64_t first, int64_t count, int normal,
                           int big, double loc, double scale, double *out) {
  enum { STEP = 2 * RD_K * L, SMALL = 2 * L }; /* draws a step, a small step */
  double buf[SMALL];
  u64v iota;
  for (int l = 0; l < L; l++) iota[l] = (uint64_t)l;
  uint64_t end = first + (uint64_t)count;
  for (uint64_t e = first; e < end;) {
    uint64_t j = e >> 1, base = 2 * j;
    if (big && e == base && end - e >= STEP) {
      RD(step)(iota, j, RD_K, stream, rk, normal, loc, scale, out);
      out += STEP, e += STEP;
      continue;
    }
    RD(step)(iota, j, 1, stream, rk, normal, loc, scale, buf);
    uint64_t stop = base + SMALL < end ? base + SMALL : end;
    memcpy(out, buf + (e - base), (size_t)(stop - e) * sizeof *buf);
    out += stop - e, e = stop;
  }
}

/* The four loops, each a function of its own (a short run does not pay for setting up
 * the constants of the long one). */
#define RD_LOOP(name, normal, big)                                                                           \
  static __attribute__((noinline)) void RD(name)(const uint64_t rk[20], uint32_t stream, uint64_t first,     \
                                                 int64_t count, double loc, double scale, double *out) {     \
    RD(draws_loop)(rk, stream, first, count, normal, big, loc, scale, out);                                  \
  }
RD_LOOP(uniform_short, 0, 0)
RD_LOOP(uniform_long, 0, 1)
RD_LOOP(normal_short, 1, 0)
RD_LOOP(normal_long, 1, 1)
#undef RD_LOOP

static void RD(draws)(const uint64_t rk[20], uint32_t stream, uint64_t first, int64_t count, int normal,
                      double loc, double scale, double *out) {
  int big = count >= 2 * RD_K * L;
  if (normal)
    (big ? RD(normal_long) : RD(normal_short))(rk, stream, first, count, loc, scale, out);
  else
    (big ? RD(uniform_long) : RD(uniform_short))(rk, stream, first, count, loc, scale, out);
}

#undef u64v
#undef i64v
#undef f64v
#undef L
#undef U
#undef F
#undef INLINE
#undef EACH
