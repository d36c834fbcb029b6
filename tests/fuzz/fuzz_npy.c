/* fuzz_npy.c — libFuzzer target for the .npy reader (engine/array/npy.c): the input
 * is a file's bytes; every reader must give an array or an error, never crash or
 * touch memory it does not own (ASan+UBSan). The arrays given are read to the end,
 * so that a mapping that reaches past the file would fault here. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "array/npy.h"

/* Reads every element of a (as bytes): a bad view or mapping faults here. */
static void touch(const lask_ndarray *a) {
  volatile unsigned char sink = 0;
  int64_t n = lask_ndarray_size(a), idx[LASK_MAXDIM] = {0};
  size_t size = lask_dtype_size(a->dtype);
  for (int64_t k = 0; k < n && k < (1 << 16); k++) {
    const unsigned char *p = (const unsigned char *)lask_ndarray_ptr(a, idx);
    for (size_t b = 0; b < size; b++) sink ^= p[b];
    for (int d = a->ndim - 1; d >= 0 && ++idx[d] == a->shape[d]; d--) idx[d] = 0;
  }
  (void)sink;
}

static void load_and_release(lask_ndarray *a) {
  if (!a) return;
  touch(a);
  lask_release(lask_ndarray_value(a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("fuzz.npy", 0);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) return 0;
  lask_err err;
  lask_npy_header h;
  if (lask_npy_read_header(path, &h, &err) != LASK_OK) return 0;
  load_and_release(lask_npy_load(path, false, &err));
  load_and_release(lask_npy_load(path, true, &err));
  int64_t offset[LASK_MAXDIM] = {0}, shape[LASK_MAXDIM];
  for (int d = 0; d < h.ndim; d++) { /* the last half of every axis */
    offset[d] = h.shape[d] / 2;
    shape[d] = h.shape[d] - offset[d];
  }
  load_and_release(lask_npy_load_block(path, h.ndim, offset, shape, &err));
  return 0;
}
