/* fused.h — the fused kernel: an elementwise expression (a postfix program over the
 * operators of elementwise_ops.h) compiled once and evaluated in cache-sized tiles
 * with no full-size temporaries (internal to the engine, not API; host programs
 * and Lua make fused kernels with lask_fused_kernel_new, array_kernels.h).
 */
#ifndef LASK_FUSED_H
#define LASK_FUSED_H

#include "core/kernel.h"
#include "elementwise_ops.h"

/* A program's limits: arguments $1..$32, tokens, the depth of its stack, and the
 * length of one token. Lua's lask.array.expression keeps its programs within them
 * (exported by the binding). */
#define LASK_FUSED_MAX_ARGS      32
#define LASK_FUSED_MAX_TOKENS    128
#define LASK_FUSED_MAX_DEPTH     32
#define LASK_FUSED_MAX_TOKEN_LEN 63

/* pow(x, n) with an array x (not 0-d) and an integer n in [-LASK_FUSED_POWI_MAX,
 * LASK_FUSED_POWI_MAX] multiplies (powi:n), in the pow kernel and in programs. */
#define LASK_FUSED_POWI_MAX 16

/* Applies op to args (arrays, numbers, booleans; broadcast by numpy's rules) as the
 * kernel named kname: gives a new array in *out, or a number/boolean when no
 * argument is an array. On failure fills err, naming kname. */
lask_status lask_ew_apply(const char *kname, const lask_ewop *op, const lask_ew_param *param,
                          const lask_value *args, int nargs, lask_value *out, lask_err *err);

/* Evaluates the postfix program (lask_fused_kernel_new's syntax) over args as the kernel kname. */
lask_status lask_fused_eval_program(const char *kname, const char *program, const lask_value *args, int nargs,
                                    lask_value *out, lask_err *err);

/* The operator elementwise kernel k applies to its arguments, as it applies it: for
 * an operator's own kernel (add, sin, where, ...) that operator over all of them;
 * for pow, pow(x, n) with x an array of at least one axis (x_ndim: -1 when x is not
 * an array) and n (second) a Lua integer within LASK_FUSED_POWI_MAX is powi:n over x
 * alone; round(x, n) is round:n over x (n, second, an integer). Sets *param, *nops
 * (how many leading arguments are its operands) and *nargs (how many arguments k
 * takes); NULL for any other kernel or call (astype, fused, round with a
 * non-integer n, the rest: the kernel itself says what is wrong). */
const lask_ewop *lask_ew_kernel_operator(const lask_kernel *k, int x_ndim, lask_value second,
                                         lask_ew_param *param, int *nops, int *nargs);

/* --- programs as nodes (what compiling the text gives; ewexpr.c builds them directly) --- */

typedef enum lask_fused_kind { LASK_FNODE_ARG, LASK_FNODE_CONST, LASK_FNODE_OP } lask_fused_kind;

/* One node of a postfix program. */
typedef struct lask_fused_node {
  lask_fused_kind kind;
  int arg;             /* ARG: 0-based argument */
  lask_value cval;     /* CONST: a boolean, an integer or a float (weak, as a Lua number) */
  const lask_ewop *op; /* OP */
  lask_ew_param param; /* OP: powi's N, round's D, astype's dtype */
} lask_fused_node;

/* Evaluates the postfix program nodes[0..nnodes) (at most LASK_FUSED_MAX_TOKENS, a
 * stack of at most LASK_FUSED_MAX_DEPTH, ARG nodes below nargs) over args, as the
 * kernel kname: one pass, as a fused kernel's call. */
lask_status lask_fused_eval_nodes(const char *kname, const lask_fused_node *nodes, int nnodes,
                                  const lask_value *args, int nargs, lask_value *out, lask_err *err);

/* Types op over operand types t (with param) as the fused kernel kname does: the
 * result type in *res and the compute dtype in *compute, or an error worded as the
 * kernel words it. */
lask_status lask_fused_type_op(const char *kname, const lask_ewop *op, const lask_ew_param *param,
                               const lask_ew_type *t, lask_ew_type *res, lask_dtype *compute, lask_err *err);

#endif
