/* elementwise.h — the elementwise operators shared by the array kernels and the
 * fused-expression compiler (internal to the engine, not API).
 *
 * An operator is a name, an arity, a typing rule and one tile function per compute
 * dtype. A tile function computes n results from n contiguous operand values
 * (operands already converted to the compute dtype, except where's condition, which
 * is bool); it never sees strides, broadcasting or the shape: fused.c gathers tiles
 * and akernels_elementwise.c only writes straight loops. Operands and output never
 * overlap.
 */
#ifndef LASK_ELEMENTWISE_H
#define LASK_ELEMENTWISE_H

#include "core/kernel.h"
#include "ndarray.h"

/* Parameters carried by a program token: N of powi:N, the dtype of astype:D. */
typedef struct lask_ew_param {
  int64_t n;
  lask_dtype dt;
} lask_ew_param;

/* Computes out[0..n) from in[k][0..n); returns 0, or 1 on a domain error (the
 * operator's domain_msg says which). */
typedef int (*lask_ew_fn)(int64_t n, void *out, const void *const *in, const lask_ew_param *p);

typedef enum lask_ew_rule {
  LASK_EW_ARITH,    /* binary: operands promote to a common dtype, result in it */
  LASK_EW_ARITH_NB, /* as ARITH, but bool operands compute as int64 (mod, pow, floor_divide) */
  LASK_EW_DIV,      /* binary: common dtype, then ints and bools compute as float64 */
  LASK_EW_FLOAT,    /* unary math: float32 stays float32, everything else float64 */
  LASK_EW_SAME,     /* unary, result in the operand's dtype (neg, abs) */
  LASK_EW_POWI,     /* unary x^N (powi:N): the operand's dtype, bool as int64 */
  LASK_EW_CMP,      /* binary: common dtype, bool result */
  LASK_EW_WHERE,    /* where(cond, x, y): cond as bool, x and y in their common dtype */
  LASK_EW_CAST,     /* unary astype:D: any dtype to D (no tile function: lask_convert) */
} lask_ew_rule;

typedef struct lask_ewop {
  const char *name;
  int arity;
  lask_ew_rule rule;
  lask_ew_fn fn[4];        /* indexed by the compute dtype; NULL: unsupported dtype */
  const char *domain_msg;  /* what a domain error means, or NULL */
  const char *unsupported; /* message for a NULL fn, or NULL for the generic one */
} lask_ewop;

/* The operator called name (an exact match), or NULL. */
const lask_ewop *lask_ewop_find(const char *name);

/* The i-th operator (0-based), or NULL past the last. */
const lask_ewop *lask_ewop_at(int i);

/* Applies op to args (arrays, numbers, booleans; broadcast by numpy's rules) as the
 * kernel named kname: gives a new array in *out, or a number/boolean when no
 * argument is an array. On failure fills err, naming kname. */
lask_status lask_ew_apply(const char *kname, const lask_ewop *op, const lask_ew_param *param,
                          const lask_value *args, int nargs, lask_value *out, lask_err *err);

/* Evaluates the postfix program (fused.c's syntax) over args as the kernel kname. */
lask_status lask_fused_eval_program(const char *kname, const char *program, const lask_value *args, int nargs,
                                    lask_value *out, lask_err *err);

#endif
