/* elementwise.c — the elementwise array kernels: one per operator of
 * elementwise_ops.h (made from its list LASK_EWOPS), pow (powi for small integer
 * exponents), astype, round(x, decimals), and fused(program, ...), all evaluated by the fused kernel's
 * tile loop (fused.h).
 */
#include <string.h>

#include "array_kernels.h"
#include "fused.h"

static lask_status want_args(const lask_kernel *k, int nargs, int want, lask_err *err) {
  if (nargs == want) return LASK_OK;
  return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s expects %d argument%s, got %d", k->name, want,
                      want == 1 ? "" : "s", nargs);
}

/* An operator kernel: k->data is its lask_ewop. */
static lask_status k_op(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                        lask_err *err) {
  const lask_ewop *op = k->data;
  if (want_args(k, nargs, op->arity, err)) return err->code;
  return lask_ew_apply(k->name, op, &(lask_ew_param){0, LASK_F64}, args, nargs, out, err);
}

/* pow(x, n) with an array x and a small integer scalar n multiplies (powi:n); the
 * result dtype is pow's. A 0-d x (one element: nothing to gain) keeps pow's bits. */
static const lask_ewop *pow_operator(int x_ndim, lask_value n, lask_ew_param *param, int *nops) {
  *param = (lask_ew_param){0, LASK_F64};
  if (x_ndim > 0 && n.type == LASK_TINT && n.as.i >= -LASK_FUSED_POWI_MAX && n.as.i <= LASK_FUSED_POWI_MAX) {
    param->n = n.as.i, *nops = 1;
    return &lask_ewops[LASK_EWOP_POWI];
  }
  *nops = 2;
  return &lask_ewops[LASK_EWOP_POW];
}

static lask_status k_pow(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                         lask_err *err) {
  if (want_args(k, nargs, 2, err)) return err->code;
  const lask_ndarray *x = lask_ndarray_of(args[0]);
  lask_ew_param param;
  int nops;
  const lask_ewop *op = pow_operator(x ? x->ndim : -1, args[1], &param, &nops);
  return lask_ew_apply(k->name, op, &param, args, nops, out, err);
}

/* astype(x, dtype) */
static lask_status k_astype(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                            lask_err *err) {
  lask_ew_param p = {0, LASK_F64};
  if (want_args(k, nargs, 2, err)) return err->code;
  if (!lask_isa(args[1], &lask_str_class) || !lask_dtype_parse(((const lask_str *)args[1].as.o)->data, &p.dt))
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE,
                        "astype: argument 2 must be a dtype name (float64, float32, int64, bool), got a %s",
                        lask_typename(args[1]));
  return lask_ew_apply(k->name, &lask_ewops[LASK_EWOP_ASTYPE], &p, args, 1, out, err);
}

/* An operator with an integer parameter, op(x, n): round(x, decimals). */
static lask_status k_param(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                           lask_err *err) {
  lask_ew_param p = {0, LASK_F64};
  if (want_args(k, nargs, 2, err)) return err->code;
  if (args[1].type != LASK_TINT)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: argument 2 must be an integer, got a %s",
                        k->name, lask_typename(args[1]));
  p.n = args[1].as.i;
  return lask_ew_apply(k->name, k->data, &p, args, 1, out, err);
}

/* fused(program, x1, x2, ...) */
static lask_status k_fused(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                           lask_err *err) {
  if (nargs < 1 || !lask_isa(args[0], &lask_str_class))
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: argument 1 must be the program (a string)",
                        k->name);
  return lask_fused_eval_program(k->name, ((const lask_str *)args[0].as.o)->data, args + 1, nargs - 1, out,
                                 err);
}

/* One kernel per operator as its LASK_EW_KERNEL_* column says (k->data is the
 * operator), then fused. */
#define KERNEL_OP(ID, NAME)                                                                                  \
  {{&lask_kernel_class, LASK_REFS_STATIC}, NAME, k_op, (void *)&lask_ewops[LASK_EWOP_##ID], NULL, NULL},
#define KERNEL_POW(ID, NAME)                                                                                 \
  {{&lask_kernel_class, LASK_REFS_STATIC}, NAME, k_pow, (void *)&lask_ewops[LASK_EWOP_##ID], NULL, NULL},
#define KERNEL_CAST(ID, NAME)                                                                                \
  {{&lask_kernel_class, LASK_REFS_STATIC}, NAME, k_astype, (void *)&lask_ewops[LASK_EWOP_##ID], NULL, NULL},
#define KERNEL_PARAM(ID, NAME)                                                                               \
  {{&lask_kernel_class, LASK_REFS_STATIC}, NAME, k_param, (void *)&lask_ewops[LASK_EWOP_##ID], NULL, NULL},
#define KERNEL_NONE(ID, NAME)
#define KERNEL_ENTRY(ID, NAME, ARITY, RULE, KERNEL, ...) KERNEL_##KERNEL(ID, NAME)

static const lask_kernel kernels[] = {
    LASK_EWOPS(KERNEL_ENTRY) LASK_KERNEL_STATIC("fused", k_fused),
};

#define NKERNELS ((int)(sizeof kernels / sizeof kernels[0]))

const lask_kernel *lask_akernels_elementwise(int i) { return i >= 0 && i < NKERNELS ? &kernels[i] : NULL; }

const lask_ewop *lask_ew_kernel_operator(const lask_kernel *k, int x_ndim, lask_value second,
                                         lask_ew_param *param, int *nops, int *nargs) {
  *param = (lask_ew_param){0, LASK_F64};
  *nargs = 2;
  if (k->fn == k_pow) return pow_operator(x_ndim, second, param, nops);
  if (k->fn == k_param && second.type == LASK_TINT) return param->n = second.as.i, *nops = 1, k->data;
  if (k->fn != k_op) return NULL;
  *nops = *nargs = ((const lask_ewop *)k->data)->arity;
  return k->data;
}
