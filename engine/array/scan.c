/* scan.c — cumulative sums and products along one axis (array_kernels.h): the block
 * step of lask.array's blocked scan. A block is scanned in its result dtype (bool as
 * int64, as numpy's cumsum and cumprod) after adding, or multiplying by, the carry:
 * the total of every block before it along the axis, so that the blocks of one
 * array need only that carry, not each other. Integers wrap as numpy's do; NaN
 * propagates (nancumsum is a cumsum of NaN replaced by 0, in lask.array).
 */
#include <string.h>

#include "array_kernels.h"

/* Combines acc[i] with v[i] (i < n): added (sum) or multiplied (prod), in dtype dt;
 * int64 as uint64, wrapping. */
#define SCAN_COMBINE(T)                                                                                      \
  do {                                                                                                       \
    T *a = (T *)acc;                                                                                         \
    const T *b = (const T *)v;                                                                               \
    if (prod)                                                                                                \
      for (int64_t i = 0; i < n; i++) a[i] *= b[i];                                                          \
    else                                                                                                     \
      for (int64_t i = 0; i < n; i++) a[i] += b[i];                                                          \
  } while (0)

static void combine(bool prod, lask_dtype dt, char *acc, const char *v, int64_t n) {
  if (dt == LASK_F64)
    SCAN_COMBINE(double);
  else if (dt == LASK_F32)
    SCAN_COMBINE(float);
  else
    SCAN_COMBINE(uint64_t);
}

/* A running sum or product along the axis of length len of C-contiguous data in
 * place: outer runs of len rows of inner elements each. */
static void scan_inplace(bool prod, lask_dtype dt, char *data, int64_t outer, int64_t len, int64_t inner) {
  size_t isz = lask_dtype_size(dt);
  int64_t row = inner * (int64_t)isz;
  if (inner == 1 && dt == LASK_F64) { /* the common 1-d case: a sequential loop */
    for (int64_t o = 0; o < outer; o++) {
      double *p = (double *)data + o * len, s = len ? p[0] : 0;
      for (int64_t j = 1; j < len; j++) p[j] = s = prod ? s * p[j] : s + p[j];
    }
    return;
  }
  for (int64_t o = 0; o < outer; o++) {
    char *base = data + o * len * row;
    for (int64_t j = 1; j < len; j++) combine(prod, dt, base + j * row, base + (j - 1) * row, inner);
  }
}

/* Does cumsum of x with carry c take the one-pass path (1-d contiguous float64, a
 * carry of one element)? */
static bool one_pass(bool prod, const lask_ndarray *x, const lask_ndarray *c) {
  return !prod && x->dtype == LASK_F64 && x->ndim == 1 && x->strides[0] == 8 &&
         (!c || lask_ndarray_size(c) == 1);
}

/* The running sum of 1-d contiguous float64 x after carry c (NULL: 0) into o. */
static void scan_f64(const lask_ndarray *x, const lask_ndarray *c, double *restrict o) {
  double s = c ? lask_elem_f64(c->dtype, c->data) : 0;
  const double *restrict in = (const double *)x->data;
  for (int64_t j = 0, len = x->shape[0]; j < len; j++) o[j] = s += in[j];
}

/* cumsum(x, axis [, carry]) / cumprod: axis 0-based; carry nil or an array that
 * broadcasts to x with extent 1 along axis. */
static lask_status scan(bool prod, const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                        lask_err *err) {
  lask_ndarray *x;
  int64_t ax;
  if (lask_akernel_nargs(k, n, 2, 3, err) || lask_akernel_array(k, args, 0, &x, err) ||
      lask_akernel_arg_int(k, args, 1, &ax, err))
    return err->code;
  if (x->ndim == 0 || ax < 0 || ax >= x->ndim)
    return lask_akernel_fail(k, LASK_EINVAL, err, "axis %lld is out of range for a %d-d array", (long long)ax,
                             x->ndim);
  lask_dtype dt = x->dtype == LASK_BOOL ? LASK_I64 : x->dtype;
  int64_t outer = 1, inner = 1, len = x->shape[ax];
  for (int d = 0; d < ax; d++) outer *= x->shape[d];
  for (int d = (int)ax + 1; d < x->ndim; d++) inner *= x->shape[d];
  const lask_ndarray *c = n > 2 ? lask_ndarray_of(args[2]) : NULL;
  if (n > 2 && args[2].type != LASK_TNIL && !c)
    return lask_akernel_fail(k, LASK_ETYPE, err, "argument 3 (the carry) must be an array or nil");
  if (one_pass(prod, x, c)) { /* the common case in one pass: read x, write y */
    lask_ndarray *y = lask_ndarray_empty(LASK_F64, 1, x->shape, err);
    if (!y) return lask_akernel_relabel(k, err);
    scan_f64(x, c, (double *)y->data);
    *out = lask_ndarray_value(y);
    return LASK_OK;
  }
  lask_ndarray *y = lask_ndarray_copy(x, dt, err);
  if (!y) return lask_akernel_relabel(k, err);
  if (c && len > 0) { /* the carry joins the first row of every run */
    int64_t cshape[LASK_MAXDIM];
    memcpy(cshape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
    cshape[ax] = 1;
    lask_ndarray *cb = lask_ndarray_broadcast_to((lask_ndarray *)c, x->ndim, cshape, err);
    lask_ndarray *cc = cb ? lask_ndarray_copy(cb, dt, err) : NULL;
    if (cb) lask_release(lask_ndarray_value(cb));
    if (!cc) {
      lask_release(lask_ndarray_value(y));
      return lask_akernel_relabel(k, err);
    }
    size_t isz = lask_dtype_size(dt);
    for (int64_t o = 0; o < outer; o++)
      combine(prod, dt, y->data + o * len * inner * (int64_t)isz, cc->data + o * inner * (int64_t)isz, inner);
    lask_release(lask_ndarray_value(cc));
  }
  scan_inplace(prod, dt, y->data, outer, len, inner);
  *out = lask_ndarray_value(y);
  return LASK_OK;
}

static lask_status k_cumsum(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                            lask_err *err) {
  return scan(false, k, a, n, out, err);
}
static lask_status k_cumprod(const lask_kernel *k, const lask_value *a, int n, lask_value *out,
                             lask_err *err) {
  return scan(true, k, a, n, out, err);
}

/* cumsum's into entry: the one-pass case straight into dest (compute()'s result),
 * with no block of its own and no copy. */
static lask_status k_cumsum_into(const lask_kernel *k, const lask_value *args, int n,
                                 const lask_ndarray *dest, const int64_t *offset, bool *done, lask_err *err) {
  (void)k, (void)err;
  *done = false;
  const lask_ndarray *x = n >= 2 ? lask_ndarray_of(args[0]) : NULL;
  const lask_ndarray *c = n > 2 ? lask_ndarray_of(args[2]) : NULL;
  if (!x || args[1].type != LASK_TINT || args[1].as.i != 0 || (n > 2 && args[2].type != LASK_TNIL && !c) ||
      !one_pass(false, x, c))
    return LASK_OK; /* the caller runs the kernel, which reports any error */
  char *o = lask_ndarray_run_at(dest, offset, LASK_F64, 1, x->shape);
  if (!o) return LASK_OK;
  scan_f64(x, c, (double *)o);
  *done = true;
  return LASK_OK;
}

static const lask_kernel kernels[] = {
    LASK_KERNEL_STATIC_INTO("cumsum", k_cumsum, k_cumsum_into),
    LASK_KERNEL_STATIC("cumprod", k_cumprod),
};

LASK_AKERNEL_GROUP(lask_akernels_scan, kernels)
