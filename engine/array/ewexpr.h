/* ewexpr.h — elementwise expressions built one operator at a time, evaluated in one
 * fused pass (internal to the engine, not API): what the Lua binding's pending
 * lask.ndarray values record (lua/binding/lndexpr.c).
 *
 * Applying an operator to expressions, arrays and scalars types and shapes the
 * result at once, exactly as the operator's kernel would (the same dtype, the same
 * errors worded the same), but computes nothing. Evaluating the expression runs all
 * of it as one fused program (fused.h): one pass over its arrays, in cache-sized
 * tiles, into one new array, with the values the kernels applied one at a time would
 * have given, bit for bit, and none of their full-size temporaries.
 *
 * An expression holds a reference to each of its arrays and reads them when it is
 * evaluated, so it relies on them not changing in between: engine arrays are
 * immutable once made (ndarray.h). An array whose memory may change under it (a
 * buffer that is not stable: a file mapping, a host's memory) never enters one:
 * lask_ewexpr_apply asks for that operation to run at once instead.
 */
#ifndef LASK_EWEXPR_H
#define LASK_EWEXPR_H

#include "fused.h"

/* The most nodes an expression holds (within LASK_FUSED_MAX_TOKENS). With at most
 * LASK_FUSED_MAX_ARGS arrays and a stack of at most LASK_FUSED_MAX_DEPTH, this bounds
 * its memory and the work of evaluating it. */
#define LASK_EWEXPR_MAX_NODES 64

typedef struct lask_ewexpr {
  lask_dtype dtype; /* the result's dtype and shape */
  int ndim;
  int64_t shape[LASK_MAXDIM];
  const char *kname; /* the kernel of its last operator (static storage): names evaluation errors */
  int nnodes, narrays, depth;
  lask_fused_node nodes[]; /* postfix; an ARG node holds its array (a reference) in cval */
} lask_ewexpr;

/* An operand: an expression (borrowed; its nodes are copied) or, when expr is NULL,
 * a value (an array, or a number or boolean: weak, as a Lua number). */
typedef struct lask_ewexpr_operand {
  const lask_ewexpr *expr;
  lask_value value;
} lask_ewexpr_operand;

/* Whether op over ops[0..op->arity) stays within the limits. When it does not, the
 * caller evaluates the operand expression of the most nodes (it becomes an array)
 * and asks again; operands that are all arrays or scalars always fit. */
bool lask_ewexpr_fits(const lask_ewop *op, const lask_ewexpr_operand *ops);

/* Applies op (with param) to ops[0..op->arity) as kernel kname (static storage)
 * would: a new expression in *out (the caller's); or *out NULL and LASK_OK when the
 * operation is to run now, through the kernel (an operator that may fail on the data:
 * integers to a power; an operand array whose buffer is not stable; a result too big
 * to count); or the error the kernel would give (a dtype the operator refuses, shapes
 * that do not broadcast, an operand that is neither an array nor a number). At least
 * one operand is an expression or an array, and they fit (lask_ewexpr_fits). */
lask_status lask_ewexpr_apply(const char *kname, const lask_ewop *op, const lask_ew_param *param,
                              const lask_ewexpr_operand *ops, lask_ewexpr **out, lask_err *err);

/* Evaluates e: a new array in *out (the caller's reference), in one fused pass.
 * Fails only when out of memory. */
lask_status lask_ewexpr_eval(const lask_ewexpr *e, lask_value *out, lask_err *err);

/* Frees e and drops its references to its arrays (NULL: nothing). */
void lask_ewexpr_free(lask_ewexpr *e);

#endif
