/* test_ndarray.c — buffers and views: layout, contiguity, zero-copy views, release
 * hooks, conversion, broadcasting and the N-d iterator against naive index loops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array/ndarray.h"

static lask_ndarray *arange_f64(int ndim, const int64_t *shape) {
  lask_err err;
  lask_ndarray *a = lask_ndarray_new(LASK_F64, ndim, shape, &err);
  assert_non_null(a);
  for (int64_t i = 0; i < lask_ndarray_size(a); i++) ((double *)a->data)[i] = (double)i;
  return a;
}

static void release(lask_ndarray *a) { lask_release(lask_ndarray_value(a)); }

static void test_new_is_zeroed_c_contiguous(void **state) {
  (void)state;
  lask_err err;
  lask_ndarray *a = lask_ndarray_new(LASK_I64, 3, (int64_t[]){2, 3, 4}, &err);
  assert_non_null(a);
  assert_int_equal(lask_ndarray_size(a), 24);
  assert_int_equal(a->strides[0], 96);
  assert_int_equal(a->strides[1], 32);
  assert_int_equal(a->strides[2], 8);
  assert_true(lask_ndarray_is_c_contiguous(a));
  assert_false(lask_ndarray_is_f_contiguous(a));
  for (int i = 0; i < 24; i++) assert_int_equal(((int64_t *)a->data)[i], 0);
  release(a);
}

static void test_zero_d_and_empty(void **state) {
  (void)state;
  lask_err err;
  lask_ndarray *s = lask_ndarray_new(LASK_F32, 0, NULL, &err);
  assert_non_null(s);
  assert_int_equal(lask_ndarray_size(s), 1);
  assert_true(lask_ndarray_is_c_contiguous(s) && lask_ndarray_is_f_contiguous(s));
  lask_ndarray *e = lask_ndarray_new(LASK_BOOL, 2, (int64_t[]){0, 5}, &err);
  assert_non_null(e);
  assert_int_equal(lask_ndarray_size(e), 0);
  lask_iter it;
  assert_false(
      lask_iter_init(&it, 1, e->ndim, e->shape, (char *[]){e->data}, (const int64_t *[]){e->strides}));
  release(s), release(e);
}

static void test_bad_layouts_fail_cleanly(void **state) {
  (void)state;
  lask_err err;
  assert_null(lask_ndarray_new(LASK_F64, 2, (int64_t[]){3, -1}, &err));
  assert_int_equal(err.code, LASK_EINVAL);
  assert_non_null(strstr(err.msg, "negative"));
  int64_t shape[LASK_MAXDIM + 1] = {0};
  assert_null(lask_ndarray_new(LASK_F64, LASK_MAXDIM + 1, shape, &err));
  assert_null(lask_ndarray_new(LASK_F64, 2, (int64_t[]){INT64_MAX / 4, 4}, &err));
  /* numpy's rule: an extent of 0 does not excuse the others (their strides overflow) */
  assert_null(lask_ndarray_new(LASK_F64, 4, (int64_t[]){12875941756269202, 0, 111, 4}, &err));
  assert_non_null(strstr(err.msg, "size too large"));
  assert_int_equal(lask_shape_size(2, (int64_t[]){(int64_t)1 << 40, (int64_t)1 << 40}, 8), -1);
  assert_int_equal(lask_shape_size(3, (int64_t[]){(int64_t)1 << 40, 0, (int64_t)1 << 19}, 8), 0);
  int64_t strides[4];
  lask_strides_c(4, (int64_t[]){12875941756269202, 0, 111, 4}, 8, strides); /* no overflow (UBSan) */
  assert_int_equal(strides[3], 8);
  assert_int_equal(strides[2], 32);
  lask_ndarray *a = arange_f64(1, (int64_t[]){4});
  assert_null(lask_ndarray_view(a->buf, a->data + 8, LASK_F64, 1, (int64_t[]){4}, (int64_t[]){8}, &err));
  assert_non_null(strstr(err.msg, "outside"));
  release(a);
}

/* Transpose and a strided slice share the buffer; values agree with index math. */
static void test_views_share_the_buffer(void **state) {
  (void)state;
  lask_err err;
  lask_ndarray *a = arange_f64(2, (int64_t[]){3, 4});
  lask_ndarray *t =
      lask_ndarray_view(a->buf, a->data, LASK_F64, 2, (int64_t[]){4, 3}, (int64_t[]){8, 32}, &err);
  assert_non_null(t);
  assert_ptr_equal(t->buf, a->buf);
  assert_false(lask_ndarray_is_c_contiguous(t));
  assert_true(lask_ndarray_is_f_contiguous(t));
  for (int64_t i = 0; i < 4; i++)
    for (int64_t j = 0; j < 3; j++)
      assert_true(*(double *)lask_ndarray_ptr(t, (int64_t[]){i, j}) == (double)(j * 4 + i));
  /* every other column, backwards: a[:, ::-2] */
  lask_ndarray *s =
      lask_ndarray_view(a->buf, a->data + 3 * 8, LASK_F64, 2, (int64_t[]){3, 2}, (int64_t[]){32, -16}, &err);
  assert_non_null(s);
  assert_true(*(double *)lask_ndarray_ptr(s, (int64_t[]){2, 1}) == 9.0);
  lask_ndarray *c = lask_ndarray_copy(s, LASK_F64, &err);
  assert_true(lask_ndarray_is_c_contiguous(c));
  double want[] = {3, 1, 7, 5, 11, 9};
  for (int i = 0; i < 6; i++) assert_true(((double *)c->data)[i] == want[i]);
  release(a), release(t), release(s), release(c);
}

static int released;
static void count_release(lask_buffer *b) {
  released++;
  free(b->data);
}

/* The buffer outlives the array that made it while a view holds it, and its hook runs once. */
static void test_release_hook_runs_when_last_view_goes(void **state) {
  (void)state;
  lask_err err;
  released = 0;
  lask_buffer *b = lask_buffer_wrap(calloc(10, 8), 80, count_release, NULL);
  lask_ndarray *a = lask_ndarray_view(b, b->data, LASK_I64, 1, (int64_t[]){10}, (int64_t[]){8}, &err);
  lask_release(lask_objval(&b->h));
  lask_ndarray *v =
      lask_ndarray_view(a->buf, a->data + 8, LASK_I64, 1, (int64_t[]){3}, (int64_t[]){16}, &err);
  release(a);
  assert_int_equal(released, 0);
  lask_retain(lask_ndarray_value(v));
  release(v);
  assert_int_equal(released, 0);
  release(v);
  assert_int_equal(released, 1);
}

/* Big arrays come from anonymous mappings: zeroed, writable, unmapped on release. */
static void test_big_arrays_are_zeroed_mappings(void **state) {
  (void)state;
  lask_err err;
  lask_ndarray *a = lask_ndarray_new(LASK_F64, 1, (int64_t[]){1 << 20}, &err);
  assert_non_null(a);
  assert_true(((uintptr_t)a->data & 63) == 0);
  double sum = 0;
  for (int64_t i = 0; i < (1 << 20); i += 4096) sum += ((double *)a->data)[i];
  assert_true(sum == 0);
  ((double *)a->data)[(1 << 20) - 1] = 1;
  release(a);
}

/* A freed big buffer is reused by the next one of about its size, and a zeroed
 * array made from it is zeroed again; trimming unmaps it. */
static void test_big_buffers_are_reused_and_rezeroed(void **state) {
  (void)state;
  lask_err err;
  int64_t n = 3 << 20;
  lask_ndarray *a = lask_ndarray_new(LASK_I64, 1, &n, &err);
  char *first = a->data;
  for (int64_t i = 0; i < n; i += 1000) ((int64_t *)a->data)[i] = i + 1;
  release(a);
  lask_ndarray *b = lask_ndarray_new(LASK_I64, 1, &n, &err);
  assert_ptr_equal(b->data, first);
  for (int64_t i = 0; i < n; i += 1000) assert_int_equal(((int64_t *)b->data)[i], 0);
  release(b);
  int64_t half = n / 2; /* too small to take the cached mapping */
  lask_ndarray *c = lask_ndarray_empty(LASK_I64, 1, &half, &err);
  assert_ptr_not_equal(c->data, first);
  release(c);
  lask_buffer_cache_trim();
}

static void test_convert_follows_numpy(void **state) {
  (void)state;
  double f[] = {1.9, -1.9, NAN, 1e300, 0.0, -0.0};
  int64_t i[6];
  lask_convert(LASK_I64, i, 8, LASK_F64, f, 8, 6);
  assert_int_equal(i[0], 1);
  assert_int_equal(i[1], -1);
  assert_true(i[2] == INT64_MIN && i[3] == INT64_MIN);
  uint8_t b[6];
  lask_convert(LASK_BOOL, b, 1, LASK_F64, f, 8, 6);
  assert_memory_equal(b, ((uint8_t[]){1, 1, 1, 1, 0, 0}), 6);
  uint8_t raw[3] = {0, 2, 1}; /* a foreign "true" byte reads as true */
  double back[3];
  lask_convert(LASK_F64, back, 8, LASK_BOOL, raw, 1, 3);
  assert_true(back[0] == 0 && back[1] == 1 && back[2] == 1);
  float g[2];
  lask_convert(LASK_F32, g, 4, LASK_I64, (int64_t[]){7}, 0, 2); /* stride 0: a fill */
  assert_true(g[0] == 7.0f && g[1] == 7.0f);
  assert_int_equal(lask_elem_i64(LASK_F32, &(float){-2.5f}), -2);
  assert_true(lask_elem_f64(LASK_BOOL, &(uint8_t){1}) == 1.0);
}

static void test_promotion_and_names(void **state) {
  (void)state;
  assert_int_equal(lask_dtype_promote(LASK_I64, LASK_F32), LASK_F64);
  assert_int_equal(lask_dtype_promote(LASK_BOOL, LASK_F32), LASK_F32);
  assert_int_equal(lask_dtype_promote(LASK_BOOL, LASK_I64), LASK_I64);
  assert_int_equal(lask_dtype_promote(LASK_F32, LASK_F64), LASK_F64);
  assert_int_equal(lask_dtype_promote(LASK_BOOL, LASK_BOOL), LASK_BOOL);
  lask_dtype dt;
  assert_true(lask_dtype_parse("<f4", &dt) && dt == LASK_F32);
  assert_true(lask_dtype_parse("bool", &dt) && dt == LASK_BOOL);
  assert_false(lask_dtype_parse("int32", &dt));
  assert_string_equal(lask_dtype_name(LASK_I64), "int64");
  char buf[64];
  assert_string_equal(lask_shape_str(1, (int64_t[]){5}, buf, sizeof buf), "(5,)");
  assert_string_equal(lask_shape_str(2, (int64_t[]){5, 6}, buf, sizeof buf), "(5, 6)");
  assert_string_equal(lask_shape_str(0, NULL, buf, sizeof buf), "()");
}

static void test_broadcasting(void **state) {
  (void)state;
  lask_err err;
  int ndim;
  int64_t out[LASK_MAXDIM];
  assert_int_equal(lask_broadcast_shapes(2, (int[]){2, 1},
                                         (const int64_t *[]){(int64_t[]){4, 1}, (int64_t[]){3}}, &ndim, out,
                                         "add", &err),
                   LASK_OK);
  assert_int_equal(ndim, 2);
  assert_true(out[0] == 4 && out[1] == 3);
  assert_int_equal(lask_broadcast_shapes(2, (int[]){1, 1},
                                         (const int64_t *[]){(int64_t[]){4}, (int64_t[]){3}}, &ndim, out,
                                         "add", &err),
                   LASK_EINVAL);
  assert_string_equal(err.msg, "add: shapes (4,) and (3,) do not broadcast");
  lask_ndarray *a = arange_f64(1, (int64_t[]){3});
  lask_ndarray *b = lask_ndarray_broadcast_to(a, 2, (int64_t[]){2, 3}, &err);
  assert_non_null(b);
  assert_true(b->strides[0] == 0 && b->strides[1] == 8);
  assert_true(*(double *)lask_ndarray_ptr(b, (int64_t[]){1, 2}) == 2.0);
  assert_null(lask_ndarray_broadcast_to(a, 1, (int64_t[]){4}, &err));
  release(a), release(b);
}

/* The iterator visits every element once, in C order, for random layouts: compared
 * with a naive multi-index loop over views with permuted, reversed and broadcast axes. */
static void test_iterator_matches_naive_loops(void **state) {
  (void)state;
  unsigned seed = 12345;
  print_message("iterator seed %u\n", seed);
  srand(seed);
  for (int trial = 0; trial < 300; trial++) {
    int ndim = rand() % 5;
    int64_t shape[LASK_MAXDIM], base_shape[LASK_MAXDIM];
    for (int d = 0; d < ndim; d++) shape[d] = rand() % 4 + (rand() % 5 == 0 ? 0 : 1);
    for (int d = 0; d < ndim; d++) base_shape[d] = shape[d];
    lask_ndarray *base = arange_f64(ndim, base_shape);
    /* a view: some axes reversed, some broadcast (stride 0) */
    int64_t strides[LASK_MAXDIM];
    char *data = base->data;
    for (int d = 0; d < ndim; d++) {
      strides[d] = base->strides[d];
      if (rand() % 3 == 0 && shape[d] > 0)
        data += (shape[d] - 1) * strides[d], strides[d] = -strides[d];
      else if (rand() % 4 == 0)
        strides[d] = 0;
    }
    lask_err err;
    lask_ndarray *v = lask_ndarray_view(base->buf, data, LASK_F64, ndim, shape, strides, &err);
    assert_non_null(v);
    lask_ndarray *out = lask_ndarray_new(LASK_F64, ndim, shape, &err);
    lask_iter it;
    if (lask_iter_init(&it, 2, ndim, shape, (char *[]){out->data, v->data},
                       (const int64_t *[]){out->strides, v->strides}))
      do
        for (int64_t i = 0; i < it.inner; i++)
          *(double *)(it.ptr[0] + i * it.stride[0]) = *(double *)(it.ptr[1] + i * it.stride[1]);
      while (lask_iter_next(&it));
    int64_t n = lask_ndarray_size(v), idx[LASK_MAXDIM] = {0};
    for (int64_t flat = 0; flat < n; flat++) {
      assert_true(((double *)out->data)[flat] == *(double *)lask_ndarray_ptr(v, idx));
      for (int d = ndim - 1; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
    }
    /* the cursor reads the same sequence in pieces of any size */
    if (n > 0) {
      lask_cursor c;
      lask_cursor_init(&c, LASK_F64, v->data, ndim, shape, v->strides);
      float got[256];
      for (int64_t done = 0; done < n;) {
        int64_t take = 1 + rand() % 7;
        if (take > n - done) take = n - done;
        lask_cursor_read(&c, LASK_F32, got, take);
        for (int64_t i = 0; i < take; i++) assert_true(got[i] == (float)((double *)out->data)[done + i]);
        done += take;
      }
    }
    release(base), release(v), release(out);
  }
}

/* Contiguous operands merge into one run: a single call to the inner loop. */
static void test_iterator_merges_contiguous_axes(void **state) {
  (void)state;
  lask_ndarray *a = arange_f64(3, (int64_t[]){4, 5, 6});
  lask_iter it;
  assert_true(lask_iter_init(&it, 1, 3, a->shape, (char *[]){a->data}, (const int64_t *[]){a->strides}));
  assert_int_equal(it.ndim, 1);
  assert_int_equal(it.inner, 120);
  assert_false(lask_iter_next(&it));
  release(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_is_zeroed_c_contiguous),
      cmocka_unit_test(test_zero_d_and_empty),
      cmocka_unit_test(test_bad_layouts_fail_cleanly),
      cmocka_unit_test(test_views_share_the_buffer),
      cmocka_unit_test(test_release_hook_runs_when_last_view_goes),
      cmocka_unit_test(test_big_arrays_are_zeroed_mappings),
      cmocka_unit_test(test_big_buffers_are_reused_and_rezeroed),
      cmocka_unit_test(test_convert_follows_numpy),
      cmocka_unit_test(test_promotion_and_names),
      cmocka_unit_test(test_broadcasting),
      cmocka_unit_test(test_iterator_matches_naive_loops),
      cmocka_unit_test(test_iterator_merges_contiguous_axes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
