/* ndarray.h — in-memory strided arrays: a refcounted buffer and a view on it.
 *
 * As in Torch7's TH: storage (lask_buffer: bytes, refcounted, freed by whoever
 * made them: malloc, mmap of a .npy file, shared memory) is apart from the view
 * (lask_ndarray: dtype, shape, strides in bytes, data pointer into the buffer).
 * Transposes and slices are new views on the same buffer: no copy. Both are
 * engine objects (value.h), so arrays travel through graphs like any value.
 * An array value is immutable once a task has returned it: kernels always write
 * into arrays they made.
 */
#ifndef LASK_NDARRAY_H
#define LASK_NDARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/api.h"
#include "../core/err.h"
#include "../core/value.h"

LASK_BEGIN_DECLS

#define LASK_MAXDIM 16

typedef enum lask_dtype { LASK_F64, LASK_F32, LASK_I64, LASK_BOOL } lask_dtype;

typedef struct lask_buffer {
  lask_obj h; /* class: lask_buffer_class; h.cls->destroy frees data through release */
  void *data;
  size_t nbytes;
  void (*release)(struct lask_buffer *b); /* frees data (not b); NULL for malloc'd data */
  void *ctx;                              /* for release: a mapping's length, a shm name, ... */
  bool stable; /* nothing writes data once the arrays over it are made (lask_buffer_new's buffers, shared
                  memory from another process): a pending lask.ndarray expression may read it later
                  (ewexpr.h). False for lask_buffer_wrap's (a file mapping, a host's memory) unless its
                  maker sets it; a host that writes into an array after giving it to Lua clears it */
} lask_buffer;

typedef struct lask_ndarray {
  lask_obj h;       /* class: lask_ndarray_class */
  lask_buffer *buf; /* retained by the view */
  char *data;       /* address of element (0, ..., 0) inside buf */
  lask_dtype dtype;
  int ndim;
  int64_t shape[LASK_MAXDIM];
  int64_t strides[LASK_MAXDIM]; /* in bytes; may be negative or 0 (broadcast) */
} lask_ndarray;

extern const lask_class lask_buffer_class;
extern const lask_class lask_ndarray_class;

/* Bytes of one element of dtype. */
size_t lask_dtype_size(lask_dtype dt);

/* numpy's name of dtype: "float64", "float32", "int64", "bool" (static storage). */
const char *lask_dtype_name(lask_dtype dt);

/* Parses a numpy dtype name ("float64", "f8", "<f8", "int64", "i8", "bool", ...);
 * returns 0 when unknown. */
int lask_dtype_parse(const char *name, lask_dtype *out);

/* Gives a buffer of nbytes (uninitialised; from malloc, or for big buffers an
 * anonymous mapping, possibly one a freed buffer left in a small reuse cache);
 * NULL when out of memory. */
lask_buffer *lask_buffer_new(size_t nbytes);

/* Unmaps the big buffers kept for reuse (see ndarray.c); any thread. */
void lask_buffer_cache_trim(void);

/* What the reuse cache of big buffers holds (bytes in buffers), its hard limit, its
 * idle floor, what it may hold now (bound) and the bytes of big buffers alive. */
typedef struct lask_buffer_cache_stats {
  size_t bytes, buffers, limit, floor, bound, live;
} lask_buffer_cache_stats;

/* Sets the cache's hard limit and idle floor in bytes (SIZE_MAX: keep it; a limit
 * of 0 turns the cache off), unmapping what exceeds the bound at once, and fills
 * *st (if not NULL); any thread. */
void lask_buffer_cache_config(size_t new_limit, size_t new_floor, lask_buffer_cache_stats *st);

/* Brackets a get: while one runs the cache may hold as much as the live big
 * buffers; when the last ends a grace period starts, after which it is trimmed down
 * to its floor. Any thread; each begin needs one end. */
void lask_buffer_cache_run_begin(void);
void lask_buffer_cache_run_end(void);

/* Sets the grace period in ms when new_ms >= 0 (0: trim as soon as the last get
 * ends or a result is dropped) and gives the current one; any thread. */
long lask_buffer_cache_grace(long new_ms);

/* Gives a buffer over data the caller made, freed by release(b) when the last view
 * goes (release may be NULL: data then is not freed). NULL when out of memory. */
lask_buffer *lask_buffer_wrap(void *data, size_t nbytes, void (*release)(lask_buffer *), void *ctx);

/* Gives a new C-contiguous array of dtype and shape (ndim <= LASK_MAXDIM), zeroed;
 * NULL with err filled on failure (too many dims, negative extent, out of memory). */
lask_ndarray *lask_ndarray_new(lask_dtype dt, int ndim, const int64_t *shape, lask_err *err);

/* Gives a new view of buf (retained) with the given layout (byte strides). NULL
 * with err filled when the layout is invalid or reaches outside buf. */
lask_ndarray *lask_ndarray_view(lask_buffer *buf, char *data, lask_dtype dt, int ndim, const int64_t *shape,
                                const int64_t *strides, lask_err *err);

/* Where an array of dtype dt and shape (ndim, shape) would sit in dest at offset
 * (one index per axis): its first element, or NULL unless that region lies inside
 * dest, dest has dtype dt, and the region is one contiguous run in C order. */
char *lask_ndarray_run_at(const lask_ndarray *dest, const int64_t *offset, lask_dtype dt, int ndim,
                          const int64_t *shape);

/* Number of elements (the product of the shape; 1 for a 0-d array). */
int64_t lask_ndarray_size(const lask_ndarray *a);

/* True when a's elements are laid out in C order with no gaps. */
bool lask_ndarray_is_c_contiguous(const lask_ndarray *a);

/* Gives a new C-contiguous array of dtype and shape whose elements are NOT
 * initialised (for kernels that write every element); errors as lask_ndarray_new.
 * Large arrays are anonymous mappings, reused from freed ones when possible
 * (ndarray.c says why; LASK_HUGEPAGES=1 asks for transparent huge pages). */
lask_ndarray *lask_ndarray_empty(lask_dtype dt, int ndim, const int64_t *shape, lask_err *err);

/* True when a's elements are laid out in Fortran order with no gaps. */
bool lask_ndarray_is_f_contiguous(const lask_ndarray *a);

/* Fills strides[0..ndim) with the byte strides of a C-contiguous array (of a
 * zero-size array too, whatever its other extents: no product overflows). */
void lask_strides_c(int ndim, const int64_t *shape, size_t itemsize, int64_t *strides);

/* The stride of the next outer axis, stride × extent; stride itself when the extent
 * is 0 or the product overflows (only a zero-size array gets there). */
int64_t lask_stride_step(int64_t stride, int64_t extent);

/* The number of elements of shape, or -1 when an extent is negative or the size in
 * bytes (times itemsize, at least 1) would overflow int64. */
int64_t lask_shape_size(int ndim, const int64_t *shape, size_t itemsize);

/* Address of the element at index[0..ndim) (0-based, unchecked). */
static inline char *lask_ndarray_ptr(const lask_ndarray *a, const int64_t *index) {
  char *p = a->data;
  for (int d = 0; d < a->ndim; d++) p += index[d] * a->strides[d];
  return p;
}

/* The element at p (of dtype dt) as a double / an int64 (floats truncated toward zero,
 * NaN and out-of-range give INT64_MIN as numpy does) / a bool (nonzero). */
double lask_elem_f64(lask_dtype dt, const void *p);
int64_t lask_elem_i64(lask_dtype dt, const void *p);

/* Gives a new C-contiguous copy of a converted to dt (numpy's astype rules); NULL
 * with err filled when out of memory. */
lask_ndarray *lask_ndarray_copy(const lask_ndarray *a, lask_dtype dt, lask_err *err);

/* Gives a new view of a with the shape broadcast to ndim/shape by numpy's rules
 * (stride 0 along broadcast axes; the same buffer, no copy). NULL with err filled
 * when a's shape does not broadcast to shape. */
lask_ndarray *lask_ndarray_broadcast_to(lask_ndarray *a, int ndim, const int64_t *shape, lask_err *err);

/* The byte strides a would have broadcast to ndim/shape (0 along broadcast axes);
 * false when a's shape does not broadcast to it. */
bool lask_broadcast_strides(const lask_ndarray *a, int ndim, const int64_t *shape, int64_t *strides);

/* Broadcasts n shapes together by numpy's rules into *ndim_out/shape_out; what
 * names the caller in the message ("add: ..."). Fails with LASK_EINVAL naming the
 * shapes when they do not broadcast. */
lask_status lask_broadcast_shapes(int n, const int *ndims, const int64_t *const *shapes, int *ndim_out,
                                  int64_t *shape_out, const char *what, lask_err *err);

/* numpy's result_type of two of our dtypes (bool < int64 < float32 < float64, except
 * that int64 with float32 gives float64). */
lask_dtype lask_dtype_promote(lask_dtype a, lask_dtype b);

/* Converts n elements from src (dtype from, stride src_stride bytes) to dst (dtype to,
 * stride dst_stride bytes) by numpy's casting rules: float to int truncates (NaN and
 * out-of-range give INT64_MIN), anything to bool is "nonzero". The one conversion
 * routine, written once for every pair of dtypes. */
void lask_convert(lask_dtype to, void *dst, int64_t dst_stride, lask_dtype from, const void *src,
                  int64_t src_stride, int64_t n);

/* Writes "(2, 3)" (numpy's tuple form, "(5,)" for one axis) into buf; returns buf. */
char *lask_shape_str(int ndim, const int64_t *shape, char *buf, size_t size);

/* --- iteration over several arrays at once ---
 *
 * lask_iter visits the elements of up to LASK_ITER_MAXOPS operands of one common
 * shape (each with its own byte strides: broadcast operands have stride 0) in C
 * order, handing the caller one "inner run" at a time: it.inner elements, operand k
 * starting at it.ptr[k] and stepping it.stride[k] bytes. The caller's loop over a run
 * is the only per-dtype code; the shape never reaches it:
 *
 *     lask_iter it;
 *     if (lask_iter_init(&it, 2, a->ndim, a->shape, (char *[]){out->data, a->data},
 *                        (const int64_t *[]){out->strides, a->strides}))
 *       do run(it.inner, it.ptr, it.stride); while (lask_iter_next(&it));
 */
#define LASK_ITER_MAXOPS 8

typedef struct lask_iter {
  int nops, ndim;                                 /* ndim after merging dimensions (>= 1) */
  int64_t inner;                                  /* elements in each inner run */
  char *ptr[LASK_ITER_MAXOPS];                    /* where the current run starts, per operand */
  int64_t stride[LASK_ITER_MAXOPS];               /* byte step inside a run, per operand */
  int64_t shape[LASK_MAXDIM];                     /* merged outer shape; shape[ndim-1] == inner */
  int64_t index[LASK_MAXDIM];                     /* odometer over the outer dimensions */
  int64_t strides[LASK_ITER_MAXOPS][LASK_MAXDIM]; /* merged byte strides, per operand */
} lask_iter;

/* Prepares it over nops (1..LASK_ITER_MAXOPS) operands of shape shape[0..ndim);
 * data[k] and strides[k] describe operand k. Returns false when there is nothing to
 * visit (some extent is 0), true with it positioned on the first run otherwise. A
 * 0-d shape is one run of one element. */
bool lask_iter_init(lask_iter *it, int nops, int ndim, const int64_t *shape, char *const *data,
                    const int64_t *const *strides);

/* Moves it to the next run; false after the last. */
bool lask_iter_next(lask_iter *it);

/* A cursor reads the elements of a strided layout in C order, n at a time, in any
 * dtype: the sequential reader on top of lask_iter (for gathering tiles, or the
 * runs of a file). Reads must not go past the last element. */
typedef struct lask_cursor {
  lask_iter it;
  lask_dtype dtype; /* of the layout's elements */
  int64_t pos;      /* elements of the current run already read */
} lask_cursor;

/* Positions c on the first element of the layout (dtype, data, ndim, shape, strides). */
void lask_cursor_init(lask_cursor *c, lask_dtype dt, char *data, int ndim, const int64_t *shape,
                      const int64_t *strides);

/* Copies the next n elements into dst (contiguous, dtype dt), converting. */
void lask_cursor_read(lask_cursor *c, lask_dtype dt, void *dst, int64_t n);

/* The array as a value (takes over the caller's reference). */
static inline lask_value lask_ndarray_value(lask_ndarray *a) { return lask_objval(&a->h); }

/* The array inside v, or NULL when v is not an array. Borrowed. */
static inline lask_ndarray *lask_ndarray_of(lask_value v) {
  return lask_isa(v, &lask_ndarray_class) ? (lask_ndarray *)v.as.o : NULL;
}

LASK_END_DECLS

#endif
