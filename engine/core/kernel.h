/* kernel.h — native kernels: C functions over values that any worker may run.
 *
 * A kernel is an object (class lask_kernel_class) so it can stand as a task's head
 * in a graph. Kernels never touch Lua and must be thread-safe: several workers may
 * run the same kernel at once.
 */
#ifndef LASK_KERNEL_H
#define LASK_KERNEL_H

#include "api.h"
#include "err.h"
#include "value.h"

LASK_BEGIN_DECLS

typedef struct lask_kernel lask_kernel;

/* Runs kernel k on nargs borrowed args; gives the result in *out. On failure fills
 * err (its node is set by the caller) and returns its code; *out is left nil. */
typedef lask_status (*lask_kernel_fn)(const lask_kernel *k, const lask_value *args, int nargs,
                                      lask_value *out, lask_err *err);

struct lask_ndarray;

/* Optional second entry of a kernel: computes what fn would give, an array, straight
 * into dest at offset (one index per axis) and sets *done; leaves *done false and
 * dest untouched when the result would not land there as one contiguous run of
 * dest's dtype (the caller then runs fn and copies). The into array kernel uses it. */
typedef lask_status (*lask_kernel_into_fn)(const lask_kernel *k, const lask_value *args, int nargs,
                                           const struct lask_ndarray *dest, const int64_t *offset, bool *done,
                                           lask_err *err);

struct lask_kernel {
  lask_obj h;
  const char *name; /* shown by tostring and in errors */
  lask_kernel_fn fn;
  void *data;                    /* kernel-specific parameters */
  void (*free_data)(void *data); /* called when a dynamic kernel is freed; may be NULL */
  lask_kernel_into_fn into;      /* may be NULL */
};

extern const lask_class lask_kernel_class;

/* Static initialiser for a kernel that lives forever (never refcounted). */
#define LASK_KERNEL_STATIC(kname, kfn)                                                                       \
  { {&lask_kernel_class, LASK_REFS_STATIC}, kname, kfn, NULL, NULL, NULL }

/* The same for a kernel with an into entry. */
#define LASK_KERNEL_STATIC_INTO(kname, kfn, kinto)                                                           \
  { {&lask_kernel_class, LASK_REFS_STATIC}, kname, kfn, NULL, NULL, kinto }

/* The value standing for kernel k (a task head): borrowed for static kernels, which
 * are never counted; retain it to keep a dynamic one. */
static inline lask_value lask_kernel_value(const lask_kernel *k) { return lask_objval((lask_obj *)&k->h); }

/* Gives a new dynamic kernel (name copied, data owned: free_data runs on free). */
lask_kernel *lask_kernel_new(const char *name, lask_kernel_fn fn, void *data, void (*free_data)(void *));

LASK_END_DECLS

#endif
