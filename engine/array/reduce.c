/* reduce.c — the reduction kernels of lask.array (array_kernels.h).
 *
 * Every reduction runs in three steps, as in Dask: a chunk kernel reduces one block
 * to a partial whose reduced axes are kept with extent 1; an aggregate kernel
 * combines a list of partials of one shape elementwise (a node of the reduction
 * tree); a finish kernel (mean, var, std, arg) turns the last partial into the
 * answer, and squeeze drops the kept axes.
 *
 * Partials of mean, var and std carry three planes along a new leading axis: count,
 * mean and M2 (the sum of squared deviations from the mean). Blocks, tiles and
 * partials are merged with the pairwise update of Chan, Golub and LeVeque (1979),
 * so no sum of squares ever cancels catastrophically, whatever the chunking.
 * Partials of argmin/argmax carry two planes: the value and its global index.
 *
 * Iteration strategy: a block and its accumulator are walked together with
 * lask_iter, the accumulator's strides being 0 along the reduced axes, so one loop
 * serves every choice of axes. Each inner run is cut in tiles of TILE elements,
 * converted once to double (float dtypes) or int64 (int64, bool) with lask_convert:
 * the arithmetic below is written for those two types only. A run whose accumulator
 * stride is 0 folds into one accumulator (pairwise summation, as numpy; two passes
 * over each L1-resident tile for moments); otherwise it updates a vector of them.
 * Integer sums and products wrap as numpy's do; min and max propagate NaN.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"

enum { TILE = 1024, ROWS = 4 };

typedef enum red_op { R_SUM, R_PROD, R_MIN, R_MAX } red_op;

/* --- arguments --- */

/* An axis number for ndim dimensions (negative counts from the end). */
static lask_status check_axis(const lask_kernel *k, int64_t ax, int ndim, int *out, lask_err *err) {
  if (ax < -ndim || ax >= ndim)
    return lask_akernel_fail(k, LASK_EINVAL, err, "axis %lld is out of range for %d dimensions",
                             (long long)ax, ndim);
  *out = (int)(ax < 0 ? ax + ndim : ax);
  return LASK_OK;
}

/* Axes (a list of integers, one integer, or nil for all of them, as numpy's None)
 * as a bit mask over ndim. */
static lask_status get_axes(const lask_kernel *k, lask_value v, int ndim, unsigned *mask, lask_err *err) {
  *mask = 0;
  if (v.type == LASK_TNIL) return *mask = ndim ? (1u << ndim) - 1 : 0, LASK_OK;
  int64_t one;
  if (lask_akernel_as_int(v, &one)) {
    int ax = 0;
    if (check_axis(k, one, ndim, &ax, err)) return err->code;
    *mask = 1u << ax;
    return LASK_OK;
  }
  if (!lask_isa(v, &lask_list_class))
    return lask_akernel_fail(k, LASK_ETYPE, err, "axes must be a list of integers, not a %s",
                             lask_typename(v));
  const lask_list *l = (const lask_list *)v.as.o;
  for (size_t i = 0; i < l->n; i++) {
    int ax = 0;
    if (!lask_akernel_as_int(l->items[i], &one))
      return lask_akernel_fail(k, LASK_ETYPE, err, "axes must be integers, not a %s",
                               lask_typename(l->items[i]));
    if (check_axis(k, one, ndim, &ax, err)) return err->code;
    if (*mask & (1u << ax)) return lask_akernel_fail(k, LASK_EINVAL, err, "axis %d is repeated", ax);
    *mask |= 1u << ax;
  }
  return LASK_OK;
}

/* The list argument i whose items are all arrays of one shape, except that
 * zero-size items (min and max's partials of empty blocks) are not compared. */
static lask_status get_parts(const lask_kernel *k, const lask_value *args, int i, const lask_list **out,
                             lask_err *err) {
  lask_ndarray *a = lask_ndarray_of(args[i]);
  if (a)
    return lask_akernel_fail(k, LASK_ETYPE, err, "argument %d must be a list of arrays, not one array",
                             i + 1);
  if (!lask_isa(args[i], &lask_list_class))
    return lask_akernel_fail(k, LASK_ETYPE, err, "argument %d is a %s, not a list of arrays", i + 1,
                             lask_typename(args[i]));
  const lask_list *l = (const lask_list *)args[i].as.o;
  if (l->n == 0) return lask_akernel_fail(k, LASK_EINVAL, err, "nothing to combine (empty list)");
  const lask_ndarray *first = NULL;
  bool any_full = false; /* a non-empty item: then the empty ones are not compared */
  for (size_t j = 0; j < l->n; j++) {
    const lask_ndarray *p = lask_ndarray_of(l->items[j]);
    if (!p)
      return lask_akernel_fail(k, LASK_ETYPE, err, "item %zu of the list is a %s, not an array", j + 1,
                               lask_typename(l->items[j]));
    any_full |= lask_ndarray_size(p) > 0;
  }
  for (size_t j = 0; j < l->n; j++) {
    const lask_ndarray *p = lask_ndarray_of(l->items[j]);
    if (any_full && lask_ndarray_size(p) == 0) continue;
    if (!first) first = p;
    if (p->ndim != first->ndim || memcmp(p->shape, first->shape, (size_t)p->ndim * sizeof p->shape[0])) {
      char s1[128], s2[128];
      return lask_akernel_fail(k, LASK_EINVAL, err, "partials of different shapes %s and %s",
                               lask_shape_str(first->ndim, first->shape, s1, sizeof s1),
                               lask_shape_str(p->ndim, p->shape, s2, sizeof s2));
    }
  }
  *out = l;
  return LASK_OK;
}

static bool is_float(lask_dtype dt) { return dt == LASK_F64 || dt == LASK_F32; }

/* The dtype of op's result over dt (numpy: sums of bool and int64 are int64). */
static lask_dtype result_dtype(red_op op, lask_dtype dt) {
  if (op == R_MIN || op == R_MAX) return dt;
  return dt == LASK_BOOL ? LASK_I64 : dt;
}

/* Shape of x with the axes in mask kept at extent 1, with lead extra leading axes of
 * extent lead_extent (0 or 1 of them). */
static int keep_shape(const lask_ndarray *x, unsigned mask, int64_t lead_extent, int64_t *shape) {
  int n = 0;
  if (lead_extent) shape[n++] = lead_extent;
  for (int d = 0; d < x->ndim; d++) shape[n++] = (mask & (1u << d)) ? 1 : x->shape[d];
  return n;
}

/* Byte strides for walking an accumulator of element size es (a C-contiguous array
 * of x's kept shape) alongside x: 0 along the reduced axes. */
static void acc_strides(const lask_ndarray *x, unsigned mask, size_t es, int64_t *strides) {
  int64_t s = (int64_t)es;
  for (int d = x->ndim - 1; d >= 0; d--) {
    bool red = mask & (1u << d);
    strides[d] = red ? 0 : s;
    if (!red) s *= x->shape[d];
  }
}

static int64_t reduced_extent(const lask_ndarray *x, unsigned mask) {
  int64_t n = 1;
  for (int d = 0; d < x->ndim; d++)
    if (mask & (1u << d)) n *= x->shape[d];
  return n;
}

/* --- the arithmetic on tiles of doubles and int64s --- */

/* Two doubles as one SIMD register (SSE2 on x86-64, NEON on arm64; a GNU vector
 * extension gcc and clang share): the accumulators below are four of them, which
 * the compilers keep in registers (eight scalar accumulators ran 3x slower). */
typedef double v2d __attribute__((vector_size(16)));

static inline v2d load2(const double *p) {
  v2d v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline double lanes_sum(v2d a, v2d b, v2d c, v2d d) {
  return ((a[0] + a[1]) + (b[0] + b[1])) + ((c[0] + c[1]) + (d[0] + d[1]));
}

/* Pairwise sum of t[0..n) (numpy's scheme: 8 accumulators on blocks of 128). */
static double pairwise_sum(const double *t, int64_t n) {
  if (n < 8) {
    double r = 0;
    for (int64_t i = 0; i < n; i++) r += t[i];
    return r;
  }
  if (n <= 128) {
    v2d a = load2(t), b = load2(t + 2), c = load2(t + 4), d = load2(t + 6);
    int64_t i = 8;
    for (; i + 8 <= n; i += 8)
      a += load2(t + i), b += load2(t + i + 2), c += load2(t + i + 4), d += load2(t + i + 6);
    double s = lanes_sum(a, b, c, d);
    for (; i < n; i++) s += t[i];
    return s;
  }
  int64_t h = n / 2;
  h -= h % 8;
  return pairwise_sum(t, h) + pairwise_sum(t + h, n - h);
}

static void fold_f64(red_op op, const double *t, int64_t n, double *acc) {
  double r = *acc;
  switch (op) {
  case R_SUM: r += pairwise_sum(t, n); break;
  case R_PROD:
    for (int64_t i = 0; i < n; i++) r *= t[i];
    break;
  case R_MIN:
    for (int64_t i = 0; i < n; i++)
      if (t[i] < r || isnan(t[i])) r = isnan(r) ? r : t[i];
    break;
  case R_MAX:
    for (int64_t i = 0; i < n; i++)
      if (t[i] > r || isnan(t[i])) r = isnan(r) ? r : t[i];
    break;
  }
  *acc = r;
}

/* r[i] += s[i]: blocks of 8 with a constant trip count, which GCC's -O2 cost model
 * vectorises (as elementwise_ops.c's loops). */
static void add_into(double *restrict r, const double *restrict s, int64_t n) {
  int64_t i0 = 0;
  for (; i0 + 8 <= n; i0 += 8)
    for (int64_t i = i0; i < i0 + 8; i++) r[i] += s[i];
  for (int64_t i = i0; i < n; i++) r[i] += s[i];
}

/* q[i] += (s[i] - m[i])^2, likewise. */
static void sqdev_into(double *restrict q, const double *restrict s, const double *restrict m, int64_t n) {
  int64_t i0 = 0;
  for (; i0 + 8 <= n; i0 += 8)
    for (int64_t i = i0; i < i0 + 8; i++) q[i] += (s[i] - m[i]) * (s[i] - m[i]);
  for (int64_t i = i0; i < n; i++) q[i] += (s[i] - m[i]) * (s[i] - m[i]);
}

/* r[i] += x0[i] + x1[i] + x2[i] + x3[i]: ROWS rows into one accumulator row. */
static void add_rows(double *restrict r, const double *const *xs, int64_t n) {
  const double *restrict x0 = xs[0], *restrict x1 = xs[1], *restrict x2 = xs[2], *restrict x3 = xs[3];
  int64_t i0 = 0;
  for (; i0 + 8 <= n; i0 += 8)
    for (int64_t i = i0; i < i0 + 8; i++) r[i] += (x0[i] + x1[i]) + (x2[i] + x3[i]);
  for (int64_t i = i0; i < n; i++) r[i] += (x0[i] + x1[i]) + (x2[i] + x3[i]);
}

/* q[i] += the squared deviations of ROWS rows from m[i]. */
#define SQDEV4(i)                                                                                            \
  do {                                                                                                       \
    double d0 = x0[i] - m[i], d1 = x1[i] - m[i], d2 = x2[i] - m[i], d3 = x3[i] - m[i];                       \
    q[i] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3);                                                       \
  } while (0)

static void sqdev_rows(double *restrict q, const double *const *xs, const double *restrict m, int64_t n) {
  const double *restrict x0 = xs[0], *restrict x1 = xs[1], *restrict x2 = xs[2], *restrict x3 = xs[3];
  int64_t i0 = 0;
  for (; i0 + 8 <= n; i0 += 8)
    for (int64_t i = i0; i < i0 + 8; i++) SQDEV4(i);
  for (int64_t i = i0; i < n; i++) SQDEV4(i);
}

static void update_f64(red_op op, const double *t, int64_t n, char *acc, int64_t sa) {
  if (op == R_SUM && sa == (int64_t)sizeof(double)) return add_into((double *)acc, t, n);
  for (int64_t i = 0; i < n; i++) {
    double *r = (double *)(acc + i * sa), v = t[i];
    switch (op) {
    case R_SUM: *r += v; break;
    case R_PROD: *r *= v; break;
    case R_MIN:
      if ((v < *r || isnan(v)) && !isnan(*r)) *r = v;
      break;
    case R_MAX:
      if ((v > *r || isnan(v)) && !isnan(*r)) *r = v;
      break;
    }
  }
}

/* Integer arithmetic wraps (through uint64), as numpy's does. */
static void update_i64(red_op op, const int64_t *t, int64_t n, char *acc, int64_t sa) {
  for (int64_t i = 0; i < n; i++) {
    int64_t *r = (int64_t *)(acc + i * sa), v = t[i];
    switch (op) {
    case R_SUM: *r = (int64_t)((uint64_t)*r + (uint64_t)v); break;
    case R_PROD: *r = (int64_t)((uint64_t)*r * (uint64_t)v); break;
    case R_MIN:
      if (v < *r) *r = v;
      break;
    case R_MAX:
      if (v > *r) *r = v;
      break;
    }
  }
}

/* Folds one inner run of n elements of dtype dt (x, stride sx) into the accumulator
 * (acc, stride sa; F64 for float dtypes, I64 otherwise). */
static void reduce_run(red_op op, lask_dtype dt, int64_t n, char *acc, int64_t sa, const char *x,
                       int64_t sx) {
  bool fl = is_float(dt);
  union {
    double f[TILE];
    int64_t i[TILE];
  } tile;
  for (int64_t i0 = 0; i0 < n; i0 += TILE) {
    int64_t m = n - i0 < TILE ? n - i0 : TILE;
    const char *src = x + i0 * sx;
    char *a = acc + i0 * sa;
    if (fl) {
      const double *t = tile.f;
      if (dt == LASK_F64 && sx == 8)
        t = (const double *)src;
      else
        lask_convert(LASK_F64, tile.f, 8, dt, src, sx, m);
      if (sa == 0)
        fold_f64(op, t, m, (double *)a);
      else
        update_f64(op, t, m, a, sa);
    } else {
      const int64_t *t = tile.i;
      if (dt == LASK_I64 && sx == 8)
        t = (const int64_t *)src;
      else
        lask_convert(LASK_I64, tile.i, 8, dt, src, sx, m);
      update_i64(op, t, m, a, sa);
    }
  }
}

static void fill_identity(red_op op, lask_ndarray *acc) {
  int64_t n = lask_ndarray_size(acc);
  if (acc->dtype == LASK_F64) {
    double v = op == R_SUM ? 0 : op == R_PROD ? 1 : op == R_MIN ? INFINITY : -INFINITY;
    for (int64_t i = 0; i < n; i++) ((double *)acc->data)[i] = v;
  } else {
    int64_t v = op == R_SUM ? 0 : op == R_PROD ? 1 : op == R_MIN ? INT64_MAX : INT64_MIN;
    for (int64_t i = 0; i < n; i++) ((int64_t *)acc->data)[i] = v;
  }
}

/* What a walk does with each inner run: fn(ctx, n, acc, sa, x, sx). */
/* What a walk does with k (1..ROWS) consecutive runs xs[] of n elements that update
 * the same vector accumulator (or with one run, for any accumulator). */
typedef void (*run_fn)(const void *ctx, int64_t n, char *acc, int64_t sa, const char *const *xs, int k,
                       int64_t sx);

/* Walks x and its accumulator (acc, byte strides sacc) run by run, in C order.
 * Consecutive runs that update the same vector accumulator (a reduced axis outside
 * the kept last one: a mean over the rows of a matrix) are handed over ROWS at a
 * time, so the accumulator row, too big for L1, is read and written once per ROWS
 * input rows instead of once per row. */
static void walk(const lask_ndarray *x, char *acc, const int64_t *sacc, run_fn fn, const void *ctx) {
  lask_iter it;
  if (!lask_iter_init(&it, 2, x->ndim, x->shape, (char *[]){acc, x->data},
                      (const int64_t *[]){sacc, x->strides}))
    return;
  const char *xs[ROWS];
  char *a = NULL;
  int k = 0;
  do {
    if (k == ROWS || (k > 0 && (it.ptr[0] != a || it.stride[0] == 0))) {
      fn(ctx, it.inner, a, it.stride[0], xs, k, it.stride[1]);
      k = 0;
    }
    a = it.ptr[0];
    xs[k++] = it.ptr[1];
  } while (lask_iter_next(&it));
  fn(ctx, it.inner, a, it.stride[0], xs, k, it.stride[1]);
}

/* Does a walk of x fold each run into one accumulator (the run's axis is reduced)?
 * False also when there is nothing to walk. */
static bool folds(const lask_ndarray *x, char *acc, const int64_t *sacc) {
  lask_iter it;
  return lask_iter_init(&it, 2, x->ndim, x->shape, (char *[]){acc, x->data},
                        (const int64_t *[]){sacc, x->strides}) &&
         it.stride[0] == 0;
}

typedef struct reduce_ctx {
  red_op op;
  lask_dtype dt;
} reduce_ctx;

static void reduce_fn(const void *ctx, int64_t n, char *acc, int64_t sa, const char *const *xs, int k,
                      int64_t sx) {
  const reduce_ctx *c = ctx;
  if (k == ROWS && c->op == R_SUM && c->dt == LASK_F64 && sa == 8 && sx == 8)
    return add_rows((double *)acc, (const double *const *)xs, n);
  for (int j = 0; j < k; j++) reduce_run(c->op, c->dt, n, acc, sa, xs[j], sx);
}

/* Folds x into acc along the axes of mask (acc has x's kept shape). */
static void reduce_into(red_op op, lask_ndarray *acc, const lask_ndarray *x, unsigned mask) {
  int64_t sacc[LASK_MAXDIM];
  acc_strides(x, mask, lask_dtype_size(acc->dtype), sacc);
  reduce_ctx c = {op, x->dtype};
  walk(x, acc->data, sacc, reduce_fn, &c);
}

/* Gives acc converted to dt (acc itself when it already is), releasing acc. */
static lask_ndarray *cast_owned(lask_ndarray *acc, lask_dtype dt, lask_err *err) {
  if (acc->dtype == dt) return acc;
  lask_ndarray *r = lask_ndarray_copy(acc, dt, err);
  lask_release(lask_ndarray_value(acc));
  return r;
}

static lask_ndarray *new_acc(const lask_kernel *k, red_op op, lask_dtype in_dt, int ndim,
                             const int64_t *shape, lask_err *err) {
  lask_ndarray *acc = lask_ndarray_empty(is_float(in_dt) ? LASK_F64 : LASK_I64, ndim, shape, err);
  if (!acc) return lask_akernel_fail(k, err->code, err, "%s", err->msg), NULL;
  fill_identity(op, acc);
  return acc;
}

/* --- sum, prod, min, max --- */

static lask_status red_chunk(red_op op, const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                             lask_err *err) {
  lask_ndarray *x;
  unsigned mask;
  if (lask_akernel_nargs(k, n, 1, 2, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  if (get_axes(k, n > 1 ? args[1] : lask_nil(), x->ndim, &mask, err)) return err->code;
  int64_t shape[LASK_MAXDIM];
  int nd = keep_shape(x, mask, 0, shape);
  if ((op == R_MIN || op == R_MAX) && reduced_extent(x, mask) == 0) {
    /* no identity: an empty block's partial is empty (extent 0 on the reduced axes),
     * and min_agg/max_agg pass over it as Dask's chunk_min/chunk_max do */
    bool out_empty = false;
    for (int d = 0; d < nd; d++) out_empty |= !(mask & (1u << d)) && shape[d] == 0;
    for (int d = 0; d < nd && !out_empty; d++)
      if (mask & (1u << d)) shape[d] = 0;
  }
  lask_ndarray *acc = new_acc(k, op, x->dtype, nd, shape, err);
  if (!acc) return err->code;
  reduce_into(op, acc, x, mask);
  if (!(acc = cast_owned(acc, result_dtype(op, x->dtype), err))) return err->code;
  *out = lask_ndarray_value(acc);
  return LASK_OK;
}

static lask_status red_agg(red_op op, const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                           lask_err *err) {
  const lask_list *parts;
  if (lask_akernel_nargs(k, n, 1, 2, err) || get_parts(k, args, 0, &parts, err)) return err->code;
  /* the shape of the result: the first non-empty partial's (empty ones are the
   * partials of empty blocks, which min and max skip), else the last one's */
  const lask_ndarray *first = lask_ndarray_of(parts->items[parts->n - 1]);
  for (size_t i = 0; i < parts->n; i++)
    if (lask_ndarray_size(lask_ndarray_of(parts->items[i])) > 0) {
      first = lask_ndarray_of(parts->items[i]);
      break;
    }
  lask_dtype dt = first->dtype;
  for (size_t i = 0; i < parts->n; i++) dt = lask_dtype_promote(dt, lask_ndarray_of(parts->items[i])->dtype);
  lask_dtype rdt = result_dtype(op, dt);
  if (parts->n == 1 && first->dtype == rdt) {
    *out = lask_retain(parts->items[0]);
    return LASK_OK;
  }
  lask_ndarray *acc = new_acc(k, op, dt, first->ndim, first->shape, err);
  if (!acc) return err->code;
  for (size_t i = 0; i < parts->n; i++) {
    const lask_ndarray *p = lask_ndarray_of(parts->items[i]);
    if (p->ndim == first->ndim && !memcmp(p->shape, first->shape, sizeof p->shape[0] * (size_t)p->ndim))
      reduce_into(op, acc, p, 0);
  }
  if (!(acc = cast_owned(acc, rdt, err))) return err->code;
  *out = lask_ndarray_value(acc);
  return LASK_OK;
}

#define RED_KERNELS(OP, name)                                                                                \
  static lask_status k_##name##_chunk(const lask_kernel *k, const lask_value *a, int n, lask_value *out,     \
                                      lask_err *err) {                                                       \
    return red_chunk(OP, k, a, n, out, err);                                                                 \
  }                                                                                                          \
  static lask_status k_##name##_agg(const lask_kernel *k, const lask_value *a, int n, lask_value *out,       \
                                    lask_err *err) {                                                         \
    return red_agg(OP, k, a, n, out, err);                                                                   \
  }

RED_KERNELS(R_SUM, sum)
RED_KERNELS(R_PROD, prod)
RED_KERNELS(R_MIN, min)
RED_KERNELS(R_MAX, max)

/* --- moments: count, mean, M2 --- */

/* Merges (nb, mb, qb) into (*n, *m, *q): Chan, Golub and LeVeque's pairwise update. */
static void chan_merge(double *n, double *m, double *q, double nb, double mb, double qb) {
  if (nb == 0) return;
  if (*n == 0) {
    *n = nb, *m = mb, *q = qb;
    return;
  }
  double na = *n, nt = na + nb, delta = mb - *m;
  *m += delta * (nb / nt);
  *q += qb + delta * delta * (na * nb / nt);
  *n = nt;
}

/* The moments of a tile of doubles: two passes over data that sits in L1. */
static void tile_moments(const double *t, int64_t n, double *mean, double *m2) {
  double m = pairwise_sum(t, n) / (double)n, q = 0;
  v2d mm = {m, m}, a = {0, 0}, b = a, c = a, d = a;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v2d x0 = load2(t + i) - mm, x1 = load2(t + i + 2) - mm, x2 = load2(t + i + 4) - mm,
        x3 = load2(t + i + 6) - mm;
    a += x0 * x0, b += x1 * x1, c += x2 * x2, d += x3 * x3;
  }
  for (; i < n; i++) q += (t[i] - m) * (t[i] - m);
  *mean = m, *m2 = lanes_sum(a, b, c, d) + q;
}

typedef struct moments {
  int pass;      /* 1: counts and sums (or whole moments when folding); 2: M2 about the means */
  int order;     /* 1: count and mean only */
  int64_t plane; /* bytes from the count plane to the mean plane (and mean to M2) */
} moments;

/* One run: acc points into the count plane. Folding runs (sa == 0) merge whole tiles
 * in pass 1; vector runs sum into the mean plane in pass 1 (the caller sets the
 * counts and divides) and square deviations in pass 2. */
static void moment_run(const moments *mo, lask_dtype dt, int64_t n, char *acc, int64_t sa, const char *x,
                       int64_t sx) {
  double tile[TILE];
  for (int64_t i0 = 0; i0 < n; i0 += TILE) {
    int64_t m = n - i0 < TILE ? n - i0 : TILE;
    const double *t = tile;
    if (dt == LASK_F64 && sx == 8)
      t = (const double *)(x + i0 * sx);
    else
      lask_convert(LASK_F64, tile, 8, dt, x + i0 * sx, sx, m);
    char *a = acc + i0 * sa;
    if (sa == 0) {
      double tm, tq = 0;
      if (mo->order == 1)
        tm = pairwise_sum(t, m) / (double)m;
      else
        tile_moments(t, m, &tm, &tq);
      chan_merge((double *)a, (double *)(a + mo->plane), (double *)(a + 2 * mo->plane), (double)m, tm, tq);
    } else if (mo->pass == 1 && sa == (int64_t)sizeof(double)) {
      add_into((double *)(a + mo->plane), t, m);
    } else if (mo->pass == 1) {
      char *sum = a + mo->plane;
      for (int64_t i = 0; i < m; i++) *(double *)(sum + i * sa) += t[i];
    } else if (sa == (int64_t)sizeof(double)) {
      sqdev_into((double *)(a + 2 * mo->plane), t, (const double *)(a + mo->plane), m);
    } else {
      for (int64_t i = 0; i < m; i++) {
        double d = t[i] - *(double *)(a + i * sa + mo->plane);
        *(double *)(a + i * sa + 2 * mo->plane) += d * d;
      }
    }
  }
}

typedef struct moment_ctx {
  const moments *mo;
  lask_dtype dt;
} moment_ctx;

static void moment_fn(const void *ctx, int64_t n, char *acc, int64_t sa, const char *const *xs, int k,
                      int64_t sx) {
  const moment_ctx *c = ctx;
  const moments *mo = c->mo;
  if (k == ROWS && c->dt == LASK_F64 && sa == 8 && sx == 8) {
    if (mo->pass == 1) return add_rows((double *)(acc + mo->plane), (const double *const *)xs, n);
    return sqdev_rows((double *)(acc + 2 * mo->plane), (const double *const *)xs,
                      (const double *)(acc + mo->plane), n);
  }
  for (int j = 0; j < k; j++) moment_run(mo, c->dt, n, acc, sa, xs[j], sx);
}

/* One pass of moments over x; true when its runs were vector runs (the caller then
 * turns sums into means, and may make pass 2). */
static bool moment_pass(const moments *mo, lask_ndarray *acc, const lask_ndarray *x, const int64_t *sacc) {
  if (lask_ndarray_size(x) == 0) return false;
  bool folding = folds(x, acc->data, sacc);
  moment_ctx c = {mo, x->dtype};
  walk(x, acc->data, sacc, moment_fn, &c);
  return !folding;
}

/* moment_chunk(x, axes [, order]): (3, kept shape...) float64 of count, mean, M2;
 * order 1 (for mean) leaves M2 at 0 and saves the second pass of vector runs. */
static lask_status k_moment_chunk(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                  lask_err *err) {
  lask_ndarray *x;
  unsigned mask;
  int64_t order = 2;
  if (lask_akernel_nargs(k, n, 1, 3, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  if (get_axes(k, n > 1 ? args[1] : lask_nil(), x->ndim, &mask, err)) return err->code;
  if (n > 2 && lask_akernel_arg_int(k, args, 2, &order, err)) return err->code;
  if (x->ndim + 1 > LASK_MAXDIM) return lask_akernel_fail(k, LASK_EINVAL, err, "too many dimensions");
  int64_t shape[LASK_MAXDIM], sacc[LASK_MAXDIM];
  int nd = keep_shape(x, mask, 3, shape);
  lask_ndarray *acc = lask_ndarray_new(LASK_F64, nd, shape, err);
  if (!acc) return lask_akernel_fail(k, err->code, err, "%s", err->msg);
  acc_strides(x, mask, 8, sacc);
  moments mo = {1, (int)order, acc->strides[0]};
  if (moment_pass(&mo, acc, x, sacc)) {
    /* vector runs summed into the mean plane; every position saw the same count */
    int64_t np = lask_ndarray_size(acc) / 3;
    double *cnt = (double *)acc->data, *mean = cnt + np, n_red = (double)reduced_extent(x, mask);
    for (int64_t i = 0; i < np; i++) cnt[i] = n_red, mean[i] = n_red > 0 ? mean[i] / n_red : NAN;
    mo.pass = 2;
    if (order != 1) moment_pass(&mo, acc, x, sacc);
  } else if (lask_ndarray_size(x) == 0) {
    int64_t np = lask_ndarray_size(acc) / 3;
    for (int64_t i = 0; i < np; i++) ((double *)acc->data)[np + i] = NAN;
  }
  *out = lask_ndarray_value(acc);
  return LASK_OK;
}

static lask_status get_moment_parts(const lask_kernel *k, const lask_value *args, int i,
                                    const lask_list **parts, lask_err *err) {
  if (get_parts(k, args, i, parts, err)) return err->code;
  const lask_ndarray *p = lask_ndarray_of((*parts)->items[0]);
  if (p->ndim < 1 || p->shape[0] != 3)
    return lask_akernel_fail(k, LASK_EINVAL, err, "moment partials have a leading axis of 3");
  return LASK_OK;
}

/* moment_agg(list [, axes]): merges moment partials elementwise. */
static lask_status k_moment_agg(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                lask_err *err) {
  const lask_list *parts;
  if (lask_akernel_nargs(k, n, 1, 2, err) || get_moment_parts(k, args, 0, &parts, err)) return err->code;
  const lask_ndarray *first = lask_ndarray_of(parts->items[0]);
  lask_ndarray *acc = lask_ndarray_new(LASK_F64, first->ndim, first->shape, err);
  if (!acc) return lask_akernel_fail(k, err->code, err, "%s", err->msg);
  int64_t np = lask_ndarray_size(acc) / 3;
  double *an = (double *)acc->data, *am = an + np, *aq = am + np;
  for (size_t j = 0; j < parts->n; j++) {
    lask_ndarray *p = lask_ndarray_of(parts->items[j]), *c = p;
    if (p->dtype != LASK_F64 || !lask_ndarray_is_c_contiguous(p)) c = lask_ndarray_copy(p, LASK_F64, err);
    if (!c)
      return lask_release(lask_ndarray_value(acc)), lask_akernel_fail(k, err->code, err, "%s", err->msg);
    const double *pn = (const double *)c->data, *pm = pn + np, *pq = pm + np;
    for (int64_t i = 0; i < np; i++) chan_merge(&an[i], &am[i], &aq[i], pn[i], pm[i], pq[i]);
    if (c != p) lask_release(lask_ndarray_value(c));
  }
  for (int64_t i = 0; i < np; i++)
    if (an[i] == 0) am[i] = NAN;
  *out = lask_ndarray_value(acc);
  return LASK_OK;
}

typedef enum finish { F_MEAN, F_VAR, F_STD } finish;

/* mean_finish(m [, dtype]), var_finish(m, ddof [, dtype]), std_finish(m, ddof [, dtype]):
 * the moment partial m reduced to the answer (m's shape without the leading axis),
 * float64 unless dtype names another float dtype. */
static lask_status moment_finish(finish f, const lask_kernel *k, const lask_value *args, int n,
                                 lask_value *out, lask_err *err) {
  int extra = f == F_MEAN ? 0 : 1;
  double ddof = 0;
  lask_dtype dt = LASK_F64;
  lask_ndarray *m;
  if (lask_akernel_nargs(k, n, 1 + extra, 2 + extra, err) || lask_akernel_array(k, args, 0, &m, err))
    return err->code;
  if (m->ndim < 1 || m->shape[0] != 3)
    return lask_akernel_fail(k, LASK_EINVAL, err, "moment partials have a leading axis of 3");
  if (extra && !lask_tonumber(args[1], &ddof))
    return lask_akernel_fail(k, LASK_ETYPE, err, "ddof must be a number");
  if (n > 1 + extra) {
    const lask_value v = args[1 + extra];
    if (!lask_isa(v, &lask_str_class) || !lask_dtype_parse(((const lask_str *)v.as.o)->data, &dt) ||
        !is_float(dt))
      return lask_akernel_fail(k, LASK_EINVAL, err, "the result dtype must be float64 or float32");
  }
  lask_ndarray *c = m;
  if (m->dtype != LASK_F64 || !lask_ndarray_is_c_contiguous(m))
    if (!(c = lask_ndarray_copy(m, LASK_F64, err)))
      return lask_akernel_fail(k, err->code, err, "%s", err->msg);
  lask_ndarray *r = lask_ndarray_empty(LASK_F64, m->ndim - 1, m->shape + 1, err);
  if (!r) {
    if (c != m) lask_release(lask_ndarray_value(c));
    return lask_akernel_fail(k, err->code, err, "%s", err->msg);
  }
  int64_t np = lask_ndarray_size(r);
  const double *cn = (const double *)c->data, *cm = cn + np, *cq = cm + np;
  double *rd = (double *)r->data;
  for (int64_t i = 0; i < np; i++) {
    if (f == F_MEAN)
      rd[i] = cn[i] > 0 ? cm[i] : NAN;
    else {
      double dof = cn[i] - ddof > 0 ? cn[i] - ddof : 0;
      rd[i] = cq[i] / dof;
      if (f == F_STD) rd[i] = sqrt(rd[i]);
    }
  }
  if (c != m) lask_release(lask_ndarray_value(c));
  if (!(r = cast_owned(r, dt, err))) return err->code;
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

static lask_status k_mean_finish(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                                 lask_err *err) {
  return moment_finish(F_MEAN, k, a, n, out, err);
}
static lask_status k_var_finish(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                                lask_err *err) {
  return moment_finish(F_VAR, k, a, n, out, err);
}
static lask_status k_std_finish(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                                lask_err *err) {
  return moment_finish(F_STD, k, a, n, out, err);
}

/* --- argmin, argmax ---
 *
 * Partials are (2, kept shape...): plane 0 the best value, plane 1 its global index,
 * float64 for float inputs and int64 otherwise (both exact for any index we can
 * hold). NaN wins, as in numpy; among equals the smallest index wins. An index of
 * -1 means "no candidate" (the partial of a block empty along the reduced axes):
 * every candidate beats it, and arg_finish fails on one that is left. */

/* Is (v, i) better than (bv, bi)? */
static bool arg_better_f(bool is_max, double v, int64_t i, double bv, int64_t bi) {
  if (i < 0 || bi < 0) return bi < 0 && i >= 0;
  if (isnan(bv)) return isnan(v) && i < bi;
  if (isnan(v)) return true;
  if (v == bv) return i < bi;
  return is_max ? v > bv : v < bv;
}

static bool arg_better_i(bool is_max, int64_t v, int64_t i, int64_t bv, int64_t bi) {
  if (i < 0 || bi < 0) return bi < 0 && i >= 0;
  if (v == bv) return i < bi;
  return is_max ? v > bv : v < bv;
}

typedef struct argspec {
  bool is_max, flat;          /* flat: over all axes, indices into the raveled global array */
  bool skipnan;               /* nanargmin/nanargmax: NaN is no candidate */
  int axis;                   /* the reduced axis when not flat */
  int64_t offset;             /* global position of the block along axis */
  int64_t goff[LASK_MAXDIM];  /* flat: the block's global offsets */
  int64_t gstep[LASK_MAXDIM]; /* flat: C-order element strides of the global shape */
} argspec;

/* Offers element (value at plane-0 slot p of acc, index gi) to the accumulator. */
static void arg_offer(const argspec *as, lask_ndarray *acc, int64_t np, int64_t slot, const double *tf,
                      const int64_t *ti, int64_t j, int64_t gi, bool *seen) {
  if (acc->dtype == LASK_F64) {
    double *v = (double *)acc->data + slot, *ix = v + np;
    if (as->skipnan && tf[j] != tf[j]) return;
    if (!seen[slot] || arg_better_f(as->is_max, tf[j], gi, *v, (int64_t)*ix)) *v = tf[j], *ix = (double)gi;
  } else {
    int64_t *v = (int64_t *)acc->data + slot, *ix = v + np;
    if (!seen[slot] || arg_better_i(as->is_max, ti[j], gi, *v, *ix)) *v = ti[j], *ix = gi;
  }
  seen[slot] = true;
}

/* Walks x row by row (the last axis), with an odometer over the others. */
static void arg_walk(const argspec *as, lask_ndarray *acc, const lask_ndarray *x, bool *seen) {
  int nd = x->ndim, last = nd - 1;
  int64_t np = lask_ndarray_size(acc) / 2, ostep[LASK_MAXDIM], idx[LASK_MAXDIM] = {0};
  unsigned mask = as->flat ? ~0u : 1u << as->axis;
  acc_strides(x, mask, 1, ostep);
  if (lask_ndarray_size(x) == 0) return;
  int64_t len = nd ? x->shape[last] : 1, sx = nd ? x->strides[last] : 0;
  union {
    double f[TILE];
    int64_t i[TILE];
  } tile;
  for (;;) {
    const char *row = lask_ndarray_ptr(x, idx);
    int64_t slot0 = 0, g0 = 0;
    for (int d = 0; d < last; d++) {
      slot0 += idx[d] * ostep[d];
      g0 += as->flat ? (as->goff[d] + idx[d]) * as->gstep[d] : (d == as->axis ? as->offset + idx[d] : 0);
    }
    for (int64_t j0 = 0; j0 < len; j0 += TILE) {
      int64_t m = len - j0 < TILE ? len - j0 : TILE;
      if (acc->dtype == LASK_F64)
        lask_convert(LASK_F64, tile.f, 8, x->dtype, row + j0 * sx, sx, m);
      else
        lask_convert(LASK_I64, tile.i, 8, x->dtype, row + j0 * sx, sx, m);
      for (int64_t j = 0; j < m; j++) {
        int64_t pos = j0 + j, slot = slot0 + (nd ? pos * ostep[last] : 0), gi = g0;
        if (as->flat)
          gi += nd ? (as->goff[last] + pos) * as->gstep[last] : 0;
        else if (as->axis == last)
          gi = as->offset + pos;
        arg_offer(as, acc, np, slot, tile.f, tile.i, j, gi, seen);
      }
    }
    int d = last - 1;
    while (d >= 0 && ++idx[d] == x->shape[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

static lask_status get_int_list(const lask_kernel *k, lask_value v, int want, int64_t *out, const char *what,
                                lask_err *err) {
  if (!lask_isa(v, &lask_list_class) || (int)((const lask_list *)v.as.o)->n != want)
    return lask_akernel_fail(k, LASK_EINVAL, err, "%s must be a list of %d integers", what, want);
  const lask_list *l = (const lask_list *)v.as.o;
  for (int i = 0; i < want; i++)
    if (!lask_akernel_as_int(l->items[i], &out[i]))
      return lask_akernel_fail(k, LASK_ETYPE, err, "%s must hold integers", what);
  return LASK_OK;
}

/* argmin_chunk(x, axis, offset): along one axis, offset = the block's start on it;
 * argmin_chunk(x, axes, offsets, global_shape) with axes listing every axis: over the
 * flattened array, offsets = the block's start on each axis. */
static lask_status arg_chunk(bool is_max, bool skipnan, const lask_kernel *k, const lask_value *args, int n,
                             lask_value *out, lask_err *err) {
  lask_ndarray *x;
  argspec as = {.is_max = is_max, .skipnan = skipnan};
  if (lask_akernel_nargs(k, n, 3, 4, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  int64_t ax;
  if (lask_akernel_as_int(args[1], &ax)) {
    if (check_axis(k, ax, x->ndim, &as.axis, err) || lask_akernel_arg_int(k, args, 2, &as.offset, err))
      return err->code;
  } else {
    unsigned mask;
    int64_t gshape[LASK_MAXDIM];
    if (get_axes(k, args[1], x->ndim, &mask, err)) return err->code;
    if (mask != (x->ndim ? (1u << x->ndim) - 1 : 0u) || n < 4)
      return lask_akernel_fail(k, LASK_EINVAL, err,
                               "give one axis, or every axis with the offsets and the global shape");
    if (get_int_list(k, args[2], x->ndim, as.goff, "offsets", err) ||
        get_int_list(k, args[3], x->ndim, gshape, "global_shape", err))
      return err->code;
    as.flat = true;
    for (int64_t d = x->ndim - 1, s = 1; d >= 0; s *= gshape[d], d--) as.gstep[d] = s;
  }
  int64_t shape[LASK_MAXDIM];
  int nd = keep_shape(x, as.flat ? ~0u : 1u << as.axis, 2, shape);
  lask_ndarray *acc = lask_ndarray_new(is_float(x->dtype) ? LASK_F64 : LASK_I64, nd, shape, err);
  bool *seen = acc ? calloc((size_t)(lask_ndarray_size(acc) / 2 + 1), 1) : NULL;
  if (!seen) {
    if (acc) lask_release(lask_ndarray_value(acc));
    return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  }
  arg_walk(&as, acc, x, seen);
  int64_t np = lask_ndarray_size(acc) / 2;
  for (int64_t slot = 0; slot < np; slot++) /* an empty block: no candidate */
    if (!seen[slot]) {
      if (acc->dtype == LASK_F64)
        ((double *)acc->data)[np + slot] = -1;
      else
        ((int64_t *)acc->data)[np + slot] = -1;
    }
  free(seen);
  *out = lask_ndarray_value(acc);
  return LASK_OK;
}

/* argmin_agg(list [, axis]): the best of each position over the partials. */
static lask_status arg_agg(bool is_max, const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                           lask_err *err) {
  const lask_list *parts;
  if (lask_akernel_nargs(k, n, 1, 2, err) || get_parts(k, args, 0, &parts, err)) return err->code;
  const lask_ndarray *first = lask_ndarray_of(parts->items[0]);
  if (first->ndim < 1 || first->shape[0] != 2)
    return lask_akernel_fail(k, LASK_EINVAL, err, "arg partials have a leading axis of 2");
  lask_dtype dt = first->dtype == LASK_F64 ? LASK_F64 : LASK_I64;
  lask_ndarray *acc = NULL;
  int64_t np = lask_ndarray_size(first) / 2;
  for (size_t j = 0; j < parts->n; j++) {
    lask_ndarray *c = lask_ndarray_copy(lask_ndarray_of(parts->items[j]), dt, err);
    if (!c) {
      if (acc) lask_release(lask_ndarray_value(acc));
      return lask_akernel_fail(k, err->code, err, "%s", err->msg);
    }
    if (!acc) {
      acc = c;
      continue;
    }
    for (int64_t i = 0; i < np; i++) {
      if (dt == LASK_F64) {
        double *v = (double *)acc->data, *w = (double *)c->data;
        if (arg_better_f(is_max, w[i], (int64_t)w[np + i], v[i], (int64_t)v[np + i]))
          v[i] = w[i], v[np + i] = w[np + i];
      } else {
        int64_t *v = (int64_t *)acc->data, *w = (int64_t *)c->data;
        if (arg_better_i(is_max, w[i], w[np + i], v[i], v[np + i])) v[i] = w[i], v[np + i] = w[np + i];
      }
    }
    lask_release(lask_ndarray_value(c));
  }
  *out = lask_ndarray_value(acc);
  return LASK_OK;
}

static lask_status k_argmin_chunk(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                                  lask_err *err) {
  return arg_chunk(false, false, k, a, n, out, err);
}
static lask_status k_argmax_chunk(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                                  lask_err *err) {
  return arg_chunk(true, false, k, a, n, out, err);
}
/* nanargmin_chunk, nanargmax_chunk: as argmin_chunk, NaN no candidate (an all-NaN
 * lane is left without one: arg_finish fails on it, as numpy's nanargmin raises). */
static lask_status k_nanargmin_chunk(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                                     lask_err *err) {
  return arg_chunk(false, true, k, a, n, out, err);
}
static lask_status k_nanargmax_chunk(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                                     lask_err *err) {
  return arg_chunk(true, true, k, a, n, out, err);
}
static lask_status k_argmin_agg(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                                lask_err *err) {
  return arg_agg(false, k, a, n, out, err);
}
static lask_status k_argmax_agg(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                                lask_err *err) {
  return arg_agg(true, k, a, n, out, err);
}

/* arg_finish(m [, base]): the index plane of an arg partial, as int64, counted from
 * base (default 0, numpy's; lask.array passes 1, Lua's). Fails on a position no
 * element reached (an empty sequence). */
static lask_status k_arg_finish(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                lask_err *err) {
  lask_ndarray *m;
  int64_t base = 0;
  if (lask_akernel_nargs(k, n, 1, 2, err) || lask_akernel_array(k, args, 0, &m, err) ||
      (n > 1 && args[1].type != LASK_TNIL && lask_akernel_arg_int(k, args, 1, &base, err)))
    return err->code;
  if (m->ndim < 1 || m->shape[0] != 2)
    return lask_akernel_fail(k, LASK_EINVAL, err, "arg partials have a leading axis of 2");
  lask_ndarray *r = lask_ndarray_empty(LASK_I64, m->ndim - 1, m->shape + 1, err);
  if (!r) return lask_akernel_fail(k, err->code, err, "%s", err->msg);
  int64_t idx[LASK_MAXDIM] = {1};
  lask_ndarray *plane = lask_ndarray_view(m->buf, lask_ndarray_ptr(m, idx), m->dtype, m->ndim - 1,
                                          m->shape + 1, m->strides + 1, err);
  if (!plane)
    return lask_release(lask_ndarray_value(r)), lask_akernel_fail(k, err->code, err, "%s", err->msg);
  lask_iter it;
  if (lask_iter_init(&it, 2, r->ndim, r->shape, (char *[]){r->data, plane->data},
                     (const int64_t *[]){r->strides, plane->strides}))
    do lask_convert(LASK_I64, it.ptr[0], it.stride[0], plane->dtype, it.ptr[1], it.stride[1], it.inner);
    while (lask_iter_next(&it));
  lask_release(lask_ndarray_value(plane));
  int64_t *ix = (int64_t *)r->data, nr = lask_ndarray_size(r);
  for (int64_t i = 0; i < nr; i++) {
    if (ix[i] < 0) {
      lask_release(lask_ndarray_value(r));
      return lask_akernel_fail(k, LASK_EINVAL, err,
                               "attempt to get the arg of an empty sequence (or of an all-NaN slice)");
    }
    ix[i] += base;
  }
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* squeeze(x [, axes]): a view of x without the listed axes, which must have extent 1
 * (without axes: every axis of extent 1). */
static lask_status k_squeeze(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                             lask_err *err) {
  lask_ndarray *x;
  unsigned mask;
  if (lask_akernel_nargs(k, n, 1, 2, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  if (get_axes(k, n > 1 ? args[1] : lask_nil(), x->ndim, &mask, err)) return err->code;
  if (n < 2 || args[1].type == LASK_TNIL)
    for (int d = 0; d < x->ndim; d++)
      if (x->shape[d] != 1) mask &= ~(1u << d);
  int64_t shape[LASK_MAXDIM], strides[LASK_MAXDIM];
  int nd = 0;
  for (int d = 0; d < x->ndim; d++) {
    if (!(mask & (1u << d))) {
      shape[nd] = x->shape[d], strides[nd++] = x->strides[d];
    } else if (x->shape[d] != 1) {
      return lask_akernel_fail(k, LASK_EINVAL, err, "cannot drop axis %d of extent %lld", d,
                               (long long)x->shape[d]);
    }
  }
  lask_ndarray *v = lask_ndarray_view(x->buf, x->data, x->dtype, nd, shape, strides, err);
  if (!v) return lask_akernel_fail(k, err->code, err, "%s", err->msg);
  *out = lask_ndarray_value(v);
  return LASK_OK;
}

static const lask_kernel reduce_kernels[] = {
    LASK_KERNEL_STATIC("sum_chunk", k_sum_chunk),
    LASK_KERNEL_STATIC("sum_agg", k_sum_agg),
    LASK_KERNEL_STATIC("prod_chunk", k_prod_chunk),
    LASK_KERNEL_STATIC("prod_agg", k_prod_agg),
    LASK_KERNEL_STATIC("min_chunk", k_min_chunk),
    LASK_KERNEL_STATIC("min_agg", k_min_agg),
    LASK_KERNEL_STATIC("max_chunk", k_max_chunk),
    LASK_KERNEL_STATIC("max_agg", k_max_agg),
    LASK_KERNEL_STATIC("moment_chunk", k_moment_chunk),
    LASK_KERNEL_STATIC("moment_agg", k_moment_agg),
    LASK_KERNEL_STATIC("mean_finish", k_mean_finish),
    LASK_KERNEL_STATIC("var_finish", k_var_finish),
    LASK_KERNEL_STATIC("std_finish", k_std_finish),
    LASK_KERNEL_STATIC("argmin_chunk", k_argmin_chunk),
    LASK_KERNEL_STATIC("argmax_chunk", k_argmax_chunk),
    LASK_KERNEL_STATIC("argmin_agg", k_argmin_agg),
    LASK_KERNEL_STATIC("argmax_agg", k_argmax_agg),
    LASK_KERNEL_STATIC("arg_finish", k_arg_finish),
    LASK_KERNEL_STATIC("squeeze", k_squeeze),
    LASK_KERNEL_STATIC("nanargmin_chunk", k_nanargmin_chunk),
    LASK_KERNEL_STATIC("nanargmax_chunk", k_nanargmax_chunk),
};

const lask_kernel *lask_akernels_reduce(int i);

LASK_AKERNEL_GROUP(lask_akernels_reduce, reduce_kernels)
