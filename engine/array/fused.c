/* fused.c — the fused kernel (fused.h): elementwise expressions compiled once and
 * evaluated in cache-sized tiles.
 *
 * A program is postfix text ("2 $1 mul 1 add powi:3" is (2*x+1)^3). Compiling it
 * (once, in lask_fused_kernel_new) makes a list of nodes in postfix order: argument
 * references, constants, and operators from elementwise_ops.h. Each call then
 *   1. types the nodes from its arguments' dtypes (numpy's promotion, with Lua
 *      numbers "weak" as numpy treats Python scalars: they never widen an array's
 *      dtype within a kind; arrays, 0-d ones too, are strong as in numpy 2),
 *      which fixes the dtype every
 *      operand is computed in;
 *   2. walks the broadcast output in tiles of at most TILE consecutive elements
 *      (C order), evaluating the whole program on each tile with a stack of tile
 *      buffers, then moving on: every input is read once, the output written once,
 *      and no temporary is bigger than a tile.
 *
 * Invariants of the tile evaluation:
 *   1. The value at stack slot s lives in ptr[s], with dtype pt[s]: a slot buffer,
 *      a constant tile, or (direct inputs) the input's own memory.
 *   2. Slot s owns two buffers; an operator writes its result to the one ptr[s] does
 *      not point to (or, for the last operator, straight into the output), so no
 *      tile function ever sees its output overlap an operand.
 *   3. Readers move forward only: tile k + 1 starts where tile k ended.
 * Inputs are read in one of three ways: direct (already contiguous in the output's
 * order and in the dtype needed: a pointer, no copy), constant (a scalar, or an
 * array of one element: a tile filled once per call), or gathered (anything else:
 * strided, broadcast or of another dtype, copied into the slot with the conversion
 * folded into the copy, by lask_iter runs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_kernels.h"
#include "core/check.h"
#include "fused.h"

/* Elements per tile: 2 KiB of float64 per buffer, so a program's buffers stay in L1
 * (measured on (2x+1)^3: 256-512 beat 1024 and more by about 20%). */
#define TILE     256
#define MAXNODES LASK_FUSED_MAX_TOKENS
#define MAXDEPTH LASK_FUSED_MAX_DEPTH
#define MAXARGS  LASK_FUSED_MAX_ARGS
#define MAXTOKEN (LASK_FUSED_MAX_TOKEN_LEN + 1)
#define STR_(x)  #x
#define STR(x)   STR_(x)

#define N_ARG   LASK_FNODE_ARG
#define N_CONST LASK_FNODE_CONST
#define N_OP    LASK_FNODE_OP

typedef lask_fused_node fnode;

typedef struct fprog {
  int nnodes, nargs, depth;
  fnode nodes[MAXNODES];
} fprog;

/* --- compiling --- */

static lask_status bad_program(const char *kname, const char *text, lask_err *err, const char *why,
                               const char *tok) {
  return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: %s%s%s%s in program \"%s\"", kname, why,
                      tok ? " '" : "", tok ? tok : "", tok ? "'" : "", text);
}

/* Parses a number token into an integer or float constant; false if it is not one. */
static bool parse_number(const char *tok, lask_value *out) {
  char *end;
  errno = 0;
  long long i = strtoll(tok, &end, 10);
  if (*end == '\0' && errno == 0) return *out = lask_int(i), true;
  double d = strtod(tok, &end);
  if (*end != '\0' || end == tok) return false;
  return *out = lask_num(d), true;
}

/* Parses an operator token, with its parameter for powi:N, round:N and astype:D. */
static bool parse_op(const char *tok, fnode *n) {
  const char *colon = strchr(tok, ':');
  char name[MAXTOKEN];
  size_t len = colon ? (size_t)(colon - tok) : strlen(tok);
  memcpy(name, tok, len);
  name[len] = '\0';
  if (!(n->op = lask_ewop_find(name))) return false;
  n->kind = N_OP;
  n->param = (lask_ew_param){0, LASK_F64};
  bool wants_param =
      n->op->rule == LASK_EW_POWI || n->op->rule == LASK_EW_ROUND || n->op->rule == LASK_EW_CAST;
  if (!colon) return !wants_param;
  if (n->op->rule == LASK_EW_CAST) return wants_param && lask_dtype_parse(colon + 1, &n->param.dt);
  lask_value v;
  if (!wants_param || !parse_number(colon + 1, &v) || v.type != LASK_TINT) return false;
  n->param.n = v.as.i;
  return true;
}

static bool parse_leaf(const char *tok, fnode *n, int *nargs) {
  if (tok[0] == '$') {
    char *end;
    long k = strtol(tok + 1, &end, 10);
    if (*end || end == tok + 1 || k < 1 || k > MAXARGS) return false;
    n->kind = N_ARG, n->arg = (int)k - 1;
    if (k > *nargs) *nargs = (int)k;
    return true;
  }
  n->kind = N_CONST;
  if (strcmp(tok, "true") == 0 || strcmp(tok, "false") == 0) return n->cval = lask_bool(tok[0] == 't'), true;
  return parse_number(tok, &n->cval);
}

/* Compiles text into p; on failure fills err naming kname and the bad token. */
static lask_status compile(const char *kname, const char *text, fprog *p, lask_err *err) {
  int sp = 0;
  p->nnodes = p->nargs = p->depth = 0;
  for (const char *s = text; *s;) {
    while (*s == ' ' || *s == '\t' || *s == '\n') s++;
    size_t len = strcspn(s, " \t\n");
    if (len == 0) break;
    char tok[MAXTOKEN];
    if (len >= MAXTOKEN) return bad_program(kname, text, err, "token too long", NULL);
    memcpy(tok, s, len);
    tok[len] = '\0';
    s += len;
    if (p->nnodes == MAXNODES)
      return bad_program(kname, text, err, "more than " STR(LASK_FUSED_MAX_TOKENS) " tokens", NULL);
    fnode *n = &p->nodes[p->nnodes++];
    if (!parse_leaf(tok, n, &p->nargs) && !parse_op(tok, n))
      return bad_program(kname, text, err, "bad token", tok);
    if (n->kind == N_OP && sp < n->op->arity)
      return bad_program(kname, text, err, "too few operands for", tok);
    sp = n->kind == N_OP ? sp - n->op->arity + 1 : sp + 1;
    if (sp > MAXDEPTH)
      return bad_program(kname, text, err, "stack deeper than " STR(LASK_FUSED_MAX_DEPTH), NULL);
    if (sp > p->depth) p->depth = sp;
  }
  if (sp != 1) return bad_program(kname, text, err, sp ? "more than one value left" : "empty program", NULL);
  return LASK_OK;
}

/* --- typing --- */

typedef lask_ew_type ftype;

static lask_status op_error(const char *kname, const lask_ewop *op, const char *msg, lask_err *err) {
  if (strcmp(kname, op->name) == 0) return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s: %s", kname, msg);
  return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s: %s: %s", kname, op->name, msg);
}

lask_status lask_fused_type_op(const char *kname, const lask_ewop *op, const lask_ew_param *param,
                               const lask_ew_type *t, lask_ew_type *res, lask_dtype *compute, lask_err *err) {
  char msg[64];
  const char *refusal = lask_ew_result_type(op, param, t, res, compute, msg, sizeof msg);
  return refusal ? op_error(kname, op, refusal, err) : LASK_OK;
}

/* Types operator node n over its operands c[]: gives its result type and compute
 * dtype, and sets need[] of the operands (the dtype each must arrive in). */
static lask_status type_op(const char *kname, const fnode *n, const ftype *t, const int *c, ftype *res,
                           lask_dtype *ct, lask_dtype *need, lask_err *err) {
  const lask_ewop *op = n->op;
  ftype operands[3];
  for (int k = 0; k < op->arity; k++) operands[k] = t[c[k]];
  if (lask_fused_type_op(kname, op, &n->param, operands, res, ct, err)) return err->code;
  for (int k = 0; k < op->arity; k++) need[c[k]] = *ct;
  if (op->rule == LASK_EW_WHERE) need[c[0]] = LASK_BOOL;
  return LASK_OK;
}

/* Types every node of p given the arguments' types; need[i] is the dtype node i's
 * value is consumed in (its own dtype for the root). */
static lask_status type_program(const char *kname, const fprog *p, const ftype *argt, ftype *t,
                                lask_dtype *ct, lask_dtype *need, lask_err *err) {
  int stack[MAXDEPTH], sp = 0;
  for (int i = 0; i < p->nnodes; i++) {
    const fnode *n = &p->nodes[i];
    if (n->kind == N_ARG)
      t[i] = argt[n->arg];
    else if (n->kind == N_CONST)
      t[i] = (ftype){n->cval.type == LASK_TBOOL  ? LASK_BOOL
                     : n->cval.type == LASK_TINT ? LASK_I64
                                                 : LASK_F64,
                     true};
    else {
      sp -= n->op->arity;
      if (type_op(kname, n, t, &stack[sp], &t[i], &ct[i], need, err)) return err->code;
    }
    need[i] = t[i].dt;
    stack[sp++] = i;
  }
  return LASK_OK;
}

/* --- reading inputs tile by tile --- */

/* An input array of more than one element (single elements are constant tiles). */
typedef struct reader {
  bool direct; /* read in place */
  const lask_ndarray *a;
  lask_dtype need;
  size_t size;     /* bytes of need */
  lask_cursor cur; /* when not direct: over a broadcast to the output shape */
} reader;

/* Fills tile with n copies of v (a boolean, integer or float) in dtype dt. */
static void fill_scalar(void *tile, lask_dtype dt, lask_value v, int64_t n) {
  int64_t size = (int64_t)lask_dtype_size(dt);
  if (v.type == LASK_TBOOL)
    lask_convert(dt, tile, size, LASK_BOOL, &(uint8_t){v.as.b}, 0, n);
  else if (v.type == LASK_TINT)
    lask_convert(dt, tile, size, LASK_I64, &v.as.i, 0, n);
  else
    lask_convert(dt, tile, size, LASK_F64, &v.as.n, 0, n);
}

/* Sets r up to read array a broadcast to ndim/shape, in dtype need: directly when a
 * is C-contiguous in that shape and already of dtype need, gathered otherwise. */
static void reader_init(reader *r, const lask_ndarray *a, lask_dtype need, int ndim, const int64_t *shape) {
  int64_t bstrides[LASK_MAXDIM], cstrides[LASK_MAXDIM];
  r->a = a, r->need = need, r->size = lask_dtype_size(need);
  lask_broadcast_strides(a, ndim, shape, bstrides);
  lask_strides_c(ndim, shape, lask_dtype_size(a->dtype), cstrides);
  r->direct = a->dtype == need;
  for (int d = 0; d < ndim && r->direct; d++) r->direct = shape[d] == 1 || bstrides[d] == cstrides[d];
  if (!r->direct) lask_cursor_init(&r->cur, a->dtype, a->data, ndim, shape, bstrides);
}

/* The next n elements of r (from element start of the output): a pointer to them,
 * gathered into buf when they are not directly usable. */
static const void *reader_tile(reader *r, int64_t start, int64_t n, char *buf) {
  if (r->direct) return r->a->data + start * (int64_t)r->size;
  lask_cursor_read(&r->cur, r->need, buf, n);
  return buf;
}

/* --- evaluation --- */

/* Everything one call needs besides the program. */
typedef struct fcall {
  const char *kname;
  const fprog *p;
  const lask_value *args;
  ftype t[MAXNODES];
  lask_dtype ct[MAXNODES], need[MAXNODES];
  reader *rd[MAXNODES];    /* per N_ARG node over an array */
  char *ctile[MAXNODES];   /* per N_CONST node, or N_ARG node over a scalar */
  char *slot[MAXDEPTH][2]; /* two buffers per stack slot */
  int64_t tile;            /* elements per tile */
} fcall;

/* The slot-s buffer ptr (the value now in slot s) does not point to. */
static char *other_buf(const fcall *c, int s, const void *ptr) {
  return ptr == c->slot[s][0] ? c->slot[s][1] : c->slot[s][0];
}

static size_t dsize(lask_dtype dt) { return lask_dtype_size(dt); }

/* Runs the program on elements [start, start + n) of the output, writing them at out
 * (the output's element 0). */
static lask_status eval_tile(fcall *c, int64_t start, int64_t n, char *out, lask_err *err) {
  const void *ptr[MAXDEPTH];
  lask_dtype pt[MAXDEPTH];
  int who[MAXDEPTH], sp = 0, root = c->p->nnodes - 1;
  char *dst_out = out + start * (int64_t)dsize(c->t[root].dt);
  for (int i = 0; i <= root; i++) {
    const fnode *nd = &c->p->nodes[i];
    if (nd->kind != N_OP) {
      ptr[sp] = c->rd[i] ? reader_tile(c->rd[i], start, n, c->slot[sp][0]) : c->ctile[i];
      pt[sp] = c->need[i], who[sp++] = i;
      continue;
    }
    int s = sp - nd->op->arity;
    for (int k = s; k < sp; k++) { /* an operator's result may be wanted in another dtype */
      lask_dtype want = c->need[who[k]];
      if (pt[k] == want) continue;
      char *conv = other_buf(c, k, ptr[k]);
      lask_convert(want, conv, (int64_t)dsize(want), pt[k], ptr[k], (int64_t)dsize(pt[k]), n);
      ptr[k] = conv, pt[k] = want;
    }
    char *dst = i == root ? dst_out : other_buf(c, s, ptr[s]);
    if (nd->op->rule == LASK_EW_CAST)
      lask_convert(nd->param.dt, dst, (int64_t)dsize(nd->param.dt), pt[s], ptr[s], (int64_t)dsize(pt[s]), n);
    else if (nd->op->fn[c->ct[i]](n, dst, &ptr[s], &nd->param))
      return op_error(c->kname, nd->op, nd->op->domain_msg, err);
    ptr[s] = dst, pt[s] = c->t[i].dt, who[s] = i, sp = s + 1;
  }
  if (c->p->nodes[root].kind != N_OP)
    lask_convert(pt[0], dst_out, (int64_t)dsize(pt[0]), pt[0], ptr[0], (int64_t)dsize(pt[0]), n);
  return LASK_OK;
}

/* The type of argument i, or an error for what is neither an array nor a number. */
static lask_status arg_type(const char *kname, const lask_value *v, int i, ftype *t, lask_err *err) {
  const lask_ndarray *a = lask_ndarray_of(*v);
  if (a)
    *t = (ftype){a->dtype, false}; /* every array is strong, 0-d ones too (numpy 2) */
  else if (v->type == LASK_TBOOL)
    *t = (ftype){LASK_BOOL, true};
  else if (v->type == LASK_TINT)
    *t = (ftype){LASK_I64, true};
  else if (v->type == LASK_TNUM)
    *t = (ftype){LASK_F64, true};
  else
    return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s: argument %d is a %s, not an array or a number",
                        kname, i + 1, lask_typename(*v));
  return LASK_OK;
}

/* The shape all array arguments broadcast to (0-d when there are none). */
static lask_status out_shape(const char *kname, const lask_value *args, int nargs, int *ndim, int64_t *shape,
                             lask_err *err) {
  int ndims[MAXARGS], n = 0;
  const int64_t *shapes[MAXARGS];
  for (int i = 0; i < nargs; i++) {
    const lask_ndarray *a = lask_ndarray_of(args[i]);
    if (a) ndims[n] = a->ndim, shapes[n++] = a->shape;
  }
  return lask_broadcast_shapes(n, ndims, shapes, ndim, shape, kname, err);
}

/* Allocates the tiles and readers of c for an output of ndim/shape; false when out of memory. */
static bool setup(fcall *c, int ndim, const int64_t *shape, int64_t total, char **mem, reader **readers) {
  const fprog *p = c->p;
  int nconst = 0, nread = 0;
  for (int i = 0; i < p->nnodes; i++) {
    const lask_ndarray *a = p->nodes[i].kind == N_ARG ? lask_ndarray_of(c->args[p->nodes[i].arg]) : NULL;
    if (a && lask_ndarray_size(a) != 1)
      nread++;
    else if (p->nodes[i].kind != N_OP)
      nconst++;
  }
  c->tile = total < TILE ? (total + 7) / 8 * 8 : TILE;
  if (c->tile == 0) c->tile = 8;
  size_t tile_bytes = (size_t)c->tile * 8;
  *mem = NULL, *readers = calloc((size_t)nread + 1, sizeof **readers);
  if (!*readers || posix_memalign((void **)mem, 64, tile_bytes * (size_t)(2 * p->depth + nconst + 1)))
    return false;
  char *next = *mem;
  for (int s = 0; s < p->depth; s++)
    c->slot[s][0] = next, c->slot[s][1] = next + tile_bytes, next += 2 * tile_bytes;
  reader *r = *readers;
  for (int i = 0; i < p->nnodes; i++) {
    const fnode *nd = &p->nodes[i];
    c->rd[i] = NULL, c->ctile[i] = NULL;
    if (nd->kind == N_OP) continue;
    const lask_ndarray *a = nd->kind == N_ARG ? lask_ndarray_of(c->args[nd->arg]) : NULL;
    if (a && lask_ndarray_size(a) != 1) {
      reader_init(r, a, c->need[i], ndim, shape);
      c->rd[i] = r++;
      continue;
    }
    c->ctile[i] = next, next += tile_bytes;
    if (a)
      lask_convert(c->need[i], c->ctile[i], (int64_t)dsize(c->need[i]), a->dtype, a->data, 0, c->tile);
    else
      fill_scalar(c->ctile[i], c->need[i], nd->kind == N_ARG ? c->args[nd->arg] : nd->cval, c->tile);
  }
  return true;
}

/* A scalar result as a value. */
static lask_value scalar_value(lask_dtype dt, const void *p) {
  if (dt == LASK_BOOL) return lask_bool(*(const uint8_t *)p != 0);
  if (dt == LASK_I64) return lask_int(*(const int64_t *)p);
  return lask_num(lask_elem_f64(dt, p));
}

/* Runs p over args: types, sizes the output, evaluates every tile. With dest, the
 * output is written into dest at offset when it fits there (lask_ndarray_run_at;
 * *done tells), and *out is left alone. */
static lask_status run(const char *kname, const fprog *p, const lask_value *args, int nargs, lask_value *out,
                       const lask_ndarray *dest, const int64_t *offset, bool *done, lask_err *err) {
  ftype argt[MAXARGS];
  if (nargs != p->nargs)
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s expects %d argument%s, got %d", kname, p->nargs,
                        p->nargs == 1 ? "" : "s", nargs);
  bool any_array = false;
  for (int i = 0; i < nargs; i++) {
    if (arg_type(kname, &args[i], i, &argt[i], err)) return err->code;
    any_array = any_array || lask_ndarray_of(args[i]);
  }
  fcall *c = malloc(sizeof *c);
  if (!c) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "%s: out of memory", kname);
  c->kname = kname, c->p = p, c->args = args;
  int ndim = 0;
  int64_t shape[LASK_MAXDIM], total = 1;
  lask_ndarray *res = NULL;
  char *mem = NULL;
  union {
    double f;
    int64_t i;
  } scalar; /* the output of an all-scalar call, aligned for any dtype */
  reader *readers = NULL;
  lask_status st = type_program(kname, p, argt, c->t, c->ct, c->need, err);
  if (!st) st = out_shape(kname, args, nargs, &ndim, shape, err);
  if (!st) total = lask_shape_size(ndim, shape, 1); /* -1 on overflow: lask_ndarray_empty refuses it */
  lask_dtype odt = c->t[p->nnodes - 1].dt;
  char *into = !st && dest ? lask_ndarray_run_at(dest, offset, odt, ndim, shape) : NULL;
  if (dest && !into) { /* the caller writes it there itself */
    free(c);
    return *done = false, st;
  }
  if (!st && !into && any_array && !(res = lask_ndarray_empty(odt, ndim, shape, err))) st = err->code;
  if (!st && total > 0 && !setup(c, ndim, shape, total, &mem, &readers))
    st = lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "%s: out of memory", kname);
  char *base = into ? into : res ? res->data : (char *)&scalar;
  for (int64_t start = 0; !st && start < total; start += c->tile)
    st = eval_tile(c, start, total - start < c->tile ? total - start : c->tile, base, err);
  free(mem), free(readers), free(c);
  if (st) {
    if (res) lask_release(lask_ndarray_value(res));
    return st;
  }
  if (into) return *done = true, LASK_OK;
  *out = res ? lask_ndarray_value(res) : scalar_value(odt, &scalar);
  return LASK_OK;
}

/* --- kernels --- */

static lask_status k_program(const lask_kernel *k, const lask_value *args, int nargs, lask_value *out,
                             lask_err *err) {
  return run(k->name, k->data, args, nargs, out, NULL, NULL, NULL, err);
}

static lask_status k_program_into(const lask_kernel *k, const lask_value *args, int nargs,
                                  const lask_ndarray *dest, const int64_t *offset, bool *done,
                                  lask_err *err) {
  lask_value ignored = lask_nil();
  *done = false;
  return run(k->name, k->data, args, nargs, &ignored, dest, offset, done, err);
}

lask_kernel *lask_fused_kernel_new(const char *program, lask_err *err) {
  fprog *p = malloc(sizeof *p);
  size_t len = strlen(program);
  char *name = malloc(len + 8);
  lask_kernel *k = NULL;
  if (!p || !name)
    lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "fused: out of memory");
  else if (compile("fused", program, p, err) == LASK_OK) {
    snprintf(name, len + 8, "fused(%s)", program);
    if (!(k = lask_kernel_new(name, k_program, p, free)))
      lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "fused: out of memory");
    else
      k->into = k_program_into;
  }
  free(name);
  if (!k) free(p);
  return k;
}

lask_status lask_fused_eval_program(const char *kname, const char *program, const lask_value *args, int nargs,
                                    lask_value *out, lask_err *err) {
  fprog *p = malloc(sizeof *p);
  if (!p) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "%s: out of memory", kname);
  lask_status st = compile(kname, program, p, err);
  if (!st) st = run(kname, p, args, nargs, out, NULL, NULL, NULL, err);
  free(p);
  return st;
}

lask_status lask_fused_eval_nodes(const char *kname, const lask_fused_node *nodes, int nnodes,
                                  const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  LASK_ASSERT(nnodes >= 1 && nnodes <= MAXNODES);
  fprog *p = malloc(sizeof *p);
  if (!p) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "%s: out of memory", kname);
  int sp = 0;
  p->nnodes = nnodes, p->nargs = nargs, p->depth = 0;
  for (int i = 0; i < nnodes; i++) {
    p->nodes[i] = nodes[i];
    LASK_ASSERT(nodes[i].kind != N_ARG || (nodes[i].arg >= 0 && nodes[i].arg < nargs));
    LASK_ASSERT(nodes[i].kind != N_OP || sp >= nodes[i].op->arity);
    sp = nodes[i].kind == N_OP ? sp - nodes[i].op->arity + 1 : sp + 1;
    if (sp > p->depth) p->depth = sp;
  }
  LASK_ASSERT(sp == 1 && p->depth <= MAXDEPTH);
  lask_status st = run(kname, p, args, nargs, out, NULL, NULL, NULL, err);
  free(p);
  return st;
}

lask_status lask_ew_apply(const char *kname, const lask_ewop *op, const lask_ew_param *param,
                          const lask_value *args, int nargs, lask_value *out, lask_err *err) {
  fprog *p = malloc(sizeof *p);
  if (!p) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "%s: out of memory", kname);
  for (int i = 0; i < op->arity; i++) p->nodes[i] = (fnode){.kind = N_ARG, .arg = i};
  p->nodes[op->arity] = (fnode){.kind = N_OP, .op = op, .param = *param};
  p->nnodes = op->arity + 1, p->nargs = op->arity, p->depth = op->arity;
  lask_status st = run(kname, p, args, nargs, out, NULL, NULL, NULL, err);
  free(p);
  return st;
}
