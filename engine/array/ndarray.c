/* ndarray.c — buffers, strided views, dtype conversion, broadcasting and the N-d
 * iterator every array kernel walks its operands with.
 *
 * Invariants:
 *   1. A view holds one reference to its buffer; the buffer frees its bytes (through
 *      its release hook, or free) when the last view goes.
 *   2. A view never reaches outside its buffer: lask_ndarray_view checks the extent
 *      of the layout against the buffer, so kernels may trust data/strides.
 *   3. Elements of dtype bool are bytes holding 0 or 1; readers still treat any
 *      nonzero byte as true (files from elsewhere), and never load them as C bool.
 */
#include "ndarray.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* --- dtypes --- */

size_t lask_dtype_size(lask_dtype dt) {
  switch (dt) {
  case LASK_F64: return 8;
  case LASK_F32: return 4;
  case LASK_I64: return 8;
  case LASK_BOOL: return 1;
  }
  return 1;
}

const char *lask_dtype_name(lask_dtype dt) {
  switch (dt) {
  case LASK_F64: return "float64";
  case LASK_F32: return "float32";
  case LASK_I64: return "int64";
  case LASK_BOOL: return "bool";
  }
  return "?";
}

int lask_dtype_parse(const char *name, lask_dtype *out) {
  static const struct {
    const char *name;
    lask_dtype dt;
  } names[] = {
      {"float64", LASK_F64}, {"f8", LASK_F64},      {"<f8", LASK_F64}, {"double", LASK_F64},
      {"float", LASK_F64},   {"float32", LASK_F32}, {"f4", LASK_F32},  {"<f4", LASK_F32},
      {"single", LASK_F32},  {"int64", LASK_I64},   {"i8", LASK_I64},  {"<i8", LASK_I64},
      {"int", LASK_I64},     {"bool", LASK_BOOL},   {"b1", LASK_BOOL}, {"|b1", LASK_BOOL},
      {"?", LASK_BOOL},      {"bool_", LASK_BOOL},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(names[i].name, name) == 0) return *out = names[i].dt, 1;
  return 0;
}

/* Rank in numpy's promotion lattice restricted to our dtypes. */
static int dtype_rank(lask_dtype dt) {
  switch (dt) {
  case LASK_BOOL: return 0;
  case LASK_I64: return 1;
  case LASK_F32: return 2;
  case LASK_F64: return 3;
  }
  return 3;
}

lask_dtype lask_dtype_promote(lask_dtype a, lask_dtype b) {
  if ((a == LASK_I64 && b == LASK_F32) || (a == LASK_F32 && b == LASK_I64)) return LASK_F64;
  return dtype_rank(a) >= dtype_rank(b) ? a : b;
}

/* --- conversion, written once for every pair of dtypes --- */

/* float -> int64 as numpy does on x86 (cvttsd2si): truncation, and INT64_MIN for NaN
 * and values out of range, without the undefined behaviour of a plain C cast. */
static inline int64_t f2i(double v) {
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) return INT64_MIN;
  return (int64_t)v;
}

typedef uint8_t boolbyte;

/* A value of C type FT as read from memory: bool bytes normalise to 0/1 (invariant 3). */
static inline double norm_double(double v) { return v; }
static inline float norm_float(float v) { return v; }
static inline int64_t norm_int64_t(int64_t v) { return v; }
static inline int norm_boolbyte(boolbyte v) { return v != 0; }

/* The conversion of one normalised value of C type FT to the dtype named TO. */
#define CONV_TO_LASK_F64(FT, v)  ((double)(v))
#define CONV_TO_LASK_F32(FT, v)  ((float)(v))
#define CONV_TO_LASK_I64(FT, v)  conv_i64_##FT(v)
#define CONV_TO_LASK_BOOL(FT, v) ((boolbyte)((v) != 0))

static inline int64_t conv_i64_double(double v) { return f2i(v); }
static inline int64_t conv_i64_float(float v) { return f2i(v); }
static inline int64_t conv_i64_int64_t(int64_t v) { return v; }
static inline int64_t conv_i64_boolbyte(int v) { return v; }

#define CONVERT_RUN(TO, TT, FT)                                                                              \
  for (int64_t i = 0; i < n; i++) {                                                                          \
    FT raw = *(const FT *)((const char *)src + i * src_stride);                                              \
    __typeof__(norm_##FT(raw)) v = norm_##FT(raw);                                                           \
    *(TT *)((char *)dst + i * dst_stride) = (TT)CONV_TO_##TO(FT, v);                                         \
  }

#define CONVERT_FROM(TO, TT)                                                                                 \
  switch (from) {                                                                                            \
  case LASK_F64: CONVERT_RUN(TO, TT, double) break;                                                          \
  case LASK_F32: CONVERT_RUN(TO, TT, float) break;                                                           \
  case LASK_I64: CONVERT_RUN(TO, TT, int64_t) break;                                                         \
  case LASK_BOOL: CONVERT_RUN(TO, TT, boolbyte) break;                                                       \
  }

void lask_convert(lask_dtype to, void *dst, int64_t dst_stride, lask_dtype from, const void *src,
                  int64_t src_stride, int64_t n) {
  size_t size = lask_dtype_size(to);
  if (to == from && dst_stride == (int64_t)size && src_stride == (int64_t)size) {
    if (n > 0) memcpy(dst, src, (size_t)n * size);
    return;
  }
  switch (to) {
  case LASK_F64: CONVERT_FROM(LASK_F64, double) break;
  case LASK_F32: CONVERT_FROM(LASK_F32, float) break;
  case LASK_I64: CONVERT_FROM(LASK_I64, int64_t) break;
  case LASK_BOOL: CONVERT_FROM(LASK_BOOL, boolbyte) break;
  }
}

double lask_elem_f64(lask_dtype dt, const void *p) {
  double v;
  lask_convert(LASK_F64, &v, 8, dt, p, 0, 1);
  return v;
}

int64_t lask_elem_i64(lask_dtype dt, const void *p) {
  int64_t v;
  lask_convert(LASK_I64, &v, 8, dt, p, 0, 1);
  return v;
}

/* --- buffers --- */

static void buffer_destroy(lask_obj *o) {
  lask_buffer *b = (lask_buffer *)o;
  if (b->release) b->release(b);
  free(b);
}

static void view_destroy(lask_obj *o) {
  lask_ndarray *a = (lask_ndarray *)o;
  lask_release(lask_objval(&a->buf->h));
  free(a);
}

const lask_class lask_buffer_class = {"buffer", buffer_destroy};
const lask_class lask_ndarray_class = {"ndarray", view_destroy};

lask_buffer *lask_buffer_wrap(void *data, size_t nbytes, void (*release)(lask_buffer *), void *ctx) {
  lask_buffer *b = malloc(sizeof *b);
  if (!b) return NULL;
  lask_obj_init(&b->h, &lask_buffer_class);
  b->data = data, b->nbytes = nbytes, b->release = release, b->ctx = ctx, b->stable = false;
  return b;
}

static void free_release(lask_buffer *b) { free(b->data); }

/* Big buffers are anonymous mappings, aligned to 2 MiB. A fresh mapping costs a
 * page fault and the kernel's zeroing of every page on first touch, which is slower
 * than computing an elementwise result into it. Chunked work frees and makes
 * same-sized blocks all the time, so freed big mappings go to a small cache and
 * the next big buffer of about the same size takes one back instead (no fault, no
 * zeroing; memset when a zeroed array is asked for).
 *
 * The cache is bounded by the work in flight: while gets run (between
 * lask_buffer_cache_run_begin and _end), it holds at most as many bytes as the big
 * buffers alive (live_bytes: what the running gets and their results hold), and
 * never less than a small floor (64 MiB, LASK_BUFFER_CACHE_IDLE_MB). When the last
 * get ends, or a big buffer is freed while no get runs (a dropped result,
 * collected), a grace period starts (1 s, LASK_BUFFER_CACHE_GRACE_MS): until it
 * ends the cache may hold up to its limit, so back-to-back gets reuse each other's
 * blocks; when it ends with no get running, a trimmer thread (made at the first
 * grace period, one per process) gives back all above the floor. So a dropped 300
 * MB result is unmapped within a second of being collected, and a chunked get still
 * reuses its blocks. A grace period of 0 trims at once, on the calling thread. A hard limit caps it all
 * (CACHE_SLOTS mappings, at most cache_limit bytes: 2 GiB unless
 * LASK_BUFFER_CACHE_MB in the environment says otherwise, 0 turns it off), and
 * lask_buffer_cache_trim empties it. The bounds fit a TSQR of 1e6×100 in 10
 * blocks, whose 10 reflector blocks of 80 MB and 800 MB result are alive at once:
 * with 8 slots and 1 GiB its next run faulted 8 of them in again (1.5 µs a 4 KiB
 * page here, 29 ms per 80 MB), and its SVD took 1.35-1.5 s instead of 1.15-1.17;
 * between gets only the floor is kept, so a repeated get above it faults its first
 * blocks in again (the price of giving memory back).
 *
 * Transparent huge pages (LASK_HUGEPAGES=1 asks for them with madvise) cut the
 * faults 512x and the TLB misses of streaming kernels (measured: 400 MB touched in
 * 35 ms instead of 160 ms; (2x+1)^3 on 5e7 in 35 ms instead of 40). They are off by
 * default because on the VMs these machines are, the first huge pages of a process
 * often come from guest memory the host has reclaimed (free page reporting works
 * on 2 MiB blocks) and then cost 0.6-0.9 s per 400 MB instead of 0.16 s.
 *
 * Lock order: cache_mu is a leaf lock; munmap may run under it (it never calls back).
 * A fork (lask.multiprocessing) takes it first, so a child never inherits it held. */
#define BIG_BUFFER  ((size_t)4 << 20)
#define HUGE_PAGE   ((size_t)2 << 20)
#define CACHE_SLOTS 16

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  void *data;
  size_t len;
} cache[CACHE_SLOTS]; /* oldest first */
static int ncached;
static size_t cached_bytes;

static void cache_lock(void) { pthread_mutex_lock(&cache_mu); }
static void cache_unlock(void) { pthread_mutex_unlock(&cache_mu); }
static void cache_atfork(void) { pthread_atfork(cache_lock, cache_unlock, cache_unlock); }

static void cache_enter(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, cache_atfork);
  cache_lock();
}

/* SIZE_MAX: not read yet (a benign race reads the environment twice). */
static _Atomic size_t limit = SIZE_MAX, idle_floor = SIZE_MAX;
static _Atomic size_t live_bytes;   /* bytes of big buffers alive (cached ones aside) */
static _Atomic int running;         /* gets in progress */
static _Atomic long grace_ms = -1;  /* -1: not read yet */
static _Atomic int64_t grace_until; /* CLOCK_MONOTONIC ns: the grace period ends then (0: none) */

/* The setting at *v, read once from the environment variable env (in MiB). */
static size_t setting(_Atomic size_t *v, const char *env, size_t dflt) {
  size_t l = atomic_load_explicit(v, memory_order_relaxed);
  if (l == SIZE_MAX) {
    const char *e = getenv(env);
    l = e ? (size_t)strtoull(e, NULL, 10) << 20 : dflt;
    atomic_store_explicit(v, l, memory_order_relaxed);
  }
  return l;
}

static size_t cache_limit(void) { return setting(&limit, "LASK_BUFFER_CACHE_MB", (size_t)2 << 30); }
static size_t cache_floor(void) {
  return setting(&idle_floor, "LASK_BUFFER_CACHE_IDLE_MB", (size_t)64 << 20);
}

static long cache_grace_ms(void) {
  long g = atomic_load_explicit(&grace_ms, memory_order_relaxed);
  if (g < 0) {
    const char *e = getenv("LASK_BUFFER_CACHE_GRACE_MS");
    g = e ? strtol(e, NULL, 10) : 1000;
    if (g < 0) g = 0;
    atomic_store_explicit(&grace_ms, g, memory_order_relaxed);
  }
  return g;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* What the cache may hold now: the live big buffers while a get runs, at least the
 * floor; up to the limit in a grace period; at most the limit. */
static size_t cache_bound(void) {
  size_t b = cache_floor(), live = atomic_load_explicit(&live_bytes, memory_order_relaxed), l = cache_limit();
  if (atomic_load_explicit(&running, memory_order_relaxed) > 0 && live > b) b = live;
  if (now_ns() < atomic_load_explicit(&grace_until, memory_order_relaxed)) b = l;
  return b < l ? b : l;
}

static void cache_drop(int i) { /* cache_mu held */
  munmap(cache[i].data, cache[i].len);
  cached_bytes -= cache[i].len;
  memmove(&cache[i], &cache[i + 1], (size_t)(ncached - i - 1) * sizeof cache[0]);
  ncached--;
}

/* A cached mapping of at least len bytes and at most len + len/8 (the smallest), or NULL. */
static void *cache_take(size_t len, size_t *got) {
  cache_enter();
  int best = -1;
  for (int i = 0; i < ncached; i++)
    if (cache[i].len >= len && cache[i].len <= len + len / 8 && (best < 0 || cache[i].len < cache[best].len))
      best = i;
  void *data = NULL;
  if (best >= 0) {
    data = cache[best].data, *got = cache[best].len;
    cached_bytes -= cache[best].len;
    memmove(&cache[best], &cache[best + 1], (size_t)(ncached - best - 1) * sizeof cache[0]);
    ncached--;
  }
  pthread_mutex_unlock(&cache_mu);
  return data;
}

/* Keeps a freed mapping for reuse, evicting the oldest as needed; false when it
 * does not fit the cache at all (the caller unmaps it). */
static bool cache_put(void *data, size_t len) {
  size_t bound = cache_bound();
  if (len > bound) return false;
  cache_enter();
  while (ncached > 0 && (ncached == CACHE_SLOTS || cached_bytes + len > bound)) cache_drop(0);
  cache[ncached].data = data, cache[ncached].len = len;
  ncached++, cached_bytes += len;
  pthread_mutex_unlock(&cache_mu);
  return true;
}

void lask_buffer_cache_trim(void) {
  cache_enter();
  while (ncached > 0) cache_drop(0);
  pthread_mutex_unlock(&cache_mu);
}

/* Unmaps the oldest cached mappings until the cache holds at most bound bytes. */
static void cache_shrink(size_t bound) {
  cache_enter();
  while (ncached > 0 && cached_bytes > bound) cache_drop(0);
  pthread_mutex_unlock(&cache_mu);
}

/* The trimmer: one thread a process, made at the first grace period, that waits for
 * the grace period to end and then shrinks the cache to its bound (the floor when no
 * get runs). trim_mu guards trimmer_made; a fork (lask.multiprocessing) takes it
 * first, and the child, which has no trimmer, makes its own when it needs one. */
static pthread_mutex_t trim_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t trim_cv = PTHREAD_COND_INITIALIZER;
static bool trimmer_made;

static void *trimmer(void *arg) {
  (void)arg;
  pthread_mutex_lock(&trim_mu);
  for (;;) {
    int64_t until = atomic_load_explicit(&grace_until, memory_order_relaxed), t = now_ns();
    if (until == 0) {
      pthread_cond_wait(&trim_cv, &trim_mu);
      continue;
    }
    if (t < until) { /* CLOCK_REALTIME for the wait: a clock jump only trims early or late */
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      int64_t at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (until - t);
      ts.tv_sec = (time_t)(at / 1000000000), ts.tv_nsec = (long)(at % 1000000000);
      pthread_cond_timedwait(&trim_cv, &trim_mu, &ts);
      continue;
    }
    int64_t seen = until; /* over: trim, unless a new grace period began meanwhile */
    atomic_compare_exchange_strong(&grace_until, &seen, 0);
    pthread_mutex_unlock(&trim_mu);
    cache_shrink(cache_bound());
    pthread_mutex_lock(&trim_mu);
  }
  return NULL;
}

static void trim_lock(void) { pthread_mutex_lock(&trim_mu); }
static void trim_unlock(void) { pthread_mutex_unlock(&trim_mu); }
static void trim_child(void) {
  trimmer_made = false;
  pthread_mutex_unlock(&trim_mu);
}
static void trim_atfork(void) { pthread_atfork(trim_lock, trim_unlock, trim_child); }

/* Starts (or restarts) a grace period; with none (0 ms), or no trimmer thread to be
 * had, trims at once. */
static void grace_begin(void) {
  long g = cache_grace_ms();
  if (g > 0) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, trim_atfork);
    pthread_mutex_lock(&trim_mu);
    atomic_store_explicit(&grace_until, now_ns() + (int64_t)g * 1000000, memory_order_relaxed);
    if (!trimmer_made) {
      pthread_t t;
      pthread_attr_t attr;
      if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        trimmer_made = pthread_create(&t, &attr, trimmer, NULL) == 0;
        pthread_attr_destroy(&attr);
      }
    }
    bool made = trimmer_made;
    pthread_cond_signal(&trim_cv);
    pthread_mutex_unlock(&trim_mu);
    if (made) return;
    atomic_store_explicit(&grace_until, 0, memory_order_relaxed);
  }
  cache_shrink(cache_bound());
}

void lask_buffer_cache_config(size_t new_limit, size_t new_floor, lask_buffer_cache_stats *st) {
  if (new_limit != SIZE_MAX) atomic_store_explicit(&limit, new_limit, memory_order_relaxed);
  if (new_floor != SIZE_MAX) atomic_store_explicit(&idle_floor, new_floor, memory_order_relaxed);
  if (new_limit != SIZE_MAX || new_floor != SIZE_MAX)
    cache_shrink(cache_bound()); /* a lowered one applies at once */
  if (!st) return;
  st->limit = cache_limit(), st->floor = cache_floor(), st->bound = cache_bound();
  st->live = atomic_load_explicit(&live_bytes, memory_order_relaxed);
  cache_enter();
  st->bytes = cached_bytes, st->buffers = (size_t)ncached;
  pthread_mutex_unlock(&cache_mu);
}

void lask_buffer_cache_run_begin(void) { atomic_fetch_add_explicit(&running, 1, memory_order_relaxed); }

void lask_buffer_cache_run_end(void) {
  if (atomic_fetch_sub_explicit(&running, 1, memory_order_relaxed) == 1) grace_begin();
}

long lask_buffer_cache_grace(long new_ms) {
  if (new_ms >= 0) {
    atomic_store_explicit(&grace_ms, new_ms, memory_order_relaxed);
    if (new_ms == 0)
      atomic_store_explicit(&grace_until, 0, memory_order_relaxed), cache_shrink(cache_bound());
  }
  return cache_grace_ms();
}

/* The buffer still counts as live while the cache decides, so that the last big
 * buffer of a get may be kept for the next block. */
static void map_release(lask_buffer *b) {
  size_t len = (size_t)(uintptr_t)b->ctx;
  if (atomic_load_explicit(&running, memory_order_relaxed) == 0) /* a dropped result */
    grace_begin(); /* first, so that the grace period lets the cache keep it */
  if (!cache_put(b->data, len)) munmap(b->data, len);
  atomic_fetch_sub_explicit(&live_bytes, len, memory_order_relaxed);
}

static bool want_hugepages(void) {
  static _Atomic int want = -1; /* -1: not read yet; a benign race reads it twice */
  int w = atomic_load_explicit(&want, memory_order_relaxed);
  if (w < 0) {
    const char *env = getenv("LASK_HUGEPAGES");
    w = env && strcmp(env, "1") == 0;
    atomic_store_explicit(&want, w, memory_order_relaxed);
  }
  return w;
}

/* Maps len bytes (a multiple of HUGE_PAGE) at a HUGE_PAGE-aligned address; NULL on failure. */
static void *map_aligned(size_t len) {
  char *p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  size_t head = (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
  if (head) munmap(p, head);
  if (HUGE_PAGE - head) munmap(p + head + len, HUGE_PAGE - head);
#ifdef MADV_HUGEPAGE
  if (want_hugepages()) madvise(p + head, len, MADV_HUGEPAGE);
#endif
  return p + head;
}

/* A big buffer: a cached mapping (zeroed here if asked) or a new one (zero already). */
static lask_buffer *big_buffer(size_t nbytes, bool zero) {
  size_t len = (nbytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE, got = len;
  void *data = cache_take(len, &got);
  if (data && zero) memset(data, 0, nbytes);
  if (!data) data = map_aligned(len);
  lask_buffer *b = data ? lask_buffer_wrap(data, nbytes, map_release, (void *)(uintptr_t)got) : NULL;
  if (data && !b) munmap(data, got);
  if (b) b->stable = true, atomic_fetch_add_explicit(&live_bytes, got, memory_order_relaxed);
  return b;
}

/* Gives a buffer of nbytes; zeroed when zero is true. */
static lask_buffer *buffer_alloc(size_t nbytes, bool zero) {
  if (nbytes >= BIG_BUFFER) return big_buffer(nbytes, zero);
  void *data = NULL;
  if (posix_memalign(&data, 64, nbytes ? nbytes : 1)) return NULL;
  if (zero) memset(data, 0, nbytes);
  lask_buffer *b = lask_buffer_wrap(data, nbytes, free_release, NULL);
  if (!b) free(data);
  if (b) b->stable = true;
  return b;
}

lask_buffer *lask_buffer_new(size_t nbytes) { return buffer_alloc(nbytes, false); }

/* --- views --- */

int64_t lask_shape_size(int ndim, const int64_t *shape, size_t itemsize) {
  /* numpy's rule: extents of 0 aside, the product must fit, so (2^62, 0, 8) is
   * refused too and no stride of an accepted shape can overflow. */
  int64_t n = 1, bytes = itemsize ? (int64_t)itemsize : 1;
  bool empty = false;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] < 0) return -1;
    if (shape[d] == 0) {
      empty = true;
      continue;
    }
    if (__builtin_mul_overflow(n, shape[d], &n) || __builtin_mul_overflow(bytes, shape[d], &bytes)) return -1;
  }
  return empty ? 0 : n;
}

void lask_strides_c(int ndim, const int64_t *shape, size_t itemsize, int64_t *strides) {
  int64_t s = (int64_t)itemsize;
  for (int d = ndim - 1; d >= 0; d--) strides[d] = s, s = lask_stride_step(s, shape[d]);
}

int64_t lask_stride_step(int64_t stride, int64_t extent) {
  int64_t next;
  /* Only a zero-size array (whose strides are never followed) gets this far with
   * a product that overflows, e.g. shape (12875941756269202, 0, 111, 4). */
  if (extent <= 0 || __builtin_mul_overflow(stride, extent, &next)) return stride;
  return next;
}

static lask_status check_layout(int ndim, const int64_t *shape, lask_dtype dt, lask_err *err) {
  if (ndim < 0 || ndim > LASK_MAXDIM)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "ndarray: %d dimensions (at most %d)", ndim,
                        LASK_MAXDIM);
  if (lask_shape_size(ndim, shape, lask_dtype_size(dt)) < 0)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE,
                        "ndarray: negative extent or size too large in shape %s",
                        lask_shape_str(ndim, shape, (char[160]){0}, 160));
  return LASK_OK;
}

static lask_ndarray *ndarray_alloc(lask_dtype dt, int ndim, const int64_t *shape, bool zero, lask_err *err) {
  if (check_layout(ndim, shape, dt, err)) return NULL;
  size_t itemsize = lask_dtype_size(dt);
  lask_buffer *b = buffer_alloc((size_t)lask_shape_size(ndim, shape, itemsize) * itemsize, zero);
  if (!b) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "ndarray: out of memory"), NULL;
  int64_t strides[LASK_MAXDIM];
  lask_strides_c(ndim, shape, itemsize, strides);
  lask_ndarray *a = lask_ndarray_view(b, b->data, dt, ndim, shape, strides, err);
  lask_release(lask_objval(&b->h));
  return a;
}

lask_ndarray *lask_ndarray_new(lask_dtype dt, int ndim, const int64_t *shape, lask_err *err) {
  return ndarray_alloc(dt, ndim, shape, true, err);
}

lask_ndarray *lask_ndarray_empty(lask_dtype dt, int ndim, const int64_t *shape, lask_err *err) {
  return ndarray_alloc(dt, ndim, shape, false, err);
}

/* True when every element of the layout lies inside buf. */
static bool inside(const lask_buffer *buf, const char *data, lask_dtype dt, int ndim, const int64_t *shape,
                   const int64_t *strides) {
  int64_t lo = 0, hi = 0;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] == 0) return true;
    int64_t span = (shape[d] - 1) * strides[d];
    if (span < 0)
      lo += span;
    else
      hi += span;
  }
  const char *base = buf->data;
  int64_t off = data - base;
  return off + lo >= 0 && off + hi + (int64_t)lask_dtype_size(dt) <= (int64_t)buf->nbytes;
}

lask_ndarray *lask_ndarray_view(lask_buffer *buf, char *data, lask_dtype dt, int ndim, const int64_t *shape,
                                const int64_t *strides, lask_err *err) {
  if (check_layout(ndim, shape, dt, err)) return NULL;
  if (!inside(buf, data, dt, ndim, shape, strides)) {
    lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "ndarray: a view of shape %s reaches outside its buffer",
                 lask_shape_str(ndim, shape, (char[160]){0}, 160));
    return NULL;
  }
  lask_ndarray *a = malloc(sizeof *a);
  if (!a) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "ndarray: out of memory"), NULL;
  lask_obj_init(&a->h, &lask_ndarray_class);
  a->buf = buf;
  lask_retain(lask_objval(&buf->h));
  a->data = data, a->dtype = dt, a->ndim = ndim;
  for (int d = 0; d < ndim; d++) a->shape[d] = shape[d], a->strides[d] = strides[d];
  return a;
}

int64_t lask_ndarray_size(const lask_ndarray *a) { return lask_shape_size(a->ndim, a->shape, 1); }

/* Contiguity ignores the strides of extent-1 axes (numpy's relaxed rule), and any
 * array with no elements is contiguous. */
bool lask_ndarray_is_c_contiguous(const lask_ndarray *a) {
  int64_t s = (int64_t)lask_dtype_size(a->dtype);
  if (lask_ndarray_size(a) == 0) return true;
  for (int d = a->ndim - 1; d >= 0; d--) {
    if (a->shape[d] != 1 && a->strides[d] != s) return false;
    s *= a->shape[d];
  }
  return true;
}

bool lask_ndarray_is_f_contiguous(const lask_ndarray *a) {
  int64_t s = (int64_t)lask_dtype_size(a->dtype);
  if (lask_ndarray_size(a) == 0) return true;
  for (int d = 0; d < a->ndim; d++) {
    if (a->shape[d] != 1 && a->strides[d] != s) return false;
    s *= a->shape[d];
  }
  return true;
}

lask_ndarray *lask_ndarray_copy(const lask_ndarray *a, lask_dtype dt, lask_err *err) {
  lask_ndarray *c = lask_ndarray_empty(dt, a->ndim, a->shape, err);
  if (!c) return NULL;
  lask_iter it;
  if (lask_iter_init(&it, 2, a->ndim, a->shape, (char *[]){c->data, a->data},
                     (const int64_t *[]){c->strides, a->strides}))
    do lask_convert(dt, it.ptr[0], it.stride[0], a->dtype, it.ptr[1], it.stride[1], it.inner);
    while (lask_iter_next(&it));
  return c;
}

/* --- broadcasting --- */

bool lask_broadcast_strides(const lask_ndarray *a, int ndim, const int64_t *shape, int64_t *strides) {
  if (a->ndim > ndim) return false;
  int lead = ndim - a->ndim;
  for (int d = 0; d < ndim; d++) {
    if (d < lead) {
      strides[d] = 0;
      continue;
    }
    int64_t ext = a->shape[d - lead];
    if (ext != shape[d] && ext != 1) return false;
    strides[d] = ext == shape[d] ? a->strides[d - lead] : 0;
  }
  return true;
}

lask_ndarray *lask_ndarray_broadcast_to(lask_ndarray *a, int ndim, const int64_t *shape, lask_err *err) {
  int64_t strides[LASK_MAXDIM];
  if (ndim > LASK_MAXDIM || !lask_broadcast_strides(a, ndim, shape, strides)) {
    char s1[160], s2[160];
    lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "broadcast_to: shape %s does not broadcast to %s",
                 lask_shape_str(a->ndim, a->shape, s1, sizeof s1),
                 lask_shape_str(ndim, shape, s2, sizeof s2));
    return NULL;
  }
  return lask_ndarray_view(a->buf, a->data, a->dtype, ndim, shape, strides, err);
}

lask_status lask_broadcast_shapes(int n, const int *ndims, const int64_t *const *shapes, int *ndim_out,
                                  int64_t *shape_out, const char *what, lask_err *err) {
  int ndim = 0;
  for (int k = 0; k < n; k++) ndim = ndims[k] > ndim ? ndims[k] : ndim;
  for (int d = 0; d < ndim; d++) shape_out[d] = 1;
  for (int k = 0; k < n; k++) {
    for (int d = 0; d < ndims[k]; d++) {
      int64_t ext = shapes[k][d], *out = &shape_out[ndim - ndims[k] + d];
      if (ext == *out || ext == 1) continue;
      if (*out != 1) {
        char s1[160], s2[160];
        return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: shapes %s and %s do not broadcast", what,
                            lask_shape_str(ndim, shape_out, s1, sizeof s1),
                            lask_shape_str(ndims[k], shapes[k], s2, sizeof s2));
      }
      *out = ext;
    }
  }
  *ndim_out = ndim;
  return LASK_OK;
}

char *lask_shape_str(int ndim, const int64_t *shape, char *buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "(");
  for (int d = 0; d < ndim && used < size; d++)
    used += (size_t)snprintf(buf + used, size - used, d ? ", %lld" : "%lld", (long long)shape[d]);
  if (used < size) snprintf(buf + used, size - used, ndim == 1 ? ",)" : ")");
  return buf;
}

/* --- the iterator ---
 *
 * Iteration strategy. Elementwise work over strided operands is a loop nest whose
 * innermost loop does all the work, so the iterator's job is to make that loop as
 * long and as plain as possible and to keep everything else out of it:
 *   1. Axes of extent 1 are dropped: they contribute no movement.
 *   2. Neighbouring axes are merged wherever every operand steps through them as
 *      through one axis (stride[d] == stride[d+1] * shape[d+1] for all operands):
 *      C-contiguous operands of any shape collapse to a single axis, and a
 *      broadcast operand (stride 0 on both) merges too.
 *   3. The last remaining axis is the inner run handed to the caller, who loops
 *      over it with a per-dtype (often vectorised) loop and plain byte strides.
 *   4. The outer axes advance as an odometer that moves each operand's pointer by
 *      its stride and rewinds it on carry: no index arithmetic per element, and no
 *      multiplication per run.
 * The visiting order stays C order of the common shape (the order the caller's
 * output is written in), so operands laid out otherwise are read strided rather
 * than reordered: correctness first, and C order is what kernels make.
 */
bool lask_iter_init(lask_iter *it, int nops, int ndim, const int64_t *shape, char *const *data,
                    const int64_t *const *strides) {
  it->nops = nops;
  it->ndim = 0;
  for (int k = 0; k < nops; k++) it->ptr[k] = data[k];
  for (int d = 0; d < ndim; d++) {
    if (shape[d] == 0) return false;
    if (shape[d] == 1) continue;
    int m = it->ndim;
    bool merge = m > 0;
    for (int k = 0; k < nops && merge; k++) merge = it->strides[k][m - 1] == strides[k][d] * shape[d];
    if (merge) {
      it->shape[m - 1] *= shape[d];
      for (int k = 0; k < nops; k++) it->strides[k][m - 1] = strides[k][d];
      continue;
    }
    it->shape[m] = shape[d];
    for (int k = 0; k < nops; k++) it->strides[k][m] = strides[k][d];
    it->ndim++;
  }
  if (it->ndim == 0) {
    it->ndim = 1, it->shape[0] = 1;
    for (int k = 0; k < nops; k++) it->strides[k][0] = 0;
  }
  for (int d = 0; d < it->ndim; d++) it->index[d] = 0;
  it->inner = it->shape[it->ndim - 1];
  for (int k = 0; k < nops; k++) it->stride[k] = it->strides[k][it->ndim - 1];
  return true;
}

bool lask_iter_next(lask_iter *it) {
  for (int d = it->ndim - 2; d >= 0; d--) {
    if (++it->index[d] < it->shape[d]) {
      for (int k = 0; k < it->nops; k++) it->ptr[k] += it->strides[k][d];
      return true;
    }
    it->index[d] = 0;
    for (int k = 0; k < it->nops; k++) it->ptr[k] -= it->strides[k][d] * (it->shape[d] - 1);
  }
  return false;
}

void lask_cursor_init(lask_cursor *c, lask_dtype dt, char *data, int ndim, const int64_t *shape,
                      const int64_t *strides) {
  c->dtype = dt, c->pos = 0;
  if (!lask_iter_init(&c->it, 1, ndim, shape, (char *const[]){data}, (const int64_t *const[]){strides}))
    c->it.inner = 0;
}

void lask_cursor_read(lask_cursor *c, lask_dtype dt, void *dst, int64_t n) {
  int64_t size = (int64_t)lask_dtype_size(dt);
  for (int64_t done = 0; done < n;) {
    int64_t take = c->it.inner - c->pos < n - done ? c->it.inner - c->pos : n - done;
    lask_convert(dt, (char *)dst + done * size, size, c->dtype, c->it.ptr[0] + c->pos * c->it.stride[0],
                 c->it.stride[0], take);
    done += take, c->pos += take;
    if (c->pos == c->it.inner) c->pos = 0, lask_iter_next(&c->it);
  }
}

char *lask_ndarray_run_at(const lask_ndarray *dest, const int64_t *offset, lask_dtype dt, int ndim,
                          const int64_t *shape) {
  if (dest->ndim != ndim || dest->dtype != dt) return NULL;
  char *at = dest->data;
  int64_t want = (int64_t)lask_dtype_size(dt);
  for (int d = ndim - 1; d >= 0; d--) {
    if (offset[d] < 0 || offset[d] + shape[d] > dest->shape[d]) return NULL;
    if (shape[d] != 1 && dest->strides[d] != want) return NULL;
    want *= shape[d];
    at += offset[d] * dest->strides[d];
  }
  return at;
}
