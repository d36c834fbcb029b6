/* ldist.c — a fed get: this process's part of a graph spread over several (lask.mpi).
 *
 * core.get(dsk, keys, {fed = {messenger = m, inputs = {key = tag}, outputs = {key =
 * {tag, rank...}}}}) runs dsk on the threaded scheduler with the engine's feed
 * (engine/core/feed.h): an input key's value arrives as a message with its tag; an
 * output key's value is sent, once, to each rank listed, as soon as it is known.
 * Values travel as portable bytes (lserial.c): numbers, strings, Lua tables, tuple
 * keys, n-d arrays, kernels by name. An array of INLINE_MAX bytes or more travels
 * as two messages (pieces of at most PIECE_MAX for a huge one): a header ('Z' dtype
 * u8, ndim u8, shape i64 x ndim), then its elements, C-ordered, sent straight from
 * its buffer when it is C-contiguous (a strided one is packed once, for every rank
 * it goes to) and received straight into the new array's buffer; a smaller one
 * travels inline, one message, one copy on each side. The messenger (messenger.h)
 * moves the bytes; lask.distributed decides who owns what and builds dsk.
 */
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "core/feed.h"
#include "messenger.h"

struct lask_ldist {
  lua_State *L;
  lask_messenger *m;  /* its stats count what this get moves */
  uint8_t *flags;     /* per node: LASK_FEED_IN / LASK_FEED_OUT */
  uint32_t *tag_node; /* tag -> node of an input, LASK_NO_NODE for none; ntags slots */
  size_t ntags;
  int *out_tag;      /* per node: its tag when an output */
  uint32_t *out_off; /* CSR: out_dst[out_off[v]..out_off[v + 1]) the ranks v goes to */
  int *out_dst;
  lask_feed feed;
  size_t ninputs, arrived; /* values to receive, and received so far */
  int remote;              /* the run failed because another rank's did */
};

enum { POLL_BATCH = 32, INLINE_MAX = 16384 };
#define PIECE_MAX ((size_t)1 << 30) /* the bytes of one message at most */

/* Bytes being sent to one or more ranks: freed when the last send is done. */
typedef struct outmsg {
  int refs;
  lask_sbuf b;     /* the message, or a large array's header */
  lask_value keep; /* a large array sent from its own buffer: held until then */
  char *packed;    /* a large strided array's elements, packed once */
} outmsg;

static void outmsg_done(void *arg) {
  outmsg *o = arg;
  if (--o->refs) return;
  lask_sbuf_free(&o->b), free(o->packed), lask_release(o->keep), free(o);
}

/* The bytes of a's elements. */
static size_t array_bytes(const lask_ndarray *a) {
  return (size_t)lask_ndarray_size(a) * lask_dtype_size(a->dtype);
}

/* Prepares a large array's messages in o: its header, and where its elements are
 * (*body: its own buffer, retained, or packed once). Returns NULL or why not. */
static const char *large_array(lask_ldist *d, lask_value v, const lask_ndarray *a, outmsg *o,
                               const char **body) {
  uint8_t head[3] = {'Z', (uint8_t)a->dtype, (uint8_t)a->ndim};
  if (!lask_sbuf_put(&o->b, head, 3) || !lask_sbuf_put(&o->b, a->shape, (size_t)a->ndim * sizeof(int64_t)))
    return "out of memory";
  if (lask_ndarray_is_c_contiguous(a)) {
    o->keep = lask_retain(v);
    *body = a->data;
    return NULL;
  }
  size_t nbytes = array_bytes(a);
  if (!(o->packed = malloc(nbytes))) return "out of memory";
  lask_cursor c;
  lask_cursor_init(&c, a->dtype, a->data, a->ndim, a->shape, a->strides);
  lask_cursor_read(&c, a->dtype, o->packed, lask_ndarray_size(a));
  d->m->stats.copied += nbytes;
  *body = o->packed;
  return NULL;
}

/* Starts one send of o's (len bytes at p) to dst: o stays until it is done. */
static int send_part(lask_ldist *d, outmsg *o, int dst, int tag, const char *p, size_t len,
                     const char **why) {
  o->refs++;
  if (d->m->send(d->m->ctx, dst, tag, p, len, outmsg_done, o, why)) return 1;
  o->refs--;
  return 0;
}

static lask_status fed_out(void *ctx, uint32_t node, lask_value v, lask_err *err) {
  lask_ldist *d = ctx;
  outmsg *o = calloc(1, sizeof *o);
  if (!o) return lask_err_set(err, LASK_ENOMEM, node, "out of memory sending a value");
  o->refs = 1, o->b.portable = 1, o->keep = lask_nil();
  const lask_ndarray *a = lask_ndarray_of(v);
  const char *body = NULL, *why;
  if (a && array_bytes(a) >= INLINE_MAX) {
    if ((why = large_array(d, v, a, o, &body))) {
      lask_err_set(err, LASK_ENOMEM, node, "its value cannot be sent to another rank: %s", why);
      return outmsg_done(o), err->code;
    }
  } else {
    if ((why = lask_l_serialize(d->L, v, &o->b))) {
      lask_err_set(err, LASK_EINVAL, node, "its value cannot be sent to another rank: %s", why);
      lua_pop(d->L, 1); /* the message lask_l_serialize left */
      return outmsg_done(o), err->code;
    }
    if (a) d->m->stats.copied += array_bytes(a);
  }
  for (uint32_t k = d->out_off[node]; k < d->out_off[node + 1]; k++) {
    int dst = d->out_dst[k], ok = send_part(d, o, dst, d->out_tag[node], o->b.data, o->b.len, &why);
    size_t nbytes = body ? array_bytes(a) : 0;
    for (size_t off = 0; ok && off < nbytes; off += PIECE_MAX)
      ok = send_part(d, o, dst, d->out_tag[node], body + off,
                     nbytes - off < PIECE_MAX ? nbytes - off : PIECE_MAX, &why);
    if (!ok) {
      outmsg_done(o);
      return lask_err_set(err, LASK_EINVAL, node, "sending its value to rank %d: %s", dst, why);
    }
  }
  outmsg_done(o);
  return LASK_OK;
}

/* A large array from rank src: its header (data, len) read, its elements received
 * straight into a new array's buffer. 1 (*out), -1 (another rank failed) or -2. */
static int recv_large(lask_ldist *d, int src, int tag, const char *data, size_t len, lask_value *out,
                      const char **why) {
  int64_t shape[LASK_MAXDIM];
  uint8_t dt = len >= 3 ? (uint8_t)data[1] : 0, ndim = len >= 3 ? (uint8_t)data[2] : 0;
  if (len < 3 || dt > LASK_BOOL || ndim > LASK_MAXDIM || len != 3 + ndim * sizeof(int64_t))
    return *why = "a malformed array header", -2;
  memcpy(shape, data + 3, ndim * sizeof(int64_t));
  lask_err e;
  lask_ndarray *a = lask_ndarray_empty((lask_dtype)dt, ndim, shape, &e);
  if (!a) return *why = "out of memory (or a bad shape) for an array", -2;
  size_t nbytes = array_bytes(a);
  for (size_t off = 0; off < nbytes; off += PIECE_MAX) {
    int got = d->m->recv(d->m->ctx, src, tag, (char *)a->data + off,
                         nbytes - off < PIECE_MAX ? nbytes - off : PIECE_MAX, why);
    if (got < 1) return lask_release(lask_ndarray_value(a)), got;
  }
  *out = lask_ndarray_value(a);
  return 1;
}

static lask_status fed_poll(void *ctx, lask_feeder *f, int *progress, lask_err *err) {
  lask_ldist *d = ctx;
  for (int i = 0; i < POLL_BATCH; i++) {
    int src, tag;
    char *data;
    size_t len;
    const char *why = NULL;
    int got = d->m->poll(d->m->ctx, &src, &tag, &data, &len, &why);
    if (got == 0) return LASK_OK;
    if (got == -1) {
      d->remote = 1;
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "a task failed on another rank");
    }
    if (got < 0) return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "lask.mpi: %s", why ? why : "failed");
    *progress = 1;
    uint32_t node = tag >= 0 && (size_t)tag < d->ntags ? d->tag_node[tag] : LASK_NO_NODE;
    if (node == LASK_NO_NODE) {
      free(data);
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE,
                          "lask.mpi: rank %d sent a value nobody here needs (tag %d)", src, tag);
    }
    lask_value v;
    int ok;
    if (len > 0 && data[0] == 'Z') {
      ok = recv_large(d, src, tag, data, len, &v, &why);
      if (ok == -1) {
        free(data);
        d->remote = 1;
        return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "a task failed on another rank");
      }
      ok = ok == 1;
    } else {
      ok = lask_l_deserialize(d->L, data, len, NULL, 0, &v, &why);
      const lask_ndarray *a = ok ? lask_ndarray_of(v) : NULL;
      if (a) d->m->stats.copied += array_bytes(a);
    }
    free(data);
    if (!ok)
      return lask_err_set(err, LASK_EINVAL, node, "the value from rank %d cannot be read: %s", src, why);
    d->arrived++;
    lask_status st = lask_feed_value(f, node, v, err);
    if (st != LASK_OK) return st;
  }
  return LASK_OK;
}

static int fed_expecting(void *ctx) {
  const lask_ldist *d = ctx;
  return d->arrived < d->ninputs;
}

static int ldist_gc(lua_State *L) {
  lask_ldist *d = lua_touserdata(L, 1);
  free(d->flags), free(d->tag_node), free(d->out_tag), free(d->out_off), free(d->out_dst);
  d->flags = NULL, d->tag_node = NULL, d->out_tag = NULL, d->out_off = NULL, d->out_dst = NULL;
  return 0;
}

/* The tag at the top of the stack (an integer >= 1), or raises naming the key. */
static int checktag(lua_State *L, const char *what) {
  int isint;
  lua_Integer t = lua_tointegerx(L, -1, &isint);
  if (!isint || t < 1 || t > 0x7fffffff) luaL_error(L, "get: fed.%s: a tag must be a positive integer", what);
  return (int)t;
}

lask_ldist *lask_l_fed_prepare(lask_lrun *r, int opts, lask_run_opts *o) {
  lua_State *L = r->L;
  if (lua_isnil(L, opts) || lua_getfield(L, opts, "fed") == LUA_TNIL) {
    if (!lua_isnil(L, opts)) lua_pop(L, 1);
    return NULL;
  }
  int fed = lua_gettop(L);
  luaL_checktype(L, fed, LUA_TTABLE);
  lask_ldist *d = lua_newuserdatauv(L, sizeof *d, 0);
  memset(d, 0, sizeof *d);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, ldist_gc), lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  d->L = L;
  lua_getfield(L, fed, "messenger");
  d->m = lua_touserdata(L, -1);
  if (!d->m) luaL_error(L, "get: fed.messenger must be a messenger (light userdata)");
  lua_getfield(L, fed, "inputs");
  lua_getfield(L, fed, "outputs");
  int in = lua_gettop(L) - 1, out = in + 1;
  luaL_checktype(L, in, LUA_TTABLE), luaL_checktype(L, out, LUA_TTABLE);
  const lask_graph *g = r->c->g;
  size_t n = g->n ? g->n : 1, ndst = 0;
  d->flags = calloc(n, 1), d->out_tag = calloc(n, sizeof *d->out_tag);
  d->out_off = calloc(n + 1, sizeof *d->out_off);
  if (!d->flags || !d->out_tag || !d->out_off) luaL_error(L, "get: out of memory");
  for (uint32_t v = 0; v < g->n; v++) { /* first pass: flags, tags, how many ranks */
    lua_rawgeti(L, lask_lconv_keys(L, r->c), (lua_Integer)v + 1);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, in) != LUA_TNIL) {
      d->flags[v] |= LASK_FEED_IN;
      d->ninputs++;
      size_t t = (size_t)checktag(L, "inputs");
      if (t >= d->ntags) d->ntags = t + 1;
    }
    lua_pop(L, 1);
    if (lua_rawget(L, out) == LUA_TTABLE) {
      d->flags[v] |= LASK_FEED_OUT;
      lua_rawgeti(L, -1, 1);
      d->out_tag[v] = checktag(L, "outputs");
      lua_pop(L, 1);
      ndst += lua_rawlen(L, -1) - 1;
    }
    lua_pop(L, 1);
  }
  d->tag_node = malloc((d->ntags ? d->ntags : 1) * sizeof *d->tag_node);
  d->out_dst = malloc((ndst ? ndst : 1) * sizeof *d->out_dst);
  if (!d->tag_node || !d->out_dst) luaL_error(L, "get: out of memory");
  for (size_t t = 0; t < d->ntags; t++) d->tag_node[t] = LASK_NO_NODE;
  ndst = 0;
  for (uint32_t v = 0; v < g->n; v++) { /* second pass: tag -> node, destinations */
    d->out_off[v] = (uint32_t)ndst;
    if (!d->flags[v]) continue;
    lua_rawgeti(L, lask_lconv_keys(L, r->c), (lua_Integer)v + 1);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, in) != LUA_TNIL) d->tag_node[checktag(L, "inputs")] = v;
    lua_pop(L, 1);
    if (lua_rawget(L, out) == LUA_TTABLE) {
      lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
      for (lua_Integer k = 2; k <= len; k++) {
        lua_rawgeti(L, -1, k);
        lua_Integer dst = luaL_checkinteger(L, -1);
        if (dst < 0 || dst >= d->m->size || dst == d->m->rank)
          luaL_error(L, "get: fed.outputs: rank %d is not another rank of 0..%d", (int)dst, d->m->size - 1);
        d->out_dst[ndst++] = (int)dst;
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  d->out_off[g->n] = (uint32_t)ndst;
  lua_pop(L, 2);
  lua_remove(L, fed); /* the userdata stays on the stack for the get */
  d->feed =
      (lask_feed){.ctx = d, .flags = d->flags, .poll = fed_poll, .out = fed_out, .expecting = fed_expecting};
  o->feed = &d->feed;
  o->sched = LASK_SCHED_THREADED;
  return d;
}

int lask_l_fed_remote(const lask_ldist *d) { return d && d->remote; }

void lask_l_fed_convert_outputs(lua_State *L, lask_lconv *c, int opts) {
  if (lua_isnil(L, opts) || lua_getfield(L, opts, "fed") != LUA_TTABLE) {
    if (!lua_isnil(L, opts)) lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "outputs");
  luaL_checktype(L, -1, LUA_TTABLE);
  lua_newtable(L);
  lua_Integer n = 0;
  for (lua_pushnil(L); lua_next(L, -3); lua_pop(L, 1)) {
    lua_pushvalue(L, -2);
    lua_rawseti(L, -4, ++n);
  }
  lask_lconv_outputs(L, c, lua_gettop(L));
  lua_pop(L, 3);
}
