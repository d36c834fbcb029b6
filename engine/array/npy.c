/* npy.c — numpy's .npy format (see npy.h; the format is numpy's NEP 1 and
 * numpy/lib/format.py): a magic string, a version, a little-endian header length, a
 * Python dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces to a multiple of 64 bytes and ending in '\n', then the data.
 *
 * Reading and writing blocks both come down to "runs": the stretches of a block
 * that are contiguous in the file. Axes are taken in the file's order (reversed for
 * Fortran order), trailing axes the block spans entirely merge into one run, and
 * every run is one pread/pwrite (or, for mappings, one view with the file's strides).
 */
#include "npy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

#define MAX_HEADER (1 << 20) /* larger headers are malformed, not merely big */
#define IO_CHUNK   (1 << 20) /* bytes per gathered write */

/* Fills err with "what: path: detail"; returns LASK_EINVAL. */
static lask_status fail(lask_err *err, const char *what, const char *path, const char *detail) {
  return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: %s: %s", what, path, detail);
}

static lask_status fail_errno(lask_err *err, const char *what, const char *path) {
  return fail(err, what, path, strerror(errno));
}

/* --- reading the header --- */

typedef struct scan {
  const char *s, *end;
} scan;

static void skip_ws(scan *sc) {
  while (sc->s < sc->end && (*sc->s == ' ' || *sc->s == '\t' || *sc->s == '\n')) sc->s++;
}

static bool accept(scan *sc, char c) {
  skip_ws(sc);
  if (sc->s < sc->end && *sc->s == c) return sc->s++, true;
  return false;
}

/* A quoted Python string without escapes, into buf. */
static bool scan_string(scan *sc, char *buf, size_t size) {
  skip_ws(sc);
  if (sc->s >= sc->end || (*sc->s != '\'' && *sc->s != '"')) return false;
  char q = *sc->s++;
  size_t n = 0;
  while (sc->s < sc->end && *sc->s != q && n + 1 < size) buf[n++] = *sc->s++;
  buf[n] = '\0';
  return sc->s < sc->end && *sc->s++ == q;
}

static bool scan_word(scan *sc, const char *w) {
  skip_ws(sc);
  size_t n = strlen(w);
  if ((size_t)(sc->end - sc->s) < n || memcmp(sc->s, w, n) != 0) return false;
  sc->s += n;
  return true;
}

/* A shape tuple: (), (3,), (3, 4) — integers, Python 2's 'L' suffix allowed. */
static bool scan_shape(scan *sc, lask_npy_header *h) {
  if (!accept(sc, '(')) return false;
  h->ndim = 0;
  while (!accept(sc, ')')) {
    skip_ws(sc);
    if (h->ndim == LASK_MAXDIM || sc->s >= sc->end || *sc->s < '0' || *sc->s > '9') return false;
    int64_t v = 0;
    while (sc->s < sc->end && *sc->s >= '0' && *sc->s <= '9') {
      if (v > (INT64_MAX - 9) / 10) return false;
      v = v * 10 + (*sc->s++ - '0');
    }
    if (sc->s < sc->end && *sc->s == 'L') sc->s++;
    h->shape[h->ndim++] = v;
    if (!accept(sc, ',') && !(skip_ws(sc), sc->s < sc->end && *sc->s == ')')) return false;
  }
  return true;
}

/* Maps a descr to our dtype; fills why when it is not one of ours. */
static bool descr_dtype(const char *descr, lask_dtype *dt, char *why, size_t size) {
  static const struct {
    const char *descr;
    lask_dtype dt;
  } known[] = {{"<f8", LASK_F64},  {"<f4", LASK_F32},  {"<i8", LASK_I64}, {"|b1", LASK_BOOL},
               {"<b1", LASK_BOOL}, {">b1", LASK_BOOL}, {"|?", LASK_BOOL}};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(descr, known[i].descr) == 0) return *dt = known[i].dt, true;
  if (descr[0] == '>')
    snprintf(why, size, "big-endian dtype '%s' is not supported (lask reads little-endian files)", descr);
  else
    snprintf(why, size, "dtype '%s' is not supported (lask reads float64, float32, int64 and bool)", descr);
  return false;
}

/* Parses the header dict text[0..len) into h; fills why on failure. */
static bool parse_dict(const char *text, size_t len, lask_npy_header *h, char *why, size_t size) {
  scan sc = {text, text + len};
  char key[32], descr[64];
  bool have_descr = false, have_order = false, have_shape = false;
  snprintf(why, size, "malformed header");
  if (!accept(&sc, '{')) return false;
  while (!accept(&sc, '}')) {
    if (!scan_string(&sc, key, sizeof key) || !accept(&sc, ':')) return false;
    if (strcmp(key, "descr") == 0) {
      skip_ws(&sc);
      if (sc.s < sc.end && *sc.s == '[')
        return snprintf(why, size, "structured dtypes are not supported"), false;
      if (!scan_string(&sc, descr, sizeof descr)) return false;
      have_descr = true;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (scan_word(&sc, "True"))
        h->fortran_order = true;
      else if (scan_word(&sc, "False"))
        h->fortran_order = false;
      else
        return false;
      have_order = true;
    } else if (strcmp(key, "shape") == 0) {
      if (!scan_shape(&sc, h)) return snprintf(why, size, "malformed shape in header"), false;
      have_shape = true;
    } else {
      return snprintf(why, size, "unknown header key '%s'", key), false;
    }
    if (!accept(&sc, ',')) {
      if (!accept(&sc, '}')) return false;
      break;
    }
  }
  if (!have_descr || !have_order || !have_shape)
    return snprintf(why, size, "header lacks '%s'",
                    !have_descr   ? "descr"
                    : !have_order ? "fortran_order"
                                  : "shape"),
           false;
  return descr_dtype(descr, &h->dtype, why, size);
}

/* Reads exactly n bytes at off; false on error or end of file (errno 0 then). */
static bool read_at(int fd, void *buf, size_t n, off_t off) {
  for (size_t done = 0; done < n;) {
    ssize_t r = pread(fd, (char *)buf + done, n - done, off + (off_t)done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r == 0) errno = 0;
      return false;
    }
    done += (size_t)r;
  }
  return true;
}

/* Bytes of data the header announces, or -1 on overflow (ndarray.c's rule, extents
 * of 0 aside: a header of (12875941756269202, 0, 111, 4) overflowed the strides). */
static int64_t data_bytes(const lask_npy_header *h) {
  int64_t n = lask_shape_size(h->ndim, h->shape, lask_dtype_size(h->dtype));
  return n < 0 ? -1 : n * (int64_t)lask_dtype_size(h->dtype);
}

/* Files being written carry version byte 0 and their real major version in the
 * minor byte until they are complete (PENDING): a store killed midway leaves a
 * file no reader takes for data, not an array of zeros. Only store_block, which
 * fills such a file, reads one (pending_ok). */
#define PENDING 0

static lask_status read_header_fd(int fd, const char *what, const char *path, lask_npy_header *h,
                                  bool pending_ok, lask_err *err) {
  struct stat st;
  unsigned char pre[12];
  char why[160];
  if (fstat(fd, &st) != 0) return fail_errno(err, what, path);
  h->file_size = (size_t)st.st_size;
  if (st.st_size < 10 || !read_at(fd, pre, 10, 0) || memcmp(pre, magic, 6) != 0)
    return fail(err, what, path,
                st.st_size < 10 ? "truncated: too short for a .npy header"
                                : "not a .npy file (bad magic string)");
  h->major = pre[6], h->minor = pre[7];
  if (h->major == PENDING && !pending_ok)
    return fail(err, what, path, "an unfinished file (a store or save that did not complete)");
  if (h->major == PENDING) h->major = h->minor, h->minor = 0;
  if (h->major < 1 || h->major > 3) {
    snprintf(why, sizeof why, "unsupported format version %d.%d", h->major, h->minor);
    return fail(err, what, path, why);
  }
  size_t lenbytes = h->major == 1 ? 2 : 4, hlen;
  if (lenbytes == 4 && !read_at(fd, pre + 10, 2, 10)) return fail(err, what, path, "truncated header");
  hlen = lenbytes == 2 ? (size_t)pre[8] | (size_t)pre[9] << 8
                       : (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
  h->data_offset = 8 + lenbytes + hlen;
  if (hlen > MAX_HEADER) return fail(err, what, path, "malformed header (length over 1 MiB)");
  if (h->data_offset > h->file_size) return fail(err, what, path, "truncated header");
  char *text = malloc(hlen + 1);
  if (!text) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "%s: %s: out of memory", what, path);
  bool ok = read_at(fd, text, hlen, (off_t)(8 + lenbytes)) && parse_dict(text, hlen, h, why, sizeof why);
  free(text);
  if (!ok) return fail(err, what, path, why);
  int64_t nbytes = data_bytes(h);
  if (nbytes < 0) return fail(err, what, path, "malformed header (size overflows)");
  if ((int64_t)(h->file_size - h->data_offset) < nbytes) {
    snprintf(why, sizeof why, "truncated: the header announces %lld bytes of data, the file holds %lld",
             (long long)nbytes, (long long)(h->file_size - h->data_offset));
    return fail(err, what, path, why);
  }
  return LASK_OK;
}

/* Opens path for reading when it is a regular file; -1 with err filled otherwise.
 * O_NONBLOCK keeps open from waiting forever for a writer to a FIFO; the type is
 * checked on the descriptor, so a file swapped between the check and the reads is
 * still the one checked. */
static int open_mode(const char *path, const char *what, int mode, lask_err *err) {
  int fd = open(path, mode | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return fail_errno(err, what, path), -1;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    fail_errno(err, what, path);
    close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    const char *kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "a special file";
    char why[96];
    snprintf(why, sizeof why, "not a regular file (%s)", kind);
    close(fd);
    return fail(err, what, path, why), -1;
  }
  return fd;
}

/* Opens path for reading, refusing anything but a regular file (named in err). */
static int open_regular(const char *path, const char *what, lask_err *err) {
  return open_mode(path, what, O_RDONLY, err);
}

lask_status lask_npy_read_header(const char *path, lask_npy_header *h, lask_err *err) {
  int fd = open_regular(path, "npy", err);
  if (fd < 0) return err->code;
  lask_status st = read_header_fd(fd, "npy", path, h, false, err);
  close(fd);
  return st;
}

/* --- runs of a block in file order --- */

/* A block of a file seen in the file's order: axes reversed for Fortran order, so
 * that the last axis is always the fastest in the file. */
typedef struct span {
  int ndim;
  int64_t fshape[LASK_MAXDIM], offset[LASK_MAXDIM], shape[LASK_MAXDIM];
  int64_t fstride[LASK_MAXDIM]; /* file strides in elements */
  int64_t run;                  /* elements per run */
  int outer;                    /* axes [0, outer) step from run to run */
} span;

static void span_init(span *sp, const lask_npy_header *h, const int64_t *offset, const int64_t *shape) {
  int n = sp->ndim = h->ndim;
  for (int d = 0; d < n; d++) {
    int s = h->fortran_order ? n - 1 - d : d;
    sp->fshape[d] = h->shape[s], sp->offset[d] = offset[s], sp->shape[d] = shape[s];
  }
  lask_strides_c(n, sp->fshape, 1, sp->fstride);
  sp->run = 1, sp->outer = n;
  if (n == 0) return;
  sp->run = sp->shape[n - 1], sp->outer = n - 1;
  while (sp->outer > 0 && sp->shape[sp->outer] == sp->fshape[sp->outer]) sp->run *= sp->shape[--sp->outer];
}

/* Calls fn(ctx, byte position in the file, index of the run) for each run, in order. */
static bool span_each_run(const span *sp, size_t base, size_t itemsize,
                          bool (*fn)(void *ctx, off_t pos, int64_t r), void *ctx) {
  int64_t idx[LASK_MAXDIM] = {0};
  for (int d = 0; d < sp->ndim; d++)
    if (sp->shape[d] == 0) return true;
  for (int64_t r = 0;; r++) {
    int64_t el = 0;
    for (int d = 0; d < sp->ndim; d++) el += (sp->offset[d] + idx[d]) * sp->fstride[d];
    if (!fn(ctx, (off_t)(base + (size_t)el * itemsize), r)) return false;
    int d = sp->outer - 1;
    for (; d >= 0 && ++idx[d] == sp->shape[d]; d--) idx[d] = 0;
    if (d < 0) return true;
  }
}

/* Byte strides, in the array's axis order, of a block laid out contiguously in the
 * file's order (C or Fortran). */
static void file_order_strides(const lask_npy_header *h, const int64_t *shape, int64_t *strides) {
  size_t size = lask_dtype_size(h->dtype);
  if (!h->fortran_order) return lask_strides_c(h->ndim, shape, size, strides);
  int64_t s = (int64_t)size;
  for (int d = 0; d < h->ndim; d++) strides[d] = s, s = lask_stride_step(s, shape[d]);
}

static lask_status check_block(const char *what, const char *path, const lask_npy_header *h, int ndim,
                               const int64_t *offset, const int64_t *shape, lask_err *err) {
  char why[200], s1[160], s2[160], s3[160];
  if (ndim != h->ndim) {
    snprintf(why, sizeof why, "a block of %d dimensions does not fit an array of %d", ndim, h->ndim);
    return fail(err, what, path, why);
  }
  for (int d = 0; d < ndim; d++)
    if (offset[d] < 0 || shape[d] < 0 || offset[d] > h->shape[d] - shape[d]) {
      snprintf(why, sizeof why, "a block of shape %s at %s does not fit the array's shape %s",
               lask_shape_str(ndim, shape, s1, sizeof s1), lask_shape_str(ndim, offset, s2, sizeof s2),
               lask_shape_str(h->ndim, h->shape, s3, sizeof s3));
      return fail(err, what, path, why);
    }
  return LASK_OK;
}

/* --- loading --- */

static void unmap_release(lask_buffer *b) { munmap(b->data, b->nbytes); }

/* Maps the bytes of the block and gives a view of it (the file's strides): a private
 * read-only mapping, or with shared a writable one whose writes reach the file. */
static lask_ndarray *map_block(int fd, const char *path, const lask_npy_header *h, const int64_t *offset,
                               const int64_t *shape, bool shared, lask_err *err) {
  size_t size = lask_dtype_size(h->dtype);
  int64_t fstrides[LASK_MAXDIM], lo = 0, hi = 0;
  file_order_strides(h, h->shape, fstrides);
  for (int d = 0; d < h->ndim; d++) lo += offset[d] * fstrides[d], hi += (shape[d] - 1) * fstrides[d];
  size_t page = (size_t)sysconf(_SC_PAGESIZE), start = h->data_offset + (size_t)lo;
  size_t map_start = start / page * page, map_len = start + (size_t)hi + size - map_start;
  void *map = mmap(NULL, map_len, shared ? PROT_READ | PROT_WRITE : PROT_READ,
                   shared ? MAP_SHARED : MAP_PRIVATE, fd, (off_t)map_start);
  if (map == MAP_FAILED) return fail_errno(err, "load", path), NULL;
  lask_buffer *b = lask_buffer_wrap(map, map_len, unmap_release, NULL);
  if (!b) {
    munmap(map, map_len);
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "load: %s: out of memory", path), NULL;
  }
  lask_ndarray *a =
      lask_ndarray_view(b, (char *)map + (start - map_start), h->dtype, h->ndim, shape, fstrides, err);
  lask_release(lask_objval(&b->h));
  return a;
}

typedef struct read_ctx {
  int fd;
  char *dst;
  size_t run_bytes;
} read_ctx;

static bool read_run(void *ctx, off_t pos, int64_t r) {
  read_ctx *c = ctx;
  return read_at(c->fd, c->dst + (size_t)r * c->run_bytes, c->run_bytes, pos);
}

/* Reads the block into a new array laid out in the file's order, run by run. */
static lask_ndarray *read_block(int fd, const char *path, const lask_npy_header *h, const int64_t *offset,
                                const int64_t *shape, lask_err *err) {
  int64_t strides[LASK_MAXDIM];
  lask_ndarray *a = lask_ndarray_empty(h->dtype, h->ndim, shape, err);
  if (!a) return NULL;
  file_order_strides(h, shape, strides);
  for (int d = 0; d < h->ndim; d++) a->strides[d] = strides[d];
  span sp;
  span_init(&sp, h, offset, shape);
  read_ctx c = {fd, a->data, (size_t)sp.run * lask_dtype_size(h->dtype)};
  if (!span_each_run(&sp, h->data_offset, lask_dtype_size(h->dtype), read_run, &c)) {
    lask_release(lask_ndarray_value(a));
    return errno ? fail_errno(err, "load", path), NULL : (fail(err, "load", path, "truncated"), NULL);
  }
  return a;
}

/* Maps when asked and possible: elements must be aligned in the file (numpy pads
 * headers to 64 bytes; odd writers may not) and there must be some. */
static lask_ndarray *load(const char *path, bool map, bool whole, int ndim, const int64_t *offset,
                          const int64_t *shape, lask_err *err) {
  lask_npy_header h;
  int fd = open_regular(path, "load", err);
  if (fd < 0) return NULL;
  lask_ndarray *a = NULL;
  int64_t zero[LASK_MAXDIM] = {0};
  if (read_header_fd(fd, "load", path, &h, false, err) == LASK_OK) {
    if (whole) ndim = h.ndim, offset = zero, shape = h.shape;
    if (check_block("load", path, &h, ndim, offset, shape, err) == LASK_OK) {
      int64_t n = 1;
      for (int d = 0; d < ndim; d++) n *= shape[d];
      bool mappable = map && n > 0 && h.data_offset % lask_dtype_size(h.dtype) == 0;
      a = mappable ? map_block(fd, path, &h, offset, shape, false, err)
                   : read_block(fd, path, &h, offset, shape, err);
    }
  }
  close(fd);
  return a;
}

lask_ndarray *lask_npy_load(const char *path, bool map, lask_err *err) {
  return load(path, map, true, 0, NULL, NULL, err);
}

lask_ndarray *lask_npy_map_writable(const char *path, lask_err *err) {
  lask_npy_header h;
  int fd = open_mode(path, "load", O_RDWR, err);
  if (fd < 0) return NULL;
  lask_ndarray *a = NULL;
  int64_t zero[LASK_MAXDIM] = {0};
  if (read_header_fd(fd, "load", path, &h, false, err) == LASK_OK) {
    int64_t n = 1;
    for (int d = 0; d < h.ndim; d++) n *= h.shape[d];
    if (n == 0) /* nothing to map, nothing to write */
      a = read_block(fd, path, &h, zero, h.shape, err);
    else if (h.data_offset % lask_dtype_size(h.dtype) != 0)
      fail(err, "load", path, "cannot be mapped for writing: its data are not aligned");
    else
      a = map_block(fd, path, &h, zero, h.shape, true, err);
  }
  close(fd);
  return a;
}

lask_ndarray *lask_npy_load_block(const char *path, int ndim, const int64_t *offset, const int64_t *shape,
                                  lask_err *err) {
  /* Read, not mapped: a block lives on in graphs and persisted arrays, and a
   * mapping of a file another process truncates meanwhile kills the process
   * with SIGBUS at the first read of the lost pages. */
  return load(path, false, false, ndim, offset, shape, err);
}

/* --- writing --- */

static bool write_all(int fd, const void *buf, size_t n, off_t off) {
  for (size_t done = 0; done < n;) {
    ssize_t w = pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      return false;
    }
    done += (size_t)w;
  }
  return true;
}

/* Formats the header of an array into buf (at least 128 + 24 * ndim bytes... the
 * caller gives MAX_HEADER-sized room); returns its length, a multiple of 64. */
static size_t make_header(char *buf, size_t size, int major, lask_dtype dt, bool fortran, int ndim,
                          const int64_t *shape) {
  static const char *descr[] = {"<f8", "<f4", "<i8", "|b1"};
  size_t prefix = major == 1 ? 10 : 12;
  int n = snprintf(buf + prefix, size - prefix, "{'descr': '%s', 'fortran_order': %s, 'shape': (", descr[dt],
                   fortran ? "True" : "False");
  for (int d = 0; d < ndim; d++)
    n += snprintf(buf + prefix + n, size - prefix - (size_t)n, d ? " %lld," : "%lld,", (long long)shape[d]);
  if (ndim > 1) n--; /* numpy writes (3,) but (3, 4) */
  n += snprintf(buf + prefix + n, size - prefix - (size_t)n, "), }");
  size_t total = (prefix + (size_t)n + 1 + 63) / 64 * 64, hlen = total - prefix;
  memset(buf + prefix + n, ' ', hlen - (size_t)n - 1);
  buf[total - 1] = '\n';
  memcpy(buf, magic, 6);
  buf[6] = PENDING, buf[7] = (char)major; /* stamp() makes it readable once complete */
  for (size_t i = 0; i < prefix - 8; i++) buf[8 + i] = (char)(hlen >> (8 * i));
  return total;
}

/* Writes the header for dt/shape at the start of fd; gives the data offset in *off. */
static bool write_header(int fd, int major, lask_dtype dt, bool fortran, int ndim, const int64_t *shape,
                         size_t *off) {
  char buf[1024];
  if (major == 0) major = 1; /* 16 dimensions of 20 digits stay far below 64 KiB */
  *off = make_header(buf, sizeof buf, major, dt, fortran, ndim, shape);
  return write_all(fd, buf, *off, 0);
}

/* A new temporary file next to path: its name in tmp (PATH_MAX-sized), mode 0666
 * less the umask, as the final file would get. */
static int open_temp(const char *path, char *tmp, size_t size, bool readable) {
  static _Atomic unsigned counter;
  for (int tries = 0; tries < 100; tries++) {
    snprintf(tmp, size, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
    int fd = open(tmp, (readable ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

typedef struct write_ctx {
  int fd;
  lask_cursor cur;
  const char *direct; /* the source when it is contiguous in file order and of the file's dtype */
  lask_dtype dt;      /* the file's */
  size_t itemsize;
  int64_t run;
  char *chunk; /* IO_CHUNK bytes, for gathering */
} write_ctx;

static bool write_run(void *ctx, off_t pos, int64_t r) {
  write_ctx *c = ctx;
  size_t bytes = (size_t)c->run * c->itemsize;
  if (c->direct) return write_all(c->fd, c->direct + (size_t)r * bytes, bytes, pos);
  int64_t per = IO_CHUNK / (int64_t)c->itemsize;
  for (int64_t done = 0; done < c->run; done += per) {
    int64_t n = c->run - done < per ? c->run - done : per;
    lask_cursor_read(&c->cur, c->dt, c->chunk, n);
    if (!write_all(c->fd, c->chunk, (size_t)n * c->itemsize, pos + (off_t)((size_t)done * c->itemsize)))
      return false;
  }
  return true;
}

/* Writes the elements of a (whose shape is the block's) into fd run by run as the
 * block at offset of the file described by h. */
static bool write_runs(int fd, const lask_npy_header *h, const lask_ndarray *a, const int64_t *offset) {
  span sp;
  span_init(&sp, h, offset, a->shape);
  int64_t shape[LASK_MAXDIM], strides[LASK_MAXDIM];
  for (int d = 0; d < a->ndim; d++) { /* a in file order */
    int s = h->fortran_order ? a->ndim - 1 - d : d;
    shape[d] = a->shape[s], strides[d] = a->strides[s];
  }
  write_ctx c = {.fd = fd, .dt = h->dtype, .itemsize = lask_dtype_size(h->dtype), .run = sp.run};
  /* a's layout in file order: only the layout is copied, not a's header, whose
   * reference count other threads may be changing while this block is written */
  lask_ndarray fo = {.dtype = a->dtype, .ndim = a->ndim};
  for (int d = 0; d < a->ndim; d++) fo.shape[d] = shape[d], fo.strides[d] = strides[d];
  if (a->dtype == h->dtype && lask_ndarray_is_c_contiguous(&fo))
    c.direct = a->data;
  else if (!(c.chunk = malloc(IO_CHUNK)))
    return errno = ENOMEM, false;
  else
    lask_cursor_init(&c.cur, a->dtype, a->data, a->ndim, shape, strides);
  bool ok = span_each_run(&sp, h->data_offset, c.itemsize, write_run, &c);
  free(c.chunk);
  return ok;
}

/* Makes the complete file fd readable: its real version where PENDING was. */
static bool stamp(int fd) {
  unsigned char v[2];
  if (!read_at(fd, v, 2, 6)) return false;
  if (v[0] != PENDING) return errno = EINVAL, false;
  v[0] = v[1], v[1] = 0;
  return write_all(fd, v, 2, 6);
}

/* Finishes a temporary file: made readable (complete) or left pending (npy_create:
 * blocks come later), closed, renamed over path; on any failure the temporary is
 * removed. */
static lask_status commit(int fd, bool ok, bool complete, const char *tmp, const char *path, const char *what,
                          lask_err *err) {
  if (ok && complete) ok = stamp(fd);
  if (close(fd) != 0) ok = false;
  if (ok && rename(tmp, path) == 0) return LASK_OK;
  int saved = errno;
  unlink(tmp);
  errno = saved;
  return fail_errno(err, what, path);
}

lask_status lask_npy_save_version(const char *path, const lask_ndarray *a, int major, lask_err *err) {
  char tmp[4096];
  if (major < 0 || major > 2) return fail(err, "save", path, "format version must be 1 or 2");
  int fd = open_temp(path, tmp, sizeof tmp, true);
  if (fd < 0) return fail_errno(err, "save", path);
  lask_npy_header h = {.major = major, .dtype = a->dtype, .ndim = a->ndim};
  h.fortran_order = a->ndim > 1 && !lask_ndarray_is_c_contiguous(a) && lask_ndarray_is_f_contiguous(a);
  for (int d = 0; d < a->ndim; d++) h.shape[d] = a->shape[d];
  int64_t zero[LASK_MAXDIM] = {0};
  bool ok = write_header(fd, major, a->dtype, h.fortran_order, a->ndim, a->shape, &h.data_offset) &&
            write_runs(fd, &h, a, zero);
  return commit(fd, ok, true, tmp, path, "save", err);
}

lask_status lask_npy_save(const char *path, const lask_ndarray *a, lask_err *err) {
  return lask_npy_save_version(path, a, 0, err);
}

lask_status lask_npy_create(const char *path, lask_dtype dt, int ndim, const int64_t *shape, lask_err *err) {
  char tmp[4096];
  lask_npy_header h = {.major = 1, .dtype = dt, .ndim = ndim};
  if (ndim < 0 || ndim > LASK_MAXDIM) return fail(err, "npy_create", path, "too many dimensions");
  for (int d = 0; d < ndim; d++) {
    if (shape[d] < 0) return fail(err, "npy_create", path, "negative extent in shape");
    h.shape[d] = shape[d];
  }
  int64_t nbytes = data_bytes(&h);
  if (nbytes < 0) return fail(err, "npy_create", path, "size too large");
  int fd = open_temp(path, tmp, sizeof tmp, false);
  if (fd < 0) return fail_errno(err, "npy_create", path);
  bool ok = write_header(fd, 1, dt, false, ndim, shape, &h.data_offset) &&
            ftruncate(fd, (off_t)(h.data_offset + (size_t)nbytes)) == 0;
  return commit(fd, ok, false, tmp, path, "npy_create", err);
}

lask_status lask_npy_write_block(const char *path, const lask_ndarray *block, const int64_t *offset,
                                 lask_err *err) {
  lask_npy_header h;
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail_errno(err, "store_block", path);
  lask_status st = read_header_fd(fd, "store_block", path, &h, true, err);
  if (!st) st = check_block("store_block", path, &h, block->ndim, offset, block->shape, err);
  if (!st && !write_runs(fd, &h, block, offset)) st = fail_errno(err, "store_block", path);
  if (close(fd) != 0 && !st) st = fail_errno(err, "store_block", path);
  return st;
}

lask_status lask_npy_finish(const char *tmp, const char *path, lask_err *err) {
  int fd = open(tmp, O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail_errno(err, "store", tmp);
  unsigned char v;
  if (!read_at(fd, &v, 1, 6) || v != PENDING) { /* not one of ours to finish: left alone */
    close(fd);
    return fail(err, "store", tmp, "not an unfinished .npy file");
  }
  return commit(fd, true, true, tmp, path, "store", err);
}

/* True when name is base followed by ".tmp-" and a suffix of lask's own: hex digits,
 * digits and dashes (io.lua's tokens, open_temp's pid-counter). */
static bool own_temporary(const char *name, const char *base) {
  size_t n = strlen(base);
  if (strncmp(name, base, n) != 0 || strncmp(name + n, ".tmp-", 5) != 0 || !name[n + 5]) return false;
  for (const char *p = name + n + 5; *p; p++)
    if (!strchr("0123456789abcdef-", *p)) return false;
  return true;
}

int lask_npy_clean_stale(const char *path) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : path;
  if (slash) *slash = '\0';
  DIR *d = opendir(slash ? (dir[0] ? dir : "/") : ".");
  if (!d) return 0;
  int removed = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!own_temporary(e->d_name, base)) continue;
    char full[8192];
    snprintf(full, sizeof full, "%s/%s", slash ? (dir[0] ? dir : "") : ".", e->d_name);
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    unsigned char v[7];
    bool pending = fd >= 0 && read_at(fd, v, 7, 0) && memcmp(v, magic, 6) == 0 && v[6] == PENDING;
    if (fd >= 0) close(fd);
    if (pending && unlink(full) == 0) removed++;
  }
  closedir(d);
  return removed;
}
