/* array_kernels.c — the registry of array kernels (array_kernels.h): a walk over the
 * kernel groups, and the argument helpers kernels share.
 *
 * Each group lives in the file of its family and exports one function,
 * lask_akernels_GROUP(i), giving its i-th kernel or NULL.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "array_kernels.h"

typedef const lask_kernel *(*group_fn)(int i);

static const group_fn groups[] = {lask_akernels_create,    lask_akernels_elementwise, lask_akernels_reduce,
                                  lask_akernels_structure, lask_akernels_matmul,      lask_akernels_npy_io,
                                  lask_akernels_linalg,    lask_akernels_range,       lask_akernels_scan,
                                  lask_akernels_select,    lask_akernels_indexing,    lask_akernels_shape,
                                  lask_akernels_cholqr};

#define NGROUPS ((int)(sizeof groups / sizeof groups[0]))

const lask_kernel *lask_akernel_at(int i) {
  if (i < 0) return NULL;
  for (int g = 0; g < NGROUPS; g++) {
    int n = 0;
    while (groups[g](n)) n++;
    if (i < n) return groups[g](i);
    i -= n;
  }
  return NULL;
}

const lask_kernel *lask_akernel_find(const char *name) {
  for (int g = 0; g < NGROUPS; g++) {
    const lask_kernel *k;
    for (int i = 0; (k = groups[g](i)); i++)
      if (strcmp(k->name, name) == 0) return k;
  }
  return NULL;
}

/* --- argument helpers --- */

static lask_status bad_arg(const lask_kernel *k, int i, const char *want, lask_value v, lask_err *err) {
  return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s: argument %d must be %s, got a %s", k->name, i + 1,
                      want, lask_typename(v));
}

lask_status lask_akernel_nargs(const lask_kernel *k, int nargs, int lo, int hi, lask_err *err) {
  if (nargs >= lo && nargs <= hi) return LASK_OK;
  if (lo == hi)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s expects %d argument%s, got %d", k->name, lo,
                        lo == 1 ? "" : "s", nargs);
  return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s expects %d to %d arguments, got %d", k->name, lo,
                      hi, nargs);
}

/* An integer, or a float with an integral value in range. */
static bool as_int(lask_value v, int64_t *out) {
  if (v.type == LASK_TINT) return *out = v.as.i, true;
  if (v.type != LASK_TNUM || !(v.as.n >= -9.2e18 && v.as.n <= 9.2e18) || v.as.n != (double)(int64_t)v.as.n)
    return false;
  return *out = (int64_t)v.as.n, true;
}

lask_status lask_akernel_arg_int(const lask_kernel *k, const lask_value *args, int i, int64_t *out,
                                 lask_err *err) {
  return as_int(args[i], out) ? LASK_OK : bad_arg(k, i, "an integer", args[i], err);
}

lask_status lask_akernel_arg_number(const lask_kernel *k, const lask_value *args, int i, double *out,
                                    lask_err *err) {
  return lask_tonumber(args[i], out) ? LASK_OK : bad_arg(k, i, "a number", args[i], err);
}

lask_status lask_akernel_arg_shape(const lask_kernel *k, const lask_value *args, int i, int *ndim,
                                   int64_t *shape, lask_err *err) {
  if (as_int(args[i], &shape[0]) && shape[0] >= 0) return *ndim = 1, LASK_OK;
  if (!lask_isa(args[i], &lask_list_class))
    return bad_arg(k, i, "a shape (a list of integers)", args[i], err);
  const lask_list *l = (const lask_list *)args[i].as.o;
  if (l->n > LASK_MAXDIM)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: argument %d has %zu dimensions (at most %d)",
                        k->name, i + 1, l->n, LASK_MAXDIM);
  for (size_t d = 0; d < l->n; d++)
    if (!as_int(l->items[d], &shape[d]) || shape[d] < 0)
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE,
                          "%s: argument %d must be a shape (a list of integers >= 0); item %zu is not",
                          k->name, i + 1, d + 1);
  *ndim = (int)l->n;
  return LASK_OK;
}

lask_status lask_akernel_arg_dtype(const lask_kernel *k, const lask_value *args, int i, lask_dtype dflt,
                                   lask_dtype *out, lask_err *err) {
  if (args[i].type == LASK_TNIL) return *out = dflt, LASK_OK;
  if (lask_isa(args[i], &lask_str_class) && lask_dtype_parse(((const lask_str *)args[i].as.o)->data, out))
    return LASK_OK;
  if (lask_isa(args[i], &lask_str_class))
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE,
                        "%s: unknown dtype '%s' (float64, float32, int64 or bool)", k->name,
                        ((const lask_str *)args[i].as.o)->data);
  return bad_arg(k, i, "a dtype name", args[i], err);
}

lask_status lask_akernel_relabel(const lask_kernel *k, lask_err *err) {
  size_t n = strlen(k->name);
  if (strncmp(err->msg, k->name, n) == 0 && err->msg[n] == ':')
    return err->code; /* "npy_create: npy_create:" */
  return lask_akernel_fail(k, err->code, err, "%s", err->msg);
}

lask_status lask_akernel_fail(const lask_kernel *k, lask_status code, lask_err *err, const char *fmt, ...) {
  char msg[LASK_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return lask_err_set(err, code, LASK_NO_NODE, "%s: %s", k->name, msg);
}

lask_status lask_akernel_array(const lask_kernel *k, const lask_value *args, int i, lask_ndarray **a,
                               lask_err *err) {
  *a = lask_ndarray_of(args[i]);
  if (*a) return LASK_OK;
  return lask_akernel_fail(k, LASK_ETYPE, err, "argument %d is a %s, not an array", i + 1,
                           lask_typename(args[i]));
}

lask_status lask_akernel_arg_arrays(const lask_kernel *k, const lask_value *args, int i,
                                    const lask_list **out, lask_err *err) {
  if (!lask_isa(args[i], &lask_list_class))
    return lask_akernel_fail(k, LASK_ETYPE, err, "argument %d is a %s, not a list of arrays", i + 1,
                             lask_typename(args[i]));
  const lask_list *l = (const lask_list *)args[i].as.o;
  if (l->n == 0) return lask_akernel_fail(k, LASK_EINVAL, err, "needs at least one array");
  for (size_t j = 0; j < l->n; j++)
    if (!lask_ndarray_of(l->items[j]))
      return lask_akernel_fail(k, LASK_ETYPE, err, "item %zu of the list is a %s, not an array", j + 1,
                               lask_typename(l->items[j]));
  *out = l;
  return LASK_OK;
}

lask_status lask_akernel_arg_ints(const lask_kernel *k, lask_value v, int want, int64_t *out,
                                  const char *what, lask_err *err) {
  size_t n = lask_isa(v, &lask_list_class) ? ((const lask_list *)v.as.o)->n : 0;
  if ((int)n != want)
    return lask_akernel_fail(k, LASK_EINVAL, err, "%s must list %d integers, got %zu", what, want, n);
  for (int i = 0; i < want; i++)
    if (!lask_akernel_as_int(((const lask_list *)v.as.o)->items[i], &out[i]))
      return lask_akernel_fail(k, LASK_ETYPE, err, "%s must hold integers", what);
  return LASK_OK;
}

bool lask_akernel_as_int(lask_value v, int64_t *out) {
  if (v.type == LASK_TINT) return *out = v.as.i, true;
  if (v.type == LASK_TNUM && v.as.n == floor(v.as.n) && fabs(v.as.n) < 9e15)
    return *out = (int64_t)v.as.n, true;
  return false;
}

void lask_akernel_mat_free(lask_akernel_mat *m) {
  if (m->owned) lask_release(lask_ndarray_value((lask_ndarray *)m->a));
  m->a = NULL, m->owned = false;
}

lask_status lask_akernel_mat_init(const lask_kernel *k, lask_ndarray *x, bool left, lask_dtype dt,
                                  lask_akernel_mat *m, lask_err *err) {
  *m = (lask_akernel_mat){.a = x};
  if (x->ndim < 1 || x->ndim > 2)
    return lask_akernel_fail(k, LASK_EINVAL, err, "operands must be 1-D or 2-D, not %d-D", x->ndim);
  int64_t es = (int64_t)lask_dtype_size(dt);
  int64_t r = x->ndim == 2 ? x->shape[0] : left ? 1 : x->shape[0];
  int64_t c = x->ndim == 2 ? x->shape[1] : left ? x->shape[0] : 1;
  int64_t sr = x->ndim == 2 ? x->strides[0] : left ? 0 : x->strides[0];
  int64_t sc = x->ndim == 2 ? x->strides[1] : left ? x->strides[0] : 0;
  m->rows = r, m->cols = c;
  if (x->dtype == dt) {
    if ((c == 1 || sc == es) && (r == 1 || (sr % es == 0 && sr / es >= c))) {
      m->ld = r == 1 ? (c > 0 ? c : 1) : sr / es;
      return LASK_OK;
    }
    if ((r == 1 || sr == es) && c > 1 && sc % es == 0 && sc / es >= r) {
      m->trans = true, m->ld = sc / es;
      return LASK_OK;
    }
  }
  lask_ndarray *cp = lask_ndarray_copy(x, dt, err);
  if (!cp) return lask_akernel_relabel(k, err);
  m->a = cp, m->owned = true, m->ld = c > 0 ? c : 1;
  return LASK_OK;
}
