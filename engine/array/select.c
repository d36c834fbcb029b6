/* select.c — order statistics along one axis (array_kernels.h): quantiles (median,
 * percentile) and the k largest or smallest elements, by selection (Floyd and
 * Rivest's) over each lane copied into a buffer: O(n) a lane, as numpy's partition. lask.array
 * gives these kernels whole lanes (the axis rechunked to one block, as Dask does)
 * or, for topk, the partial results of its blocks concatenated.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"

/* NaN sorts last (as numpy's sort and partition). */
static inline bool before(double a, double b) { return a < b || (b != b && a == a); }

static inline void swap(double *v, int64_t a, int64_t b) {
  double t = v[a];
  v[a] = v[b];
  v[b] = t;
}

/* Moves the k-th smallest of v[lo..hi] to v[k], the smaller ones before it and the
 * larger ones after: Floyd and Rivest's SELECT (CACM 18(3), 1975), which first
 * selects within a small sample around where the k-th should fall, so that the
 * partition of the whole range around it leaves little to recurse into: about
 * n + min(k, n - k) comparisons where quickselect makes about 3n for a median.
 * v holds no NaN (quantile_lane leaves them out first), so < orders it. */
static void select_kth(double *v, int64_t lo, int64_t hi, int64_t k) {
  while (hi > lo) {
    if (hi - lo > 600) { /* narrow [lo, hi] to a sample's range that holds the k-th */
      double n = (double)(hi - lo + 1), i = (double)(k - lo + 1), z = log(n);
      double s = 0.5 * exp(2 * z / 3), sd = 0.5 * sqrt(z * s * (n - s) / n) * (i - n / 2 < 0 ? -1 : 1);
      int64_t nlo = (int64_t)((double)k - i * s / n + sd), nhi = (int64_t)((double)k + (n - i) * s / n + sd);
      select_kth(v, nlo > lo ? nlo : lo, nhi < hi ? nhi : hi, k);
    }
    double t = v[k]; /* partition [lo, hi] around t */
    int64_t i = lo, j = hi;
    swap(v, lo, k);
    if (t < v[hi]) swap(v, hi, lo);
    while (i < j) {
      swap(v, i, j);
      i++, j--;
      while (v[i] < t) i++;
      while (t < v[j]) j--;
    }
    if (v[lo] == t)
      swap(v, lo, j);
    else
      j++, swap(v, j, hi);
    if (j <= k) lo = j + 1;
    if (k <= j) hi = j - 1;
  }
}

/* The smallest of v[lo..hi] (no NaN). */
static double min_of(const double *v, int64_t lo, int64_t hi) {
  double m = v[lo];
  for (int64_t i = lo + 1; i <= hi; i++)
    if (v[i] < m) m = v[i];
  return m;
}

enum qmethod { Q_LINEAR, Q_LOWER, Q_HIGHER, Q_NEAREST, Q_MIDPOINT, Q_MEDIAN };

/* numpy's _lerp: a + (b - a) t, from b's side for t >= 0.5 (exact at both ends). */
static double lerp(double a, double b, double t) {
  double d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* The q-quantile of v[0..n) (n > 0, no NaN; v is reordered). */
static double quantile_of(double *v, int64_t n, double q, enum qmethod m) {
  double pos = q * (double)(n - 1);
  int64_t lo = (int64_t)floor(pos);
  if (lo > n - 1) lo = n - 1;
  double g = pos - (double)lo;
  if (m == Q_NEAREST) { /* numpy: around(pos), half to even */
    lo = (int64_t)rint(pos);
    g = 0;
  } else if (m == Q_HIGHER && g > 0) {
    lo++, g = 0;
  } else if (m == Q_LOWER) {
    g = 0;
  }
  select_kth(v, 0, n - 1, lo);
  double a = v[lo];
  if (g == 0 || lo + 1 >= n) return a;
  double b = min_of(v, lo + 1, n - 1);
  if (m == Q_MEDIAN) return (a + b) / 2;
  return lerp(a, b, m == Q_MIDPOINT ? 0.5 : g);
}

/* An axis argument: 0-based, within ndim. */
static lask_status axis_arg(const lask_kernel *k, const lask_value *args, int i, int ndim, int *ax,
                            lask_err *err) {
  int64_t a;
  if (lask_akernel_arg_int(k, args, i, &a, err)) return err->code;
  if (a < 0 || a >= ndim)
    return lask_akernel_fail(k, LASK_EINVAL, err, "axis %lld is out of range for a %d-d array", (long long)a,
                             ndim);
  *ax = (int)a;
  return LASK_OK;
}

/* Calls f(ctx, v, len, lane, src, src_stride) for every lane along axis ax of the
 * array made of pieces xs[0..np) joined along ax (blocks of one array; the same
 * extents on the other axes): v the lane as doubles (f may reorder it), lane its
 * number in C order over the other axes, and, for a single piece, src its first
 * element in the piece's dtype and src_stride the byte step along it (NULL and 0
 * for several pieces). A lane along any axis but the last is strided in memory, so
 * lanes are gathered LANE_GROUP neighbours at a time, row by row: memory is read in
 * order, and pieces are read in place (no joined copy). */
typedef void (*lane_fn)(void *ctx, double *v, int64_t len, int64_t lane, const char *src, int64_t src_stride);

#define LANE_GROUP 32

static lask_status each_lane(const lask_kernel *k, const lask_ndarray *const *xs, int np, int ax, lane_fn f,
                             void *ctx, lask_err *err) {
  const lask_ndarray *x0 = xs[0];
  int64_t len = 0, outer = 1, inner = 1;
  for (int d = 0; d < ax; d++) outer *= x0->shape[d];
  for (int d = ax + 1; d < x0->ndim; d++) inner *= x0->shape[d];
  for (int p = 0; p < np; p++) len += xs[p]->shape[ax];
  if (outer * inner == 0) return LASK_OK;
  int64_t group = inner < LANE_GROUP ? inner : LANE_GROUP;
  const lask_ndarray **pc = calloc((size_t)np, sizeof *pc); /* the pieces, C-contiguous */
  bool *owned = calloc((size_t)np, sizeof *owned);
  double *buf = malloc(sizeof(double) * (size_t)(group * len + 1));
  lask_status st = pc && owned && buf ? LASK_OK : lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  for (int p = 0; !st && p < np; p++) {
    pc[p] = xs[p];
    if (!lask_ndarray_is_c_contiguous(xs[p])) {
      if (!(pc[p] = lask_ndarray_copy(xs[p], xs[p]->dtype, err)))
        st = lask_akernel_relabel(k, err);
      else
        owned[p] = true;
    }
  }
  for (int64_t o = 0; !st && o < outer; o++)
    for (int64_t i0 = 0; i0 < inner; i0 += group) {
      int64_t gn = inner - i0 < group ? inner - i0 : group, at = 0;
      const char *src = NULL;
      int64_t sstride = 0;
      for (int p = 0; p < np; p++) {
        const lask_ndarray *x = pc[p];
        int64_t plen = x->shape[ax], isz = (int64_t)lask_dtype_size(x->dtype);
        const char *base = x->data + (o * plen * inner + i0) * isz;
        if (np == 1) src = base, sstride = inner * isz;
        if (gn == 1)
          lask_convert(LASK_F64, buf + at, 8, x->dtype, base, inner * isz, plen);
        else if (x->dtype == LASK_F64) /* the common case without a conversion call a row */
          for (int64_t j = 0; j < plen; j++) {
            const double *row = (const double *)(base + j * inner * isz);
            for (int64_t b = 0; b < gn; b++) buf[at + j + b * len] = row[b];
          }
        else
          for (int64_t j = 0; j < plen; j++)
            lask_convert(LASK_F64, buf + at + j, len * 8, x->dtype, base + j * inner * isz, isz, gn);
        at += plen;
      }
      int64_t isz0 = (int64_t)lask_dtype_size(x0->dtype);
      for (int64_t b = 0; b < gn; b++)
        f(ctx, buf + b * len, len, o * inner + i0 + b, src ? src + b * isz0 : NULL, sstride);
    }
  for (int p = 0; pc && owned && p < np; p++)
    if (owned[p]) lask_release(lask_ndarray_value((lask_ndarray *)pc[p]));
  free(pc);
  free(owned);
  free(buf);
  return st;
}

typedef struct qctx {
  const double *qs;
  int64_t nq, lanes;
  enum qmethod m;
  bool skipnan;
  lask_ndarray *out; /* float64 (nq, lanes...) in C order: out[iq * lanes + lane] */
} qctx;

static void quantile_lane(void *c, double *v, int64_t n, int64_t lane, const char *src, int64_t src_stride) {
  qctx *q = c;
  (void)src, (void)src_stride;
  double *o = (double *)q->out->data;
  int64_t m = 0;
  bool nan = false;
  for (int64_t i = 0; i < n; i++) {
    if (v[i] != v[i])
      nan = true;
    else
      v[m++] = v[i];
  }
  for (int64_t iq = 0; iq < q->nq; iq++)
    o[iq * q->lanes + lane] = (nan && !q->skipnan) || m == 0 ? NAN : quantile_of(v, m, q->qs[iq], q->m);
}

static lask_status quantile(const lask_kernel *k, const lask_ndarray *const *xs, int np,
                            const lask_value *args, int n, lask_value *out, lask_err *err);

/* quantile(x, axis, qs, method, skipnan [, dtype]): the quantiles qs (a number or a
 * list of numbers in [0, 1]) of x along axis, which is dropped; a list puts a
 * leading axis of its length first (numpy's layout). method: "linear", "lower",
 * "higher", "nearest", "midpoint" or "median" (linear, but the mean of the two
 * middle values, as numpy's median). A lane with a NaN gives NaN; with skipnan,
 * NaNs are left out (a lane of only NaNs gives NaN). dtype: the result's, float64
 * by default. x may be a list of the blocks along axis: lanes are read across
 * them in place, with no joined copy. */
static lask_status k_quantile(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                              lask_err *err) {
  int np = 1;
  const lask_ndarray *one, *const *xs = &one;
  if (lask_akernel_nargs(k, n, 5, 6, err)) return err->code;
  if (lask_isa(args[0], &lask_list_class)) { /* the blocks along the axis */
    const lask_list *l = (const lask_list *)args[0].as.o;
    if (l->n < 1 || l->n > INT32_MAX)
      return lask_akernel_fail(k, LASK_EINVAL, err, "give at least one block");
    np = (int)l->n;
    const lask_ndarray **list = calloc(l->n, sizeof *list);
    if (!list) return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
    for (size_t i = 0; i < l->n; i++)
      if (!(list[i] = lask_ndarray_of(l->items[i]))) {
        free(list);
        return lask_akernel_fail(k, LASK_ETYPE, err, "argument 1 must be an array or a list of arrays");
      }
    xs = list;
  } else {
    lask_ndarray *x;
    if (lask_akernel_array(k, args, 0, &x, err)) return err->code;
    one = x;
  }
  lask_status st = quantile(k, xs, np, args, n, out, err);
  if (xs != &one) free((void *)xs);
  return st;
}

/* The quantile kernel over the pieces xs[0..np) (joined along the axis). */
static lask_status quantile(const lask_kernel *k, const lask_ndarray *const *xs, int np,
                            const lask_value *args, int n, lask_value *out, lask_err *err) {
  const lask_ndarray *x = xs[0];
  int ax;
  if (axis_arg(k, args, 1, x->ndim, &ax, err)) return err->code;
  int64_t axlen = 0;
  for (int p = 0; p < np; p++) {
    if (xs[p]->ndim != x->ndim)
      return lask_akernel_fail(k, LASK_EINVAL, err, "the blocks must have the same number of dimensions");
    for (int d = 0; d < x->ndim; d++)
      if (d != ax && xs[p]->shape[d] != x->shape[d])
        return lask_akernel_fail(k, LASK_EINVAL, err,
                                 "the blocks must have the same extents but along the axis");
    axlen += xs[p]->shape[ax];
  }
  double qbuf[64];
  int64_t nq = 1;
  bool qlist = lask_isa(args[2], &lask_list_class);
  if (qlist) {
    const lask_list *l = (const lask_list *)args[2].as.o;
    if (l->n < 1 || l->n > 64) return lask_akernel_fail(k, LASK_EINVAL, err, "give 1 to 64 quantiles");
    nq = (int64_t)l->n;
    for (int64_t i = 0; i < nq; i++)
      if (!lask_tonumber(l->items[i], &qbuf[i]))
        return lask_akernel_fail(k, LASK_ETYPE, err, "quantiles must be numbers");
  } else if (lask_akernel_arg_number(k, args, 2, &qbuf[0], err)) {
    return err->code;
  }
  for (int64_t i = 0; i < nq; i++)
    if (!(qbuf[i] >= 0 && qbuf[i] <= 1))
      return lask_akernel_fail(k, LASK_EINVAL, err, "quantiles must be in the range [0, 1]");
  static const char *const names[] = {"linear", "lower", "higher", "nearest", "midpoint", "median"};
  const char *mname = lask_isa(args[3], &lask_str_class) ? ((const lask_str *)args[3].as.o)->data : "";
  int m = 0;
  while (m < 6 && strcmp(names[m], mname) != 0) m++;
  if (m == 6)
    return lask_akernel_fail(k, LASK_EINVAL, err,
                             "method must be linear, lower, higher, nearest, midpoint or median");
  lask_dtype odt = LASK_F64;
  if (n > 5 && lask_akernel_arg_dtype(k, args, 5, LASK_F64, &odt, err)) return err->code;
  int64_t shape[LASK_MAXDIM + 1], lanes = 1;
  int nd = 0;
  if (qlist) shape[nd++] = nq;
  for (int d = 0; d < x->ndim; d++)
    if (d != ax) shape[nd++] = x->shape[d], lanes *= x->shape[d];
  if (axlen == 0 && lanes > 0 && m != Q_MEDIAN) /* numpy: a median of nothing is NaN */
    return lask_akernel_fail(k, LASK_EINVAL, err, "cannot take a quantile of an empty axis");
  qctx c = {qbuf,
            nq,
            lanes,
            (enum qmethod)m,
            args[4].type == LASK_TBOOL && args[4].as.b,
            lask_ndarray_new(LASK_F64, nd, shape, err)};
  if (!c.out) return lask_akernel_relabel(k, err);
  if (each_lane(k, xs, np, ax, quantile_lane, &c, err)) {
    lask_release(lask_ndarray_value(c.out));
    return err->code;
  }
  if (odt != LASK_F64) {
    lask_ndarray *y = lask_ndarray_copy(c.out, odt, err);
    lask_release(lask_ndarray_value(c.out));
    if (!y) return lask_akernel_relabel(k, err);
    c.out = y;
  }
  *out = lask_ndarray_value(c.out);
  return LASK_OK;
}

/* --- topk --- */

/* An element of a lane: its value (as a double, to order it) and its position. */
typedef struct item {
  double v;
  int64_t pos;
} item;

/* Does a come before b in topk's order? The larger first for largest (NaN largest,
 * as numpy's partition puts it last), the smaller first otherwise; ties by position. */
static inline bool item_before(bool largest, item a, item b) {
  if (largest ? before(b.v, a.v) : before(a.v, b.v)) return true;
  if (largest ? before(a.v, b.v) : before(b.v, a.v)) return false;
  return a.pos < b.pos;
}

/* Moves the k first items in topk's order to it[0..k) (unordered; k < n). */
static void select_items(bool largest, item *it, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n - 1;
  while (hi > lo) {
    item p = it[lo + (hi - lo) / 2];
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (item_before(largest, it[i], p)) i++;
      while (item_before(largest, p, it[j])) j--;
      if (i <= j) {
        item t = it[i];
        it[i++] = it[j];
        it[j--] = t;
      }
    }
    if (k - 1 <= j)
      hi = j;
    else if (k - 1 >= i)
      lo = i;
    else
      return;
  }
}

/* Heap sort of it[0..n) in topk's order (no recursion, no global state). */
static void sift(bool largest, item *it, int64_t root, int64_t n) {
  for (;;) {
    int64_t c = 2 * root + 1;
    if (c >= n) return;
    if (c + 1 < n && item_before(largest, it[c], it[c + 1])) c++;
    if (!item_before(largest, it[root], it[c])) return;
    item t = it[root];
    it[root] = it[c];
    it[c] = t;
    root = c;
  }
}

static void sort_items(bool largest, item *it, int64_t n) {
  for (int64_t i = n / 2 - 1; i >= 0; i--) sift(largest, it, i, n);
  for (int64_t end = n - 1; end > 0; end--) {
    item t = it[0];
    it[0] = it[end];
    it[end] = t;
    sift(largest, it, 0, end);
  }
}

typedef struct tctx {
  int64_t k, offset;   /* elements kept a lane; argtopk: added to the positions */
  bool largest, index; /* k > 0; argtopk (int64 positions) instead of the values */
  const lask_ndarray *x;
  int ax;
  lask_ndarray *out; /* x's shape but extent k along ax, C order */
  item *items;
} tctx;

static void topk_lane(void *c, double *v, int64_t n, int64_t lane, const char *src, int64_t src_stride) {
  tctx *t = c;
  for (int64_t i = 0; i < n; i++) t->items[i] = (item){v[i], i};
  if (t->k < n) select_items(t->largest, t->items, n, t->k);
  sort_items(t->largest, t->items, t->k);
  /* the lane's place in the output: C order, the axis of extent k */
  int64_t inner = 1;
  for (int d = t->ax + 1; d < t->x->ndim; d++) inner *= t->x->shape[d];
  int64_t o = lane / inner, in = lane % inner, base = o * t->k * inner + in;
  size_t isz = lask_dtype_size(t->out->dtype);
  for (int64_t j = 0; j < t->k; j++) {
    char *dst = t->out->data + (base + j * inner) * (int64_t)isz;
    if (t->index)
      *(int64_t *)dst = t->items[j].pos + t->offset;
    else
      memcpy(dst, src + t->items[j].pos * src_stride, isz);
  }
}

/* topk(x, axis, k) / argtopk(x, axis, k, offset): along axis, the |k| largest
 * elements (k > 0) in decreasing order, or the |k| smallest (k < 0) in increasing
 * order, as Dask's topk; argtopk gives their positions (0-based, plus offset) as
 * int64. A block with fewer elements along axis gives them all, ordered. */
static lask_status topk(bool index, const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                        lask_err *err) {
  lask_ndarray *x;
  int ax;
  int64_t kk, offset = 0;
  if (lask_akernel_nargs(k, n, 3, index ? 4 : 3, err) || lask_akernel_array(k, args, 0, &x, err) ||
      axis_arg(k, args, 1, x->ndim, &ax, err) || lask_akernel_arg_int(k, args, 2, &kk, err) ||
      (index && n > 3 && lask_akernel_arg_int(k, args, 3, &offset, err)))
    return err->code;
  if (kk == 0) return lask_akernel_fail(k, LASK_EINVAL, err, "k must not be 0");
  int64_t len = x->shape[ax], m = kk < 0 ? -kk : kk;
  if (m > len) m = len;
  int64_t shape[LASK_MAXDIM];
  memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
  shape[ax] = m;
  tctx t = {
      m,   offset, kk > 0, index, x, ax, lask_ndarray_new(index ? LASK_I64 : x->dtype, x->ndim, shape, err),
      NULL};
  t.items = t.out ? malloc(sizeof(item) * (size_t)(len + 1)) : NULL;
  if (!t.items) {
    if (t.out) lask_release(lask_ndarray_value(t.out));
    return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  }
  const lask_ndarray *one = x;
  lask_status st = m > 0 ? each_lane(k, &one, 1, ax, topk_lane, &t, err) : LASK_OK;
  free(t.items);
  if (st) {
    lask_release(lask_ndarray_value(t.out));
    return st;
  }
  *out = lask_ndarray_value(t.out);
  return LASK_OK;
}

static lask_status k_topk(const lask_kernel *k, const lask_value *a, int n, lask_value *out, lask_err *err) {
  return topk(false, k, a, n, out, err);
}
static lask_status k_argtopk(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                             lask_err *err) {
  return topk(true, k, a, n, out, err);
}

static const lask_kernel kernels[] = {
    LASK_KERNEL_STATIC("quantile", k_quantile),
    LASK_KERNEL_STATIC("topk", k_topk),
    LASK_KERNEL_STATIC("argtopk", k_argtopk),
};

LASK_AKERNEL_GROUP(lask_akernels_select, kernels)
