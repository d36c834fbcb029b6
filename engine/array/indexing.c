/* indexing.c — the indexing kernels of lask.array (array_kernels.h): boolean
 * masks (compress), integer lists (take), reversed axes (reverse), new axes
 * (insert_axes), assignment into a copy (setitem), positions of non-zero elements
 * (argwhere), sorted unique values (unique), positions in a sorted array (searchsorted,
 * isin) and a block's shape (block_shape).
 *
 * Positions are 0-based inside the kernels except where a base argument says
 * otherwise (lask.array passes 1: its positions count from 1). Results are new
 * arrays except reverse and insert_axes, which are views.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"

/* Copies the strided layout src (ndim, shape, strides, data; dtype sdt) into dst
 * (dtype ddt, strides dst_strides), converting. */
static void copy_layout(char *dst, lask_dtype ddt, const int64_t *dst_strides, char *src, lask_dtype sdt,
                        int ndim, const int64_t *shape, const int64_t *src_strides) {
  lask_iter it;
  if (!lask_iter_init(&it, 2, ndim, shape, (char *[]){dst, src},
                      (const int64_t *[]){dst_strides, src_strides}))
    return;
  do lask_convert(ddt, it.ptr[0], it.stride[0], sdt, it.ptr[1], it.stride[1], it.inner);
  while (lask_iter_next(&it));
}

/* Copies item i (along axis) of x into item j of r (same dtype, same other extents). */
static void copy_item(lask_ndarray *r, int64_t j, const lask_ndarray *x, int64_t i, int axis) {
  int64_t shape[LASK_MAXDIM], ss[LASK_MAXDIM], ds[LASK_MAXDIM];
  int nd = 0;
  for (int d = 0; d < x->ndim; d++) {
    if (d == axis) continue;
    shape[nd] = x->shape[d], ss[nd] = x->strides[d], ds[nd] = r->strides[d];
    nd++;
  }
  size_t isz = lask_dtype_size(x->dtype);
  char *src = x->data + i * x->strides[axis], *dst = r->data + j * r->strides[axis];
  if (nd == 0) {
    memcpy(dst, src, isz);
    return;
  }
  copy_layout(dst, r->dtype, ds, src, x->dtype, nd, shape, ss);
}

static lask_status need_bool(const lask_kernel *k, const lask_ndarray *m, lask_err *err) {
  if (m->dtype == LASK_BOOL) return LASK_OK;
  return lask_akernel_fail(k, LASK_ETYPE, err, "the mask must be a bool array, got %s",
                           lask_dtype_name(m->dtype));
}

/* The branch-free copy of one contiguous run of T values (xp, mp) to dst + n. */
#define GATHER(T)                                                                                            \
  do {                                                                                                       \
    T *d = (T *)(void *)(dst + n * (int64_t)sizeof(T));                                                      \
    const T *s = (const T *)(const void *)xp;                                                                \
    for (int64_t i = 0; i < it.inner; i++) {                                                                 \
      d[c] = s[i];                                                                                           \
      c += mp[i] != 0;                                                                                       \
    }                                                                                                        \
  } while (0)

/* The elements of x where m (same shape) is true, in C order, into dst (contiguous);
 * gives their count (dst NULL: counts only). */
static int64_t gather_mask(const lask_ndarray *x, const lask_ndarray *m, char *dst) {
  lask_iter it;
  int64_t n = 0;
  size_t isz = lask_dtype_size(x->dtype);
  if (!lask_iter_init(&it, 2, x->ndim, x->shape, (char *[]){x->data, m->data},
                      (const int64_t *[]){x->strides, m->strides}))
    return 0;
  do {
    const char *xp = it.ptr[0], *mp = it.ptr[1];
    int64_t xs = it.stride[0], ms = it.stride[1];
    if (!dst) {
      for (int64_t i = 0; i < it.inner; i++) n += mp[i * ms] != 0;
    } else if (ms == 1 && xs == (int64_t)isz && (isz == 8 || isz == 4 || isz == 1)) {
      /* contiguous values: a branch-free copy (each value written, kept when selected) */
      int64_t c = 0;
      if (isz == 8) GATHER(uint64_t);
      if (isz == 4) GATHER(uint32_t);
      if (isz == 1) GATHER(uint8_t);
      n += c;
    } else {
      for (int64_t i = 0; i < it.inner; i++)
        if (mp[i * ms]) memcpy(dst + (n++) * (int64_t)isz, xp + i * xs, isz);
    }
  } while (lask_iter_next(&it));
  return n;
}

/* compress(x, mask [, axis]): without axis, the elements of x where mask (a bool
 * array of x's shape) is true, as a 1-D array in C order (numpy's x[mask]); with
 * axis (0-based), the items of x along axis where the 1-D mask is true. */
static lask_status k_compress(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                              lask_err *err) {
  lask_ndarray *x, *m;
  if (lask_akernel_nargs(k, n, 2, 3, err) || lask_akernel_array(k, args, 0, &x, err) ||
      lask_akernel_array(k, args, 1, &m, err) || need_bool(k, m, err))
    return err->code;
  char s1[160], s2[160];
  if (n < 3 || args[2].type == LASK_TNIL) {
    bool same = m->ndim == x->ndim;
    for (int d = 0; same && d < x->ndim; d++) same = m->shape[d] == x->shape[d];
    if (!same)
      return lask_akernel_fail(
          k, LASK_EINVAL, err, "a mask of shape %s cannot select from an array of shape %s",
          lask_shape_str(m->ndim, m->shape, s1, sizeof s1), lask_shape_str(x->ndim, x->shape, s2, sizeof s2));
    int64_t count = gather_mask(x, m, NULL);
    /* one spare element: the branch-free copy writes one past the last kept one */
    lask_ndarray *r = lask_ndarray_empty(x->dtype, 1, (int64_t[]){count + 1}, err);
    if (!r) return lask_akernel_relabel(k, err);
    gather_mask(x, m, r->data);
    r->shape[0] = count;
    *out = lask_ndarray_value(r);
    return LASK_OK;
  }
  int64_t a;
  if (!lask_akernel_as_int(args[2], &a) || a < 0 || a >= x->ndim)
    return lask_akernel_fail(k, LASK_EINVAL, err, "the axis must be an integer in [0, %d)", x->ndim);
  int axis = (int)a;
  if (m->ndim != 1 || m->shape[0] != x->shape[axis])
    return lask_akernel_fail(k, LASK_EINVAL, err,
                             "a mask of shape %s cannot select along axis %d of shape %s",
                             lask_shape_str(m->ndim, m->shape, s1, sizeof s1), axis,
                             lask_shape_str(x->ndim, x->shape, s2, sizeof s2));
  int64_t count = 0, shape[LASK_MAXDIM];
  for (int64_t i = 0; i < m->shape[0]; i++) count += m->data[i * m->strides[0]] != 0;
  memcpy(shape, x->shape, sizeof shape[0] * (size_t)x->ndim);
  shape[axis] = count;
  lask_ndarray *r = lask_ndarray_empty(x->dtype, x->ndim, shape, err);
  if (!r) return lask_akernel_relabel(k, err);
  if (lask_ndarray_size(r) > 0)
    for (int64_t i = 0, j = 0; i < m->shape[0]; i++)
      if (m->data[i * m->strides[0]]) copy_item(r, j++, x, i, axis);
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* take(blocks, offsets, idx, axis, extent [, base]): the items of the array made of
 * blocks (a list, joined along axis; offsets: each block's global start) at the
 * positions idx (a 1-D integer array, counted from base, default 0; negative ones
 * from the end of an axis of extent). Every position must lie in one of the blocks. */
static lask_status k_take(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                          lask_err *err) {
  const lask_list *bl;
  lask_ndarray *idx;
  int64_t axis, extent, base = 0;
  if (lask_akernel_nargs(k, n, 5, 6, err) || lask_akernel_arg_arrays(k, args, 0, &bl, err) ||
      lask_akernel_array(k, args, 2, &idx, err) || lask_akernel_arg_int(k, args, 3, &axis, err) ||
      lask_akernel_arg_int(k, args, 4, &extent, err) ||
      (n > 5 && lask_akernel_arg_int(k, args, 5, &base, err)))
    return err->code;
  size_t nb = bl->n;
  if (nb > 1 << 24) return lask_akernel_fail(k, LASK_EINVAL, err, "too many blocks");
  int64_t *offs = malloc(sizeof *offs * nb);
  if (!offs) return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  if (lask_akernel_arg_ints(k, args[1], (int)nb, offs, "offsets", err)) return free(offs), err->code;
  const lask_ndarray *first = lask_ndarray_of(bl->items[0]);
  if (axis < 0 || axis >= first->ndim || idx->ndim != 1 || idx->dtype == LASK_BOOL ||
      idx->dtype == LASK_F64 || idx->dtype == LASK_F32) {
    free(offs);
    return lask_akernel_fail(k, LASK_EINVAL, err, "expects a 1-D integer index array and an axis in [0, %d)",
                             first->ndim);
  }
  int64_t shape[LASK_MAXDIM];
  memcpy(shape, first->shape, sizeof shape[0] * (size_t)first->ndim);
  shape[axis] = idx->shape[0];
  lask_ndarray *r = lask_ndarray_empty(first->dtype, first->ndim, shape, err);
  if (!r) return free(offs), lask_akernel_relabel(k, err);
  size_t b = 0;
  for (int64_t j = 0; j < idx->shape[0]; j++) {
    int64_t v = lask_elem_i64(idx->dtype, idx->data + j * idx->strides[0]);
    int64_t p = v < 0 ? v + extent : v - base;
    if (p < 0 || p >= extent) {
      lask_release(lask_ndarray_value(r)), free(offs);
      return lask_akernel_fail(k, LASK_EINVAL, err, "index %lld is out of bounds for an axis of extent %lld",
                               (long long)v, (long long)extent);
    }
    const lask_ndarray *x = lask_ndarray_of(bl->items[b]);
    if (p < offs[b] || p >= offs[b] + x->shape[axis]) { /* another block: search them all */
      for (b = 0; b < nb; b++) {
        x = lask_ndarray_of(bl->items[b]);
        if (p >= offs[b] && p < offs[b] + x->shape[axis]) break;
      }
      if (b == nb) {
        lask_release(lask_ndarray_value(r)), free(offs);
        return lask_akernel_fail(k, LASK_EINVAL, err, "position %lld is in none of the blocks", (long long)p);
      }
    }
    if (x->dtype != r->dtype || x->ndim != r->ndim) {
      lask_release(lask_ndarray_value(r)), free(offs);
      return lask_akernel_fail(k, LASK_EINVAL, err, "the blocks differ in dtype or dimensions");
    }
    copy_item(r, j, x, p - offs[b], (int)axis);
  }
  free(offs);
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* reverse(x, axes): x with the order along each of axes (0-based) reversed. A view. */
static lask_status k_reverse(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                             lask_err *err) {
  lask_ndarray *x;
  if (lask_akernel_nargs(k, n, 2, 2, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  const lask_list *l = lask_isa(args[1], &lask_list_class) ? (const lask_list *)args[1].as.o : NULL;
  int na = l ? (int)l->n : 0;
  if (na > x->ndim) return lask_akernel_fail(k, LASK_EINVAL, err, "more axes than dimensions");
  int64_t axes[LASK_MAXDIM], strides[LASK_MAXDIM];
  if (na && lask_akernel_arg_ints(k, args[1], na, axes, "axes", err)) return err->code;
  memcpy(strides, x->strides, sizeof strides[0] * (size_t)x->ndim);
  char *data = x->data;
  bool empty = lask_ndarray_size(x) == 0;
  for (int i = 0; i < na; i++) {
    if (axes[i] < 0 || axes[i] >= x->ndim)
      return lask_akernel_fail(k, LASK_EINVAL, err, "axis %lld is out of range", (long long)axes[i]);
    int d = (int)axes[i];
    if (!empty) data += (x->shape[d] - 1) * x->strides[d];
    strides[d] = -strides[d];
  }
  lask_ndarray *v = lask_ndarray_view(x->buf, data, x->dtype, x->ndim, x->shape, strides, err);
  if (!v) return lask_akernel_relabel(k, err);
  *out = lask_ndarray_value(v);
  return LASK_OK;
}

/* insert_axes(x, positions): x with new axes of extent 1 at positions (0-based, in
 * the result, ascending). A view. */
static lask_status k_insert_axes(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                 lask_err *err) {
  lask_ndarray *x;
  if (lask_akernel_nargs(k, n, 2, 2, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  const lask_list *l = lask_isa(args[1], &lask_list_class) ? (const lask_list *)args[1].as.o : NULL;
  int na = l ? (int)l->n : 0, nd = x->ndim + na;
  if (nd > LASK_MAXDIM) return lask_akernel_fail(k, LASK_EINVAL, err, "too many dimensions");
  int64_t pos[LASK_MAXDIM], shape[LASK_MAXDIM], strides[LASK_MAXDIM];
  if (na && lask_akernel_arg_ints(k, args[1], na, pos, "positions", err)) return err->code;
  for (int d = 0, i = 0, j = 0; d < nd; d++) {
    if (i < na && pos[i] == d) {
      shape[d] = 1, strides[d] = (int64_t)lask_dtype_size(x->dtype), i++;
    } else if (j < x->ndim) {
      shape[d] = x->shape[j], strides[d] = x->strides[j], j++;
    } else {
      return lask_akernel_fail(k, LASK_EINVAL, err, "positions must be ascending and below %d", nd);
    }
  }
  lask_ndarray *v = lask_ndarray_view(x->buf, x->data, x->dtype, nd, shape, strides, err);
  if (!v) return lask_akernel_relabel(k, err);
  *out = lask_ndarray_value(v);
  return LASK_OK;
}

/* v, a number or boolean, as a 0-d array (float64, int64 or bool; NULL with err
 * filled when out of memory). v must be one (is_scalar). */
static bool is_scalar(lask_value v) {
  return v.type == LASK_TBOOL || v.type == LASK_TINT || v.type == LASK_TNUM;
}

static lask_ndarray *scalar_array(lask_value v, lask_err *err) {
  lask_dtype dt = v.type == LASK_TBOOL ? LASK_BOOL : v.type == LASK_TINT ? LASK_I64 : LASK_F64;
  lask_ndarray *a = lask_ndarray_empty(dt, 0, NULL, err);
  if (!a) return NULL;
  if (dt == LASK_BOOL)
    *(bool *)(void *)a->data = v.as.b;
  else if (dt == LASK_I64)
    *(int64_t *)(void *)a->data = v.as.i;
  else
    *(double *)(void *)a->data = v.as.n;
  return a;
}

/* setitem(x, starts, stops, steps, v): a copy of x (its dtype) with v (a number,
 * boolean or array broadcast to the region) written into x[start:stop:step] on
 * every axis (0-based, steps > 0). */
static lask_status k_setitem(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                             lask_err *err) {
  lask_ndarray *x;
  int64_t starts[LASK_MAXDIM], stops[LASK_MAXDIM], steps[LASK_MAXDIM], shape[LASK_MAXDIM],
      strides[LASK_MAXDIM], vs[LASK_MAXDIM];
  if (lask_akernel_nargs(k, n, 5, 5, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  if (lask_akernel_arg_ints(k, args[1], x->ndim, starts, "starts", err) ||
      lask_akernel_arg_ints(k, args[2], x->ndim, stops, "stops", err) ||
      lask_akernel_arg_ints(k, args[3], x->ndim, steps, "steps", err))
    return err->code;
  bool empty = false;
  for (int d = 0; d < x->ndim; d++) {
    if (starts[d] < 0 || starts[d] > stops[d] || stops[d] > x->shape[d] || steps[d] < 1)
      return lask_akernel_fail(k, LASK_EINVAL, err, "range %lld:%lld:%lld is outside axis %d of extent %lld",
                               (long long)starts[d], (long long)stops[d], (long long)steps[d], d,
                               (long long)x->shape[d]);
    shape[d] = (stops[d] - starts[d] + steps[d] - 1) / steps[d];
    empty |= shape[d] == 0;
  }
  lask_ndarray *v = lask_ndarray_of(args[4]), *own = NULL;
  if (!v) {
    if (!is_scalar(args[4]))
      return lask_akernel_fail(k, LASK_ETYPE, err, "the value must be a number, boolean or array");
    v = own = scalar_array(args[4], err);
    if (!v) return lask_akernel_relabel(k, err);
  }
  char s1[160], s2[160];
  if (!lask_broadcast_strides(v, x->ndim, shape, vs)) {
    if (own) lask_release(lask_ndarray_value(own));
    return lask_akernel_fail(
        k, LASK_EINVAL, err, "a value of shape %s cannot be broadcast to a region of shape %s",
        lask_shape_str(v->ndim, v->shape, s1, sizeof s1), lask_shape_str(x->ndim, shape, s2, sizeof s2));
  }
  lask_ndarray *r = lask_ndarray_copy(x, x->dtype, err);
  if (!r) {
    if (own) lask_release(lask_ndarray_value(own));
    return lask_akernel_relabel(k, err);
  }
  if (!empty) {
    for (int d = 0; d < x->ndim; d++) strides[d] = r->strides[d] * steps[d];
    copy_layout(lask_ndarray_ptr(r, starts), r->dtype, strides, v->data, v->dtype, x->ndim, shape, vs);
  }
  if (own) lask_release(lask_ndarray_value(own));
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* argwhere(x [, offsets [, base]]): the positions of x's non-zero elements as an
 * int64 array of (count, ndim), in C order, each position plus offsets (a list,
 * one per axis; default zeros) plus base (default 0). */
static lask_status k_argwhere(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                              lask_err *err) {
  lask_ndarray *x;
  int64_t offs[LASK_MAXDIM] = {0}, base = 0;
  if (lask_akernel_nargs(k, n, 1, 3, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  if (n > 1 && args[1].type != LASK_TNIL && lask_akernel_arg_ints(k, args[1], x->ndim, offs, "offsets", err))
    return err->code;
  if (n > 2 && lask_akernel_arg_int(k, args, 2, &base, err)) return err->code;
  lask_ndarray *b = x->dtype == LASK_BOOL ? x : NULL;
  if (!b) { /* non-zero as bool, C order (NaN is non-zero, as in numpy) */
    b = lask_ndarray_copy(x, LASK_BOOL, err);
    if (!b) return lask_akernel_relabel(k, err);
  }
  int64_t size = lask_ndarray_size(x), count = 0, idx[LASK_MAXDIM] = {0};
  int nd = x->ndim;
  /* walk in C order with an odometer, reading through b's strides */
  for (int pass = 0; pass < 2; pass++) {
    lask_ndarray *r = NULL;
    if (pass == 1) {
      r = lask_ndarray_empty(LASK_I64, 2, (int64_t[]){count, nd}, err);
      if (!r) {
        if (b != x) lask_release(lask_ndarray_value(b));
        return lask_akernel_relabel(k, err);
      }
    }
    int64_t c = 0;
    memset(idx, 0, sizeof idx);
    for (int64_t e = 0; e < size; e++) {
      if (*lask_ndarray_ptr(b, idx)) {
        if (r) {
          int64_t *row = (int64_t *)(void *)(r->data + c * r->strides[0]);
          for (int d = 0; d < nd; d++) row[d] = idx[d] + offs[d] + base;
        }
        c++;
      }
      for (int d = nd - 1; d >= 0 && ++idx[d] == x->shape[d]; d--) idx[d] = 0;
    }
    if (pass == 0)
      count = c;
    else
      *out = lask_ndarray_value(r);
  }
  if (b != x) lask_release(lask_ndarray_value(b));
  return LASK_OK;
}

/* --- unique --- */

typedef struct {
  double v;
  int64_t c, first;
} fpair;
typedef struct {
  int64_t v;
  int64_t c, first;
} ipair;

static int fcmp(const void *a, const void *b) {
  double x = ((const fpair *)a)->v, y = ((const fpair *)b)->v;
  if (isnan(x) || isnan(y)) return isnan(x) - isnan(y); /* NaN last */
  return (x > y) - (x < y);
}
static int icmp(const void *a, const void *b) {
  int64_t x = ((const ipair *)a)->v, y = ((const ipair *)b)->v;
  return (x > y) - (x < y);
}

/* One part of unique's input: values, counts (NULL: one each) and first positions
 * (NULL: none). Without index a part is an array, or a {values, counts} list; with
 * index, a {values, positions} list (arrays of one shape) or a {values, counts,
 * firsts} list. */
static lask_status unique_part(const lask_kernel *k, lask_value v, bool index, lask_ndarray **vals,
                               lask_ndarray **counts, lask_ndarray **firsts, lask_err *err) {
  *counts = *firsts = NULL;
  if (!index && (*vals = lask_ndarray_of(v))) return LASK_OK;
  const lask_list *l = lask_isa(v, &lask_list_class) ? (const lask_list *)v.as.o : NULL;
  if (index && l && l->n == 2 && (*vals = lask_ndarray_of(l->items[0])) &&
      (*firsts = lask_ndarray_of(l->items[1])) && (*firsts)->ndim == (*vals)->ndim &&
      memcmp((*firsts)->shape, (*vals)->shape, sizeof(int64_t) * (size_t)(*vals)->ndim) == 0)
    return LASK_OK;
  size_t want = index ? 3 : 2;
  if (l && l->n == want && (*vals = lask_ndarray_of(l->items[0])) &&
      (*counts = lask_ndarray_of(l->items[1])) && (*counts)->ndim == 1 && (*vals)->ndim == 1 &&
      (*counts)->shape[0] == (*vals)->shape[0] &&
      (!index || ((*firsts = lask_ndarray_of(l->items[2])) && (*firsts)->ndim == 1 &&
                  (*firsts)->shape[0] == (*vals)->shape[0])))
    return LASK_OK;
  return lask_akernel_fail(k, LASK_ETYPE, err,
                           index ? "expects {values, positions} or {values, counts, firsts} lists"
                                 : "expects arrays or {values, counts} lists");
}

/* unique(parts [, counts [, index]]): the sorted distinct values of every element of
 * the parts (a list of arrays, or of {values, counts} lists as this kernel gives
 * them), NaNs collapsed into one at the end, as numpy's unique; with counts true, the
 * list {values, counts} (int64 occurrences, summed over the parts). With index true
 * the parts are {values, positions} lists (or {values, counts, firsts} as this kernel
 * gives them) and the result is {values, counts, firsts}: each value's smallest
 * position. */
static lask_status k_unique(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                            lask_err *err) {
  if (lask_akernel_nargs(k, n, 1, 3, err)) return err->code;
  const lask_list *parts = lask_isa(args[0], &lask_list_class) ? (const lask_list *)args[0].as.o : NULL;
  if (!parts || parts->n == 0)
    return lask_akernel_fail(k, LASK_ETYPE, err, "argument 1 must be a non-empty list");
  bool want_index = n > 2 && args[2].type == LASK_TBOOL && args[2].as.b;
  bool want_counts = want_index || (n > 1 && args[1].type == LASK_TBOOL && args[1].as.b);
  int64_t total = 0;
  lask_dtype dt = LASK_BOOL;
  for (size_t i = 0; i < parts->n; i++) {
    lask_ndarray *v, *c, *f;
    if (unique_part(k, parts->items[i], want_index, &v, &c, &f, err)) return err->code;
    dt = i == 0 ? v->dtype : lask_dtype_promote(dt, v->dtype);
    total += lask_ndarray_size(v);
  }
  bool isf = dt == LASK_F64 || dt == LASK_F32;
  size_t psz = isf ? sizeof(fpair) : sizeof(ipair);
  char *pairs = malloc(psz * (size_t)(total ? total : 1));
  if (!pairs) return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
  int64_t at = 0;
  for (size_t i = 0; i < parts->n; i++) {
    lask_ndarray *v, *c, *f;
    unique_part(k, parts->items[i], want_index, &v, &c, &f, err);
    int64_t m = lask_ndarray_size(v);
    if (!m) continue;
    lask_cursor cur, fcur;
    lask_cursor_init(&cur, v->dtype, v->data, v->ndim, v->shape, v->strides);
    if (f) lask_cursor_init(&fcur, f->dtype, f->data, f->ndim, f->shape, f->strides);
    for (int64_t j = 0; j < m; j++, at++) {
      int64_t cnt = c ? lask_elem_i64(c->dtype, c->data + j * c->strides[0]) : 1, first = 0;
      if (f) lask_cursor_read(&fcur, LASK_I64, &first, 1);
      if (isf) {
        fpair *p = (fpair *)(void *)(pairs + at * (int64_t)psz);
        lask_cursor_read(&cur, LASK_F64, &p->v, 1);
        p->c = cnt, p->first = first;
      } else {
        ipair *p = (ipair *)(void *)(pairs + at * (int64_t)psz);
        lask_cursor_read(&cur, LASK_I64, &p->v, 1);
        p->c = cnt, p->first = first;
      }
    }
  }
  qsort(pairs, (size_t)total, psz, isf ? fcmp : icmp);
  int64_t m = 0; /* merge equal neighbours in place */
  for (int64_t j = 0; j < total; j++) {
    if (isf) {
      fpair *p = (fpair *)(void *)pairs, *q = p + j;
      if (m > 0 && (p[m - 1].v == q->v || (isnan(p[m - 1].v) && isnan(q->v)))) {
        p[m - 1].c += q->c;
        if (q->first < p[m - 1].first) p[m - 1].first = q->first;
      } else {
        p[m++] = *q;
      }
    } else {
      ipair *p = (ipair *)(void *)pairs, *q = p + j;
      if (m > 0 && p[m - 1].v == q->v) {
        p[m - 1].c += q->c;
        if (q->first < p[m - 1].first) p[m - 1].first = q->first;
      } else {
        p[m++] = *q;
      }
    }
  }
  lask_ndarray *vals = lask_ndarray_empty(dt, 1, (int64_t[]){m}, err);
  lask_ndarray *cnts = vals && want_counts ? lask_ndarray_empty(LASK_I64, 1, (int64_t[]){m}, err) : NULL;
  lask_ndarray *fsts = cnts && want_index ? lask_ndarray_empty(LASK_I64, 1, (int64_t[]){m}, err) : NULL;
  lask_list *l = want_counts ? lask_list_new(want_index ? 3 : 2) : NULL;
  if (!vals || (want_counts && (!cnts || !l)) || (want_index && !fsts)) {
    free(pairs);
    if (vals) lask_release(lask_ndarray_value(vals));
    if (cnts) lask_release(lask_ndarray_value(cnts));
    if (fsts) lask_release(lask_ndarray_value(fsts));
    if (l) lask_release(lask_objval(&l->h));
    if (want_counts && !l) return lask_akernel_fail(k, LASK_ENOMEM, err, "out of memory");
    return lask_akernel_relabel(k, err); /* err filled by lask_ndarray_empty */
  }
  size_t vsz = lask_dtype_size(dt);
  for (int64_t j = 0; j < m; j++) {
    const void *src = pairs + j * (int64_t)psz;
    lask_convert(dt, vals->data + j * (int64_t)vsz, (int64_t)vsz, isf ? LASK_F64 : LASK_I64, src, 0, 1);
    if (cnts) ((int64_t *)(void *)cnts->data)[j] = isf ? ((const fpair *)src)->c : ((const ipair *)src)->c;
    if (fsts)
      ((int64_t *)(void *)fsts->data)[j] = isf ? ((const fpair *)src)->first : ((const ipair *)src)->first;
  }
  free(pairs);
  if (!want_counts) {
    *out = lask_ndarray_value(vals);
    return LASK_OK;
  }
  l->items[0] = lask_ndarray_value(vals), l->items[1] = lask_ndarray_value(cnts);
  if (fsts) l->items[2] = lask_ndarray_value(fsts);
  *out = lask_objval(&l->h);
  return LASK_OK;
}

/* The number of u's elements (sorted, NaN last) below v, or with right at most v
 * (NaN counts above every number and equal to NaN). */
static int64_t sorted_rank(const lask_ndarray *u, bool isf, double fv, int64_t iv, bool right) {
  int64_t lo = 0, hi = u->shape[0];
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    const char *e = u->data + mid * u->strides[0];
    bool before;
    if (isf) {
      double w = lask_elem_f64(u->dtype, e);
      if (isnan(fv))
        before = right || !isnan(w);
      else
        before = right ? (w <= fv) : (w < fv);
    } else {
      int64_t w = lask_elem_i64(u->dtype, e);
      before = right ? (w <= iv) : (w < iv);
    }
    if (before)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* searchsorted(a, v [, right [, base]]): for each element of v, where it would be
 * inserted into the sorted 1-D a to keep it sorted (numpy's searchsorted, side
 * "left", or "right" with right true), plus base (1: lask's 1-based positions; 0:
 * numpy's), int64 of v's shape. NaN sorts last, as numpy's. */
static lask_status k_searchsorted(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                  lask_err *err) {
  lask_ndarray *u, *x;
  int64_t base = 0;
  if (lask_akernel_nargs(k, n, 2, 4, err) || lask_akernel_array(k, args, 0, &u, err) ||
      lask_akernel_array(k, args, 1, &x, err) || (n > 3 && lask_akernel_arg_int(k, args, 3, &base, err)))
    return err->code;
  bool right = n > 2 && args[2].type == LASK_TBOOL && args[2].as.b;
  if (u->ndim != 1) return lask_akernel_fail(k, LASK_EINVAL, err, "the sorted array must be 1-D");
  lask_ndarray *r = lask_ndarray_empty(LASK_I64, x->ndim, x->shape, err);
  if (!r) return lask_akernel_relabel(k, err);
  int64_t size = lask_ndarray_size(x);
  bool isf = x->dtype == LASK_F64 || x->dtype == LASK_F32 || u->dtype == LASK_F64 || u->dtype == LASK_F32;
  lask_cursor cur;
  if (size) lask_cursor_init(&cur, x->dtype, x->data, x->ndim, x->shape, x->strides);
  int64_t *dst = (int64_t *)(void *)r->data;
  for (int64_t j = 0; j < size; j++) {
    double fv = 0;
    int64_t iv = 0;
    if (isf)
      lask_cursor_read(&cur, LASK_F64, &fv, 1);
    else
      lask_cursor_read(&cur, LASK_I64, &iv, 1);
    dst[j] = sorted_rank(u, isf, fv, iv, right) + base;
  }
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* isin(x, values [, invert]): whether each element of x is among values (1-D,
 * sorted, NaN last, as unique gives them), bool of x's shape; NaN is in nothing, as
 * in numpy. invert negates. */
static lask_status k_isin(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                          lask_err *err) {
  lask_ndarray *x, *u;
  if (lask_akernel_nargs(k, n, 2, 3, err) || lask_akernel_array(k, args, 0, &x, err) ||
      lask_akernel_array(k, args, 1, &u, err))
    return err->code;
  bool invert = n > 2 && args[2].type == LASK_TBOOL && args[2].as.b;
  if (u->ndim != 1) return lask_akernel_fail(k, LASK_EINVAL, err, "the values must be 1-D");
  lask_ndarray *r = lask_ndarray_empty(LASK_BOOL, x->ndim, x->shape, err);
  if (!r) return lask_akernel_relabel(k, err);
  int64_t size = lask_ndarray_size(x), nu = u->shape[0];
  bool isf = x->dtype == LASK_F64 || x->dtype == LASK_F32 || u->dtype == LASK_F64 || u->dtype == LASK_F32;
  lask_cursor cur;
  if (size) lask_cursor_init(&cur, x->dtype, x->data, x->ndim, x->shape, x->strides);
  bool *dst = (bool *)(void *)r->data;
  for (int64_t j = 0; j < size; j++) {
    bool in = false;
    if (isf) {
      double v;
      lask_cursor_read(&cur, LASK_F64, &v, 1);
      int64_t p = isnan(v) ? nu : sorted_rank(u, true, v, 0, false);
      in = p < nu && lask_elem_f64(u->dtype, u->data + p * u->strides[0]) == v;
    } else {
      int64_t v;
      lask_cursor_read(&cur, LASK_I64, &v, 1);
      int64_t p = sorted_rank(u, false, 0, v, false);
      in = p < nu && lask_elem_i64(u->dtype, u->data + p * u->strides[0]) == v;
    }
    dst[j] = in != invert;
  }
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* block_shape(x): x's shape as a 1-D int64 array (compute_chunk_sizes reads it). */
static lask_status k_block_shape(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                 lask_err *err) {
  lask_ndarray *x;
  if (lask_akernel_nargs(k, n, 1, 1, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  lask_ndarray *r = lask_ndarray_empty(LASK_I64, 1, (int64_t[]){x->ndim}, err);
  if (!r) return lask_akernel_relabel(k, err);
  if (x->ndim) memcpy(r->data, x->shape, sizeof x->shape[0] * (size_t)x->ndim);
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

static const lask_kernel indexing_kernels[] = {
    LASK_KERNEL_STATIC("compress", k_compress),
    LASK_KERNEL_STATIC("take", k_take),
    LASK_KERNEL_STATIC("reverse", k_reverse),
    LASK_KERNEL_STATIC("insert_axes", k_insert_axes),
    LASK_KERNEL_STATIC("setitem", k_setitem),
    LASK_KERNEL_STATIC("argwhere", k_argwhere),
    LASK_KERNEL_STATIC("unique", k_unique),
    LASK_KERNEL_STATIC("block_shape", k_block_shape),
    LASK_KERNEL_STATIC("searchsorted", k_searchsorted),
    LASK_KERNEL_STATIC("isin", k_isin),
};

LASK_AKERNEL_GROUP(lask_akernels_indexing, indexing_kernels)
