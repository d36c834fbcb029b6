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

#endif
