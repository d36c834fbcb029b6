/* test_npy.c — .npy files: round trips (every dtype, C and Fortran order, format
 * 1.0 and 2.0, mapped and read), block reads and writes, and clear errors for
 * truncated, malformed and unsupported files; a failed save leaves nothing; writable
 * shared mappings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array/npy.h"

static char dir[256];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/lask-test-npy-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd);
}

static const char *path_of(const char *name) {
  static char buf[4][512];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, 512, "%s/%s", dir, name);
  return p;
}

static void release(lask_ndarray *a) { lask_release(lask_ndarray_value(a)); }

/* An array of dt and shape whose element i (flat, C order) is f(i) = i * 1.5 - 7 cast. */
static lask_ndarray *sample(lask_dtype dt, int ndim, const int64_t *shape) {
  lask_err err;
  lask_ndarray *a = lask_ndarray_new(dt, ndim, shape, &err);
  assert_non_null(a);
  size_t size = lask_dtype_size(dt);
  for (int64_t i = 0; i < lask_ndarray_size(a); i++) {
    double v = dt == LASK_BOOL ? (double)(i % 3 == 0) : (double)i * (dt == LASK_I64 ? 3 : 1.5) - 7;
    lask_convert(dt, a->data + i * (int64_t)size, 0, LASK_F64, &v, 0, 1);
  }
  return a;
}

/* Element-by-element equality, whatever the layouts. */
static void assert_same(const lask_ndarray *a, const lask_ndarray *b) {
  assert_int_equal(a->dtype, b->dtype);
  assert_int_equal(a->ndim, b->ndim);
  for (int d = 0; d < a->ndim; d++) assert_int_equal(a->shape[d], b->shape[d]);
  int64_t idx[LASK_MAXDIM] = {0}, n = lask_ndarray_size(a);
  for (int64_t k = 0; k < n; k++) {
    assert_memory_equal(lask_ndarray_ptr(a, idx), lask_ndarray_ptr(b, idx), lask_dtype_size(a->dtype));
    for (int d = a->ndim - 1; d >= 0 && ++idx[d] == a->shape[d]; d--) idx[d] = 0;
  }
}

static void expect_load_error(const char *path, const char *needle) {
  lask_err err;
  for (int map = 0; map < 2; map++) {
    assert_null(lask_npy_load(path, map, &err));
    if (!strstr(err.msg, needle) || !strstr(err.msg, path))
      fail_msg("message '%s' lacks '%s' or the path", err.msg, needle);
  }
}

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static void test_round_trip_every_dtype_and_shape(void **state) {
  (void)state;
  static const int64_t shapes[][3] = {{0}, {1}, {7}, {3, 5}, {2, 3, 4}, {0, 3}};
  static const int ndims[] = {0, 1, 1, 2, 3, 2};
  lask_err err;
  for (int dt = LASK_F64; dt <= LASK_BOOL; dt++)
    for (size_t s = 0; s < sizeof ndims / sizeof ndims[0]; s++)
      for (int version = 1; version <= 2; version++) {
        lask_ndarray *a = sample((lask_dtype)dt, ndims[s], shapes[s]);
        const char *p = path_of("rt.npy");
        assert_int_equal(lask_npy_save_version(p, a, version, &err), LASK_OK);
        lask_npy_header h;
        assert_int_equal(lask_npy_read_header(p, &h, &err), LASK_OK);
        assert_int_equal(h.major, version);
        assert_int_equal(h.data_offset % 64, 0);
        assert_false(h.fortran_order);
        for (int map = 0; map < 2; map++) {
          lask_ndarray *b = lask_npy_load(p, map, &err);
          if (!b) fail_msg("%s", err.msg);
          assert_same(a, b);
          release(b);
        }
        release(a);
      }
}

/* A Fortran-contiguous array (a transposed view) is written in Fortran order and
 * comes back with Fortran strides; a strided view is written in C order. */
static void test_fortran_order_and_strided_views(void **state) {
  (void)state;
  lask_err err;
  lask_ndarray *a = sample(LASK_F32, 2, (int64_t[]){4, 6});
  lask_ndarray *t =
      lask_ndarray_view(a->buf, a->data, LASK_F32, 2, (int64_t[]){6, 4}, (int64_t[]){4, 24}, &err);
  const char *p = path_of("f.npy");
  assert_int_equal(lask_npy_save(p, t, &err), LASK_OK);
  lask_npy_header h;
  assert_int_equal(lask_npy_read_header(p, &h, &err), LASK_OK);
  assert_true(h.fortran_order);
  for (int map = 0; map < 2; map++) {
    lask_ndarray *b = lask_npy_load(p, map, &err);
    assert_true(lask_ndarray_is_f_contiguous(b));
    assert_same(t, b);
    release(b);
  }
  lask_ndarray *s =
      lask_ndarray_view(a->buf, a->data + 4, LASK_F32, 2, (int64_t[]){2, 3}, (int64_t[]){48, 8}, &err);
  assert_int_equal(lask_npy_save(p, s, &err), LASK_OK);
  lask_ndarray *b = lask_npy_load(p, false, &err);
  assert_true(lask_ndarray_is_c_contiguous(b));
  assert_same(s, b);
  release(a), release(t), release(s), release(b);
}

/* A mapped array is a read-only view of the file; the mapping goes with the last view. */
static int mappings_of(const char *path) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[1024];
  int n = 0;
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, path)) n++;
  if (f) fclose(f);
  return n;
}

static void test_mapping_released_with_last_view(void **state) {
  (void)state;
  lask_err err;
  lask_ndarray *a = sample(LASK_F64, 2, (int64_t[]){100, 100});
  const char *p = path_of("m.npy");
  assert_int_equal(lask_npy_save(p, a, &err), LASK_OK);
  lask_ndarray *b = lask_npy_load(p, true, &err);
  assert_non_null(b);
  assert_true(b->buf->release != NULL);
  assert_true(mappings_of(p) >= 1);
  lask_ndarray *row =
      lask_ndarray_view(b->buf, b->data + 800, LASK_F64, 1, (int64_t[]){100}, (int64_t[]){8}, &err);
  release(b);
  assert_true(mappings_of(p) >= 1);
  assert_true(*(double *)row->data == 100 * 1.5 - 7);
  release(row);
  assert_int_equal(mappings_of(p), 0);
  release(a);
}

/* Header lengths need not keep the data aligned (old writers padded to 16): the
 * reader then copies instead of mapping. Also a version 3.0 header and Python 2's 1L. */
static void test_odd_but_valid_headers(void **state) {
  (void)state;
  lask_err err;
  char file[256];
  const char *dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (3L,), }\n";
  size_t hlen = strlen(dict);
  memcpy(file, "\x93NUMPY\x01\x00", 8);
  file[8] = (char)hlen, file[9] = 0;
  memcpy(file + 10, dict, hlen);
  int64_t vals[3] = {5, -6, 7};
  memcpy(file + 10 + hlen, vals, sizeof vals);
  assert_true((10 + hlen) % 8 != 0);
  const char *p = path_of("odd.npy");
  write_bytes(p, file, 10 + hlen + sizeof vals);
  for (int map = 0; map < 2; map++) {
    lask_ndarray *a = lask_npy_load(p, map, &err);
    if (!a) fail_msg("%s", err.msg);
    assert_int_equal(a->shape[0], 3);
    assert_memory_equal(a->data, vals, sizeof vals);
    release(a);
  }
  const char *dict3 = "{\"descr\": \"|b1\", \"shape\": (2, 1), \"fortran_order\": True}";
  hlen = strlen(dict3);
  memcpy(file, "\x93NUMPY\x03\x00", 8);
  file[8] = (char)hlen, file[9] = file[10] = file[11] = 0;
  memcpy(file + 12, dict3, hlen);
  memcpy(file + 12 + hlen, "\x01\x00", 2);
  write_bytes(p, file, 12 + hlen + 2);
  lask_ndarray *b = lask_npy_load(p, true, &err);
  if (!b) fail_msg("%s", err.msg);
  assert_int_equal(b->dtype, LASK_BOOL);
  assert_true(b->ndim == 2 && b->shape[0] == 2 && b->shape[1] == 1);
  release(b);
}

static void test_truncated_and_malformed_files(void **state) {
  (void)state;
  lask_err err;
  lask_ndarray *a = sample(LASK_F64, 1, (int64_t[]){10});
  const char *p = path_of("t.npy");
  assert_int_equal(lask_npy_save(p, a, &err), LASK_OK);
  assert_int_equal(truncate(p, 128 + 79), 0);
  expect_load_error(p, "truncated: the header announces 80 bytes of data, the file holds 79");
  assert_int_equal(truncate(p, 50), 0);
  expect_load_error(p, "truncated header");
  assert_int_equal(truncate(p, 4), 0);
  expect_load_error(p, "truncated");
  write_bytes(p, "PK\x03\x04 this is a zip file, not an npy one", 40);
  expect_load_error(p, "not a .npy file");
  expect_load_error(path_of("missing.npy"), "No such file");

  static const struct {
    const char *dict, *needle;
  } bad[] = {
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", "dtype '<i4' is not supported"},
      {"{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", "big-endian dtype '>f8'"},
      {"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", "structured dtypes"},
      {"{'descr': '<f8', 'shape': (2,), }", "header lacks 'fortran_order'"},
      {"{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }", "malformed header"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }", "malformed shape"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "unknown header key 'extra'"},
      {"['descr', '<f8']", "malformed header"},
      /* found by fuzzing: a zero extent hid the overflow of the others (UB in the strides) */
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (12875941756269202, 0, 111, 4), }",
       "size overflows"},
      {"{'descr': '<f8', 'fortran_order': True, 'shape': (0, 12875941756269202, 111, 4), }",
       "size overflows"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char file[512];
    size_t hlen = strlen(bad[i].dict);
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = (char)hlen, file[9] = 0;
    memcpy(file + 10, bad[i].dict, hlen);
    memset(file + 10 + hlen, 0, 16);
    write_bytes(p, file, 10 + hlen + 16);
    expect_load_error(p, bad[i].needle);
  }
  char v9[16] = "\x93NUMPY\x09\x00\x10\x00";
  write_bytes(p, v9, 16);
  expect_load_error(p, "unsupported format version 9.0");
  release(a);
}

static bool dir_has_temp_files(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  bool found = false;
  while (d && (e = readdir(d)))
    if (strstr(e->d_name, ".tmp-")) found = true;
  if (d) closedir(d);
  return found;
}

static void test_failed_save_leaves_nothing(void **state) {
  (void)state;
  lask_err err;
  lask_ndarray *a = sample(LASK_F64, 1, (int64_t[]){10});
  assert_int_equal(lask_npy_save(path_of("nodir/x.npy"), a, &err), LASK_EINVAL);
  assert_non_null(strstr(err.msg, "nodir/x.npy: No such file or directory"));
  assert_int_equal(access(path_of("nodir"), F_OK), -1);
  const char *d = path_of("adir");
  assert_int_equal(mkdir(d, 0755), 0);
  assert_int_equal(lask_npy_save(d, a, &err), LASK_EINVAL); /* rename over a directory fails */
  assert_non_null(strstr(err.msg, "save: "));
  struct stat st;
  assert_int_equal(stat(d, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_false(dir_has_temp_files());
  /* replacing a file only happens once the new one is complete */
  const char *p = path_of("keep.npy");
  assert_int_equal(lask_npy_save(p, a, &err), LASK_OK);
  lask_ndarray *b = sample(LASK_I64, 2, (int64_t[]){2, 2});
  assert_int_equal(lask_npy_save(p, b, &err), LASK_OK);
  lask_ndarray *c = lask_npy_load(p, false, &err);
  assert_same(b, c);
  assert_false(dir_has_temp_files());
  release(a), release(b), release(c);
}

/* Blocks written in any order, layout and dtype land where a whole save puts them. */
static void test_create_and_write_blocks(void **state) {
  (void)state;
  lask_err err;
  const int64_t shape[2] = {7, 10};
  lask_ndarray *whole = sample(LASK_F64, 2, shape);
  const char *p = path_of("blocks.npy");
  assert_int_equal(lask_npy_create(p, LASK_F64, 2, shape, &err), LASK_OK);
  /* unfinished until lask_npy_finish: a store killed now leaves no array of zeros */
  expect_load_error(p, "an unfinished file (a store or save that did not complete)");
  const int64_t rows[] = {0, 3, 7}, cols[] = {0, 4, 10, 10};
  for (int bi = 1; bi >= 0; bi--)
    for (int bj = 0; bj < 3; bj++) {
      int64_t off[2] = {rows[bi], cols[bj]}, bs[2] = {rows[bi + 1] - rows[bi], cols[bj + 1] - cols[bj]};
      lask_ndarray *v =
          lask_ndarray_view(whole->buf, lask_ndarray_ptr(whole, off), LASK_F64, 2, bs, whole->strides, &err);
      lask_ndarray *blk =
          (bi + bj) % 2 ? lask_ndarray_copy(v, LASK_F64, &err) : lask_ndarray_copy(v, LASK_F32, &err);
      assert_int_equal(lask_npy_write_block(p, blk, off, &err), LASK_OK);
      release(v), release(blk);
    }
  expect_load_error(p, "an unfinished file");
  const char *done = path_of("blocks-done.npy");
  assert_int_equal(lask_npy_finish(p, done, &err), LASK_OK);
  assert_int_equal(access(p, F_OK), -1); /* renamed */
  lask_ndarray *back = lask_npy_load(done, false, &err);
  assert_non_null(back);
  assert_same(whole, back);
  assert_int_equal(lask_npy_finish(done, p, &err), LASK_EINVAL); /* finished files are not finished again */
  p = done;
  /* a block hanging over the edge is refused, naming the shapes */
  lask_ndarray *big = sample(LASK_F64, 2, (int64_t[]){3, 3});
  assert_int_equal(lask_npy_write_block(p, big, (int64_t[]){5, 0}, &err), LASK_EINVAL);
  assert_non_null(
      strstr(err.msg, "a block of shape (3, 3) at (5, 0) does not fit the array's shape (7, 10)"));
  assert_int_equal(lask_npy_write_block(path_of("none.npy"), big, (int64_t[]){0, 0}, &err), LASK_EINVAL);
  release(whole), release(back), release(big);
}

/* What a killed store or save left: unfinished temporaries of lask's naming are
 * removed; finished files, and files of other names, are kept. */
static void test_clean_stale_temporaries(void **state) {
  (void)state;
  lask_err err;
  char target[512], stale[600], other[600], done[600];
  snprintf(target, sizeof target, "%s", path_of("t.npy"));
  snprintf(stale, sizeof stale, "%s.tmp-0123abcd4567ef89deadbeef", target);
  snprintf(other, sizeof other, "%s.tmp-not-ours", target);
  snprintf(done, sizeof done, "%s.tmp-12-3", target);
  assert_int_equal(lask_npy_create(stale, LASK_F64, 1, (int64_t[]){4}, &err), LASK_OK);
  assert_int_equal(lask_npy_create(other, LASK_F64, 1, (int64_t[]){4}, &err), LASK_OK);
  lask_ndarray *a = sample(LASK_F64, 1, (int64_t[]){4});
  assert_int_equal(lask_npy_save(done, a, &err), LASK_OK);
  assert_int_equal(lask_npy_clean_stale(target), 1);
  assert_int_equal(access(stale, F_OK), -1);
  assert_int_equal(access(other, F_OK), 0);
  assert_int_equal(access(done, F_OK), 0);
  release(a);
}

/* Block writes into a Fortran-order file, from a transposed (non-contiguous) block. */
static void test_write_blocks_into_fortran_file(void **state) {
  (void)state;
  lask_err err;
  lask_ndarray *src = sample(LASK_I64, 2, (int64_t[]){5, 4});
  lask_ndarray *ft =
      lask_ndarray_view(src->buf, src->data, LASK_I64, 2, (int64_t[]){4, 5}, (int64_t[]){8, 32}, &err);
  const char *p = path_of("fblocks.npy");
  lask_ndarray *zero = lask_ndarray_new(LASK_I64, 2, (int64_t[]){5, 4}, &err);
  lask_ndarray *zt =
      lask_ndarray_view(zero->buf, zero->data, LASK_I64, 2, (int64_t[]){4, 5}, (int64_t[]){8, 32}, &err);
  assert_int_equal(lask_npy_save(p, zt, &err), LASK_OK); /* a Fortran-order file of zeros */
  for (int64_t r = 0; r < 4; r += 2) {
    lask_ndarray *v = lask_ndarray_view(src->buf, src->data + r * 8, LASK_I64, 2, (int64_t[]){2, 5},
                                        (int64_t[]){8, 32}, &err);
    assert_int_equal(lask_npy_write_block(p, v, (int64_t[]){r, 0}, &err), LASK_OK);
    release(v);
  }
  lask_ndarray *back = lask_npy_load(p, true, &err);
  assert_true(lask_ndarray_is_f_contiguous(back));
  assert_same(ft, back);
  release(src), release(ft), release(zero), release(zt), release(back);
}

/* A writable shared mapping: writes reach the file (every dtype, C and Fortran order);
 * a file of no elements is read; a directory or a missing file is refused. */
static void test_map_writable(void **state) {
  (void)state;
  lask_err err;
  lask_dtype dts[] = {LASK_F64, LASK_F32, LASK_I64, LASK_BOOL};
  for (int t = 0; t < 4; t++) {
    for (int fortran = 0; fortran < 2; fortran++) {
      lask_ndarray *a = sample(dts[t], 2, (int64_t[]){3, 4});
      lask_ndarray *v = fortran ? lask_ndarray_view(a->buf, a->data, a->dtype, 2, (int64_t[]){4, 3},
                                                    (int64_t[]){a->strides[1], a->strides[0]}, &err)
                                : a;
      const char *p = path_of("w.npy");
      assert_int_equal(lask_npy_save(p, v, &err), LASK_OK);
      lask_ndarray *m = lask_npy_map_writable(p, &err);
      assert_non_null(m);
      assert_true(m->buf->release != NULL); /* a mapping, not a copy */
      int64_t at[2] = {2, 1};
      lask_ndarray *b = sample(dts[t], 2, (int64_t[]){4, 3}); /* other values to write */
      memcpy(lask_ndarray_ptr(m, at), lask_ndarray_ptr(b, (int64_t[]){0, 0}), lask_dtype_size(m->dtype));
      release(m);
      lask_ndarray *back = lask_npy_load(p, false, &err);
      assert_non_null(back);
      assert_memory_equal(lask_ndarray_ptr(back, at), lask_ndarray_ptr(b, (int64_t[]){0, 0}),
                          lask_dtype_size(back->dtype));
      int64_t other[2] = {0, 1};
      assert_memory_equal(lask_ndarray_ptr(back, other), lask_ndarray_ptr(v, other),
                          lask_dtype_size(back->dtype));
      release(back), release(b);
      if (fortran) release(v);
      release(a);
    }
  }
  lask_ndarray *empty = lask_ndarray_new(LASK_F64, 2, (int64_t[]){0, 3}, &err);
  assert_int_equal(lask_npy_save(path_of("e.npy"), empty, &err), LASK_OK);
  lask_ndarray *e = lask_npy_map_writable(path_of("e.npy"), &err);
  assert_non_null(e);
  assert_int_equal(e->shape[0], 0);
  release(e), release(empty);
  assert_null(lask_npy_map_writable(path_of("missing.npy"), &err));
  assert_non_null(strstr(err.msg, "missing.npy"));
  assert_null(lask_npy_map_writable(dir, &err));
  assert_non_null(strstr(err.msg, dir)); /* EISDIR: "Is a directory" */
}

static void test_load_blocks(void **state) {
  (void)state;
  lask_err err;
  for (int fortran = 0; fortran < 2; fortran++) {
    lask_ndarray *a = sample(LASK_F64, 3, (int64_t[]){4, 5, 6});
    const char *p = path_of("lb.npy");
    if (fortran) { /* the same values laid out in Fortran order */
      lask_ndarray *f = lask_ndarray_new(LASK_F64, 3, (int64_t[]){4, 5, 6}, &err);
      f->strides[0] = 8, f->strides[1] = 32, f->strides[2] = 160;
      lask_iter it;
      lask_iter_init(&it, 2, 3, a->shape, (char *[]){f->data, a->data},
                     (const int64_t *[]){f->strides, a->strides});
      do lask_convert(LASK_F64, it.ptr[0], it.stride[0], LASK_F64, it.ptr[1], it.stride[1], it.inner);
      while (lask_iter_next(&it));
      assert_int_equal(lask_npy_save(p, f, &err), LASK_OK);
      release(f);
    } else {
      assert_int_equal(lask_npy_save(p, a, &err), LASK_OK);
    }
    int64_t off[3] = {1, 2, 3}, bs[3] = {2, 3, 2};
    lask_ndarray *blk = lask_npy_load_block(p, 3, off, bs, &err);
    if (!blk) fail_msg("%s", err.msg);
    lask_ndarray *want =
        lask_ndarray_view(a->buf, lask_ndarray_ptr(a, off), LASK_F64, 3, bs, a->strides, &err);
    assert_same(want, blk);
    release(blk), release(want);
    assert_null(lask_npy_load_block(p, 3, (int64_t[]){3, 0, 0}, (int64_t[]){2, 1, 1}, &err));
    assert_non_null(strstr(err.msg, "does not fit"));
    assert_null(lask_npy_load_block(p, 2, off, bs, &err));
    lask_ndarray *empty = lask_npy_load_block(p, 3, off, (int64_t[]){0, 2, 2}, &err);
    assert_non_null(empty);
    assert_int_equal(lask_ndarray_size(empty), 0);
    release(empty);
    release(a);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_every_dtype_and_shape),
      cmocka_unit_test(test_fortran_order_and_strided_views),
      cmocka_unit_test(test_mapping_released_with_last_view),
      cmocka_unit_test(test_odd_but_valid_headers),
      cmocka_unit_test(test_truncated_and_malformed_files),
      cmocka_unit_test(test_failed_save_leaves_nothing),
      cmocka_unit_test(test_create_and_write_blocks),
      cmocka_unit_test(test_clean_stale_temporaries),
      cmocka_unit_test(test_write_blocks_into_fortran_file),
      cmocka_unit_test(test_load_blocks),
      cmocka_unit_test(test_map_writable),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
