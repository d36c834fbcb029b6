/* test_array_kernels.c — the array kernels against naive loops: creation (and that any
 * chunking gives the same array), every elementwise kernel over random dtypes,
 * shapes (odd, empty, one element, broadcast) and layouts (strided, reversed),
 * numpy's promotion, fused programs equal to their unfused evaluation, scans and
 * order statistics against sorts and loops, and errors.
 * Random trials print their seed; set LASK_TEST_SEED to replay one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "array/array_kernels.h"
#include "array/scalar.h"
#include "array/ewexpr.h"
#include "array/fused.h"
#include "array/npy.h"
#include "array/random_draws.h"

static unsigned test_seed(const char *what) {
  const char *env = getenv("LASK_TEST_SEED");
  unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
  print_message("%s: seed %u (LASK_TEST_SEED=%u to replay)\n", what, seed, seed);
  srand(seed);
  return seed;
}

static void release(lask_ndarray *a) { lask_release(lask_ndarray_value(a)); }

/* Calls the array kernel name; fails the test (with the kernel's message) unless ok. */
static lask_status call(const char *name, const lask_value *args, int n, lask_value *out, lask_err *err) {
  const lask_kernel *k = lask_akernel_find(name);
  if (!k) fail_msg("no kernel %s", name);
  *out = lask_nil();
  lask_err_clear(err);
  return k->fn(k, args, n, out, err);
}

static lask_ndarray *call_array(const char *name, const lask_value *args, int n) {
  lask_err err;
  lask_value out;
  if (call(name, args, n, &out, &err)) fail_msg("%s: %s", name, err.msg);
  lask_ndarray *a = lask_ndarray_of(out);
  assert_non_null(a);
  return a;
}

static lask_value list_of(int n, const int64_t *v) {
  lask_list *l = lask_list_new((size_t)n);
  for (int i = 0; i < n; i++) l->items[i] = lask_int(v[i]);
  return lask_objval(&l->h);
}

/* A string value, kept until the group ends (tests pass them inline). */
static lask_value strings[512];
static int nstrings;

static lask_value str(const char *s) {
  assert_true(nstrings < 512);
  return strings[nstrings++] = lask_objval(&lask_str_new(s, strlen(s))->h);
}

/* A list of ints kept like the strings above. */
static lask_value tmp_list(int n, const int64_t *v) {
  assert_true(nstrings < 512);
  return strings[nstrings++] = list_of(n, v);
}

static int release_strings(void **state) {
  (void)state;
  while (nstrings) lask_release(strings[--nstrings]);
  return 0;
}

static double f64_at(const lask_ndarray *a, int64_t i) {
  return lask_elem_f64(a->dtype, a->data + i * (int64_t)lask_dtype_size(a->dtype));
}

/* --- registry --- */

static void test_registry_lists_and_finds_every_kernel(void **state) {
  (void)state;
  static const char *names[] = {
      "arange", "linspace",   "full",    "eye",           "random", "normal",    "from_npy", "add",
      "sub",    "mul",        "div",     "mod",           "pow",    "neg",       "abs",      "exp",
      "log",    "sqrt",       "sin",     "cos",           "tanh",   "maximum",   "minimum",  "where",
      "less",   "less_equal", "greater", "greater_equal", "equal",  "not_equal", "astype",   "fused"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const lask_kernel *k = lask_akernel_find(names[i]);
    if (!k) fail_msg("kernel %s missing", names[i]);
    assert_string_equal(k->name, names[i]);
  }
  int n = 0;
  for (; lask_akernel_at(n); n++)
    assert_ptr_equal(lask_akernel_find(lask_akernel_at(n)->name), lask_akernel_at(n));
  assert_true(n >= (int)(sizeof names / sizeof names[0]));
  assert_null(lask_akernel_at(n));
  assert_null(lask_akernel_at(-1));
  assert_null(lask_akernel_find("no such kernel"));
  /* operator kernels are named after their operator */
  for (int i = 0; lask_ewop_at(i); i++) {
    const lask_kernel *k = lask_akernel_find(lask_ewop_at(i)->name);
    if (strcmp(lask_ewop_at(i)->name, "powi") != 0) assert_non_null(k);
  }
}

/* --- creation --- */

static void test_arange_and_linspace(void **state) {
  (void)state;
  /* numpy's arange(start, stop, step): 3, 1, -1, -3, -5 */
  lask_ndarray *a =
      call_array("arange", (lask_value[]){lask_int(3), lask_int(-7), lask_int(-2), str("int64")}, 4);
  assert_int_equal(a->dtype, LASK_I64);
  assert_int_equal(a->shape[0], 5);
  for (int i = 0; i < 5; i++) assert_int_equal(((int64_t *)a->data)[i], 3 - 2 * i);
  release(a);
  lask_ndarray *d =
      call_array("arange", (lask_value[]){lask_int(0), lask_int(5)}, 2); /* int64 for integers, as numpy */
  assert_int_equal(d->dtype, LASK_I64);
  assert_int_equal(d->shape[0], 5);
  assert_true(((int64_t *)d->data)[4] == 4);
  release(d);
  d = call_array("arange", (lask_value[]){lask_int(0), lask_num(5)}, 2); /* a float anywhere: float64 */
  assert_int_equal(d->dtype, LASK_F64);
  assert_true(((double *)d->data)[4] == 4.0);
  release(d);
  /* a block (first element 13, 7 of them) agrees bit for bit with the whole range */
  lask_ndarray *whole = call_array("arange", (lask_value[]){lask_num(0.1), lask_num(6.05), lask_num(0.3)}, 3);
  assert_int_equal(whole->dtype, LASK_F64);
  assert_int_equal(whole->shape[0], 20);
  lask_ndarray *blk = call_array(
      "arange",
      (lask_value[]){lask_num(0.1), lask_num(6.05), lask_num(0.3), lask_nil(), lask_int(13), lask_int(7)}, 6);
  assert_int_equal(blk->shape[0], 7);
  assert_memory_equal(blk->data, whole->data + 13 * 8, 7 * 8);
  release(whole), release(blk);
  lask_ndarray *f =
      call_array("arange", (lask_value[]){lask_int(0), lask_int(4), lask_int(1), str("float32")}, 4);
  assert_int_equal(f->dtype, LASK_F32);
  assert_true(((float *)f->data)[3] == 3.0f);
  lask_release(lask_ndarray_value(f));
  lask_ndarray *l =
      call_array("linspace", (lask_value[]){lask_int(0), lask_num(0.25), lask_int(5), lask_nil()}, 4);
  assert_int_equal(l->dtype, LASK_F64);
  for (int i = 0; i < 5; i++) assert_true(((double *)l->data)[i] == 0.25 * i);
  release(l);
  lask_ndarray *e = call_array("arange", (lask_value[]){lask_int(5), lask_int(0)}, 2); /* empty, as numpy */
  assert_int_equal(lask_ndarray_size(e), 0);
  release(e);
  lask_err err;
  lask_value out;
  assert_int_equal(call("arange", (lask_value[]){lask_int(0), lask_int(1), lask_int(0)}, 3, &out, &err),
                   LASK_EINVAL);
  assert_string_equal(err.msg, "arange: step must not be 0");
  assert_int_equal(
      call("arange",
           (lask_value[]){lask_int(0), lask_int(5), lask_nil(), lask_nil(), lask_int(3), lask_int(4)}, 6,
           &out, &err),
      LASK_EINVAL);
  assert_string_equal(err.msg, "arange: elements 3..7 are outside the 5 of the range");
  assert_int_equal(call("arange", (lask_value[]){str("x"), lask_int(1), lask_int(1)}, 3, &out, &err),
                   LASK_ETYPE);
  assert_string_equal(err.msg, "arange: argument 1 must be a number, got a string");
  assert_int_equal(
      call("arange", (lask_value[]){lask_int(0), lask_int(1), lask_int(1), str("int8")}, 4, &out, &err),
      LASK_EINVAL);
  assert_non_null(strstr(err.msg, "unknown dtype 'int8'"));
}

static void test_full_and_eye(void **state) {
  (void)state;
  lask_value shape = list_of(2, (int64_t[]){3, 4});
  lask_ndarray *a = call_array("full", (lask_value[]){shape, lask_int(7)}, 2);
  assert_int_equal(a->dtype, LASK_I64);
  for (int i = 0; i < 12; i++) assert_int_equal(((int64_t *)a->data)[i], 7);
  release(a);
  a = call_array("full", (lask_value[]){shape, lask_bool(true)}, 2);
  assert_int_equal(a->dtype, LASK_BOOL);
  assert_int_equal(a->data[11], 1);
  release(a);
  a = call_array("full", (lask_value[]){shape, lask_int(1), str("float32")}, 3);
  assert_true(a->dtype == LASK_F32 && ((float *)a->data)[5] == 1.0f);
  release(a);
  lask_value empty = list_of(0, NULL);
  a = call_array("full", (lask_value[]){empty, lask_num(2.5)}, 2);
  assert_true(a->ndim == 0 && ((double *)a->data)[0] == 2.5);
  release(a);
  for (int64_t k = -4; k <= 5; k++) {
    lask_ndarray *e = call_array("eye", (lask_value[]){shape, lask_int(k), str("int64")}, 3);
    for (int64_t r = 0; r < 3; r++)
      for (int64_t c = 0; c < 4; c++) assert_int_equal(((int64_t *)e->data)[r * 4 + c], c - r == k);
    release(e);
  }
  lask_release(shape), lask_release(empty);
}

static void test_philox_known_answers(void **state) {
  (void)state;
  static const uint32_t kat[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e,
       0xa20bc7c6, 0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb,
       0x5001e420, 0x24126ea1},
  };
  for (int i = 0; i < 3; i++) {
    uint32_t out[4];
    lask_philox4x32_10(kat[i], kat[i] + 4, out);
    assert_memory_equal(out, kat[i] + 6, sizeof out);
  }
}

/* Every compiled path this processor runs gives the base path's bits, whatever the
 * first draw and the count (odd, partial steps); the base path's uniform draws are the
 * Philox words taken one counter at a time, and its normal draws libm's Box-Muller
 * pair within rounding. */
static void test_draws_paths_agree(void **state) {
  (void)state;
  enum { N = 1000 };
  static double base[N], other[N];
  const uint64_t seed = 0x123456789abcdefull;
  const uint64_t firsts[] = {0, 1, 7, 33, 1000001};
  const int64_t counts[] = {0, 1, 2, 15, 16, 17, 31, 33, 999, N};
  for (int normal = 0; normal < 2; normal++)
    for (size_t f = 0; f < sizeof firsts / sizeof *firsts; f++)
      for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        lask_draws_on(LASK_DRAWS_BASE, seed, (uint32_t)normal, firsts[f], counts[c], normal, -1.5, 3.0, base);
        for (int p = LASK_DRAWS_AVX2; p <= LASK_DRAWS_AVX512; p++) {
          if (!lask_draws_path_ok((lask_draws_path)p)) continue;
          memset(other, 0, sizeof other);
          lask_draws_on((lask_draws_path)p, seed, (uint32_t)normal, firsts[f], counts[c], normal, -1.5, 3.0,
                        other);
          assert_memory_equal(base, other, (size_t)counts[c] * sizeof *base);
        }
        for (int64_t i = 0; i < counts[c]; i++) { /* the reference, a draw at a time */
          uint64_t e = firsts[f] + (uint64_t)i, j = e / 2;
          uint32_t ctr[4] = {(uint32_t)j, (uint32_t)(j >> 32), (uint32_t)normal, 0},
                   key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, w[4];
          lask_philox4x32_10(ctr, key, w);
          double u[2];
          for (int k = 0; k < 2; k++)
            u[k] = (double)((((uint64_t)w[2 * k] << 32) | w[2 * k + 1]) >> 11) * 0x1p-53;
          if (!normal) {
            assert_true(base[i] == u[e % 2]);
          } else {
            double r = sqrt(-2.0 * log(1.0 - u[0])), t = 6.283185307179586 * u[1];
            double z = e % 2 ? r * sin(t) : r * cos(t);
            assert_true(fabs(base[i] - (-1.5 + 3.0 * z)) <= 1e-14 * (1 + fabs(base[i])));
          }
        }
      }
}

/* The same (seed, global shape) gives the same bits whatever the chunking. */
static void test_random_is_chunking_independent(void **state) {
  (void)state;
  const int64_t g[2] = {37, 23};
  lask_value gshape = list_of(2, g), zero = list_of(2, (int64_t[]){0, 0});
  for (int normal = 0; normal < 2; normal++) {
    const char *name = normal ? "normal" : "random";
    lask_value args[6] = {gshape, lask_int(42), zero, gshape, lask_num(1.5), lask_num(2.0)};
    lask_ndarray *whole = call_array(name, args, normal ? 6 : 4);
    const int64_t rows[] = {0, 10, 11, 37}, cols[] = {0, 7, 23};
    for (int bi = 0; bi < 3; bi++)
      for (int bj = 0; bj < 2; bj++) {
        int64_t off[2] = {rows[bi], cols[bj]}, bs[2] = {rows[bi + 1] - rows[bi], cols[bj + 1] - cols[bj]};
        lask_value bsv = list_of(2, bs), offv = list_of(2, off);
        lask_value bargs[6] = {bsv, lask_int(42), offv, gshape, lask_num(1.5), lask_num(2.0)};
        lask_ndarray *b = call_array(name, bargs, normal ? 6 : 4);
        for (int64_t r = 0; r < bs[0]; r++)
          for (int64_t c = 0; c < bs[1]; c++)
            assert_true(((double *)b->data)[r * bs[1] + c] ==
                        ((double *)whole->data)[(off[0] + r) * g[1] + off[1] + c]);
        release(b), lask_release(bsv), lask_release(offv);
      }
    release(whole);
  }
  /* different seeds differ; the seed alone (no offsets) is the whole array */
  lask_ndarray *a = call_array("random", (lask_value[]){gshape, lask_int(1)}, 2);
  lask_ndarray *b = call_array("random", (lask_value[]){gshape, lask_int(2)}, 2);
  assert_true(memcmp(a->data, b->data, 8 * 37 * 23) != 0);
  release(a), release(b);
  lask_release(gshape), lask_release(zero);
}

static void test_random_distributions(void **state) {
  (void)state;
  const int64_t n = 200000;
  lask_value shape = list_of(1, &n);
  lask_ndarray *u = call_array("random", (lask_value[]){shape, lask_int(7)}, 2);
  lask_ndarray *z = call_array(
      "normal", (lask_value[]){shape, lask_int(7), lask_nil(), lask_nil(), lask_num(3), lask_num(2)}, 6);
  double su = 0, su2 = 0, sz = 0, sz2 = 0;
  for (int64_t i = 0; i < n; i++) {
    double x = ((double *)u->data)[i], y = ((double *)z->data)[i];
    assert_true(x >= 0 && x < 1);
    assert_true(isfinite(y));
    su += x, su2 += x * x, sz += y, sz2 += y * y;
  }
  double mu = su / n, vu = su2 / n - mu * mu, mz = sz / n, vz = sz2 / n - mz * mz;
  assert_true(fabs(mu - 0.5) < 0.005 && fabs(vu - 1.0 / 12) < 0.002);
  assert_true(fabs(mz - 3) < 0.02 && fabs(sqrt(vz) - 2) < 0.02);
  release(u), release(z), lask_release(shape);
}

static void test_from_npy_blocks(void **state) {
  (void)state;
  char dir[] = "/tmp/lask-test-ak-XXXXXX", path[64];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/a.npy", dir);
  lask_value shape = list_of(2, (int64_t[]){6, 5});
  lask_ndarray *a = call_array("random", (lask_value[]){shape, lask_int(3)}, 2);
  lask_err err;
  assert_int_equal(lask_npy_save(path, a, &err), LASK_OK);
  lask_value p = str(path), off = list_of(2, (int64_t[]){2, 1}), bs = list_of(2, (int64_t[]){3, 4});
  lask_ndarray *b = call_array("from_npy", (lask_value[]){p, off, bs}, 3);
  for (int64_t r = 0; r < 3; r++)
    for (int64_t c = 0; c < 4; c++)
      assert_true(*(double *)lask_ndarray_ptr(b, (int64_t[]){r, c}) ==
                  ((double *)a->data)[(r + 2) * 5 + c + 1]);
  lask_ndarray *w = call_array("from_npy", &p, 1);
  assert_memory_equal(w->data, a->data, 30 * 8);
  lask_value out, bad = str("/nonexistent/x.npy");
  assert_int_equal(call("from_npy", (lask_value[]){bad, off, bs}, 3, &out, &err), LASK_EINVAL);
  assert_non_null(strstr(err.msg, "/nonexistent/x.npy"));
  release(a), release(b), release(w);
  lask_release(shape), lask_release(off), lask_release(bs);
  unlink(path), rmdir(dir);
}

/* --- elementwise against a naive reference --- */

/* A scalar of the reference: floats in f (float32 values rounded), ints and bools in i. */
typedef struct sv {
  lask_dtype dt;
  double f;
  int64_t i;
} sv;

static sv sv_cast(sv v, lask_dtype to) {
  sv r = {to, 0, 0};
  double src = v.dt == LASK_F64 || v.dt == LASK_F32 ? v.f : (double)v.i;
  bool isf = v.dt == LASK_F64 || v.dt == LASK_F32;
  switch (to) {
  case LASK_F64: r.f = src; break;
  case LASK_F32: r.f = (double)(float)src; break;
  case LASK_I64: r.i = isf ? lask_elem_i64(LASK_F64, &src) : v.i; break;
  case LASK_BOOL: r.i = isf ? src != 0 : v.i != 0; break;
  }
  return r;
}

static int kind(lask_dtype dt) { return dt == LASK_BOOL ? 0 : dt == LASK_I64 ? 1 : 2; }

/* numpy's promotion on our dtypes, weak = a Python scalar (a Lua number); arrays,
 * 0-d ones too, are strong (numpy 2's rule). */
static lask_dtype promote_w(lask_dtype a, bool wa, lask_dtype b, bool wb) {
  if (wa == wb) return lask_dtype_promote(a, b);
  lask_dtype s = wa ? b : a, w = wa ? a : b;
  return kind(w) > kind(s) ? lask_dtype_promote(s, w) : s;
}

static double mod_ref(double x, double y) {
  double m = fmod(x, y);
  if (y == 0) return m;
  if (m != 0) return (y < 0) != (m < 0) ? m + y : m;
  return copysign(0.0, y);
}

/* op over x, y (already in ct); sets *bad on a domain error. */
static sv ref_op(const char *op, lask_dtype ct, sv x, sv y, sv z, int64_t n, bool *bad) {
  sv r = {ct, 0, 0};
  bool cmp = false;
  int c = 0;
  if (strcmp(op, "where") == 0) return x.i ? y : z;
  if (ct == LASK_F64 || ct == LASK_F32) {
    double a = x.f, b = y.f, v = 0;
    bool f32 = ct == LASK_F32;
    float af = (float)a, bf = (float)b;
#define FOP(E64, E32) v = f32 ? (double)(E32) : (E64)
    if (!strcmp(op, "add"))
      FOP(a + b, af + bf);
    else if (!strcmp(op, "sub"))
      FOP(a - b, af - bf);
    else if (!strcmp(op, "mul"))
      FOP(a * b, af * bf);
    else if (!strcmp(op, "div"))
      FOP(a / b, af / bf);
    else if (!strcmp(op, "mod"))
      FOP(mod_ref(a, b), (float)mod_ref(af, bf));
    else if (!strcmp(op, "pow"))
      FOP(pow(a, b), powf(af, bf));
    else if (!strcmp(op, "maximum"))
      v = (a >= b || a != a) ? a : b;
    else if (!strcmp(op, "minimum"))
      v = (a <= b || a != a) ? a : b;
    else if (!strcmp(op, "neg"))
      v = -a;
    else if (!strcmp(op, "abs"))
      v = fabs(a);
    else if (!strcmp(op, "exp"))
      FOP(exp(a), expf(af));
    else if (!strcmp(op, "log"))
      FOP(log(a), logf(af));
    else if (!strcmp(op, "sqrt"))
      FOP(sqrt(a), sqrtf(af));
    else if (!strcmp(op, "sin"))
      FOP(sin(a), sinf(af));
    else if (!strcmp(op, "cos"))
      FOP(cos(a), cosf(af));
    else if (!strcmp(op, "tanh"))
      FOP(tanh(a), tanhf(af));
    else if (!strcmp(op, "powi")) { /* the kernel's order of products */
      int64_t e = llabs(n);
      double p = e == 0 ? 1 : e == 1 ? a : e == 2 ? a * a : e == 3 ? a * a * a : (a * a) * (a * a);
      float pf = e == 0 ? 1 : e == 1 ? af : e == 2 ? af * af : e == 3 ? af * af * af : (af * af) * (af * af);
      if (e >= 5) { /* repeated squaring */
        double b2 = a;
        float bf = af;
        p = 1, pf = 1;
        for (int64_t k = e; k; k >>= 1, b2 *= b2, bf *= bf)
          if (k & 1) p *= b2, pf *= bf;
      }
      FOP(n < 0 ? 1 / p : p, n < 0 ? 1 / pf : pf);
    } else
      cmp = true, c = !strcmp(op, "less")            ? a < b
                      : !strcmp(op, "less_equal")    ? a <= b
                      : !strcmp(op, "greater")       ? a > b
                      : !strcmp(op, "greater_equal") ? a >= b
                      : !strcmp(op, "equal")         ? a == b
                                                     : a != b;
#undef FOP
    r.f = f32 ? (double)(float)v : v;
  } else if (ct == LASK_I64) {
    uint64_t a = (uint64_t)x.i, b = (uint64_t)y.i;
    if (!strcmp(op, "add"))
      r.i = (int64_t)(a + b);
    else if (!strcmp(op, "sub"))
      r.i = (int64_t)(a - b);
    else if (!strcmp(op, "mul"))
      r.i = (int64_t)(a * b);
    else if (!strcmp(op, "mod"))
      r.i = y.i == 0 || y.i == -1
                ? 0
                : (x.i % y.i != 0 && ((x.i % y.i < 0) != (y.i < 0)) ? x.i % y.i + y.i : x.i % y.i);
    else if (!strcmp(op, "pow") || !strcmp(op, "powi")) {
      int64_t e = !strcmp(op, "pow") ? y.i : n;
      uint64_t p = 1;
      if (e < 0) *bad = true;
      for (int64_t k = 0; k < e; k++) p *= a;
      r.i = (int64_t)p;
    } else if (!strcmp(op, "maximum"))
      r.i = x.i > y.i ? x.i : y.i;
    else if (!strcmp(op, "minimum"))
      r.i = x.i < y.i ? x.i : y.i;
    else if (!strcmp(op, "neg"))
      r.i = (int64_t)(0 - a);
    else if (!strcmp(op, "abs"))
      r.i = x.i < 0 ? (int64_t)(0 - a) : x.i;
    else
      cmp = true, c = !strcmp(op, "less")            ? x.i < y.i
                      : !strcmp(op, "less_equal")    ? x.i <= y.i
                      : !strcmp(op, "greater")       ? x.i > y.i
                      : !strcmp(op, "greater_equal") ? x.i >= y.i
                      : !strcmp(op, "equal")         ? x.i == y.i
                                                     : x.i != y.i;
  } else {
    int a = x.i != 0, b = y.i != 0;
    if (!strcmp(op, "add") || !strcmp(op, "maximum"))
      r.i = a | b;
    else if (!strcmp(op, "mul") || !strcmp(op, "minimum"))
      r.i = a & b;
    else if (!strcmp(op, "abs"))
      r.i = a;
    else if (!strcmp(op, "sub") || !strcmp(op, "neg"))
      *bad = true;
    else
      cmp = true, c = !strcmp(op, "less")            ? a < b
                      : !strcmp(op, "less_equal")    ? a <= b
                      : !strcmp(op, "greater")       ? a > b
                      : !strcmp(op, "greater_equal") ? a >= b
                      : !strcmp(op, "equal")         ? a == b
                                                     : a != b;
  }
  if (cmp) r = (sv){LASK_BOOL, 0, c};
  return r;
}

typedef struct opinfo {
  const char *name;
  int arity;
  char rule; /* a: arith, n: arith but bool as int, d: div, f: float, s: same, c: compare, w: where, p: powi,
                t: astype */
} opinfo;

static const opinfo opinfos[] = {
    {"add", 2, 'a'},    {"sub", 2, 'a'},        {"mul", 2, 'a'},     {"div", 2, 'd'},
    {"mod", 2, 'n'},    {"pow", 2, 'n'},        {"maximum", 2, 'a'}, {"minimum", 2, 'a'},
    {"neg", 1, 's'},    {"abs", 1, 's'},        {"exp", 1, 'f'},     {"log", 1, 'f'},
    {"sqrt", 1, 'f'},   {"sin", 1, 'f'},        {"cos", 1, 'f'},     {"tanh", 1, 'f'},
    {"less", 2, 'c'},   {"less_equal", 2, 'c'}, {"greater", 2, 'c'}, {"greater_equal", 2, 'c'},
    {"equal", 2, 'c'},  {"not_equal", 2, 'c'},  {"where", 3, 'w'},   {"powi", 1, 'p'},
    {"astype", 1, 't'},
};

/* The compute dtype the reference works in, and the result dtype. */
static void ref_types(const opinfo *op, const lask_dtype *dt, const bool *weak, lask_dtype cast_to,
                      lask_dtype *ct, lask_dtype *rt) {
  lask_dtype p = op->arity >= 2 ? promote_w(dt[0], weak[0], dt[1], weak[1]) : dt[0];
  switch (op->rule) {
  case 'a':
  case 's': *ct = *rt = p; break;
  case 'n':
  case 'p': *ct = *rt = p == LASK_BOOL ? LASK_I64 : p; break;
  case 'd': *ct = *rt = kind(p) < 2 ? LASK_F64 : p; break;
  case 'f': *ct = *rt = p == LASK_F32 ? LASK_F32 : LASK_F64; break;
  case 'c': *ct = p, *rt = LASK_BOOL; break;
  case 'w': *ct = *rt = promote_w(dt[1], weak[1], dt[2], weak[2]); break;
  case 't': *ct = dt[0], *rt = cast_to; break;
  }
}

/* A random operand: a Lua-like scalar (weak) or an array of dt broadcastable to
 * out (leading axes dropped, some extents 1), sometimes a strided, reversed view. */
typedef struct operand {
  lask_value v;
  lask_dtype dt;
  bool weak;
  lask_ndarray *a; /* NULL for scalars */
} operand;

static sv random_value(lask_dtype dt, bool nonneg) {
  sv v = {dt, 0, 0};
  int r = rand();
  if (dt == LASK_BOOL)
    v.i = r % 2;
  else if (dt == LASK_I64)
    v.i = nonneg ? r % 5 : r % 13 - 6;
  else
    v.f = r % 50 == 0 ? NAN : (r % 4 == 0 ? (double)(r % 9 - 4) : (double)(r % 2001 - 1000) / 250.0);
  if (dt == LASK_F32) v.f = (double)(float)v.f;
  return v;
}

static void put(lask_ndarray *a, char *p, sv v) {
  if (v.dt == LASK_F64 || v.dt == LASK_F32)
    lask_convert(a->dtype, p, 0, LASK_F64, &v.f, 0, 1);
  else
    lask_convert(a->dtype, p, 0, LASK_I64, &v.i, 0, 1);
}

static sv get(const lask_ndarray *a, const char *p) {
  sv v = {a->dtype, 0, 0};
  if (a->dtype == LASK_F64 || a->dtype == LASK_F32)
    v.f = lask_elem_f64(a->dtype, p);
  else
    v.i = lask_elem_i64(a->dtype, p);
  return v;
}

static operand random_operand(lask_dtype dt, int ndim, const int64_t *out, bool scalar, bool nonneg) {
  operand o = {lask_nil(), dt, scalar, NULL};
  if (scalar) {
    if (dt == LASK_F32) o.dt = dt = LASK_F64; /* Lua has no float32 numbers */
    sv v = random_value(dt, nonneg);
    o.v = dt == LASK_BOOL ? lask_bool(v.i) : dt == LASK_I64 ? lask_int(v.i) : lask_num(v.f);
    return o;
  }
  int nd = ndim - rand() % (ndim + 1);
  int64_t shape[LASK_MAXDIM];
  for (int d = 0; d < nd; d++) shape[d] = rand() % 4 == 0 ? 1 : out[ndim - nd + d];
  lask_err err;
  /* a base twice as long on the last axis, viewed with stride -2 there */
  bool strided = nd > 0 && rand() % 3 == 0;
  int64_t base_shape[LASK_MAXDIM];
  for (int d = 0; d < nd; d++) base_shape[d] = shape[d] * (strided && d == nd - 1 ? 2 : 1);
  lask_ndarray *base = lask_ndarray_new(dt, nd, base_shape, &err);
  assert_non_null(base);
  size_t size = lask_dtype_size(dt);
  for (int64_t i = 0; i < lask_ndarray_size(base); i++)
    put(base, base->data + i * (int64_t)size, random_value(dt, nonneg));
  if (!strided) {
    o.a = base;
  } else {
    int64_t strides[LASK_MAXDIM];
    for (int d = 0; d < nd; d++) strides[d] = base->strides[d];
    strides[nd - 1] = -2 * (int64_t)size;
    char *data = base->data + (shape[nd - 1] > 0 ? (base_shape[nd - 1] - 1) * (int64_t)size : 0);
    if (lask_ndarray_size(base) == 0) data = base->data, strides[nd - 1] = (int64_t)size;
    o.a = lask_ndarray_view(base->buf, data, dt, nd, shape, strides, &err);
    assert_non_null(o.a);
    release(base);
  }
  o.weak = false; /* an array, 0-d ones too, is strong (numpy 2) */
  o.v = lask_ndarray_value(o.a);
  return o;
}

/* The operand's element at multi-index idx of the output (broadcast). */
static sv operand_at(const operand *o, int ndim, const int64_t *idx) {
  if (!o->a) {
    sv v = {o->dt, 0, 0};
    if (o->v.type == LASK_TBOOL)
      v.i = o->v.as.b;
    else if (o->v.type == LASK_TINT)
      v.i = o->v.as.i;
    else
      v.f = o->v.as.n;
    return v;
  }
  int64_t sub[LASK_MAXDIM];
  for (int d = 0; d < o->a->ndim; d++) {
    int64_t i = idx[ndim - o->a->ndim + d];
    sub[d] = o->a->shape[d] == 1 ? 0 : i;
  }
  return get(o->a, lask_ndarray_ptr(o->a, sub));
}

static bool same_value(sv a, sv b) {
  if (a.dt != b.dt) return false;
  if (a.dt == LASK_F64 || a.dt == LASK_F32) return (isnan(a.f) && isnan(b.f)) || a.f == b.f;
  return a.i == b.i;
}

static void random_out_shape(int *ndim, int64_t *shape) {
  *ndim = rand() % 4;
  for (int d = 0; d < *ndim; d++) shape[d] = rand() % 10 == 0 ? 0 : rand() % 6 + 1;
  if (*ndim > 0 && rand() % 4 == 0) shape[*ndim - 1] = 700 + rand() % 1500; /* several tiles, with a tail */
}

static void test_elementwise_against_naive_loops(void **state) {
  (void)state;
  test_seed("elementwise");
  int nop = (int)(sizeof opinfos / sizeof opinfos[0]), checked = 0, errors = 0;
  for (int trial = 0; trial < 3000; trial++) {
    const opinfo *op = &opinfos[trial % nop];
    int ndim;
    int64_t shape[LASK_MAXDIM];
    random_out_shape(&ndim, shape);
    operand o[3];
    lask_dtype dt[3] = {LASK_F64, LASK_F64, LASK_F64};
    bool weak[3] = {false, false, false};
    int64_t powi_n = rand() % 9 - 4;
    lask_dtype cast_to = (lask_dtype)(rand() % 4);
    for (int k = 0; k < op->arity; k++) {
      bool nonneg = !strcmp(op->name, "pow") && k == 1 && rand() % 5;
      o[k] = random_operand((lask_dtype)(rand() % 4), ndim, shape, rand() % 5 == 0, nonneg);
      dt[k] = o[k].dt, weak[k] = o[k].weak;
    }
    if (!strcmp(op->name, "where")) weak[0] = true; /* the condition's dtype never matters */
    lask_dtype ct = LASK_F64, rt = LASK_F64;
    ref_types(op, dt, weak, cast_to, &ct, &rt);
    lask_value out = lask_nil(), args[3] = {o[0].v, o[1].v, o[2].v};
    lask_err err;
    lask_status st;
    if (!strcmp(op->name, "powi"))
      st = lask_ew_apply("powi", lask_ewop_find("powi"), &(lask_ew_param){powi_n, LASK_F64}, args, 1, &out,
                         &err);
    else if (!strcmp(op->name, "astype"))
      args[1] = lask_objval(&lask_str_new(lask_dtype_name(cast_to), strlen(lask_dtype_name(cast_to)))->h),
      st = call("astype", args, 2, &out, &err), lask_release(args[1]);
    else
      st = call(op->name, args, op->arity, &out, &err);
    /* the expected shape, then every element against the reference */
    int nd[3], n = 0, ondim = 0;
    const int64_t *shapes[3];
    int64_t oshape[LASK_MAXDIM], idx[LASK_MAXDIM] = {0}, total = 1;
    for (int k = 0; k < op->arity; k++)
      if (o[k].a) nd[n] = o[k].a->ndim, shapes[n++] = o[k].a->shape;
    assert_int_equal(lask_broadcast_shapes(n, nd, shapes, &ondim, oshape, "test", &err), LASK_OK);
    for (int d = 0; d < ondim; d++) total *= oshape[d];
    lask_ndarray *res = lask_ndarray_of(out);
    if (st == LASK_OK) {
      if ((res != NULL) != (n > 0))
        fail_msg("trial %d: %s: array result %d with %d array operands", trial, op->name, res != NULL, n);
      if (res) {
        if (res->dtype != rt)
          fail_msg("trial %d: %s: dtype %s, want %s (operands %s%s %s%s %s%s)", trial, op->name,
                   lask_dtype_name(res->dtype), lask_dtype_name(rt), lask_dtype_name(dt[0]),
                   weak[0] ? "w" : "", lask_dtype_name(dt[1]), weak[1] ? "w" : "", lask_dtype_name(dt[2]),
                   weak[2] ? "w" : "");
        assert_int_equal(res->ndim, ondim);
        for (int d = 0; d < ondim; d++) assert_int_equal(res->shape[d], oshape[d]);
        assert_true(lask_ndarray_is_c_contiguous(res));
      }
    }
    bool bad = false; /* pow(array, small int) multiplies, as powi */
    bool pow_by_powi = !strcmp(op->name, "pow") && o[0].a && o[0].a->ndim > 0 && o[1].v.type == LASK_TINT &&
                       llabs(o[1].v.as.i) <= 16;
    for (int64_t flat = 0; flat < total; flat++) {
      sv x[3], want;
      for (int k = 0; k < op->arity; k++) x[k] = operand_at(&o[k], ondim, idx);
      if (op->rule == 't')
        want = sv_cast(x[0], rt);
      else if (op->rule == 'w')
        want = ref_op("where", ct, sv_cast(x[0], LASK_BOOL), sv_cast(x[1], ct), sv_cast(x[2], ct), 0, &bad);
      else if (pow_by_powi)
        want = sv_cast(ref_op("powi", ct, sv_cast(x[0], ct), x[0], x[0], o[1].v.as.i, &bad), rt);
      else
        want = sv_cast(ref_op(op->name, ct, sv_cast(x[0], ct), op->arity > 1 ? sv_cast(x[1], ct) : x[0], x[0],
                              powi_n, &bad),
                       rt);
      for (int d = ondim - 1; d >= 0 && ++idx[d] == oshape[d]; d--) idx[d] = 0;
      if (st != LASK_OK) continue;
      sv got = {rt, 0, 0};
      if (res)
        got = get(res, res->data + flat * (int64_t)lask_dtype_size(rt));
      else if (out.type == LASK_TBOOL)
        got.i = out.as.b;
      else if (out.type == LASK_TINT)
        got.i = out.as.i;
      else
        got.f = rt == LASK_F32 ? (double)(float)out.as.n : out.as.n;
      if (!same_value(want, got))
        fail_msg("trial %d: %s at %lld: want %g/%lld, got %g/%lld (%s)", trial, op->name, (long long)flat,
                 want.f, (long long)want.i, got.f, (long long)got.i, lask_dtype_name(rt));
      checked++;
    }
    /* failures must be the expected ones: bool sub/neg, integer negative powers */
    bool expect_fail = (ct == LASK_BOOL && (!strcmp(op->name, "sub") || !strcmp(op->name, "neg"))) || bad;
    if (st != LASK_OK) {
      errors++;
      if (!expect_fail) fail_msg("trial %d: %s failed: %s", trial, op->name, err.msg);
      assert_non_null(strstr(err.msg, op->name));
    } else if (expect_fail) {
      fail_msg("trial %d: %s should have failed", trial, op->name);
    }
    lask_release(out);
    for (int k = 0; k < op->arity; k++) lask_release(o[k].v);
  }
  print_message("elementwise: %d elements checked, %d expected errors\n", checked, errors);
}

/* numpy 1.24's answers, pinned (np.result_type / value-based casting). */
static void test_promotion_matches_numpy(void **state) {
  (void)state;
  static const struct {
    const char *op;
    lask_dtype a;
    int b; /* a dtype, or -1 int scalar, -2 float scalar, -3 bool scalar */
    lask_dtype want;
  } cases[] = {
      {"add", LASK_F32, -1, LASK_F32},         {"add", LASK_F32, -2, LASK_F32},
      {"add", LASK_I64, -2, LASK_F64},         {"add", LASK_BOOL, -1, LASK_I64},
      {"add", LASK_BOOL, -2, LASK_F64},        {"mul", LASK_BOOL, -3, LASK_BOOL},
      {"add", LASK_I64, LASK_F32, LASK_F64},   {"add", LASK_BOOL, LASK_BOOL, LASK_BOOL},
      {"div", LASK_I64, LASK_I64, LASK_F64},   {"div", LASK_F32, -1, LASK_F32},
      {"div", LASK_BOOL, LASK_BOOL, LASK_F64}, {"mod", LASK_BOOL, LASK_BOOL, LASK_I64},
      {"less", LASK_I64, -2, LASK_BOOL},       {"maximum", LASK_BOOL, LASK_BOOL, LASK_BOOL},
      {"pow", LASK_F32, -2, LASK_F32},         {"pow", LASK_I64, -1, LASK_I64},
  };
  lask_err err;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lask_ndarray *a = lask_ndarray_new(cases[i].a, 1, (int64_t[]){3}, &err);
    lask_value b =
        cases[i].b == -1   ? lask_int(2)
        : cases[i].b == -2 ? lask_num(2.5)
        : cases[i].b == -3
            ? lask_bool(true)
            : lask_ndarray_value(lask_ndarray_new((lask_dtype)cases[i].b, 1, (int64_t[]){3}, &err));
    lask_value out;
    assert_int_equal(call(cases[i].op, (lask_value[]){lask_ndarray_value(a), b}, 2, &out, &err), LASK_OK);
    if (lask_ndarray_of(out)->dtype != cases[i].want)
      fail_msg("case %zu: %s gives %s, numpy %s", i, cases[i].op,
               lask_dtype_name(lask_ndarray_of(out)->dtype), lask_dtype_name(cases[i].want));
    lask_release(out), lask_release(b), release(a);
  }
  /* 0-d arrays are arrays (numpy 2): f32 array + int64 0-d is float64, f32 array +
   * f64 0-d is float64 (numpy 1.24 made them weak: float32) */
  lask_ndarray *f = lask_ndarray_new(LASK_F32, 1, (int64_t[]){2}, &err),
               *s = lask_ndarray_new(LASK_I64, 0, NULL, &err),
               *s2 = lask_ndarray_new(LASK_F64, 0, NULL, &err);
  lask_value out;
  assert_int_equal(call("add", (lask_value[]){lask_ndarray_value(f), lask_ndarray_value(s)}, 2, &out, &err),
                   LASK_OK);
  assert_int_equal(lask_ndarray_of(out)->dtype, LASK_F64);
  lask_release(out);
  assert_int_equal(call("mul", (lask_value[]){lask_ndarray_value(s2), lask_ndarray_value(f)}, 2, &out, &err),
                   LASK_OK);
  assert_int_equal(lask_ndarray_of(out)->dtype, LASK_F64);
  lask_release(out), release(f), release(s), release(s2);
  /* scalars only: a scalar result, numpy's types */
  assert_int_equal(call("div", (lask_value[]){lask_int(1), lask_int(2)}, 2, &out, &err), LASK_OK);
  assert_true(out.type == LASK_TNUM && out.as.n == 0.5);
  assert_int_equal(call("mod", (lask_value[]){lask_int(-7), lask_int(3)}, 2, &out, &err), LASK_OK);
  assert_true(out.type == LASK_TINT && out.as.i == 2);
  assert_int_equal(call("less", (lask_value[]){lask_int(1), lask_num(1.5)}, 2, &out, &err), LASK_OK);
  assert_true(out.type == LASK_TBOOL && out.as.b);
}

static void test_elementwise_errors(void **state) {
  (void)state;
  lask_err err;
  lask_value out;
  lask_ndarray *a = lask_ndarray_new(LASK_F64, 1, (int64_t[]){3}, &err),
               *b = lask_ndarray_new(LASK_F64, 1, (int64_t[]){4}, &err);
  lask_ndarray *t = lask_ndarray_new(LASK_BOOL, 1, (int64_t[]){3}, &err);
  lask_value av = lask_ndarray_value(a), bv = lask_ndarray_value(b), tv = lask_ndarray_value(t), s = str("x");
  assert_int_equal(call("add", (lask_value[]){av, bv}, 2, &out, &err), LASK_EINVAL);
  assert_string_equal(err.msg, "add: shapes (3,) and (4,) do not broadcast");
  assert_int_equal(call("add", (lask_value[]){av, s}, 2, &out, &err), LASK_ETYPE);
  assert_string_equal(err.msg, "add: argument 2 is a string, not an array or a number");
  assert_int_equal(call("add", (lask_value[]){av}, 1, &out, &err), LASK_EINVAL);
  assert_string_equal(err.msg, "add expects 2 arguments, got 1");
  assert_int_equal(call("sub", (lask_value[]){tv, tv}, 2, &out, &err), LASK_ETYPE);
  assert_non_null(strstr(err.msg, "sub: numpy boolean subtract is not supported"));
  assert_int_equal(call("pow", (lask_value[]){lask_int(2), lask_int(-1)}, 2, &out, &err), LASK_ETYPE);
  assert_string_equal(err.msg, "pow: integers to negative integer powers are not allowed");
  assert_int_equal(call("astype", (lask_value[]){av, s}, 2, &out, &err), LASK_EINVAL);
  assert_non_null(strstr(err.msg, "astype:"));
  release(a), release(b), release(t);
}

/* --- fused programs --- */

/* into(dest, offset, f, args...): a fused f writes straight into a contiguous
 * region of dest; anything else (a strided region, another kernel) is computed and
 * copied; what does not fit is an error and dest keeps its contents. */
static void test_into_writes_blocks_in_place(void **state) {
  (void)state;
  lask_err err;
  lask_value out;
  lask_kernel *k = lask_fused_kernel_new("2 $1 mul 1 add", &err);
  lask_value kv = lask_objval(&k->h);
  lask_ndarray *dest = call_array("empty", (lask_value[]){tmp_list(2, (int64_t[]){4, 6}), str("float64")}, 2);
  assert_int_equal(dest->dtype, LASK_F64);
  lask_value dv = lask_ndarray_value(dest);
  for (int i = 0; i < 24; i++) ((double *)dest->data)[i] = -1;
  /* rows 1..2, all columns: one contiguous run, evaluated in place */
  lask_ndarray *x = call_array("full", (lask_value[]){tmp_list(2, (int64_t[]){2, 6}), lask_num(3.0)}, 2);
  assert_int_equal(call("into", (lask_value[]){dv, tmp_list(2, (int64_t[]){1, 0}), kv, lask_ndarray_value(x)},
                        4, &out, &err),
                   LASK_OK);
  assert_int_equal(out.type, LASK_TNIL);
  /* rows 2..3, columns 0..1: strided in dest, computed then copied; rows 2..3,
   * columns 4..5 through "add", which is not fused */
  lask_ndarray *y = call_array("full", (lask_value[]){tmp_list(2, (int64_t[]){2, 2}), lask_num(1.0)}, 2);
  assert_int_equal(call("into", (lask_value[]){dv, tmp_list(2, (int64_t[]){2, 0}), kv, lask_ndarray_value(y)},
                        4, &out, &err),
                   LASK_OK);
  lask_ndarray *z = call_array("full", (lask_value[]){tmp_list(2, (int64_t[]){2, 2}), lask_num(5.0)}, 2);
  const lask_kernel *add = lask_akernel_find("add");
  assert_int_equal(call("into",
                        (lask_value[]){dv, tmp_list(2, (int64_t[]){2, 4}), lask_objval((lask_obj *)&add->h),
                                       lask_ndarray_value(z), lask_int(1)},
                        5, &out, &err),
                   LASK_OK);
  static const double want[24] = {-1, -1, -1, -1, -1, -1, 7, 7, 7,  7,  7, 7,
                                  3,  3,  7,  7,  6,  6,  3, 3, -1, -1, 6, 6};
  assert_memory_equal(dest->data, want, sizeof want);
  /* a block that does not fit: an error naming the kernel, nothing written */
  assert_int_equal(call("into", (lask_value[]){dv, tmp_list(2, (int64_t[]){3, 0}), kv, lask_ndarray_value(x)},
                        4, &out, &err),
                   LASK_EINVAL);
  assert_non_null(strstr(err.msg, "into: fused(2 $1 mul 1 add) gave a block that does not fit dest"));
  assert_memory_equal(dest->data, want, sizeof want);
  assert_int_equal(
      call("into", (lask_value[]){dv, tmp_list(2, (int64_t[]){0, 0}), lask_int(3)}, 3, &out, &err),
      LASK_ETYPE);
  assert_string_equal(err.msg, "into: argument 3 must be a kernel, got a integer");
  release(x), release(y), release(z), release(dest);
  lask_release(kv);
}

/* --- scans and order statistics (scan.c, select.c) --- */

static lask_ndarray *f64_array(int ndim, const int64_t *shape, const double *v) {
  lask_err err;
  lask_ndarray *a = lask_ndarray_new(LASK_F64, ndim, shape, &err);
  assert_non_null(a);
  memcpy(a->data, v, sizeof(double) * (size_t)lask_ndarray_size(a));
  return a;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void test_scans_and_order_statistics(void **state) {
  (void)state;
  test_seed("scans and order statistics");
  lask_err err;
  lask_value out;
  for (int trial = 0; trial < 50; trial++) {
    /* cumsum of a random 3 x n float64 array along axis 1, with a carry per row */
    int64_t n = rand() % 40, shape[2] = {3, n}, cshape[2] = {3, 1};
    double v[3 * 40], c[3] = {rand() % 7, -2.5, 0.25};
    for (int64_t i = 0; i < 3 * n; i++) v[i] = (rand() % 200 - 100) / 8.0;
    lask_ndarray *x = f64_array(2, shape, v), *carry = f64_array(2, cshape, c);
    lask_ndarray *y = call_array(
        "cumsum", (lask_value[]){lask_ndarray_value(x), lask_int(1), lask_ndarray_value(carry)}, 3);
    for (int r = 0; r < 3; r++) {
      double acc = c[r];
      for (int64_t j = 0; j < n; j++) assert_true(((double *)y->data)[r * n + j] == (acc += v[r * n + j]));
    }
    release(y);
    /* the median and quantiles of every row: one array or its pieces along the axis give the same */
    if (n > 0) {
      int64_t cut = rand() % (n + 1), s1[2] = {3, cut}, s2[2] = {3, n - cut};
      double a1[3 * 40], a2[3 * 40];
      for (int r = 0; r < 3; r++) {
        memcpy(a1 + r * cut, v + r * n, sizeof(double) * (size_t)cut);
        memcpy(a2 + r * (n - cut), v + r * n + cut, sizeof(double) * (size_t)(n - cut));
      }
      lask_ndarray *p1 = f64_array(2, s1, a1), *p2 = f64_array(2, s2, a2);
      lask_list *pieces = lask_list_new(2);
      pieces->items[0] = lask_ndarray_value(p1), pieces->items[1] = lask_ndarray_value(p2);
      lask_value pv = lask_objval(&pieces->h);
      lask_ndarray *m1 = call_array(
          "quantile",
          (lask_value[]){lask_ndarray_value(x), lask_int(1), lask_num(0.5), str("median"), lask_bool(false)},
          5);
      lask_ndarray *m2 = call_array(
          "quantile", (lask_value[]){pv, lask_int(1), lask_num(0.5), str("median"), lask_bool(false)}, 5);
      for (int r = 0; r < 3; r++) {
        double sorted[40];
        memcpy(sorted, v + r * n, sizeof(double) * (size_t)n);
        qsort(sorted, (size_t)n, sizeof(double), cmp_double);
        double want = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        assert_true(((double *)m1->data)[r] == want);
        assert_true(((double *)m2->data)[r] == want);
      }
      lask_ndarray *t =
          call_array("topk", (lask_value[]){lask_ndarray_value(x), lask_int(1), lask_int(2)}, 3);
      lask_ndarray *at = call_array(
          "argtopk", (lask_value[]){lask_ndarray_value(x), lask_int(1), lask_int(-1), lask_int(10)}, 4);
      int64_t k = n < 2 ? n : 2;
      assert_int_equal(t->shape[1], k);
      for (int r = 0; r < 3; r++) {
        double sorted[40];
        memcpy(sorted, v + r * n, sizeof(double) * (size_t)n);
        qsort(sorted, (size_t)n, sizeof(double), cmp_double);
        for (int64_t j = 0; j < k; j++) assert_true(((double *)t->data)[r * k + j] == sorted[n - 1 - j]);
        int64_t pos = ((int64_t *)at->data)[r] - 10;
        assert_true(pos >= 0 && pos < n && v[r * n + pos] == sorted[0]);
      }
      release(m1), release(m2), release(t), release(at);
      lask_release(pv);
    }
    release(x), release(carry);
  }
  /* errors name the kernel and the cause */
  lask_ndarray *x = f64_array(1, (int64_t[]){2}, (double[]){1, 2});
  lask_value xv = lask_ndarray_value(x);
  assert_int_equal(call("cumsum", (lask_value[]){xv, lask_int(1)}, 2, &out, &err), LASK_EINVAL);
  assert_string_equal(err.msg, "cumsum: axis 1 is out of range for a 1-d array");
  assert_int_equal(call("topk", (lask_value[]){xv, lask_int(0), lask_int(0)}, 3, &out, &err), LASK_EINVAL);
  assert_string_equal(err.msg, "topk: k must not be 0");
  assert_int_equal(call("quantile",
                        (lask_value[]){xv, lask_int(0), lask_num(1.5), str("linear"), lask_bool(false)}, 5,
                        &out, &err),
                   LASK_EINVAL);
  assert_string_equal(err.msg, "quantile: quantiles must be in the range [0, 1]");
  release(x);
}

static void test_fused_program_basics(void **state) {
  (void)state;
  lask_err err;
  lask_kernel *k = lask_fused_kernel_new("2 $1 mul 1 add powi:3", &err);
  assert_non_null(k);
  assert_string_equal(k->name, "fused(2 $1 mul 1 add powi:3)");
  lask_ndarray *x = call_array("arange", (lask_value[]){lask_num(0), lask_num(1500.5), lask_num(0.5)}, 3);
  lask_value xv = lask_ndarray_value(x), out;
  assert_int_equal(k->fn(k, &xv, 1, &out, &err), LASK_OK);
  lask_ndarray *y = lask_ndarray_of(out);
  assert_int_equal(y->dtype, LASK_F64);
  for (int64_t i = 0; i < 3001; i++) {
    double v = 2 * (0.5 * (double)i) + 1;
    assert_true(((double *)y->data)[i] == v * v * v);
  }
  lask_release(out);
  /* the registry's fused takes its program as argument 1 */
  lask_value prog = str("$1 $2 less $1 $2 where");
  lask_ndarray *z = call_array("fused", (lask_value[]){prog, xv, lask_num(100.0)}, 3);
  assert_true(z->dtype == LASK_F64 && ((double *)z->data)[10] == 5.0 && ((double *)z->data)[3000] == 100.0);
  release(z);
  lask_release(lask_objval(&k->h));
  static const struct {
    const char *prog, *needle;
  } bad[] = {
      {"", "empty program"},
      {"$1 add", "too few operands for 'add'"},
      {"$1 $2", "more than one value left"},
      {"$1 frobnicate", "bad token 'frobnicate'"},
      {"$0", "bad token '$0'"},
      {"$1 powi", "bad token 'powi'"},
      {"$1 powi:x", "bad token 'powi:x'"},
      {"$1 astype:int8", "bad token 'astype:int8'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_null(lask_fused_kernel_new(bad[i].prog, &err));
    if (!strstr(err.msg, bad[i].needle))
      fail_msg("'%s': message '%s' lacks '%s'", bad[i].prog, err.msg, bad[i].needle);
  }
  release(x);
}

/* Builds a random postfix program over nargs arguments into buf. astype:float32
 * applies to array arguments only (array_arg >= 1 names one, 0 if none): a float32
 * scalar has no Lua form, so unfused it would come back as a Lua float. */
static void random_program(char *buf, size_t size, int depth, int nargs, int array_arg) {
  static const char *bin[] = {"add",     "sub",  "mul", "div", "maximum",
                              "minimum", "less", "mod", "pow", "equal"};
  static const char *un[] = {"neg",    "abs",     "sqrt",         "exp",         "tanh", "powi:2",
                             "powi:3", "powi:-1", "astype:int64", "astype:bool", "sin",  "powi:5"};
  static const char *consts[] = {"2", "0.5", "-3", "true", "1e-3"};
  size_t len = strlen(buf);
  int r = rand() % 11;
  if (depth == 0 || r < 2) {
    if (rand() % 4 == 0)
      snprintf(buf + len, size - len, "%s ", consts[rand() % 5]);
    else
      snprintf(buf + len, size - len, "$%d ", 1 + rand() % nargs);
  } else if (r < 6) {
    random_program(buf, size, depth - 1, nargs, array_arg);
    random_program(buf, size, depth - 1, nargs, array_arg);
    len = strlen(buf);
    snprintf(buf + len, size - len, "%s ", bin[rand() % 10]);
  } else if (r < 9) {
    random_program(buf, size, depth - 1, nargs, array_arg);
    len = strlen(buf);
    snprintf(buf + len, size - len, "%s ", un[rand() % 12]);
  } else if (r < 10 && array_arg) {
    snprintf(buf + len, size - len, "$%d astype:float32 ", array_arg);
  } else {
    random_program(buf, size, depth - 1, nargs, array_arg);
    random_program(buf, size, depth - 1, nargs, array_arg);
    random_program(buf, size, depth - 1, nargs, array_arg);
    len = strlen(buf);
    snprintf(buf + len, size - len, "where ");
  }
}

/* Evaluates a program one kernel at a time (materialising every intermediate). */
static lask_status unfused(const char *prog, const lask_value *args, lask_value *out, lask_err *err) {
  lask_value stack[64];
  int sp = 0;
  char copy[2048], *save = NULL;
  snprintf(copy, sizeof copy, "%s", prog);
  lask_status st = LASK_OK;
  for (char *tok = strtok_r(copy, " ", &save); tok && !st; tok = strtok_r(NULL, " ", &save)) {
    char *end;
    if (tok[0] == '$')
      stack[sp++] = lask_retain(args[atoi(tok + 1) - 1]);
    else if (!strcmp(tok, "true"))
      stack[sp++] = lask_bool(true);
    else if ((void)strtoll(tok, &end, 10), *end == '\0')
      stack[sp++] = lask_int(strtoll(tok, NULL, 10));
    else if ((void)strtod(tok, &end), *end == '\0')
      stack[sp++] = lask_num(strtod(tok, NULL));
    else {
      lask_value r = lask_nil();
      char *colon = strchr(tok, ':');
      if (colon) *colon = '\0';
      const lask_ewop *op = lask_ewop_find(tok);
      lask_ew_param p = {0, LASK_F64};
      if (colon && op->rule == LASK_EW_POWI) p.n = atoi(colon + 1);
      if (colon && op->rule == LASK_EW_CAST) lask_dtype_parse(colon + 1, &p.dt);
      sp -= op->arity;
      st = lask_ew_apply(tok, op, &p, &stack[sp], op->arity, &r, err);
      for (int k = 0; k < op->arity; k++) lask_release(stack[sp + k]);
      stack[sp++] = r;
    }
  }
  if (st) {
    for (int k = 0; k < sp; k++) lask_release(stack[k]);
    return st;
  }
  *out = stack[0];
  return LASK_OK;
}

static bool same_result(lask_value a, lask_value b) {
  const lask_ndarray *x = lask_ndarray_of(a), *y = lask_ndarray_of(b);
  if (!x || !y) {
    if (x || y || a.type != b.type) return false;
    if (a.type == LASK_TNUM) return a.as.n == b.as.n || (isnan(a.as.n) && isnan(b.as.n));
    return a.type == LASK_TBOOL ? a.as.b == b.as.b : a.as.i == b.as.i;
  }
  if (x->dtype != y->dtype || x->ndim != y->ndim) return false;
  for (int d = 0; d < x->ndim; d++)
    if (x->shape[d] != y->shape[d]) return false;
  lask_err err;
  lask_ndarray *cx = lask_ndarray_copy(x, x->dtype, &err), *cy = lask_ndarray_copy(y, y->dtype, &err);
  bool same = true;
  for (int64_t i = 0; i < lask_ndarray_size(x) && same; i++) {
    size_t size = lask_dtype_size(x->dtype);
    same = same_value(get(cx, cx->data + i * (int64_t)size), get(cy, cy->data + i * (int64_t)size));
  }
  release(cx), release(cy);
  return same;
}

static void test_fused_equals_unfused(void **state) {
  (void)state;
  test_seed("fused");
  int compared = 0, failed_both = 0;
  for (int trial = 0; trial < 600; trial++) {
    int ndim, nargs = 1 + rand() % 3;
    int64_t shape[LASK_MAXDIM];
    random_out_shape(&ndim, shape);
    operand o[3];
    lask_value args[3];
    for (int k = 0; k < nargs; k++) {
      static const lask_dtype dts[] = {LASK_F64, LASK_F64, LASK_F64, LASK_F32, LASK_I64, LASK_BOOL};
      o[k] = random_operand(dts[rand() % 6], ndim, shape, rand() % 6 == 0, false);
      args[k] = o[k].v;
    }
    char prog[2048];
    for (bool uses_all = false; !uses_all;) { /* every argument appears */
      prog[0] = '\0';
      int array_arg = 0;
      for (int i = 0; i < nargs; i++)
        if (lask_ndarray_of(args[i]) && lask_ndarray_of(args[i])->ndim > 0) array_arg = i + 1;
      random_program(prog, sizeof prog, 1 + rand() % 4, nargs, array_arg);
      uses_all = true;
      for (int i = 1; i <= nargs; i++) {
        char ref[8];
        snprintf(ref, sizeof ref, "$%d ", i);
        uses_all = uses_all && strstr(prog, ref);
      }
    }
    lask_err e1, e2;
    lask_value f = lask_nil(), u = lask_nil();
    lask_kernel *k = lask_fused_kernel_new(prog, &e1);
    if (!k) fail_msg("'%s': %s", prog, e1.msg);
    lask_status s1 = k->fn(k, args, nargs, &f, &e1);
    lask_status s2 = unfused(prog, args, &u, &e2);
    if (s1 != LASK_OK || s2 != LASK_OK) {
      /* an empty output runs no tile, so a domain error of a scalar part never shows */
      bool empty = s1 == LASK_OK && lask_ndarray_of(f) && lask_ndarray_size(lask_ndarray_of(f)) == 0;
      if ((s1 == LASK_OK) != (s2 == LASK_OK) && !empty)
        fail_msg("trial %d: '%s': fused %s, unfused %s", trial, prog, s1 ? e1.msg : "ok", s2 ? e2.msg : "ok");
      failed_both++;
    } else {
      if (!same_result(f, u))
        fail_msg("trial %d: '%s' (%d args): fused and unfused differ", trial, prog, nargs);
      compared++;
    }
    lask_release(f), lask_release(u), lask_release(lask_objval(&k->h));
    for (int i = 0; i < nargs; i++) lask_release(o[i].v);
  }
  print_message("fused: %d programs compared, %d failed both ways\n", compared, failed_both);
}

/* --- expressions built one operator at a time (ewexpr.h) --- */

/* A value as an expression would see it, and the same value made by the kernels. */
typedef struct xitem {
  lask_ewexpr *e; /* NULL: the value itself is the operand */
  lask_value v;   /* the kernels' value (one reference) */
} xitem;

/* Random operators applied to random operands through lask_ewexpr_apply and, one at
 * a time, through lask_ew_apply: the same types, shapes and errors at once, and the
 * same values, bit for bit, once the expressions are evaluated. */
static void test_ewexpr_equals_kernels(void **state) {
  (void)state;
  test_seed("ewexpr");
  int applied = 0, now = 0, refused = 0, evaluated = 0;
  for (int trial = 0; trial < 300; trial++) {
    int ndim;
    int64_t shape[LASK_MAXDIM];
    random_out_shape(&ndim, shape);
    xitem pool[40];
    int n = 0;
    for (; n < 4; n++) {
      operand o = random_operand((lask_dtype)(rand() % 4), ndim, shape, n > 0 && rand() % 3 == 0, false);
      pool[n] = (xitem){NULL, o.v};
    }
    while (n < 40) {
      const lask_ewop *op = lask_ewop_at(rand() % LASK_EWOP_COUNT);
      if (op->kernel != LASK_EW_KERNEL_OP && op->rule != LASK_EW_POWI && op->rule != LASK_EW_ROUND) continue;
      lask_ew_param param = {rand() % 7 - 3, LASK_F64};
      lask_ewexpr_operand ops[3];
      lask_value vals[3];
      bool any_array = false;
      for (int k = 0; k < op->arity; k++) {
        xitem *it = &pool[rand() % n];
        ops[k] = (lask_ewexpr_operand){it->e, it->e ? lask_nil() : it->v};
        vals[k] = it->v;
        any_array = any_array || lask_ndarray_of(it->v);
      }
      if (!any_array) continue;
      if (!lask_ewexpr_fits(op, ops)) continue; /* the binding evaluates an operand first */
      lask_err e1, e2;
      lask_err_clear(&e1), lask_err_clear(&e2);
      lask_value v = lask_nil();
      lask_ewexpr *x = NULL;
      lask_status s1 = lask_ew_apply(op->name, op, &param, vals, op->arity, &v, &e1);
      lask_status s2 = lask_ewexpr_apply(op->name, op, &param, ops, &x, &e2);
      if (s2 != LASK_OK) { /* refused at once: the kernels refuse it too, in the same words */
        assert_null(x);
        if (s1 == LASK_OK)
          fail_msg("trial %d: %s refused (%s) but the kernel gives a value", trial, op->name, e2.msg);
        assert_string_equal(e1.msg, e2.msg);
        refused++;
        continue;
      }
      if (!x) { /* to run now: as the kernel, whatever it gives */
        now++;
        if (s1 != LASK_OK) continue;
      } else {
        if (s1 != LASK_OK)
          fail_msg("trial %d: %s recorded, but the kernel fails: %s", trial, op->name, e1.msg);
        const lask_ndarray *r = lask_ndarray_of(v);
        assert_non_null(r);
        assert_int_equal(r->dtype, x->dtype);
        assert_int_equal(r->ndim, x->ndim);
        for (int d = 0; d < r->ndim; d++) assert_int_equal(r->shape[d], x->shape[d]);
        assert_true(x->nnodes <= LASK_EWEXPR_MAX_NODES && x->narrays <= LASK_FUSED_MAX_ARGS &&
                    x->depth <= LASK_FUSED_MAX_DEPTH);
        applied++;
      }
      pool[n++] = (xitem){x, v};
    }
    for (int i = 0; i < n; i++) {
      if (pool[i].e) {
        lask_err err;
        lask_value got = lask_nil();
        if (lask_ewexpr_eval(pool[i].e, &got, &err)) fail_msg("trial %d: eval: %s", trial, err.msg);
        if (!same_result(got, pool[i].v))
          fail_msg("trial %d: item %d: evaluated and one at a time differ", trial, i);
        lask_release(got);
        evaluated++;
      }
      lask_ewexpr_free(pool[i].e);
      lask_release(pool[i].v);
    }
  }
  print_message("ewexpr: %d recorded, %d run at once, %d refused, %d evaluated\n", applied, now, refused,
                evaluated);
  assert_true(applied > 1000 && evaluated > 1000);
}

/* What runs at once: an operand whose memory may change, integers to a power. */
static void test_ewexpr_runs_now(void **state) {
  (void)state;
  lask_err err;
  double data[4] = {1, 2, 3, 4};
  lask_buffer *b = lask_buffer_wrap(data, sizeof data, NULL, NULL);
  lask_ndarray *host = lask_ndarray_view(b, (char *)data, LASK_F64, 1, (int64_t[]){4}, (int64_t[]){8}, &err);
  lask_release(lask_objval(&b->h));
  lask_ndarray *mine = call_array("arange", (lask_value[]){lask_int(0), lask_int(4)}, 2);
  assert_true(mine->buf->stable);
  assert_false(host->buf->stable);
  lask_ewexpr *x = NULL, *y = NULL;
  const lask_ewop *add = lask_ewop_find("add"), *powi = lask_ewop_find("powi");
  lask_ew_param p0 = {0, LASK_F64}, pm1 = {-1, LASK_F64};
  lask_ewexpr_operand ops[2] = {{NULL, lask_ndarray_value(mine)}, {NULL, lask_int(1)}};
  assert_int_equal(lask_ewexpr_apply("add", add, &p0, ops, &x, &err), LASK_OK);
  assert_non_null(x);
  ops[0] = (lask_ewexpr_operand){x, lask_nil()},
  ops[1] = (lask_ewexpr_operand){NULL, lask_ndarray_value(host)};
  assert_int_equal(lask_ewexpr_apply("add", add, &p0, ops, &y, &err), LASK_OK);
  assert_null(y); /* the host's memory: now */
  ops[1] = (lask_ewexpr_operand){NULL, lask_int(2)};
  assert_int_equal(lask_ewexpr_apply("pow", powi, &pm1, ops, &y, &err), LASK_OK);
  assert_null(y); /* int64 to -1 fails on the data: the kernel finds it, now */
  /* a chain stays within the limits: the caller evaluates when it would not */
  lask_ewexpr *chain = x;
  for (int i = 0; i < 200; i++) {
    ops[0] = (lask_ewexpr_operand){chain, lask_nil()}, ops[1] = (lask_ewexpr_operand){NULL, lask_num(0.5)};
    if (!lask_ewexpr_fits(add, ops)) {
      lask_value v;
      assert_int_equal(lask_ewexpr_eval(chain, &v, &err), LASK_OK);
      ops[0] = (lask_ewexpr_operand){NULL, v};
      assert_true(lask_ewexpr_fits(add, ops));
      assert_int_equal(lask_ewexpr_apply("add", add, &p0, ops, &y, &err), LASK_OK);
      lask_release(v);
    } else {
      assert_int_equal(lask_ewexpr_apply("add", add, &p0, ops, &y, &err), LASK_OK);
    }
    assert_true(y->nnodes <= LASK_EWEXPR_MAX_NODES);
    lask_ewexpr_free(chain);
    chain = y;
  }
  lask_value v;
  assert_int_equal(lask_ewexpr_eval(chain, &v, &err), LASK_OK);
  assert_true(((double *)lask_ndarray_of(v)->data)[3] == 3 + 1 + 200 * 0.5);
  lask_release(v), lask_ewexpr_free(chain), release(mine), release(host);
}

/* The scalar kernels of kernel.h take arrays too, through the elementwise ones. */
static void test_scalar_kernels_accept_arrays(void **state) {
  (void)state;
  lask_err err;
  lask_ndarray *x = call_array("arange", (lask_value[]){lask_int(0), lask_int(5)}, 2);
  lask_value xv = lask_ndarray_value(x), out;
  const char *names[] = {"add", "sub", "mul", "div", "neg"};
  for (int i = 0; i < 5; i++) {
    const lask_kernel *k = lask_kernel_find(names[i]);
    lask_value args[2] = {xv, lask_int(2)};
    assert_int_equal(k->fn(k, args, i == 4 ? 1 : 2, &out, &err), LASK_OK);
    lask_ndarray *r = lask_ndarray_of(out);
    assert_non_null(r);
    double want[] = {4 + 2, 4 - 2, 4 * 2, 4 / 2.0, -4};
    assert_true(f64_at(r, 4) == want[i]);
    lask_release(out);
  }
  const lask_kernel *add = lask_kernel_find("add");
  assert_int_equal(add->fn(add, (lask_value[]){lask_int(1), lask_int(2)}, 2, &out, &err), LASK_OK);
  assert_true(out.type == LASK_TINT && out.as.i == 3);
  release(x);
}

/* Several threads run the same kernels at once (as workers do): shared kernels
 * hold no mutable state, and big buffers churn through the reuse cache. */
typedef struct race {
  lask_kernel *k;
  lask_value x;
  double want_last;
  int bad;
} race;

static void *race_worker(void *arg) {
  race *r = arg;
  for (int i = 0; i < 20; i++) {
    lask_err err;
    lask_value out;
    if (r->k->fn(r->k, &r->x, 1, &out, &err) != LASK_OK) {
      r->bad++;
      continue;
    }
    lask_ndarray *y = lask_ndarray_of(out);
    if (((double *)y->data)[lask_ndarray_size(y) - 1] != r->want_last) r->bad++;
    lask_release(out);
  }
  return NULL;
}

static void test_kernels_run_concurrently(void **state) {
  (void)state;
  lask_err err;
  const int64_t n = 600000; /* 4.8 MB: a big buffer */
  race r[3];
  pthread_t t[3];
  lask_ndarray *x = call_array(
      "arange", (lask_value[]){lask_num(0), lask_num(((double)n - 0.5) * 1e-3), lask_num(1e-3)}, 3);
  lask_kernel *k = lask_fused_kernel_new("2 $1 mul 1 add powi:3", &err);
  double v = 2 * ((double)(n - 1) * 1e-3) + 1;
  for (int i = 0; i < 3; i++) {
    r[i] = (race){k, lask_ndarray_value(x), v * v * v, 0};
    assert_int_equal(pthread_create(&t[i], NULL, race_worker, &r[i]), 0);
  }
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL), assert_int_equal(r[i].bad, 0);
  lask_release(lask_objval(&k->h));
  release(x);
  lask_buffer_cache_trim();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_lists_and_finds_every_kernel),
      cmocka_unit_test(test_arange_and_linspace),
      cmocka_unit_test(test_full_and_eye),
      cmocka_unit_test(test_philox_known_answers),
      cmocka_unit_test(test_draws_paths_agree),
      cmocka_unit_test(test_random_is_chunking_independent),
      cmocka_unit_test(test_random_distributions),
      cmocka_unit_test(test_from_npy_blocks),
      cmocka_unit_test(test_elementwise_against_naive_loops),
      cmocka_unit_test(test_promotion_matches_numpy),
      cmocka_unit_test(test_elementwise_errors),
      cmocka_unit_test(test_fused_program_basics),
      cmocka_unit_test(test_fused_equals_unfused),
      cmocka_unit_test(test_ewexpr_equals_kernels),
      cmocka_unit_test(test_ewexpr_runs_now),
      cmocka_unit_test(test_scalar_kernels_accept_arrays),
      cmocka_unit_test(test_kernels_run_concurrently),
      cmocka_unit_test(test_into_writes_blocks_in_place),
      cmocka_unit_test(test_scans_and_order_statistics),
  };
  return cmocka_run_group_tests(tests, NULL, release_strings);
}
