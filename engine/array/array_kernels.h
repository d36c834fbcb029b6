/* array_kernels.h — the array kernels: the native functions lask.array's graphs call.
 *
 * This header is the contract between the C kernels (engine/array/) and the
 * Lua layer that builds graphs of them (lua/lask/array/). Each kernel is a
 * lask_kernel (kernel.h) found by name; from Lua they are
 * require("lask.core").array_kernels[name], print by name in `.dask`, and may
 * also be called directly. Arguments are engine values: arrays (ndarray.h),
 * numbers, strings, and lists (a Lua list argument in a task becomes a list).
 * Conventions:
 *   - axes are 0-based inside kernels (the Lua layer converts from 1-based);
 *   - a "shape" or "axes" argument is a list of integers;
 *   - dtype arguments are numpy names ("float64", "float32", "int64", "bool");
 *   - results are new arrays (never a write into an argument); views are allowed
 *     only where said (transpose, getitem);
 *   - scalars broadcast; arrays broadcast by numpy's rules;
 *   - on bad input a kernel fails with a message naming itself and the problem.
 *
 * Creation (create.c; one block each; every block is computed from its global position, so
 * the same array comes out whatever the chunking):
 *   arange(start, stop, step, dtype, first, count)   numpy's arange(start, stop, step)
 *                                                   from element first (default 0), count
 *                                                   elements (default: to its end); step
 *                                                   default 1, dtype default float64 (as
 *                                                   da.arange); a block gets the global
 *                                                   start and its first element, so it
 *                                                   agrees bit for bit with one arange
 *   linspace(start, step, n, dtype [, offset])      same values, float (the Lua layer
 *                                                   computes step from the global num)
 *   empty(shape, dtype)              uninitialised (dtype nil: float64): a result's
 *                                    memory, filled by into tasks
 *   full(shape, value, dtype)        ones/zeros are full with 1 / 0 (dtype nil: from
 *                                    value: boolean, integer or float)
 *   eye(shape, k, dtype)             ones where col - row == k (k is the block's offset)
 *   random(shape, seed, offset, global_shape)       uniform [0,1) float64: element at
 *                                                   global multi-index g gets a counter-
 *                                                   based draw from (seed, flat index of g)
 *                                                   (offset nil: zeros; global_shape nil:
 *                                                   shape). Philox4x32-10 (Salmon et al.,
 *                                                   SC'11) keyed by the 64-bit seed, counter
 *                                                   (flat index / 2, stream), one call for
 *                                                   two neighbours: the same numbers on
 *                                                   every machine and every chunking
 *   normal(shape, seed, offset, global_shape, loc, scale)   same scheme, Gaussian (the Box-Muller
 *                                                   pair of one call; loc/scale default 0/1)
 *
 * Elementwise (elementwise.c, over elementwise_ops.h and fused.h; numpy semantics,
 * broadcasting, result dtype by numpy's promotion restricted to our four dtypes;
 * comparisons give bool):
 *   add sub mul div mod pow neg  (the scalar kernels of kernel.h accept arrays too)
 *   exp log sqrt abs sin cos tanh maximum minimum where less less_equal greater
 *   greater_equal equal not_equal astype(x, dtype) floor_divide (Lua's //)
 *   numpy's other common ufuncs, under numpy's names (LASK_EWOPS_UFUNCS in
 *   elementwise_ops.h): log1p expm1 ... fmin fmax; round(x, decimals)
 *   fused(program, x1, x2, ...)      one pass over tiles of the inputs evaluating a
 *                                    whole elementwise expression (see
 *                                    lask_fused_kernel_new below); pow with a small
 *                                    integer exponent is repeated multiplication
 * Details: Lua numbers are "weak" as Python scalars are in numpy (float32 array
 * + 2.5 stays float32; int64 array + 2.5 is float64; bool array + 1 is int64);
 * arrays are strong, 0-d ones too, as in numpy 2 (float32 array + a 0-d float64
 * array is float64); bool computes as int64 where numpy would pick a smaller int
 * (mod, pow, floor_divide); unary math on ints and bools gives float64 (numpy: float16 for bool).
 * With no array among the arguments the result is a number or boolean, not an
 * array. Results are new C-contiguous arrays. Integer arithmetic wraps; integer
 * mod and floor_divide by zero give 0; bool sub/neg and negative integer powers are errors.
 * pow(x, n) with x an array (not 0-d) and n a Lua integer in [-16, 16] multiplies
 * (same dtype as pow; floats may differ from pow() in the last bit for |n| >= 3).
 *
 * Reductions (reduce.c; axes: list of 0-based axes; keepdims always true inside graphs):
 *   sum_chunk(x, axes) prod_chunk min_chunk max_chunk      partial results
 *   sum_agg(list, axes) prod_agg min_agg max_agg           combine partials (same shapes
 *                                                          but the axes)
 *   moment_chunk(x, axes)            array with a leading axis of 3: count, mean, M2
 *   moment_agg(list, axes)           combines them (Chan et al. pairwise update)
 *   mean_finish(m)  var_finish(m, ddof)  std_finish(m, ddof)
 *   argmin_chunk(x, axis, offset) argmax_chunk            leading axis of 2: value, index
 *   argmin_agg(list, axis) argmax_agg                     (global index by block offset)
 *   nanargmin_chunk nanargmax_chunk  as argmin_chunk, NaN never a candidate (argmin_agg
 *                                    combines them; an all-NaN lane fails arg_finish)
 *   arg_finish(m [, base])           the index part, int64, counted from base
 *                                    (default 0; lask.array passes 1); an empty
 *                                    block's arg partial has index -1 (no candidate)
 *   squeeze(x, axes)                 drops reduced axes at the end
 *
 * Scans (scan.c): cumsum(x, axis [, carry]) cumprod(x, axis [, carry])   the running
 *                                    sum / product along axis (bool as int64), after
 *                                    combining the first row with carry (the total of
 *                                    the blocks before; broadcasts to x with extent 1
 *                                    along axis)
 *
 * Order statistics (select.c; a lane is x along axis, whole):
 *   quantile(x, axis, qs, method, skipnan [, dtype])   quantiles qs (a number, or a list:
 *                                    a leading axis) of every lane, axis dropped (x an
 *                                    array, or a list of the blocks along axis); NaN
 *                                    in a lane gives NaN unless skipnan; method linear,
 *                                    lower, higher, nearest, midpoint or median
 *   topk(x, axis, k)                 the |k| largest (k > 0, decreasing) or smallest
 *                                    (k < 0, increasing) of every lane
 *   argtopk(x, axis, k, offset)      their positions + offset, int64
 *
 * Structure (structure.c):
 *   transpose(x, perm)               a view
 *   getitem(x, starts, stops, steps) a view (steps > 0)
 *   reshape(x, shape)                x's elements in C order under shape (one extent
 *                                    may be -1): a view (of a C-ordered copy when x is
 *                                    not C-contiguous)
 *   concatenate(list, axis)          stack(list, axis)
 *   copy(x)                          C-contiguous copy
 *   into(dest, offset, f, args...)   writes f(args...) into dest at offset (a list, one
 *                                    index per axis) and gives nil: a kernel with an
 *                                    into entry (kernel.h: fused kernels, qr_apply)
 *                                    writes straight into dest when the block is one
 *                                    contiguous run there; others are computed, then
 *                                    copied. How compute() assembles a result with no
 *                                    final copy
 *   item(list, i)                    element i (0-based) of a list (operator.getitem on
 *                                    a tuple)
 *   vstack(list)                     2-D arrays stacked by rows (float64)
 *   rows(a, start, stop)             the rows [start, stop) of a 2-D a (a view)
 *
 * Matrix products (matmul.c):
 *   matmul(a, b)                     numpy's a @ b for 1-D and 2-D operands: dgemm
 *                                    (sgemm for float32 @ float32, as numpy; int64
 *                                    exactly for integers); blocks summed with sum_agg
 *   matmul_sum(as, bs)               as[1] @ bs[1] + as[2] @ bs[2] + ..., accumulated
 *                                    in place by BLAS
 *
 * Indexing (indexing.c; lask.array's x[...] and the functions of unknown result size):
 *   compress(x, mask [, axis])       x[mask] (1-D, C order) or the items along axis where
 *                                    a 1-D mask is true
 *   take(blocks, offsets, idx, axis, extent [, base])   the items at positions idx of
 *                                    the blocks joined along axis (negative from the end)
 *   reverse(x, axes)                 a view, reversed along axes
 *   insert_axes(x, positions)        a view with new axes of extent 1
 *   setitem(x, starts, stops, steps, v)   a copy of x with v written into the region
 *   argwhere(x [, offsets, base])    (count, ndim) int64 positions of non-zero elements
 *   unique(parts [, counts])         sorted distinct values (NaNs as one), or the list
 *                                    {values, counts}; parts may be earlier results
 *   block_shape(x)                   x's shape as an int64 array
 * Shape and counting (shape.c):
 *   broadcast_to(x, shape)           x broadcast to shape: a C-contiguous copy
 *   bincount(x, minlength [, w])     counts of 0..minlength-1 in an int64/bool x (int64;
 *                                    float64 sums of w); a value outside is an error
 *   histogram(x, edges [, w])        counts per bin (numpy's: the last bin closed; NaN
 *                                    and values outside not counted); int64, or float64 with w
 *   solve_triangular(a, b, lower [, trans [, unit]])   op(a) x = b for one triangular
 *                                    block (dtrsm), float64; a zero diagonal is an error
 *
 * .npy files (npy_io.c):
 *   from_npy(path, offset, shape)    a block of a .npy file as a read-only view of a
 *                                    memory mapping (offset and shape nil: the whole
 *                                    array)
 *   store_block(path, x, offset, global_shape)   writes x into an existing .npy file at
 *                                    its global offset (the Lua layer writes the header
 *                                    first with npy_create); returns true
 *   npy_create(path, global_shape, dtype)        creates the file (header + size)
 *   npy_save(path, x)                writes x whole to path (replacing it); returns true
 */
#ifndef LASK_ARRAY_KERNELS_H
#define LASK_ARRAY_KERNELS_H

#include "core/kernel.h"
#include "ndarray.h"

/* The kernel groups, each in the file of its family (create.c, elementwise.c,
 * reduce.c, structure.c, matmul.c, npy_io.c, linalg.c, range_finder.c, shape.c, cholqr.c): the i-th
 * kernel of the group (0-based), or NULL past its last. The registry
 * (array_kernels.c) walks them in this order; it knows them only by these names, so
 * every family file stands above this one. */
const lask_kernel *lask_akernels_create(int i);
const lask_kernel *lask_akernels_elementwise(int i);
const lask_kernel *lask_akernels_reduce(int i);
const lask_kernel *lask_akernels_structure(int i);
const lask_kernel *lask_akernels_matmul(int i);
const lask_kernel *lask_akernels_npy_io(int i);
const lask_kernel *lask_akernels_linalg(int i);
const lask_kernel *lask_akernels_range(int i);
const lask_kernel *lask_akernels_scan(int i);
const lask_kernel *lask_akernels_select(int i);
const lask_kernel *lask_akernels_indexing(int i);
const lask_kernel *lask_akernels_shape(int i);
const lask_kernel *lask_akernels_cholqr(int i);

/* Defines the group function name over the static kernel array table. */
#define LASK_AKERNEL_GROUP(name, table)                                                                      \
  const lask_kernel *name(int i) {                                                                           \
    return i >= 0 && i < (int)(sizeof table / sizeof table[0]) ? &table[i] : NULL;                           \
  }

/* The dtype of matmul's result for operands of dtypes a and b: float32 when both are,
 * float64 when one is a float, else int64 (booleans are summed as integers). */
lask_dtype lask_matmul_dtype(lask_dtype a, lask_dtype b);

/* The array kernel called name, or NULL. */
const lask_kernel *lask_akernel_find(const char *name);

/* The i-th array kernel (0-based), or NULL past the last: to list them all. */
const lask_kernel *lask_akernel_at(int i);

/* Argument helpers for kernels (each fails with a message naming kernel k and the
 * 1-based argument position i + 1, and returns the status):
 *   shape: a list of integers >= 0 (or one integer for a 1-d shape);
 *   int: an integer (or a float with an integral value);
 *   number: an integer or a float;
 *   dtype: a dtype name, or nil for dflt. */
lask_status lask_akernel_arg_shape(const lask_kernel *k, const lask_value *args, int i, int *ndim,
                                   int64_t *shape, lask_err *err);
lask_status lask_akernel_arg_int(const lask_kernel *k, const lask_value *args, int i, int64_t *out,
                                 lask_err *err);
lask_status lask_akernel_arg_number(const lask_kernel *k, const lask_value *args, int i, double *out,
                                    lask_err *err);
lask_status lask_akernel_arg_dtype(const lask_kernel *k, const lask_value *args, int i, lask_dtype dflt,
                                   lask_dtype *out, lask_err *err);

/* Fails when nargs is not in [lo, hi], with a message naming k. */
lask_status lask_akernel_nargs(const lask_kernel *k, int nargs, int lo, int hi, lask_err *err);

/* Fills err with "<kernel name>: <message>" and returns code. */
lask_status lask_akernel_fail(const lask_kernel *k, lask_status code, lask_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Re-labels an error filled by an engine call with k's name ("<kernel name>: <message>"),
 * unless the message already starts with it. */
lask_status lask_akernel_relabel(const lask_kernel *k, lask_err *err);

/* v as a list of exactly want integers in out[0..want) (nil, or a Lua value that is
 * not a list, counts as an empty list: a Lua {} cannot become a list); what names v
 * in the message. */
lask_status lask_akernel_arg_ints(const lask_kernel *k, lask_value v, int want, int64_t *out,
                                  const char *what, lask_err *err);

/* Argument i as an array in *a (borrowed), or a type error naming it. */
lask_status lask_akernel_array(const lask_kernel *k, const lask_value *args, int i, lask_ndarray **a,
                               lask_err *err);

/* Argument i as a non-empty list of arrays in *out (borrowed), or an error naming
 * the argument or the first item that is not an array. */
lask_status lask_akernel_arg_arrays(const lask_kernel *k, const lask_value *args, int i,
                                    const lask_list **out, lask_err *err);

/* True when v is an integer, or a float with an integral value, stored in *out. */
bool lask_akernel_as_int(lask_value v, int64_t *out);

/* A 1-D or 2-D operand as BLAS takes it: a (x itself, or its copy when owned), its
 * rows and columns, leading dimension ld in elements, and whether it is stored
 * transposed (Fortran order). */
typedef struct lask_akernel_mat {
  const lask_ndarray *a;
  bool owned, trans;
  int64_t rows, cols, ld;
} lask_akernel_mat;

/* Views x (1-D as a row when left, a column otherwise) as a matrix of dtype dt in
 * *m: in place when its rows or its columns are contiguous, else a C-ordered copy
 * (released by lask_akernel_mat_free). */
lask_status lask_akernel_mat_init(const lask_kernel *k, lask_ndarray *x, bool left, lask_dtype dt,
                                  lask_akernel_mat *m, lask_err *err);

/* Releases m's copy, if it made one. */
void lask_akernel_mat_free(lask_akernel_mat *m);

/* Gives a new kernel evaluating an elementwise expression over its arguments in
 * cache-sized tiles with no full-size temporaries. program is a postfix string of
 * space-separated tokens: "$1".."$32" (argument i), numbers ("2" is an integer,
 * "2.0" or "1e-3" a float, both weak), "true"/"false", operator names (add sub mul
 * div mod floor_divide pow neg exp log sqrt abs sin cos tanh maximum minimum
 * where less less_equal greater greater_equal equal not_equal), "powi:N" for an integer
 * power by multiplication and "astype:D" for a cast to dtype D; e.g. "(2*x+1)^3"
 * is "2 $1 mul 1 add powi:3". The kernel takes exactly as many arguments as the
 * highest $i, types them per call like the elementwise kernels, and prints as
 * "fused(<program>)". Programs stay within fused.h's limits (LASK_FUSED_MAX_*:
 * tokens, arguments, stack depth, token length). NULL with err
 * filled (naming the bad token) when the program is malformed. */
lask_kernel *lask_fused_kernel_new(const char *program, lask_err *err);

#endif
