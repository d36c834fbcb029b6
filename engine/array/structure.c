/* structure.c — the structure kernels of lask.array (array_kernels.h): views
 * (transpose, getitem, reshape, rows), assembly (concatenate, stack, block, into,
 * vstack), copies, and item (an element of a list).
 *
 * Views share their argument's buffer: values are immutable once a task has
 * returned them, so a view can never see a change. Assembly kernels copy every
 * piece once into a new C-contiguous array of the promoted dtype, converting on
 * the way with lask_convert.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"

/* --- arguments --- */

static lask_status get_axis(const lask_kernel *k, lask_value v, int ndim, int *axis, lask_err *err) {
  int64_t a;
  if (!lask_akernel_as_int(v, &a))
    return lask_akernel_fail(k, LASK_ETYPE, err, "the axis is a %s, not an integer", lask_typename(v));
  if (a < -ndim || a >= ndim)
    return lask_akernel_fail(k, LASK_EINVAL, err, "axis %lld is out of range for %d dimensions", (long long)a,
                             ndim);
  *axis = (int)(a < 0 ? a + ndim : a);
  return LASK_OK;
}

static lask_status shape_mismatch(const lask_kernel *k, const lask_ndarray *a, const lask_ndarray *b,
                                  lask_err *err) {
  char s1[160], s2[160];
  return lask_akernel_fail(k, LASK_EINVAL, err, "shapes %s and %s do not match",
                           lask_shape_str(a->ndim, a->shape, s1, sizeof s1),
                           lask_shape_str(b->ndim, b->shape, s2, sizeof s2));
}

/* Copies src, converted to dt, to dst laid out with dst_strides (src's shape). */
static void copy_to(char *dst, lask_dtype dt, const int64_t *dst_strides, const lask_ndarray *src) {
  lask_iter it;
  if (!lask_iter_init(&it, 2, src->ndim, src->shape, (char *[]){dst, src->data},
                      (const int64_t *[]){dst_strides, src->strides}))
    return;
  do lask_convert(dt, it.ptr[0], it.stride[0], src->dtype, it.ptr[1], it.stride[1], it.inner);
  while (lask_iter_next(&it));
}

static lask_dtype promote_all(const lask_list *l) {
  lask_dtype dt = lask_ndarray_of(l->items[0])->dtype;
  for (size_t j = 1; j < l->n; j++) dt = lask_dtype_promote(dt, lask_ndarray_of(l->items[j])->dtype);
  return dt;
}

/* --- views --- */

/* transpose(x [, perm]): x with its axes permuted (reversed without perm). A view. */
static lask_status k_transpose(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                               lask_err *err) {
  lask_ndarray *x;
  int64_t perm[LASK_MAXDIM], shape[LASK_MAXDIM], strides[LASK_MAXDIM];
  if (lask_akernel_nargs(k, n, 1, 2, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  if (n > 1 && args[1].type != LASK_TNIL) {
    if (lask_akernel_arg_ints(k, args[1], x->ndim, perm, "perm", err)) return err->code;
  } else {
    for (int d = 0; d < x->ndim; d++) perm[d] = x->ndim - 1 - d;
  }
  unsigned seen = 0;
  for (int d = 0; d < x->ndim; d++) {
    if (perm[d] < 0 || perm[d] >= x->ndim || (seen & (1u << perm[d])))
      return lask_akernel_fail(k, LASK_EINVAL, err, "perm is not a permutation of the %d axes", x->ndim);
    seen |= 1u << perm[d];
    shape[d] = x->shape[perm[d]], strides[d] = x->strides[perm[d]];
  }
  lask_ndarray *v = lask_ndarray_view(x->buf, x->data, x->dtype, x->ndim, shape, strides, err);
  if (!v) return lask_akernel_relabel(k, err);
  *out = lask_ndarray_value(v);
  return LASK_OK;
}

/* getitem(x, starts, stops [, steps]): x[start:stop:step] on every axis, 0-based,
 * 0 <= start <= stop <= extent, steps > 0. A view. */
static lask_status k_getitem(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                             lask_err *err) {
  lask_ndarray *x;
  int64_t starts[LASK_MAXDIM], stops[LASK_MAXDIM], steps[LASK_MAXDIM], shape[LASK_MAXDIM],
      strides[LASK_MAXDIM];
  if (lask_akernel_nargs(k, n, 3, 4, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  if (lask_akernel_arg_ints(k, args[1], x->ndim, starts, "starts", err) ||
      lask_akernel_arg_ints(k, args[2], x->ndim, stops, "stops", err))
    return err->code;
  if (n > 3 && args[3].type != LASK_TNIL) {
    if (lask_akernel_arg_ints(k, args[3], x->ndim, steps, "steps", err)) return err->code;
  } else {
    for (int d = 0; d < x->ndim; d++) steps[d] = 1;
  }
  bool empty = false;
  for (int d = 0; d < x->ndim; d++) {
    if (starts[d] < 0 || starts[d] > stops[d] || stops[d] > x->shape[d] || steps[d] < 1)
      return lask_akernel_fail(k, LASK_EINVAL, err, "range %lld:%lld:%lld is outside axis %d of extent %lld",
                               (long long)starts[d], (long long)stops[d], (long long)steps[d], d,
                               (long long)x->shape[d]);
    shape[d] = (stops[d] - starts[d] + steps[d] - 1) / steps[d];
    strides[d] = x->strides[d] * steps[d];
    empty |= shape[d] == 0;
  }
  char *data = empty ? x->data : lask_ndarray_ptr(x, starts);
  lask_ndarray *v = lask_ndarray_view(x->buf, data, x->dtype, x->ndim, shape, strides, err);
  if (!v) return lask_akernel_relabel(k, err);
  *out = lask_ndarray_value(v);
  return LASK_OK;
}

/* reshape's shape argument for x: an integer or a list of them, one of which may be
 * -1 (inferred, as numpy's). */
static lask_status reshape_shape(const lask_kernel *k, lask_value v, const lask_ndarray *x, int *nd,
                                 int64_t *shape, lask_err *err) {
  int64_t size = lask_ndarray_size(x);
  const lask_list *l = lask_isa(v, &lask_list_class) ? (const lask_list *)v.as.o : NULL;
  *nd = l ? (int)l->n : 1;
  if (*nd > LASK_MAXDIM) return lask_akernel_fail(k, LASK_EINVAL, err, "too many dimensions");
  int64_t known = 1;
  int free_at = -1;
  for (int d = 0; d < *nd; d++) {
    if (!lask_akernel_as_int(l ? l->items[d] : v, &shape[d]) || shape[d] < -1)
      return lask_akernel_fail(k, LASK_EINVAL, err, "extents must be integers >= 0 (one may be -1)");
    if (shape[d] == -1 && free_at >= 0)
      return lask_akernel_fail(k, LASK_EINVAL, err, "only one extent can be -1");
    if (shape[d] == -1)
      free_at = d;
    else if (known >= 0 && __builtin_mul_overflow(known, shape[d], &known))
      known = -1; /* more elements than int64 holds: no array has them */
  }
  if (free_at >= 0 && known != 0 && size % known == 0)
    shape[free_at] = size / known;
  else if (free_at < 0 && known == size)
    return LASK_OK;
  if (free_at >= 0 && shape[free_at] >= 0) return LASK_OK;
  char s1[160], s2[160];
  return lask_akernel_fail(k, LASK_EINVAL, err, "cannot reshape an array of shape %s into shape %s",
                           lask_shape_str(x->ndim, x->shape, s1, sizeof s1),
                           lask_shape_str(*nd, shape, s2, sizeof s2));
}

/* reshape(x, shape): x's elements in C order under shape (the same size; one
 * extent may be -1): a view of x when x is C-contiguous, else of a C-ordered copy. */
static lask_status k_reshape(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                             lask_err *err) {
  lask_ndarray *x;
  int nd;
  int64_t shape[LASK_MAXDIM], strides[LASK_MAXDIM];
  if (lask_akernel_nargs(k, n, 2, 2, err) || lask_akernel_array(k, args, 0, &x, err) ||
      reshape_shape(k, args[1], x, &nd, shape, err))
    return err->code;
  lask_ndarray *c = lask_ndarray_is_c_contiguous(x) ? x : lask_ndarray_copy(x, x->dtype, err);
  if (!c) return lask_akernel_relabel(k, err);
  lask_strides_c(nd, shape, lask_dtype_size(c->dtype), strides);
  lask_ndarray *v = lask_ndarray_view(c->buf, c->data, c->dtype, nd, shape, strides, err);
  if (c != x) lask_release(lask_ndarray_value(c));
  if (!v) return lask_akernel_relabel(k, err);
  *out = lask_ndarray_value(v);
  return LASK_OK;
}

/* --- assembly --- */

/* concatenate(list, axis): the arrays joined along axis (their other extents agree). */
static lask_status k_concatenate(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                 lask_err *err) {
  const lask_list *l;
  int axis;
  if (lask_akernel_nargs(k, n, 1, 2, err) || lask_akernel_arg_arrays(k, args, 0, &l, err)) return err->code;
  const lask_ndarray *first = lask_ndarray_of(l->items[0]);
  if (first->ndim == 0)
    return lask_akernel_fail(k, LASK_EINVAL, err, "zero-dimensional arrays cannot be concatenated");
  if (get_axis(k, n > 1 ? args[1] : lask_int(0), first->ndim, &axis, err)) return err->code;
  int64_t shape[LASK_MAXDIM], at[LASK_MAXDIM] = {0};
  memcpy(shape, first->shape, sizeof shape[0] * (size_t)first->ndim);
  shape[axis] = 0;
  for (size_t j = 0; j < l->n; j++) {
    const lask_ndarray *a = lask_ndarray_of(l->items[j]);
    if (a->ndim != first->ndim) return shape_mismatch(k, first, a, err);
    for (int d = 0; d < a->ndim; d++)
      if (d != axis && a->shape[d] != first->shape[d]) return shape_mismatch(k, first, a, err);
    shape[axis] += a->shape[axis];
  }
  lask_ndarray *r = lask_ndarray_empty(promote_all(l), first->ndim, shape, err);
  if (!r) return lask_akernel_relabel(k, err);
  for (size_t j = 0; j < l->n; j++) {
    const lask_ndarray *a = lask_ndarray_of(l->items[j]);
    if (a->shape[axis] == 0) continue;
    copy_to(lask_ndarray_ptr(r, at), r->dtype, r->strides, a);
    at[axis] += a->shape[axis];
  }
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* stack(list, axis): the arrays (of one shape) along a new axis. */
static lask_status k_stack(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                           lask_err *err) {
  const lask_list *l;
  int axis;
  if (lask_akernel_nargs(k, n, 1, 2, err) || lask_akernel_arg_arrays(k, args, 0, &l, err)) return err->code;
  const lask_ndarray *first = lask_ndarray_of(l->items[0]);
  if (first->ndim + 1 > LASK_MAXDIM) return lask_akernel_fail(k, LASK_EINVAL, err, "too many dimensions");
  if (get_axis(k, n > 1 ? args[1] : lask_int(0), first->ndim + 1, &axis, err)) return err->code;
  int64_t shape[LASK_MAXDIM], sub[LASK_MAXDIM], at[LASK_MAXDIM] = {0};
  for (size_t j = 0; j < l->n; j++) {
    const lask_ndarray *a = lask_ndarray_of(l->items[j]);
    if (a->ndim != first->ndim || memcmp(a->shape, first->shape, sizeof a->shape[0] * (size_t)a->ndim))
      return shape_mismatch(k, first, a, err);
  }
  for (int d = 0, s = 0; d <= first->ndim; d++) shape[d] = d == axis ? (int64_t)l->n : first->shape[s++];
  lask_ndarray *r = lask_ndarray_empty(promote_all(l), first->ndim + 1, shape, err);
  if (!r) return lask_akernel_relabel(k, err);
  for (int d = 0, s = 0; d <= first->ndim; d++)
    if (d != axis) sub[s++] = r->strides[d];
  for (size_t j = 0; j < l->n; j++) {
    at[axis] = (int64_t)j;
    copy_to(lask_ndarray_ptr(r, at), r->dtype, sub, lask_ndarray_of(l->items[j]));
  }
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* block(nested): np.block — a nested list of depth D whose leaves are arrays of
 * ndim >= D, the innermost lists joined along the last axis, the next along the one
 * before, and so on. The whole result is copied once. */
typedef struct block_walk {
  const lask_kernel *k;
  int depth, ndim;
  lask_dtype dtype;
  bool first;
} block_walk;

/* Measures v at level lev: fills shape (its extent once joined). */
static lask_status block_measure(block_walk *bw, lask_value v, int lev, int64_t *shape, lask_err *err) {
  if (lev == bw->depth) {
    const lask_ndarray *a = lask_ndarray_of(v);
    if (!a)
      return lask_akernel_fail(bw->k, LASK_EINVAL, err, "the nesting is ragged: a %s where an array belongs",
                               lask_typename(v));
    if (bw->first) bw->ndim = a->ndim, bw->dtype = a->dtype, bw->first = false;
    if (a->ndim != bw->ndim || a->ndim < bw->depth)
      return lask_akernel_fail(bw->k, LASK_EINVAL, err,
                               "pieces have %d and %d dimensions for a nesting of depth %d", a->ndim,
                               bw->ndim, bw->depth);
    bw->dtype = lask_dtype_promote(bw->dtype, a->dtype);
    memcpy(shape, a->shape, sizeof shape[0] * (size_t)a->ndim);
    return LASK_OK;
  }
  if (!lask_isa(v, &lask_list_class) || ((const lask_list *)v.as.o)->n == 0)
    return lask_akernel_fail(bw->k, LASK_EINVAL, err,
                             "the nesting is ragged: a %s where a non-empty list belongs", lask_typename(v));
  const lask_list *l = (const lask_list *)v.as.o;
  int64_t sub[LASK_MAXDIM];
  for (size_t j = 0; j < l->n; j++) {
    if (block_measure(bw, l->items[j], lev + 1, j ? sub : shape, err)) return err->code;
    if (!j) continue;
    int axis = bw->ndim - bw->depth + lev;
    for (int d = 0; d < bw->ndim; d++)
      if (d != axis && sub[d] != shape[d])
        return lask_akernel_fail(bw->k, LASK_EINVAL, err, "pieces do not line up on axis %d", d);
    shape[axis] += sub[axis];
  }
  return LASK_OK;
}

static void block_place(block_walk *bw, lask_value v, int lev, lask_ndarray *r, int64_t *at) {
  if (lev == bw->depth) return copy_to(lask_ndarray_ptr(r, at), r->dtype, r->strides, lask_ndarray_of(v));
  const lask_list *l = (const lask_list *)v.as.o;
  int axis = bw->ndim - bw->depth + lev;
  int64_t start = at[axis], shape[LASK_MAXDIM];
  lask_err ignored;
  for (size_t j = 0; j < l->n; j++) {
    block_place(bw, l->items[j], lev + 1, r, at);
    block_measure(bw, l->items[j], lev + 1, shape, &ignored);
    at[axis] += shape[axis];
  }
  at[axis] = start;
}

static lask_status k_block(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                           lask_err *err) {
  if (lask_akernel_nargs(k, n, 1, 1, err)) return err->code;
  block_walk bw = {k, 0, 0, LASK_F64, true};
  for (lask_value v = args[0]; lask_isa(v, &lask_list_class) && ((const lask_list *)v.as.o)->n;
       v = ((const lask_list *)v.as.o)->items[0])
    bw.depth++;
  int64_t shape[LASK_MAXDIM], at[LASK_MAXDIM] = {0};
  if (block_measure(&bw, args[0], 0, shape, err)) return err->code;
  if (bw.depth == 0) return *out = lask_retain(args[0]), LASK_OK;
  lask_ndarray *r = lask_ndarray_empty(bw.dtype, bw.ndim, shape, err);
  if (!r) return lask_akernel_relabel(k, err);
  if (lask_ndarray_size(r) > 0) block_place(&bw, args[0], 0, r, at);
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* into(dest, offset, f, args...): f(args...) written into dest at offset; nil. */
static lask_status k_into(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                          lask_err *err) {
  lask_ndarray *dest;
  int nd;
  int64_t off[LASK_MAXDIM];
  if (n < 3)
    return lask_akernel_fail(k, LASK_EINVAL, err, "expects dest, offset, a kernel and its arguments");
  if (lask_akernel_array(k, args, 0, &dest, err) || lask_akernel_arg_shape(k, args, 1, &nd, off, err))
    return err->code;
  if (nd != dest->ndim)
    return lask_akernel_fail(k, LASK_EINVAL, err, "the offset has %d entries for %d dimensions", nd,
                             dest->ndim);
  if (!lask_isa(args[2], &lask_kernel_class))
    return lask_akernel_fail(k, LASK_ETYPE, err, "argument 3 must be a kernel, got a %s",
                             lask_typename(args[2]));
  const lask_kernel *f = (const lask_kernel *)args[2].as.o;
  bool done = false;
  if (f->into && f->into(f, args + 3, n - 3, dest, off, &done, err)) return err->code;
  if (!done) {
    lask_value v = lask_nil();
    if (f->fn(f, args + 3, n - 3, &v, err)) return err->code ? err->code : LASK_EKERNEL;
    const lask_ndarray *r = lask_ndarray_of(v);
    bool fits = r && r->ndim == dest->ndim;
    for (int d = 0; fits && d < nd; d++) fits = off[d] >= 0 && off[d] + r->shape[d] <= dest->shape[d];
    if (!fits) {
      lask_release(v);
      return lask_akernel_fail(k, LASK_EINVAL, err, "%s gave a %s that does not fit dest at the offset",
                               f->name, r ? "block" : lask_typename(v));
    }
    copy_to(lask_ndarray_ptr(dest, off), dest->dtype, dest->strides, r);
    lask_release(v);
  }
  *out = lask_nil();
  return LASK_OK;
}

/* copy(x): a C-contiguous copy of x. */
static lask_status k_copy(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                          lask_err *err) {
  lask_ndarray *x;
  if (lask_akernel_nargs(k, n, 1, 1, err) || lask_akernel_array(k, args, 0, &x, err)) return err->code;
  lask_ndarray *r = lask_ndarray_copy(x, x->dtype, err);
  if (!r) return lask_akernel_relabel(k, err);
  *out = lask_ndarray_value(r);
  return LASK_OK;
}

/* copy(x) straight into dest at offset (the into kernel's entry): one pass, no block in
 * between; declines (*done false) what does not fit, for the plain path to report. */
static lask_status k_copy_into(const lask_kernel *k, const lask_value *args, int n, const lask_ndarray *dest,
                               const int64_t *off, bool *done, lask_err *err) {
  (void)k, (void)err;
  const lask_ndarray *x = n == 1 ? lask_ndarray_of(args[0]) : NULL;
  if (!x || x->ndim != dest->ndim) return LASK_OK;
  for (int d = 0; d < x->ndim; d++)
    if (off[d] < 0 || off[d] + x->shape[d] > dest->shape[d]) return LASK_OK;
  copy_to(lask_ndarray_ptr(dest, off), dest->dtype, dest->strides, x);
  *done = true;
  return LASK_OK;
}

/* --- lists and stacking (the linear algebra graphs' plumbing) --- */

static lask_status k_item(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                          lask_err *err) {
  if (nargs != 2 || !lask_isa(args[0], &lask_list_class) || args[1].type != LASK_TINT)
    return lask_akernel_fail(k, LASK_EINVAL, err, "expects a list and an integer index");
  const lask_list *l = (const lask_list *)args[0].as.o;
  int64_t i = args[1].as.i;
  if (i < 0 || (size_t)i >= l->n) return lask_akernel_fail(k, LASK_EINVAL, err, "index out of range");
  *out = lask_retain(l->items[i]);
  return LASK_OK;
}

static lask_status k_vstack(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                            lask_err *err) {
  if (nargs != 1 || !lask_isa(args[0], &lask_list_class))
    return lask_akernel_fail(k, LASK_EINVAL, err, "expects a list of arrays");
  const lask_list *l = (const lask_list *)args[0].as.o;
  int64_t rows = 0, cols = -1;
  for (size_t i = 0; i < l->n; i++) {
    lask_ndarray *a = lask_ndarray_of(l->items[i]);
    if (!a || a->ndim != 2) return lask_akernel_fail(k, LASK_EINVAL, err, "every item must be a 2-D array");
    if (cols >= 0 && a->shape[1] != cols)
      return lask_akernel_fail(k, LASK_EINVAL, err, "arrays differ in their number of columns");
    cols = a->shape[1], rows += a->shape[0];
  }
  lask_ndarray *s = lask_ndarray_new(LASK_F64, 2, (int64_t[]){rows, cols < 0 ? 0 : cols}, err);
  if (!s) return err->code;
  double *dst = (double *)s->data;
  for (size_t i = 0; i < l->n; i++) {
    lask_ndarray *a = lask_ndarray_of(l->items[i]);
    int64_t size = lask_ndarray_size(a);
    if (a->dtype == LASK_F64 && lask_ndarray_is_c_contiguous(a)) {
      if (size) memcpy(dst, a->data, (size_t)size * sizeof *dst);
    } else if (size) {
      lask_cursor c;
      lask_cursor_init(&c, a->dtype, a->data, 2, a->shape, a->strides);
      lask_cursor_read(&c, LASK_F64, dst, size);
    }
    dst += size;
  }
  *out = lask_ndarray_value(s);
  return LASK_OK;
}

static lask_status k_rows(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                          lask_err *err) {
  lask_ndarray *a = nargs == 3 ? lask_ndarray_of(args[0]) : NULL;
  if (!a || a->ndim != 2 || args[1].type != LASK_TINT || args[2].type != LASK_TINT)
    return lask_akernel_fail(k, LASK_EINVAL, err, "expects a 2-D array, start and stop");
  int64_t lo = args[1].as.i, hi = args[2].as.i;
  if (lo < 0 || hi < lo || hi > a->shape[0])
    return lask_akernel_fail(k, LASK_EINVAL, err, "rows out of range");
  lask_ndarray *v = lask_ndarray_view(a->buf, a->data + lo * a->strides[0], a->dtype, 2,
                                      (int64_t[]){hi - lo, a->shape[1]}, a->strides, err);
  if (!v) return err->code;
  *out = lask_ndarray_value(v);
  return LASK_OK;
}

static const lask_kernel struct_kernels[] = {
    LASK_KERNEL_STATIC("transpose", k_transpose), LASK_KERNEL_STATIC("getitem", k_getitem),
    LASK_KERNEL_STATIC("reshape", k_reshape),     LASK_KERNEL_STATIC("concatenate", k_concatenate),
    LASK_KERNEL_STATIC("stack", k_stack),         LASK_KERNEL_STATIC("block", k_block),
    LASK_KERNEL_STATIC("into", k_into),           LASK_KERNEL_STATIC_INTO("copy", k_copy, k_copy_into),
    LASK_KERNEL_STATIC("item", k_item),           LASK_KERNEL_STATIC("vstack", k_vstack),
    LASK_KERNEL_STATIC("rows", k_rows),
};

LASK_AKERNEL_GROUP(lask_akernels_structure, struct_kernels)
