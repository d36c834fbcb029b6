/* npy.h — numpy's .npy files: read, write, memory-map, and write by blocks.
 *
 * Format versions 1.0 and 2.0 (and 3.0, read as 2.0) are read; files are written as
 * 1.0, or 2.0 when the header does not fit 1.0's 64 KiB. Dtypes: float64 ('<f8'),
 * float32 ('<f4'), int64 ('<i8') and bool ('|b1'), little-endian; C or Fortran
 * order. Every failure names the file and the cause ("load: x.npy: truncated: ...").
 * Only regular files are read: a FIFO, a directory or a device is refused at once
 * ("not a regular file (a FIFO)") rather than waited on or misread.
 *
 * Writing goes to a temporary file in the same directory that is renamed over the
 * target at the end, so a failed save leaves nothing behind (and never a half
 * file). Until it is complete, the temporary's version byte says "unfinished", so
 * even the temporary of a process killed midway never reads as an array. Block writes (lask_npy_write_block)
 * go into a file lask_npy_create made, at an offset: several threads or processes may write disjoint blocks
 * at once.
 */
#ifndef LASK_NPY_H
#define LASK_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "ndarray.h"

/* What a .npy header says. */
typedef struct lask_npy_header {
  int major, minor; /* format version */
  lask_dtype dtype;
  bool fortran_order;
  int ndim;
  int64_t shape[LASK_MAXDIM];
  size_t data_offset; /* bytes before the first element */
  size_t file_size;
} lask_npy_header;

/* Reads and checks the header of path (including that the file holds all the data
 * it announces). Fails with LASK_EINVAL and a message naming path. */
lask_status lask_npy_read_header(const char *path, lask_npy_header *h, lask_err *err);

/* Gives the array stored in path. With map, the array is a read-only view of a
 * private memory mapping of the file (its buffer unmaps when the last view goes;
 * as with numpy's memmap, truncating the file while it lives kills the process
 * with SIGBUS at the next read of a lost page);
 * without, a copy in memory. The array has the file's layout (Fortran order gives
 * Fortran strides). NULL with err filled on failure. */
lask_ndarray *lask_npy_load(const char *path, bool map, lask_err *err);

/* Gives the array stored in path as a writable view of a shared memory mapping of
 * the file (numpy's mmap_mode "r+"): writes into it reach the file, from any thread
 * or forked process holding it. Same SIGBUS caveat as lask_npy_load's map. An
 * array of no elements is read instead. NULL with err filled on failure (the file
 * not writable, its data not aligned). */
lask_ndarray *lask_npy_map_writable(const char *path, lask_err *err);

/* Gives the block of path at offset[0..ndim) with shape[0..ndim) (ndim must be the
 * file's), read into memory (not mapped: a mapping of a file truncated by another
 * process meanwhile faults with SIGBUS, and blocks live long). NULL with err
 * filled when the block does not fit the file. */
lask_ndarray *lask_npy_load_block(const char *path, int ndim, const int64_t *offset, const int64_t *shape,
                                  lask_err *err);

/* Writes a to path (replacing it) in format version 1.0 (2.0 if the header needs it):
 * Fortran order when a is Fortran-contiguous and not C-contiguous, C order
 * otherwise. On failure nothing is left at path's temporary, and path is untouched. */
lask_status lask_npy_save(const char *path, const lask_ndarray *a, lask_err *err);

/* As lask_npy_save with the format version chosen: major 1 or 2 (0: automatic). */
lask_status lask_npy_save_version(const char *path, const lask_ndarray *a, int major, lask_err *err);

/* Creates path (replacing it) as a C-order .npy file of dtype and shape whose data
 * are all zero (a sparse file: no data written), ready for lask_npy_write_block. */
lask_status lask_npy_create(const char *path, lask_dtype dt, int ndim, const int64_t *shape, lask_err *err);

/* Writes block into the existing .npy file path with its element 0 at the global
 * index offset[0..block->ndim) (the file's ndim), converting to the file's dtype.
 * Fails when the block does not fit the file. Only the block's bytes are written. */
lask_status lask_npy_write_block(const char *path, const lask_ndarray *block, const int64_t *offset,
                                 lask_err *err);

/* Completes a file that lask_npy_create made and blocks filled, at tmp: makes it
 * readable (until then readers refuse it as "an unfinished file") and renames it
 * over path; on failure tmp is removed. */
lask_status lask_npy_finish(const char *tmp, const char *path, lask_err *err);

/* Removes the unfinished temporaries of earlier stores and saves of path (named
 * "<path>.tmp-<lask's suffix>" and still marked unfinished): what a killed store
 * left. Gives how many it removed. */
int lask_npy_clean_stale(const char *path);

#endif
