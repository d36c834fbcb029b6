/* random_draws_lanes.h — the draws on vectors of RD_BYTES bytes: included by
 * random_draws.c once per path, with
 *   RD_BYTES          16, 32 or 64: the vector width (2, 4 or 8 lanes of 64 bits)
 *   RD_SUFFIX         the path's name, appended to every name defined here
 *   RD_MUL(a, b)      the 64-bit products of lanes below 2^32
 *   RD_SQRT(v)        the correctly rounded square roots of the lanes
 * and the path's instruction set enabled around the inclusion. Every path does the
 * same IEEE operations per lane, in the same order: the same bits. */
#define RD_CAT2(a, b) a##_##b
#define RD_CAT(a, b)  RD_CAT2(a, b)
#define RD(name)      RD_CAT(name, RD_SUFFIX)

enum { RD(L) = RD_BYTES / 8 };
typedef uint64_t RD(u64v) __attribute__((vector_size(RD_BYTES)));
typedef int64_t RD(i64v) __attribute__((vector_size(RD_BYTES)));
typedef double RD(f64v) __attribute__((vector_size(RD_BYTES)));

#define u64v RD(u64v)
#define i64v RD(i64v)
#define f64v RD(f64v)
#define L    RD(L)
#define U(x) ((u64v){0} + (x)) /* every lane x */
#define F(x) ((f64v){0} + (x))

/* Philox4x32-10 in place on the words x0..x3 (32 bits in 64-bit lanes), a macro so
 * that the words stay in registers. */
#define RD_PHILOX(x0, x1, x2, x3, seed)                                                                      \
  do {                                                                                                       \
    u64v k0_ = U((seed)&LO32), k1_ = U((seed) >> 32);                                                        \
    const u64v m0_ = U(0xD2511F53u), m1_ = U(0xCD9E8D57u), lo_ = U(LO32);                                    \
    const u64v w0_ = U(0x9E3779B9u), w1_ = U(0xBB67AE85u);                                                   \
    for (int r_ = 0; r_ < 10; r_++) {                                                                        \
      u64v p0_ = RD_MUL(x0, m0_), p1_ = RD_MUL(x2, m1_);                                                     \
      x0 = (p1_ >> 32) ^ x1 ^ k0_, x1 = p1_ & lo_;                                                           \
      x2 = (p0_ >> 32) ^ x3 ^ k1_, x3 = p0_ & lo_;                                                           \
      k0_ = (k0_ + w0_) & lo_, k1_ = (k1_ + w1_) & lo_;                                                      \
    }                                                                                                        \
  } while (0)

/* Philox4x32-10 of one counter (lane 0), for the known-answer tests. */
static inline void RD(philox_one)(const uint32_t ctr[4], uint64_t seed, uint32_t out[4]) {
  u64v x0 = U(ctr[0]), x1 = U(ctr[1]), x2 = U(ctr[2]), x3 = U(ctr[3]);
  RD_PHILOX(x0, x1, x2, x3, seed);
  out[0] = (uint32_t)x0[0], out[1] = (uint32_t)x1[0], out[2] = (uint32_t)x2[0], out[3] = (uint32_t)x3[0];
}

/* Lanes below 2^52 as doubles, exactly. */
static inline __attribute__((always_inline)) f64v RD(small_to_f64)(u64v v) {
  return (f64v)(v | MAGIC) - 0x1p52;
}

/* The double in [0, 1) of the words hi, lo: ((hi << 32 | lo) >> 11) * 2^-53, exactly, as
 * two exact halves. */
static inline __attribute__((always_inline)) f64v RD(unit)(u64v hi, u64v lo) {
  u64v v = ((hi << 32) | lo) >> 11;
  return RD(small_to_f64)(v >> 32) * 0x1p-21 + RD(small_to_f64)(v & LO32) * 0x1p-53;
}

/* Lane-wise m ? a : b, m all ones or all zeros per lane. */
static inline __attribute__((always_inline)) f64v RD(pick)(i64v m, f64v a, f64v b) {
  return (f64v)(((u64v)a & (u64v)m) | ((u64v)b & ~(u64v)m));
}

/* log(u) for u in [2^-53, 1]: u = 2^e m with m in [sqrt(1/2), sqrt(2)), log m from the
 * series 2 atanh(s) = log((1 + s) / (1 - s)), s = (m - 1) / (m + 1), |s| < 0.172. */
static inline __attribute__((always_inline)) f64v RD(log_unit)(f64v u) {
  u64v bits = (u64v)u;
  i64v e = (i64v)((bits >> 52) & 0x7ff) - 1023;
  f64v m = (f64v)((bits & 0x000fffffffffffffu) | 0x3ff0000000000000u);
  i64v big = m > 1.4142135623730951;
  m = RD(pick)(big, m * 0.5, m);
  e -= big; /* big is -1 where m was halved */
  f64v s = (m - 1.0) / (m + 1.0), z = s * s;
  f64v p = F(1.0 / 23);
  p = p * z + 1.0 / 21, p = p * z + 1.0 / 19, p = p * z + 1.0 / 17, p = p * z + 1.0 / 15;
  p = p * z + 1.0 / 13, p = p * z + 1.0 / 11, p = p * z + 1.0 / 9, p = p * z + 1.0 / 7;
  p = p * z + 1.0 / 5, p = p * z + 1.0 / 3;
  f64v logm = 2.0 * s + 2.0 * s * z * p;
  f64v ed = RD(small_to_f64)((u64v)(e + 2048)) - 2048.0;
  return ed * 0.693147180369123816490 + (ed * 1.90821492927058770002e-10 + logm); /* ln 2 = hi + lo */
}

/* sin and cos of 2 pi u for u in [0, 1): u = q/4 + r with r in [-1/8, 1/8] (exact), the
 * Taylor polynomials of x = 2 pi r, then the quarter turns q as swaps and signs. */
static inline __attribute__((always_inline)) void RD(sincos_turn)(f64v u, f64v *sin_out, f64v *cos_out) {
  f64v qf = (u * 4.0 + 0x1.8p52) - 0x1.8p52; /* rounded to the nearest: 0..4 */
  f64v x = (u - qf * 0.25) * 6.283185307179586;
  u64v q = (u64v)(qf + 0x1p52) & 3;
  f64v z = x * x;
  f64v s = F(-1.0 / 121645100408832000.0); /* -1/19! */
  s = s * z + 1.0 / 355687428096000.0, s = s * z - 1.0 / 1307674368000.0, s = s * z + 1.0 / 6227020800.0;
  s = s * z - 1.0 / 39916800.0, s = s * z + 1.0 / 362880.0, s = s * z - 1.0 / 5040.0;
  s = s * z + 1.0 / 120.0, s = s * z - 1.0 / 6.0;
  s = x + x * z * s;
  f64v c = F(1.0 / 6402373705728000.0); /* 1/18! */
  c = c * z - 1.0 / 20922789888000.0, c = c * z + 1.0 / 87178291200.0, c = c * z - 1.0 / 479001600.0;
  c = c * z + 1.0 / 3628800.0, c = c * z - 1.0 / 40320.0, c = c * z + 1.0 / 720.0;
  c = c * z - 1.0 / 24.0, c = c * z + 0.5;
  c = 1.0 - z * c;
  i64v swap = -(i64v)(q & 1); /* quarter turns 1 and 3: sin and cos trade places */
  f64v sn = RD(pick)(swap, c, s), cs = RD(pick)(swap, s, c);
  u64v neg_sin = (q >> 1) << 63, neg_cos = ((q ^ (q >> 1)) & 1) << 63;
  *sin_out = (f64v)((u64v)sn ^ neg_sin), *cos_out = (f64v)((u64v)cs ^ neg_cos);
}

/* The draws of counters j .. j+L-1 of stream: lane l gives out[2l] and out[2l+1]. */
static inline __attribute__((always_inline)) void RD(step)(u64v iota, uint64_t j, uint32_t stream,
                                                           uint64_t seed, int normal, double loc,
                                                           double scale, double *out) {
  u64v c = iota + j;
  u64v x0 = c & LO32, x1 = c >> 32, x2 = U(stream), x3 = U(0);
  RD_PHILOX(x0, x1, x2, x3, seed);
  f64v a = RD(unit)(x0, x1), b = RD(unit)(x2, x3);
  if (normal) {
    f64v r = RD_SQRT(-2.0 * RD(log_unit)(1.0 - a)), sn, cs; /* 1 - a in (0, 1]: the log is finite */
    RD(sincos_turn)(b, &sn, &cs);
    a = loc + scale * r * cs, b = loc + scale * r * sn;
  }
  for (int l = 0; l < L; l++) out[2 * l] = a[l], out[2 * l + 1] = b[l];
}

/* Draws first .. first+count-1: whole steps straight into out, the ends through a buffer. */
static void RD(draws)(uint64_t seed, uint32_t stream, uint64_t first, int64_t count, int normal, double loc,
                      double scale, double *out) {
  double buf[2 * L];
  u64v iota;
  for (int l = 0; l < L; l++) iota[l] = (uint64_t)l;
  uint64_t end = first + (uint64_t)count;
  for (uint64_t e = first; e < end;) {
    uint64_t j = e >> 1, base = 2 * j;
    if (e == base && end - e >= 2 * L) {
      RD(step)(iota, j, stream, seed, normal, loc, scale, out);
      out += 2 * L, e += 2 * L;
      continue;
    }
    RD(step)(iota, j, stream, seed, normal, loc, scale, buf);
    uint64_t stop = base + 2 * L < end ? base + 2 * L : end;
    memcpy(out, buf + (e - base), (size_t)(stop - e) * sizeof *buf);
    out += stop - e, e = stop;
  }
}

#undef u64v
#undef i64v
#undef f64v
#undef L
#undef U
#undef F
#undef RD_PHILOX
