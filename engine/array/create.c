/* create.c — kernels that make blocks from nothing: arange, linspace, empty, full,
 * eye, random, normal (arguments in array_kernels.h).
 *
 * Every element is a function of its global position only, never of the block it
 * lands in, so any chunking of the same array gives the same numbers. For random
 * numbers that takes a counter-based generator: Philox4x32-10 (Salmon, Moraes, Dror
 * and Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11; the generator of
 * cuRAND, JAX and numpy's Philox) maps (key, counter) to four 32-bit words with ten
 * rounds of multiply-xor. The key is the 64-bit seed, the counter is (flat global
 * index / 2, stream), with stream 0 for uniform and 1 for normal draws: one call
 * gives two neighbouring draws (random_draws.c, vectorised). Uniform draws are pure
 * integer arithmetic, normal draws IEEE arithmetic without libm: the same bits on
 * every x86-64 machine, compiler and run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"
#include "random_draws.h"

#define ARG_NIL(args, nargs, i) ((i) >= (nargs) || (args)[i].type == LASK_TNIL)

enum { STREAM_UNIFORM, STREAM_NORMAL };

/* --- helpers --- */

/* Gives a new array of dt and shape, or fails with the kernel's name. */
static lask_ndarray *new_array(const lask_kernel *k, lask_dtype dt, int ndim, const int64_t *shape, bool zero,
                               lask_err *err) {
  lask_ndarray *a = zero ? lask_ndarray_new(dt, ndim, shape, err) : lask_ndarray_empty(dt, ndim, shape, err);
  if (!a) {
    char msg[LASK_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    lask_err_set(err, err->code, LASK_NO_NODE, "%s: %s", k->name, msg);
  }
  return a;
}

/* Writes v (a double) as element i of a's contiguous data. */
static inline void put_f64(lask_ndarray *a, int64_t i, double v) {
  lask_convert(a->dtype, a->data + i * (int64_t)lask_dtype_size(a->dtype), 0, LASK_F64, &v, 0, 1);
}

/* --- arange, linspace --- */

/* Fills a (1-d, n elements) with start + step*(offset + i): exact in int64 when
 * start and step are integers, else computed in float64 and converted. */
static void fill_range(lask_ndarray *a, lask_value start, lask_value step, int64_t offset) {
  int64_t n = a->shape[0];
  if (a->dtype == LASK_I64 && start.type == LASK_TINT && step.type == LASK_TINT) {
    int64_t *p = (int64_t *)a->data;
    uint64_t s = (uint64_t)start.as.i, d = (uint64_t)step.as.i;
    for (int64_t i = 0; i < n; i++) p[i] = (int64_t)(s + d * (uint64_t)(offset + i));
    return;
  }
  double s = start.type == LASK_TINT ? (double)start.as.i : start.as.n;
  double d = step.type == LASK_TINT ? (double)step.as.i : step.as.n;
  if (a->dtype == LASK_F64) {
    double *p = (double *)a->data;
    for (int64_t i = 0; i < n; i++) p[i] = s + d * (double)(offset + i);
  } else {
    for (int64_t i = 0; i < n; i++) put_f64(a, i, s + d * (double)(offset + i));
  }
}

/* arange(start, stop [, step [, dtype [, first [, count]]]]): numpy's
 * arange(start, stop, step) from element `first` on, count elements (default: to
 * the end); dtype defaults to numpy's: int64 when start, stop and step are all
 * integers, else float64. */
static lask_status k_arange(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                            lask_err *err) {
  double start, stop, step = 1;
  int64_t first = 0, count = -1;
  bool ints = nargs >= 2 && args[0].type == LASK_TINT && args[1].type == LASK_TINT &&
              (ARG_NIL(args, nargs, 2) || args[2].type == LASK_TINT);
  lask_dtype dt = ints ? LASK_I64 : LASK_F64;
  if (lask_akernel_nargs(k, nargs, 2, 6, err) || lask_akernel_arg_number(k, args, 0, &start, err) ||
      lask_akernel_arg_number(k, args, 1, &stop, err) ||
      (!ARG_NIL(args, nargs, 2) && lask_akernel_arg_number(k, args, 2, &step, err)) ||
      (!ARG_NIL(args, nargs, 3) && lask_akernel_arg_dtype(k, args, 3, dt, &dt, err)) ||
      (!ARG_NIL(args, nargs, 4) && lask_akernel_arg_int(k, args, 4, &first, err)) ||
      (!ARG_NIL(args, nargs, 5) && lask_akernel_arg_int(k, args, 5, &count, err)))
    return err->code;
  if (step == 0) return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: step must not be 0", k->name);
  double len = ceil((stop - start) / step);
  int64_t total = len > 0 ? (int64_t)len : 0, n = count >= 0 ? count : total - first;
  if (first < 0 || n < 0 || first + n > total)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE,
                        "%s: elements %lld..%lld are outside the %lld of the range", k->name,
                        (long long)first, (long long)(first + n), (long long)total);
  lask_ndarray *a = new_array(k, dt, 1, &n, false, err);
  if (!a) return err->code;
  fill_range(a, args[0], ARG_NIL(args, nargs, 2) ? lask_int(1) : args[2], first);
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

/* linspace(start, step, n [, offset]): start + step*(offset + i), i in [0, n), float64. */
static lask_status k_linspace(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                              lask_err *err) {
  int64_t n, offset = 0;
  double start, step;
  if (lask_akernel_nargs(k, nargs, 3, 5, err) || lask_akernel_arg_number(k, args, 0, &start, err) ||
      lask_akernel_arg_number(k, args, 1, &step, err) || lask_akernel_arg_int(k, args, 2, &n, err) ||
      (!ARG_NIL(args, nargs, 4) && lask_akernel_arg_int(k, args, 4, &offset, err)))
    return err->code;
  if (n < 0)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: negative length %lld", k->name, (long long)n);
  lask_dtype dt = LASK_F64;
  if (nargs > 3 && lask_akernel_arg_dtype(k, args, 3, dt, &dt, err)) return err->code;
  lask_ndarray *a = new_array(k, dt, 1, &n, false, err);
  if (!a) return err->code;
  fill_range(a, lask_num(start), lask_num(step), offset);
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

/* --- empty, full, eye --- */

static lask_status k_empty(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                           lask_err *err) {
  int ndim;
  int64_t shape[LASK_MAXDIM];
  lask_dtype dt = LASK_F64;
  if (lask_akernel_nargs(k, nargs, 1, 2, err) || lask_akernel_arg_shape(k, args, 0, &ndim, shape, err) ||
      (!ARG_NIL(args, nargs, 1) && lask_akernel_arg_dtype(k, args, 1, dt, &dt, err)))
    return err->code;
  lask_ndarray *a = new_array(k, dt, ndim, shape, false, err);
  if (!a) return err->code;
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

static lask_status k_full(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                          lask_err *err) {
  int ndim;
  int64_t shape[LASK_MAXDIM];
  if (lask_akernel_nargs(k, nargs, 2, 3, err) || lask_akernel_arg_shape(k, args, 0, &ndim, shape, err))
    return err->code;
  lask_value v = args[1];
  lask_dtype from = v.type == LASK_TBOOL ? LASK_BOOL : v.type == LASK_TINT ? LASK_I64 : LASK_F64, dt = from;
  if (v.type != LASK_TBOOL && v.type != LASK_TINT && v.type != LASK_TNUM)
    return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE,
                        "%s: argument 2 must be a number or a boolean, got a %s", k->name, lask_typename(v));
  if (nargs > 2 && lask_akernel_arg_dtype(k, args, 2, from, &dt, err)) return err->code;
  lask_ndarray *a = new_array(k, dt, ndim, shape, false, err);
  if (!a) return err->code;
  uint8_t b = v.type == LASK_TBOOL && v.as.b;
  const void *src = from == LASK_BOOL ? (const void *)&b : from == LASK_I64 ? (const void *)&v.as.i : &v.as.n;
  lask_convert(dt, a->data, (int64_t)lask_dtype_size(dt), from, src, 0, lask_ndarray_size(a));
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

static lask_status k_eye(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                         lask_err *err) {
  int ndim;
  int64_t shape[LASK_MAXDIM], diag = 0;
  lask_dtype dt = LASK_F64;
  if (lask_akernel_nargs(k, nargs, 1, 3, err) || lask_akernel_arg_shape(k, args, 0, &ndim, shape, err) ||
      (!ARG_NIL(args, nargs, 1) && lask_akernel_arg_int(k, args, 1, &diag, err)) ||
      (nargs > 2 && lask_akernel_arg_dtype(k, args, 2, dt, &dt, err)))
    return err->code;
  if (ndim != 2)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: the shape must have 2 dimensions, not %d",
                        k->name, ndim);
  lask_ndarray *a = new_array(k, dt, 2, shape, true, err);
  if (!a) return err->code;
  for (int64_t r = 0; r < shape[0]; r++)
    if (r + diag >= 0 && r + diag < shape[1]) put_f64(a, r * shape[1] + r + diag, 1.0);
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

/* --- random, normal --- */

/* Reads the (shape, seed, offset, global_shape) arguments shared by random and normal. */
static lask_status random_args(const lask_kernel *k, const lask_value *args, int nargs, int *ndim,
                               int64_t *shape, uint64_t *seed, int64_t *offset, int64_t *gshape,
                               lask_err *err) {
  int64_t s = 0;
  int n2 = 0, n3 = 0;
  if (lask_akernel_arg_shape(k, args, 0, ndim, shape, err)) return err->code;
  if (!ARG_NIL(args, nargs, 1) && lask_akernel_arg_int(k, args, 1, &s, err)) return err->code;
  *seed = (uint64_t)s;
  for (int d = 0; d < *ndim; d++) offset[d] = 0, gshape[d] = shape[d];
  if (!ARG_NIL(args, nargs, 2) && lask_akernel_arg_shape(k, args, 2, &n2, offset, err)) return err->code;
  if (!ARG_NIL(args, nargs, 3) && lask_akernel_arg_shape(k, args, 3, &n3, gshape, err)) return err->code;
  if ((!ARG_NIL(args, nargs, 2) && n2 != *ndim) || (!ARG_NIL(args, nargs, 3) && n3 != *ndim))
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: offset and global_shape must have %d entries",
                        k->name, *ndim);
  for (int d = 0; d < *ndim; d++)
    if (offset[d] + shape[d] > gshape[d])
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE,
                          "%s: the block does not fit global_shape on axis %d", k->name, d);
  return LASK_OK;
}

/* Fills a (C-contiguous float64, at global offset in an array of gshape) with
 * draws of stream; normal draws become loc + scale * z. Runs of elements that are
 * contiguous in the global array too (rows, and whole rows of rows where the block
 * spans the trailing axes) are drawn in one call. */
static void fill_draws(lask_ndarray *a, uint64_t seed, const int64_t *offset, const int64_t *gshape,
                       int stream, double loc, double scale) {
  int n = a->ndim, outer = n - 1; /* axes 0 .. outer-1 are walked, the rest is one run */
  int64_t gstride[LASK_MAXDIM], idx[LASK_MAXDIM] = {0}, run = n ? a->shape[n - 1] : 1;
  lask_strides_c(n, gshape, 1, gstride);
  for (; outer > 0 && a->shape[outer] == gshape[outer]; outer--) run *= a->shape[outer - 1];
  lask_draws_path path = lask_draws_best(); /* once a block, not once a run */
  double *p = (double *)a->data;
  if (lask_ndarray_size(a) == 0) return;
  for (;;) {
    uint64_t flat = 0;
    for (int d = 0; d < n; d++) flat += (uint64_t)((offset[d] + idx[d]) * gstride[d]);
    lask_draws_on(path, seed, (uint32_t)stream, flat, run, stream == STREAM_NORMAL, loc, scale, p);
    p += run;
    int d = outer - 1;
    for (; d >= 0 && ++idx[d] == a->shape[d]; d--) idx[d] = 0;
    if (d < 0) return;
  }
}

static lask_status draws(const lask_kernel *k, const lask_value *args, int nargs, int stream, lask_value *out,
                         lask_err *err) {
  int ndim;
  int64_t shape[LASK_MAXDIM], offset[LASK_MAXDIM], gshape[LASK_MAXDIM];
  uint64_t seed = 0;
  double loc = 0, scale = 1;
  if (lask_akernel_nargs(k, nargs, 1, stream == STREAM_NORMAL ? 6 : 4, err) ||
      random_args(k, args, nargs, &ndim, shape, &seed, offset, gshape, err) ||
      (!ARG_NIL(args, nargs, 4) && lask_akernel_arg_number(k, args, 4, &loc, err)) ||
      (!ARG_NIL(args, nargs, 5) && lask_akernel_arg_number(k, args, 5, &scale, err)))
    return err->code;
  lask_ndarray *a = new_array(k, LASK_F64, ndim, shape, false, err);
  if (!a) return err->code;
  fill_draws(a, seed, offset, gshape, stream, loc, scale);
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

static lask_status k_random(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                            lask_err *err) {
  return draws(k, args, nargs, STREAM_UNIFORM, out, err);
}

static lask_status k_normal(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                            lask_err *err) {
  return draws(k, args, nargs, STREAM_NORMAL, out, err);
}

static const lask_kernel kernels[] = {
    LASK_KERNEL_STATIC("arange", k_arange), LASK_KERNEL_STATIC("linspace", k_linspace),
    LASK_KERNEL_STATIC("empty", k_empty),   LASK_KERNEL_STATIC("full", k_full),
    LASK_KERNEL_STATIC("eye", k_eye),       LASK_KERNEL_STATIC("random", k_random),
    LASK_KERNEL_STATIC("normal", k_normal),
};

LASK_AKERNEL_GROUP(lask_akernels_create, kernels)
