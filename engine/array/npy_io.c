/* npy_io.c — the .npy kernels of lask.array (array_kernels.h) on npy.h: from_npy
 * reads a block (a view of a memory mapping), npy_create and store_block write a
 * file block by block, npy_save writes one whole (a file of a stack).
 */
#include "array_kernels.h"
#include "npy.h"

/* from_npy(path, offset, shape): the block at offset of the given shape (both nil:
 * the whole array). */
static lask_status k_from_npy(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                              lask_err *err) {
  int n1 = 0, n2 = 0;
  int64_t offset[LASK_MAXDIM], shape[LASK_MAXDIM];
  if (lask_akernel_nargs(k, nargs, 1, 3, err)) return err->code;
  if (!lask_isa(args[0], &lask_str_class))
    return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s: argument 1 must be a path, got a %s", k->name,
                        lask_typename(args[0]));
  const char *path = ((const lask_str *)args[0].as.o)->data;
  bool whole = (nargs < 2 || args[1].type == LASK_TNIL) && (nargs < 3 || args[2].type == LASK_TNIL);
  if (!whole && (lask_akernel_arg_shape(k, args, 1, &n1, offset, err) ||
                 lask_akernel_arg_shape(k, args, 2, &n2, shape, err)))
    return err->code;
  if (n1 != n2)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: offset and shape differ in length", k->name);
  lask_ndarray *a =
      whole ? lask_npy_load(path, true, err) : lask_npy_load_block(path, n1, offset, shape, err);
  if (!a) return err->code;
  *out = lask_ndarray_value(a);
  return LASK_OK;
}

/* x:store(path) writes a file block by block: npy_create makes it at its full size
 * (header first), then each store_block writes one block at its place with pwrite,
 * so no task ever holds more than its block. */

/* npy_create(path, global_shape, dtype): creates (or truncates) the file. */
static lask_status k_npy_create(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                lask_err *err) {
  int64_t shape[LASK_MAXDIM];
  lask_dtype dt;
  if (lask_akernel_nargs(k, n, 3, 3, err)) return err->code;
  if (!lask_isa(args[0], &lask_str_class))
    return lask_akernel_fail(k, LASK_ETYPE, err, "the path must be a string");
  if (!lask_isa(args[2], &lask_str_class) || !lask_dtype_parse(((const lask_str *)args[2].as.o)->data, &dt))
    return lask_akernel_fail(k, LASK_EINVAL, err, "unknown dtype");
  int nd = lask_isa(args[1], &lask_list_class) ? (int)((const lask_list *)args[1].as.o)->n : 0;
  if (nd > LASK_MAXDIM) return lask_akernel_fail(k, LASK_EINVAL, err, "too many dimensions");
  if (lask_akernel_arg_ints(k, args[1], nd, shape, "global_shape", err)) return err->code;
  if (lask_npy_create(((const lask_str *)args[0].as.o)->data, dt, nd, shape, err))
    return lask_akernel_relabel(k, err);
  *out = lask_bool(true);
  return LASK_OK;
}

/* store_block(path, x, offset, global_shape, ...): writes x at offset (a list, one
 * start per axis) of the file; extra arguments only order the task after others
 * (npy_create). */
static lask_status k_store_block(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                                 lask_err *err) {
  lask_ndarray *x;
  int64_t offset[LASK_MAXDIM];
  if (n < 4) return lask_akernel_nargs(k, n, 4, 4, err);
  if (!lask_isa(args[0], &lask_str_class))
    return lask_akernel_fail(k, LASK_ETYPE, err, "the path must be a string");
  if (lask_akernel_array(k, args, 1, &x, err) ||
      lask_akernel_arg_ints(k, args[2], x->ndim, offset, "offset", err))
    return err->code;
  if (lask_npy_write_block(((const lask_str *)args[0].as.o)->data, x, offset, err))
    return lask_akernel_relabel(k, err);
  *out = lask_bool(true);
  return LASK_OK;
}

/* npy_save(path, x): writes x whole to the .npy file path (replacing it; lask_npy_save:
 * a temporary renamed at the end, so a failure leaves nothing). */
static lask_status k_npy_save(const lask_kernel *k, const lask_value *args, int n, lask_value *out,
                              lask_err *err) {
  lask_ndarray *x;
  if (lask_akernel_nargs(k, n, 2, 2, err)) return err->code;
  if (!lask_isa(args[0], &lask_str_class))
    return lask_akernel_fail(k, LASK_ETYPE, err, "the path must be a string");
  if (lask_akernel_array(k, args, 1, &x, err)) return err->code;
  if (lask_npy_save(((const lask_str *)args[0].as.o)->data, x, err)) return lask_akernel_relabel(k, err);
  *out = lask_bool(true);
  return LASK_OK;
}

static const lask_kernel kernels[] = {
    LASK_KERNEL_STATIC("from_npy", k_from_npy),
    LASK_KERNEL_STATIC("npy_create", k_npy_create),
    LASK_KERNEL_STATIC("store_block", k_store_block),
    LASK_KERNEL_STATIC("npy_save", k_npy_save),
};

LASK_AKERNEL_GROUP(lask_akernels_npy_io, kernels)
