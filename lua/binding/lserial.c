/* lserial.c — values crossing processes: engine values and Lua values to bytes
 * and back, for lask.multiprocessing.
 *
 * Format: one tag byte then the payload, little-endian as the machine is (both
 * ends are forks of one process):
 *   engine value:  N nil | F T booleans | I int64 | D double | S len bytes
 *                  | L n items... | K kernel address (static kernels only: the
 *                  same in every fork) | A array | H lua-value
 *   Lua value:     n | f t | i int64 | d double | s len bytes
 *                  | { id pairs... } [m name] : a table, then its metatable by
 *                  registry name when it has one | r id: a table seen before
 *                  | k n parts...: a tuple key, re-interned on arrival
 *                  | K kernel address | A array
 *                  | F address u64, fingerprint u64: a function (below)
 *                  | Q registry len name: a static kernel by name (portable
 *                  bytes; registry 'a': the array kernels, 'c': lask.core.kernels)
 *   array:         dtype u8, ndim u8, shape i64 × ndim, descriptor index u32,
 *                  offset u64: the elements, C-ordered, in shared memory (a
 *                  memfd sent along the socket), never in the byte stream. An
 *                  array already in shared memory is sent without a copy.
 * Portable bytes (lask_sbuf.portable, for lask.mpi's ranks: other processes,
 * maybe other machines of the same architecture) differ in three ways: an array
 * is 'B' dtype u8, ndim u8, shape i64 × ndim, pad u8 and pad bytes, then its
 * elements C-ordered inline (aligned to 8 in the buffer written);
 * a static kernel is 'Q' (by name, as the registries know it); a function cannot
 * be written. Readers accept both forms.
 * Tables are numbered in the order they are first met, so shared references and
 * cycles come back as they were.
 *
 * Functions cross by identity, as Dask pickles them by reference: both ends are
 * forks of one Lua state, so a function that existed at the fork has the same
 * address in each. The reader finds the function at that address among those
 * reachable from the registry (globals, loaded modules) and its own stack (the
 * get's graph), with their upvalues, and checks the fingerprint (where and how it
 * is defined) so an address reused by a function made after the fork is refused.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "array/array_kernels.h"
#include "binding.h"

enum { MAX_DEPTH = 200 };

/* --- functions by identity --- */

static const char functions_key = 0; /* registry: address -> function (weak values) */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ULL;
  return h;
}

/* Where and how the function at idx is defined: its source and lines and upvalue
 * count, or the C function's address. */
static uint64_t fingerprint(lua_State *L, int idx) {
  lua_Debug ar;
  lua_pushvalue(L, idx);
  lua_getinfo(L, ">Su", &ar);
  uint64_t h = fnv(14695981039346656037ULL, ar.source ? ar.source : "", ar.source ? strlen(ar.source) : 0);
  int lines[3] = {ar.linedefined, ar.lastlinedefined, ar.nups};
  h = fnv(h, lines, sizeof lines);
  lua_CFunction cf = lua_tocfunction(L, idx);
  return cf ? fnv(h, &cf, sizeof cf) : h;
}

static int collectable(int type) {
  return type == LUA_TTABLE || type == LUA_TFUNCTION || type == LUA_TUSERDATA;
}

/* Appends the value on top to the work list at stack index work (size *n), or pops it. */
static void push_work(lua_State *L, int work, lua_Integer *n) {
  if (collectable(lua_type(L, -1)))
    lua_rawseti(L, work, ++*n);
  else
    lua_pop(L, 1);
}

/* What the object on top refers to, onto the work list; pops it. */
static void expand(lua_State *L, int work, lua_Integer *n) {
  int o = lua_gettop(L), type = lua_type(L, o);
  if (type == LUA_TTABLE) {
    for (lua_pushnil(L); lua_next(L, o); lua_pop(L, 1)) {
      lua_pushvalue(L, -2), push_work(L, work, n);
      lua_pushvalue(L, -1), push_work(L, work, n);
    }
  } else if (type == LUA_TFUNCTION) {
    for (int i = 1; lua_getupvalue(L, o, i); i++) push_work(L, work, n);
  } else {
    for (int i = 1; lua_getiuservalue(L, o, i) != LUA_TNONE; i++) push_work(L, work, n);
    lua_pop(L, 1);
  }
  if (type != LUA_TFUNCTION && lua_getmetatable(L, o)) push_work(L, work, n);
  lua_settop(L, o - 1);
}

/* Rebuilds the index of functions (address -> function) reachable from the
 * registry and from L's stack; leaves it on top. */
static void index_functions(lua_State *L) {
  int top = lua_gettop(L);
  luaL_checkstack(L, 8, "lask: indexing functions");
  lua_newtable(L); /* top+1: the index */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v"), lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_newtable(L); /* top+2: seen */
  lua_newtable(L); /* top+3: the work list */
  int index = top + 1, seen = top + 2, work = top + 3;
  lua_Integer n = 0;
  lua_pushvalue(L, LUA_REGISTRYINDEX), push_work(L, work, &n);
  for (int i = 1; i <= top; i++) lua_pushvalue(L, i), push_work(L, work, &n);
  while (n > 0) {
    lua_rawgeti(L, work, n), lua_pushnil(L), lua_rawseti(L, work, n--);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, seen) != LUA_TNIL) {
      lua_pop(L, 2);
      continue;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -1), lua_pushboolean(L, 1), lua_rawset(L, seen);
    if (lua_type(L, -1) == LUA_TFUNCTION) {
      lua_pushlightuserdata(L, (void *)lua_topointer(L, -1));
      lua_pushvalue(L, -2);
      lua_rawset(L, index);
    }
    expand(L, work, &n);
  }
  lua_settop(L, index);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &functions_key);
}

/* Pushes the function at address p with fingerprint fp, looking again when the
 * index has none; returns 0 (nothing pushed) when there is none. */
static int push_function(lua_State *L, const void *p, uint64_t fp) {
  for (int attempt = 0; attempt < 2; attempt++) {
    if (attempt) {
      index_functions(L);
    } else if (lua_rawgetp(L, LUA_REGISTRYINDEX, &functions_key) == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    int found = lua_rawgetp(L, -1, p) == LUA_TFUNCTION && fingerprint(L, -1) == fp;
    lua_remove(L, -2);
    if (found) return 1;
    lua_pop(L, 1);
  }
  return 0;
}

typedef struct wctx {
  lua_State *L;
  lask_sbuf *b;
  int seen;    /* stack index: table -> id */
  int errslot; /* stack index where the first failure's message is kept */
  int nseen;
  int depth;
  const char *err; /* first failure, a static string or one kept on the stack */
} wctx;

/* Makes room for n more bytes at the end of b and counts them in; returns where
 * they go, or NULL when out of memory (b unchanged). */
static char *sbuf_reserve(lask_sbuf *b, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data) return NULL;
    b->data = data, b->cap = cap;
  }
  b->len += n;
  return b->data + b->len - n;
}

int lask_sbuf_put(lask_sbuf *b, const void *p, size_t n) {
  if (n == 0) return 1; /* p may be NULL then */
  char *dst = sbuf_reserve(b, n);
  return dst ? (memcpy(dst, p, n), 1) : 0;
}

void lask_sbuf_reset(lask_sbuf *b) {
  for (size_t i = 0; i < b->nfds; i++) close(b->fds[i]);
  b->nfds = 0, b->len = 0;
}

void lask_sbuf_free(lask_sbuf *b) {
  lask_sbuf_reset(b);
  free(b->data), free(b->fds);
  memset(b, 0, sizeof *b);
}

static int add_fd(lask_sbuf *b, int fd, uint32_t *index) {
  if (b->nfds == b->capfds) {
    size_t cap = b->capfds ? b->capfds * 2 : 8;
    int *fds = realloc(b->fds, cap * sizeof *fds);
    if (!fds) return close(fd), 0;
    b->fds = fds, b->capfds = cap;
  }
  *index = (uint32_t)b->nfds;
  b->fds[b->nfds++] = fd;
  return 1;
}

static int put_tag(lask_sbuf *b, char tag);

/* --- arrays in shared memory --- */

enum { KEEP_FD_BYTES = 1 << 20 };

/* A mapping of shared memory received from another process. Big arrays keep their
 * descriptor so that sending them on costs no copy; small ones close it at once, so
 * many small arrays never run the process out of descriptors. */
typedef struct shm_map {
  int fd;     /* -1 once closed */
  size_t len; /* of the mapping */
} shm_map;

static void shm_release(lask_buffer *b) {
  shm_map *m = b->ctx;
  munmap(b->data, m->len);
  if (m->fd >= 0) close(m->fd);
  free(m);
}

/* A descriptor of shared memory holding a's elements C-ordered, and where they
 * start in it: a's own when it already lives there, else a new copy. */
static int array_fd(const lask_ndarray *a, uint64_t *offset) {
  if (a->buf->release == shm_release && ((shm_map *)a->buf->ctx)->fd >= 0 &&
      lask_ndarray_is_c_contiguous(a)) {
    *offset = (uint64_t)(a->data - (char *)a->buf->data);
    return dup(((shm_map *)a->buf->ctx)->fd);
  }
  size_t nbytes = (size_t)lask_ndarray_size(a) * lask_dtype_size(a->dtype);
  int fd = memfd_create("lask-array", MFD_CLOEXEC);
  if (fd < 0) return -1;
  void *p = nbytes ? NULL : MAP_FAILED;
  if (ftruncate(fd, (off_t)nbytes) != 0 ||
      (nbytes && (p = mmap(NULL, nbytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED))
    return close(fd), -1;
  if (nbytes) {
    lask_cursor c;
    lask_cursor_init(&c, a->dtype, a->data, a->ndim, a->shape, a->strides);
    lask_cursor_read(&c, a->dtype, p, lask_ndarray_size(a));
    munmap(p, nbytes);
  }
  *offset = 0;
  return fd;
}

/* A 'B' record: the elements inline, C-ordered, after pad bytes that align them to 8
 * in b (a strided array is gathered straight into b by typed stores). */
static int write_array_inline(lask_sbuf *b, const lask_ndarray *a) {
  static const char zeros[8] = {0};
  uint8_t head[2] = {(uint8_t)a->dtype, (uint8_t)a->ndim};
  size_t nbytes = (size_t)lask_ndarray_size(a) * lask_dtype_size(a->dtype);
  if (!put_tag(b, 'B') || !lask_sbuf_put(b, head, 2) ||
      !lask_sbuf_put(b, a->shape, (size_t)a->ndim * sizeof(int64_t)))
    return 0;
  uint8_t pad = (uint8_t)((8 - (b->len + 1) % 8) % 8);
  if (!lask_sbuf_put(b, &pad, 1) || !lask_sbuf_put(b, zeros, pad)) return 0;
  if (lask_ndarray_is_c_contiguous(a)) return lask_sbuf_put(b, a->data, nbytes);
  char *dst = nbytes ? sbuf_reserve(b, nbytes) : NULL;
  if (!nbytes || !dst) return !nbytes;
  lask_cursor c;
  lask_cursor_init(&c, a->dtype, a->data, a->ndim, a->shape, a->strides);
  lask_cursor_read(&c, a->dtype, dst, lask_ndarray_size(a));
  return 1;
}

static int write_array(lask_sbuf *b, const lask_ndarray *a) {
  if (b->portable) return write_array_inline(b, a);
  uint64_t offset;
  uint32_t index;
  uint8_t head[2] = {(uint8_t)a->dtype, (uint8_t)a->ndim};
  int fd = array_fd(a, &offset);
  return fd >= 0 && add_fd(b, fd, &index) && put_tag(b, 'A') && lask_sbuf_put(b, head, 2) &&
         lask_sbuf_put(b, a->shape, (size_t)a->ndim * sizeof(int64_t)) && lask_sbuf_put(b, &index, 4) &&
         lask_sbuf_put(b, &offset, 8);
}

static int put_tag(lask_sbuf *b, char tag) { return lask_sbuf_put(b, &tag, 1); }

static int put_u64(lask_sbuf *b, uint64_t v) { return lask_sbuf_put(b, &v, sizeof v); }

static int fail(wctx *w, const char *fmt, const char *what) {
  if (w->err) return 0;
  lua_pushfstring(w->L, fmt, what);
  lua_replace(w->L, w->errslot);
  w->err = lua_tostring(w->L, w->errslot);
  return 0;
}

static int write_lua(wctx *w, int idx);

/* A static kernel: its address between forks, its name between ranks ('Q'). */
static int write_kernel(lask_sbuf *b, const lask_kernel *k) {
  if (!b->portable) return put_tag(b, 'K') && lask_sbuf_put(b, &k, sizeof k);
  char registry = lask_akernel_find(k->name) == k ? 'a' : 'c'; /* names may repeat across the two */
  return put_tag(b, 'Q') && put_tag(b, registry) && put_u64(b, strlen(k->name)) &&
         lask_sbuf_put(b, k->name, strlen(k->name));
}

static int write_table(wctx *w, int idx) {
  lua_State *L = w->L;
  lua_pushvalue(L, idx);
  if (lua_rawget(L, w->seen) != LUA_TNIL) {
    uint64_t id = (uint64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return put_tag(w->b, 'r') && put_u64(w->b, id);
  }
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  lua_pushinteger(L, ++w->nseen);
  lua_rawset(L, w->seen);
  if (!put_tag(w->b, '{') || !put_u64(w->b, (uint64_t)w->nseen)) return 0;
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
    int top = lua_gettop(L);
    if (!write_lua(w, top - 1) || !write_lua(w, top)) return lua_settop(L, top - 2), 0; /* drop the pair */
  }
  if (!put_tag(w->b, '}')) return 0;
  if (!lua_getmetatable(L, idx)) return 1;
  int named = lua_getfield(L, -1, "__name") == LUA_TSTRING, ok = 0;
  if (named) {
    size_t len;
    const char *name = lua_tolstring(L, -1, &len);
    luaL_getmetatable(L, name);
    ok =
        lua_rawequal(L, -1, -3) && put_tag(w->b, 'm') && put_u64(w->b, len) && lask_sbuf_put(w->b, name, len);
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return ok || fail(w, "%s", "a table with a metatable that is not registered by name (luaL_newmetatable)");
}

static int write_key(wctx *w, int idx) {
  lua_State *L = w->L;
  int n = lask_l_keylen(L, idx);
  if (!put_tag(w->b, 'k') || !put_u64(w->b, (uint64_t)n)) return 0;
  for (int i = 1; i <= n; i++) {
    lask_l_keypart(L, idx, i);
    int ok = write_lua(w, lua_gettop(L));
    lua_pop(L, 1);
    if (!ok) return 0;
  }
  return 1;
}

static int write_lua(wctx *w, int idx) {
  lua_State *L = w->L;
  if (++w->depth > MAX_DEPTH) return fail(w, "%s", "tables nested too deep");
  int ok = 0;
  luaL_checkstack(L, 6, "lask: serialising");
  switch (lua_type(L, idx)) {
  case LUA_TNIL: ok = put_tag(w->b, 'n'); break;
  case LUA_TBOOLEAN: ok = put_tag(w->b, lua_toboolean(L, idx) ? 't' : 'f'); break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      int64_t v = lua_tointeger(L, idx);
      ok = put_tag(w->b, 'i') && lask_sbuf_put(w->b, &v, sizeof v);
    } else {
      double v = lua_tonumber(L, idx);
      ok = put_tag(w->b, 'd') && lask_sbuf_put(w->b, &v, sizeof v);
    }
    break;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    ok = put_tag(w->b, 's') && put_u64(w->b, len) && lask_sbuf_put(w->b, s, len);
    break;
  }
  case LUA_TTABLE: ok = write_table(w, idx); break;
  case LUA_TFUNCTION: {
    if (w->b->portable) {
      ok = fail(w, "%s", "a function (functions never travel between ranks: every rank has the graph's own)");
      break;
    }
    const void *p = lua_topointer(L, idx);
    uint64_t fp = fingerprint(L, idx);
    ok = put_tag(w->b, 'F') && lask_sbuf_put(w->b, &p, sizeof p) && put_u64(w->b, fp);
    break;
  }
  case LUA_TUSERDATA: {
    const lask_kernel *k = lask_l_tokernel(L, idx);
    bool failed = false;
    lask_ndarray *nd = lask_l_tondarray_quiet(L, idx, &failed); /* a pending one evaluated */
    if (failed)
      ok = fail(w, "%s", "a lask.ndarray that could not be evaluated (out of memory)");
    else if (nd)
      ok = lask_sbuf_put(w->b, "a", 1) && write_array(w->b, nd);
    else if (lask_l_iskey(L, idx))
      ok = write_key(w, idx);
    else if (k && atomic_load(&k->h.refs) == LASK_REFS_STATIC)
      ok = write_kernel(w->b, k);
    else
      ok = fail(w, "a %s", luaL_typename(L, idx));
    break;
  }
  default: ok = fail(w, "a %s", luaL_typename(L, idx));
  }
  w->depth--;
  return ok;
}

static int write_value(wctx *w, lask_value v) {
  switch ((lask_type)v.type) {
  case LASK_TNIL: return put_tag(w->b, 'N');
  case LASK_TBOOL: return put_tag(w->b, v.as.b ? 'T' : 'F');
  case LASK_TINT: return put_tag(w->b, 'I') && lask_sbuf_put(w->b, &v.as.i, sizeof v.as.i);
  case LASK_TNUM: return put_tag(w->b, 'D') && lask_sbuf_put(w->b, &v.as.n, sizeof v.as.n);
  case LASK_TOBJ: break;
  }
  const lask_class *cls = v.as.o->cls;
  if (cls == &lask_str_class) {
    const lask_str *s = (const lask_str *)v.as.o;
    return put_tag(w->b, 'S') && put_u64(w->b, s->len) && lask_sbuf_put(w->b, s->data, s->len);
  }
  if (cls == &lask_list_class) {
    const lask_list *l = (const lask_list *)v.as.o;
    if (!put_tag(w->b, 'L') || !put_u64(w->b, l->n)) return 0;
    for (size_t i = 0; i < l->n; i++)
      if (!write_value(w, l->items[i])) return 0;
    return 1;
  }
  if (cls == &lask_ndarray_class) return write_array(w->b, (const lask_ndarray *)v.as.o);
  if (cls == &lask_kernel_class && atomic_load(&v.as.o->refs) == LASK_REFS_STATIC)
    return write_kernel(w->b, (const lask_kernel *)v.as.o);
  if (cls == &lask_host_class) {
    lask_l_pushval(w->L, v);
    int ok = put_tag(w->b, 'H') && write_lua(w, lua_gettop(w->L));
    lua_pop(w->L, 1);
    return ok;
  }
  return fail(w, "a %s", cls->name);
}

const char *lask_l_serialize(lua_State *L, lask_value v, lask_sbuf *b) {
  lua_pushnil(L);
  lua_newtable(L);
  wctx w = {.L = L, .b = b, .seen = lua_gettop(L), .errslot = lua_gettop(L) - 1};
  if (write_value(&w, v)) {
    lua_pop(L, 2);
    return NULL;
  }
  lua_pop(L, 1); /* the message stays on top */
  if (!w.err) lua_pop(L, 1), lua_pushliteral(L, "out of memory");
  return lua_tostring(L, -1);
}

/* --- reading --- */

typedef struct rctx {
  lua_State *L;
  lask_lctx *ctx;
  const char *p, *end;
  int *fds;
  size_t nfds;
  int tables; /* stack index: id -> table */
  int depth;
  const char *why; /* what was refused, when the bytes were well formed */
} rctx;

static int get(rctx *r, void *out, size_t n) {
  if ((size_t)(r->end - r->p) < n) return 0;
  memcpy(out, r->p, n);
  r->p += n;
  return 1;
}

static int get_u64(rctx *r, uint64_t *v) { return get(r, v, sizeof *v); }

static int read_lua(rctx *r);

/* An 'A' record: maps the descriptor (taking it) and gives the array in *out. */
static int read_array(rctx *r, lask_ndarray **out) {
  uint8_t head[2];
  int64_t shape[LASK_MAXDIM];
  uint32_t index;
  uint64_t offset;
  lask_dtype dt;
  if (!get(r, head, 2) || head[1] > LASK_MAXDIM || !get(r, shape, head[1] * sizeof(int64_t)) ||
      !get(r, &index, 4) || !get(r, &offset, 8) || index >= r->nfds || r->fds[index] < 0)
    return 0;
  dt = (lask_dtype)head[0];
  size_t nbytes = lask_dtype_size(dt);
  for (int d = 0; d < head[1]; d++) nbytes *= (size_t)shape[d];
  shm_map *m = malloc(sizeof *m);
  if (!m) return 0;
  m->fd = r->fds[index], m->len = offset + nbytes ? offset + nbytes : 1;
  void *p = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
  if (p == MAP_FAILED) return free(m), 0;
  r->fds[index] = -1; /* the buffer owns it now */
  if (m->len < KEEP_FD_BYTES) close(m->fd), m->fd = -1;
  lask_buffer *b = lask_buffer_wrap(p, m->len, shm_release, m);
  if (!b) return munmap(p, m->len), close(m->fd), free(m), 0;
  b->stable = true; /* the sender wrote it before sending; no one writes it after */
  int64_t strides[LASK_MAXDIM];
  lask_strides_c(head[1], shape, lask_dtype_size(dt), strides);
  lask_err err;
  *out = lask_ndarray_view(b, (char *)p + offset, dt, head[1], shape, strides, &err);
  lask_release(lask_objval(&b->h)); /* the view holds it */
  return *out != NULL;
}

/* A 'B' record: the elements inline, copied into a new array. */
static int read_array_inline(rctx *r, lask_ndarray **out) {
  uint8_t head[2];
  int64_t shape[LASK_MAXDIM];
  if (!get(r, head, 2) || head[1] > LASK_MAXDIM || head[0] > LASK_BOOL ||
      !get(r, shape, head[1] * sizeof(int64_t)))
    return 0;
  uint8_t pad;
  if (!get(r, &pad, 1) || pad > 7 || (size_t)(r->end - r->p) < pad) return 0;
  r->p += pad;
  lask_dtype dt = (lask_dtype)head[0];
  uint64_t nbytes = lask_dtype_size(dt);
  for (int d = 0; d < head[1]; d++) {
    if (shape[d] < 0 || (shape[d] && nbytes > (uint64_t)(r->end - r->p) / (uint64_t)shape[d])) return 0;
    nbytes *= (uint64_t)shape[d];
  }
  if ((uint64_t)(r->end - r->p) < nbytes) return 0;
  lask_err err;
  if (!(*out = lask_ndarray_empty(dt, head[1], shape, &err))) return 0;
  if (nbytes) memcpy((*out)->data, r->p, nbytes);
  r->p += nbytes;
  return 1;
}

/* A 'Q' record: pushes the kernel of that name (lask.core.kernels, then the array
 * kernels), or returns 0 when this process has none. */
static int read_kernel_name(rctx *r) {
  lua_State *L = r->L;
  int top = lua_gettop(L);
  uint64_t len;
  char registry;
  if (!get(r, &registry, 1) || !get_u64(r, &len) || (uint64_t)(r->end - r->p) < len) return 0;
  lua_pushlstring(L, r->p, len); /* top + 1: the name */
  r->p += len;
  const lask_kernel *k = registry == 'a' ? lask_akernel_find(lua_tostring(L, top + 1)) : NULL;
  if (k) return lua_settop(L, top), lask_l_pushkernel(L, k), 1;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  int found = lua_getfield(L, -1, "lask.core") == LUA_TTABLE &&
              lua_getfield(L, -1, "kernels") == LUA_TTABLE &&
              lua_getfield(L, -1, lua_tostring(L, top + 1)) == LUA_TUSERDATA && lask_l_tokernel(L, -1);
  if (!found) {
    lua_settop(L, top);
    r->why = "a kernel this process does not have";
    return 0;
  }
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
  return 1;
}

static int read_table(rctx *r) {
  lua_State *L = r->L;
  uint64_t id;
  if (!get_u64(r, &id)) return 0;
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_rawseti(L, r->tables, (lua_Integer)id);
  int t = lua_gettop(L);
  while (r->p < r->end && *r->p != '}') {
    if (!read_lua(r) || !read_lua(r)) return 0;
    lua_rawset(L, t);
  }
  if (r->p == r->end) return 0;
  r->p++;
  if (r->p < r->end && *r->p == 'm') {
    uint64_t len;
    r->p++;
    if (!get_u64(r, &len) || (uint64_t)(r->end - r->p) < len) return 0;
    lua_pushlstring(L, r->p, len);
    r->p += len;
    if (luaL_getmetatable(L, lua_tostring(L, -1)) == LUA_TNIL) return 0;
    lua_setmetatable(L, t);
    lua_pop(L, 1);
  }
  return 1;
}

static int read_lua(rctx *r) {
  lua_State *L = r->L;
  char tag;
  if (++r->depth > MAX_DEPTH + 1 || !get(r, &tag, 1)) return 0;
  luaL_checkstack(L, 6, "lask: deserialising");
  int ok = 1;
  switch (tag) {
  case 'n': lua_pushnil(L); break;
  case 'f': lua_pushboolean(L, 0); break;
  case 't': lua_pushboolean(L, 1); break;
  case 'i': {
    int64_t v;
    if ((ok = get(r, &v, sizeof v))) lua_pushinteger(L, v);
    break;
  }
  case 'd': {
    double v;
    if ((ok = get(r, &v, sizeof v))) lua_pushnumber(L, v);
    break;
  }
  case 's': {
    uint64_t len;
    if ((ok = get_u64(r, &len) && (uint64_t)(r->end - r->p) >= len))
      lua_pushlstring(L, r->p, len), r->p += len;
    break;
  }
  case '{': ok = read_table(r); break;
  case 'r': {
    uint64_t id;
    if ((ok = get_u64(r, &id))) ok = lua_rawgeti(L, r->tables, (lua_Integer)id) == LUA_TTABLE;
    break;
  }
  case 'k': {
    uint64_t n;
    if (!(ok = get_u64(r, &n) && n >= 1 && n <= LASK_KEY_PARTS_MAX)) break;
    lask_l_pushkeyfunc(L);
    for (uint64_t i = 0; i < n && ok; i++) ok = read_lua(r);
    if (ok) lua_call(L, (int)n, 1);
    break;
  }
  case 'K': {
    const lask_kernel *k;
    if ((ok = get(r, &k, sizeof k))) lask_l_pushkernel(L, k);
    break;
  }
  case 'Q': ok = read_kernel_name(r); break;
  case 'F': {
    const void *p;
    uint64_t fp;
    if ((ok = get(r, &p, sizeof p) && get_u64(r, &fp)) && !(ok = push_function(L, p, fp)))
      r->why = "a function made after the workers started (only functions that existed then can cross)";
    break;
  }
  case 'a': {
    lask_ndarray *a;
    char tag2;
    if ((ok = get(r, &tag2, 1) &&
              (tag2 == 'A' ? read_array(r, &a) : tag2 == 'B' && read_array_inline(r, &a)))) {
      lask_l_pushndarray(L, a);
      lask_release(lask_ndarray_value(a));
    }
    break;
  }
  default: ok = 0;
  }
  r->depth--;
  return ok;
}

static int read_value(rctx *r, lask_value *out) {
  char tag;
  if (!get(r, &tag, 1)) return 0;
  switch (tag) {
  case 'N': *out = lask_nil(); return 1;
  case 'F': *out = lask_bool(false); return 1;
  case 'T': *out = lask_bool(true); return 1;
  case 'I': *out = lask_int(0); return get(r, &out->as.i, sizeof out->as.i);
  case 'D': *out = lask_num(0); return get(r, &out->as.n, sizeof out->as.n);
  case 'S': {
    uint64_t len;
    if (!get_u64(r, &len) || (uint64_t)(r->end - r->p) < len) return 0;
    lask_str *s = lask_str_new(r->p, len);
    r->p += len;
    return s ? (*out = lask_objval(&s->h), 1) : 0;
  }
  case 'L': {
    uint64_t n;
    if (!get_u64(r, &n) || n > (uint64_t)(r->end - r->p)) return 0;
    lask_list *l = lask_list_new(n);
    if (!l) return 0;
    *out = lask_objval(&l->h);
    for (uint64_t i = 0; i < n; i++)
      if (!read_value(r, &l->items[i])) return lask_release(*out), 0;
    return 1;
  }
  case 'K': {
    lask_obj *k;
    if (!get(r, &k, sizeof k)) return 0;
    *out = lask_objval(k);
    return 1;
  }
  case 'A':
  case 'B': {
    lask_ndarray *a;
    if (!(tag == 'A' ? read_array(r, &a) : read_array_inline(r, &a))) return 0;
    *out = lask_ndarray_value(a);
    return 1;
  }
  case 'Q': {
    if (!read_kernel_name(r)) return 0;
    *out = lask_kernel_value(lask_l_tokernel(r->L, -1)); /* static: never counted */
    lua_pop(r->L, 1);
    return 1;
  }
  case 'H': {
    if (!read_lua(r)) return 0;
    int ok = lask_l_toval(r->L, r->ctx, -1, out);
    lua_pop(r->L, 1);
    return ok;
  }
  }
  return 0;
}

/* The part of lask_l_deserialize that may raise (Lua's memory errors): under
 * lua_pcall, with the rctx at index 1 and the value's slot at index 2. */
static int deserialize_protected(lua_State *L) {
  rctx *r = lua_touserdata(L, 1);
  lask_value *out = lua_touserdata(L, 2);
  lua_newtable(L);
  r->tables = lua_gettop(L);
  lua_pushboolean(L, read_value(r, out) && r->p == r->end);
  return 1;
}

int lask_l_deserialize(lua_State *L, const char *data, size_t len, int *fds, size_t nfds, lask_value *out,
                       const char **why) {
  rctx r = {L, lask_l_ctx(L), data, data + len, fds, nfds, 0, 0, NULL};
  int top = lua_gettop(L);
  *out = lask_nil();
  lua_pushcfunction(L, deserialize_protected); /* pushing a light C function never allocates */
  lua_pushlightuserdata(L, &r), lua_pushlightuserdata(L, out);
  int status = lua_pcall(L, 2, 1, 0);
  int ok = status == LUA_OK && lua_toboolean(L, -1);
  /* On a memory error the value being built is released whole (a list holds what
   * was read of it); on malformed bytes read_value has released it already, unless
   * the bytes only went on after it. */
  if (!ok && out->type == LASK_TOBJ && (status != LUA_OK || r.p != r.end))
    lask_release(*out), *out = lask_nil();
  lua_settop(L, top);
  if (why)
    *why = ok                     ? NULL
           : status == LUA_ERRMEM ? "not enough memory"
           : r.why                ? r.why
                                  : "not enough memory, or malformed bytes";
  return ok;
}
