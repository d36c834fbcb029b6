/* scalar.h — the built-in scalar kernels, found by name (host programs and Lua's
 * lask.kernels use them as task heads). Given an array, the arithmetic ones hand it
 * to the elementwise array kernels (numpy's broadcasting and dtypes).
 */
#ifndef LASK_SCALAR_H
#define LASK_SCALAR_H

#include "../core/api.h"
#include "../core/kernel.h"

LASK_BEGIN_DECLS

/* The scalar kernels: add, sub, mul, div, neg, inc, sum (of a list), identity, and
 * spin(x, us) (busy-waits us microseconds, gives x: tasks of known cost for benchmarks).
 * Returns the kernel called name, or NULL. */
const lask_kernel *lask_kernel_find(const char *name);

/* Returns the i-th built-in scalar kernel (0-based), or NULL past the last. */
const lask_kernel *lask_kernel_builtin(int i);

LASK_END_DECLS

#endif
