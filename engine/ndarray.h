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

#include "err.h"
#include "value.h"

#define LASK_MAXDIM 16

typedef enum lask_dtype { LASK_F64, LASK_F32, LASK_I64, LASK_BOOL } lask_dtype;

typedef struct lask_buffer {
  lask_obj h; /* class: lask_buffer_class; h.cls->destroy frees data through release */
  void *data;
  size_t nbytes;
  void (*release)(struct lask_buffer *b); /* frees data (not b); NULL for malloc'd data */
  void *ctx;                              /* for release: a mapping's length, a shm name, ... */
} lask_buffer;

typedef struct lask_ndarray {
  lask_obj h; /* class: lask_ndarray_class */
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

/* Gives a buffer of nbytes from malloc (uninitialised); NULL when out of memory. */
lask_buffer *lask_buffer_new(size_t nbytes);

/* Gives a buffer over data the caller made, freed by release(b) when the last view
 * goes (release may be NULL: data then is not freed). NULL when out of memory. */
lask_buffer *lask_buffer_wrap(void *data, size_t nbytes, void (*release)(lask_buffer *), void *ctx);

/* Gives a new C-contiguous array of dtype and shape (ndim <= LASK_MAXDIM), zeroed;
 * NULL with err filled on failure (too many dims, negative extent, out of memory). */
lask_ndarray *lask_ndarray_new(lask_dtype dt, int ndim, const int64_t *shape, lask_err *err);

/* Gives a new view of buf (retained) with the given layout; no check of bounds
 * beyond what err reports (the layout must stay inside buf). */
lask_ndarray *lask_ndarray_view(lask_buffer *buf, char *data, lask_dtype dt, int ndim, const int64_t *shape,
                                const int64_t *strides, lask_err *err);

/* Number of elements (the product of the shape; 1 for a 0-d array). */
int64_t lask_ndarray_size(const lask_ndarray *a);

/* True when a's elements are laid out in C order with no gaps. */
bool lask_ndarray_is_c_contiguous(const lask_ndarray *a);

/* The array as a value (takes over the caller's reference). */
static inline lask_value lask_ndarray_value(lask_ndarray *a) { return lask_objval(&a->h); }

/* The array inside v, or NULL when v is not an array. Borrowed. */
static inline lask_ndarray *lask_ndarray_of(lask_value v) {
  return lask_isa(v, &lask_ndarray_class) ? (lask_ndarray *)v.as.o : NULL;
}

#endif
