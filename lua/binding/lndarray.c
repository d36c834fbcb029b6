/* lndarray.c — lask.ndarray's methods, operators and printing, and the array
 * functions of lask.core (asarray, load, fused_kernel, the array_kernels table).
 *
 * The userdata itself (wrapping and unwrapping an engine array) is lndwrap.c's;
 * here its metatable gets the rest when lask.core opens. Lua counts from 1: a[i]
 * and a:get(i, j) take 1-based indices (negative ones count from the end in get).
 * An array is read-only from Lua, as engine arrays are immutable once made.
 * Arithmetic on arrays is recorded, not run (lndexpr.c): its result is pending
 * until its data is first needed (lndwrap.c), which nothing here has to care about:
 * every function gets its array through lask_l_checkndarray.
 *
 * Expected failures (a file that cannot be read or written) return nil and a
 * message, as Lua's io does; misuse (a ragged table, a bad index) raises.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "array/array_kernels.h"
#include "array/blas_cores.h"
#include "core/blas_threads.h"
#include "binding.h"
#include "array/npy.h"

/* Pushes a new array (taking over the reference), or raises err's message. */
static void push_new(lua_State *L, lask_ndarray *a, const lask_err *err) {
  if (!a) luaL_error(L, "%s", err->msg);
  lask_l_pushndarray(L, a);
  lask_release(lask_ndarray_value(a));
}

/* Pushes the element at p as a Lua number, integer or boolean. */
static void push_elem(lua_State *L, lask_dtype dt, const char *p) {
  if (dt == LASK_BOOL)
    lua_pushboolean(L, *(const uint8_t *)p != 0);
  else if (dt == LASK_I64)
    lua_pushinteger(L, *(const int64_t *)p);
  else
    lua_pushnumber(L, lask_elem_f64(dt, p));
}

/* The view a[i] along the first axis (0-based i): the array of the other axes. */
static lask_ndarray *row_view(const lask_ndarray *a, int64_t i, lask_err *err) {
  return lask_ndarray_view(a->buf, a->data + i * a->strides[0], a->dtype, a->ndim - 1, a->shape + 1,
                           a->strides + 1, err);
}

/* --- fields and methods --- */

static void push_int_list(lua_State *L, int n, const int64_t *v) {
  lua_createtable(L, n, 0);
  for (int d = 0; d < n; d++) lua_pushinteger(L, v[d]), lua_rawseti(L, -2, d + 1);
}

/* a:get(i, j, ...): the element at 1-based indices (negative: from the end). */
static int nd_get(lua_State *L) {
  lask_ndarray *a = lask_l_checkndarray(L, 1);
  int n = lua_gettop(L) - 1;
  if (n != a->ndim)
    return luaL_error(L, "lask.ndarray: get needs %d indices for a %d-d array, got %d", a->ndim, a->ndim, n);
  int64_t idx[LASK_MAXDIM];
  for (int d = 0; d < n; d++) {
    lua_Integer i = luaL_checkinteger(L, d + 2);
    if (i < 0) i += a->shape[d] + 1;
    if (i < 1 || i > a->shape[d])
      return luaL_error(L, "lask.ndarray: index %d out of range for axis %d of size %d",
                        (int)lua_tointeger(L, d + 2), d + 1, (int)a->shape[d]);
    idx[d] = i - 1;
  }
  push_elem(L, a->dtype, lask_ndarray_ptr(a, idx));
  return 1;
}

/* a:item(): the one element of a size-1 array, as numpy's item(). */
static int nd_item(lua_State *L) {
  lask_ndarray *a = lask_l_checkndarray(L, 1);
  if (lask_ndarray_size(a) != 1)
    return luaL_error(L, "lask.ndarray: item needs an array of one element, this one has %d",
                      (int)lask_ndarray_size(a));
  push_elem(L, a->dtype, a->data);
  return 1;
}

/* Pushes the nested tables of a's axes from axis d on, starting at p. */
static void push_table(lua_State *L, const lask_ndarray *a, int d, const char *p) {
  if (d == a->ndim) return push_elem(L, a->dtype, p);
  luaL_checkstack(L, 4, "lask.ndarray: too deep");
  lua_createtable(L, (int)a->shape[d], 0);
  for (int64_t i = 0; i < a->shape[d]; i++) {
    push_table(L, a, d + 1, p + i * a->strides[d]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* a:totable(): nested Lua tables (a 0-d array gives its element). */
static int nd_totable(lua_State *L) {
  lask_ndarray *a = lask_l_checkndarray(L, 1);
  push_table(L, a, 0, a->data);
  return 1;
}

/* a:save(path) -> true; raises on failure, as every lask function (the README's policy). */
static int nd_save(lua_State *L) {
  lask_ndarray *a = lask_l_checkndarray(L, 1);
  const char *path = luaL_checkstring(L, 2);
  lask_err err;
  if (lask_npy_save(path, a, &err) != LASK_OK) return luaL_error(L, "lask.ndarray: %s", err.msg);
  lua_pushboolean(L, 1);
  return 1;
}

static lask_dtype check_dtype(lua_State *L, int idx) {
  lask_dtype dt;
  const char *name = luaL_checkstring(L, idx);
  if (!lask_dtype_parse(name, &dt))
    luaL_error(L, "lask.ndarray: unknown dtype '%s' (float64, float32, int64 or bool)", name);
  return dt;
}

/* a:astype(dtype): a C-contiguous copy in dtype. */
static int nd_astype(lua_State *L) {
  lask_ndarray *a = lask_l_checkndarray(L, 1);
  lask_err err;
  push_new(L, lask_ndarray_copy(a, check_dtype(L, 2), &err), &err);
  return 1;
}

/* a:copy(): a C-contiguous copy. */
static int nd_copy(lua_State *L) {
  lask_ndarray *a = lask_l_checkndarray(L, 1);
  lask_err err;
  push_new(L, lask_ndarray_copy(a, a->dtype, &err), &err);
  return 1;
}

/* Runs array kernel name over args (n values it releases) and pushes its result; on
 * failure, a Lua error with the kernel's message after prefix. ctx: the conversion
 * context of the args, drained here (or NULL). */
static int run_kernel(lua_State *L, lask_lctx *ctx, const char *name, lask_value *args, int n,
                      const char *prefix) {
  lask_value out = lask_nil();
  const lask_kernel *k = lask_akernel_find(name);
  lask_err err;
  lask_status st = k->fn(k, args, n, &out, &err);
  for (int i = 0; i < n; i++) lask_release(args[i]);
  if (ctx) lask_l_drain(L, ctx);
  if (st != LASK_OK) return luaL_error(L, "%s%s", prefix, err.msg);
  lask_l_pushval(L, out);
  lask_release(out);
  return 1;
}

/* a:reshape(shape) or a:reshape(d1, d2, ...): numpy's reshape, in C order, one
 * extent may be -1 (the reshape kernel): a view of a when it is C-contiguous, else
 * of a copy. */
static int nd_reshape(lua_State *L) {
  lask_ndarray *a = lask_l_checkndarray(L, 1);
  bool table = lua_istable(L, 2);
  int n = table ? (int)lua_rawlen(L, 2) : lua_gettop(L) - 1;
  if (n > LASK_MAXDIM) return luaL_error(L, "lask.ndarray: reshape: at most %d dimensions", LASK_MAXDIM);
  lask_list *l = lask_list_new((size_t)n);
  if (!l) return luaL_error(L, "lask.ndarray: out of memory");
  for (int i = 0; i < n; i++) {
    if (table)
      lua_rawgeti(L, 2, i + 1);
    else
      lua_pushvalue(L, i + 2);
    l->items[i] = lua_isinteger(L, -1)  ? lask_int(lua_tointeger(L, -1))
                  : lua_isnumber(L, -1) ? lask_num(lua_tonumber(L, -1))
                                        : lask_nil(); /* the kernel says what is wrong */
    lua_pop(L, 1);
  }
  lask_value args[2] = {lask_ndarray_value(a), lask_objval(&l->h)};
  lask_retain(args[0]);
  return run_kernel(L, NULL, "reshape", args, 2, "lask.ndarray: ");
}

static const luaL_Reg methods[] = {{"get", nd_get},         {"item", nd_item},     {"totable", nd_totable},
                                   {"save", nd_save},       {"astype", nd_astype}, {"copy", nd_copy},
                                   {"reshape", nd_reshape}, {NULL, NULL}};

/* a.shape, a.dtype, a.ndim, a.size, a.strides, methods; a[i] (1-based): an element
 * of a 1-d array, the row view of others, nil out of range (so ipairs works).
 * Upvalue 1: the methods table. */
static int nd_index(lua_State *L) {
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lask_ndarray *a = lask_l_checkndarray(L, 1);
    lua_Integer i = 0;
    if (lua_isinteger(L, 2))
      i = lua_tointeger(L, 2);
    else if (!lua_numbertointeger(lua_tonumber(L, 2), &i))
      return 0;
    if (a->ndim == 0 || i < 1 || i > a->shape[0]) return 0;
    if (a->ndim == 1) return push_elem(L, a->dtype, a->data + (i - 1) * a->strides[0]), 1;
    lask_err err;
    push_new(L, row_view(a, i - 1, &err), &err);
    return 1;
  }
  const char *k = lua_tostring(L, 2);
  if (!k) return 0;
  lask_dtype dt; /* the layout, read without evaluating a pending array */
  int ndim;
  const int64_t *shape;
  if (!lask_l_ndarray_layout(L, 1, &dt, &ndim, &shape))
    return lask_l_checkndarray(L, 1), 0; /* released: raises */
  if (strcmp(k, "shape") == 0)
    push_int_list(L, ndim, shape);
  else if (strcmp(k, "strides") == 0) {
    const lask_ewexpr *e = lask_l_topending(L, 1);
    int64_t strides[LASK_MAXDIM]; /* a pending array becomes C-contiguous */
    if (e) lask_strides_c(ndim, shape, lask_dtype_size(dt), strides);
    push_int_list(L, ndim, e ? strides : lask_l_checkndarray(L, 1)->strides);
  } else if (strcmp(k, "dtype") == 0)
    lua_pushstring(L, lask_dtype_name(dt));
  else if (strcmp(k, "ndim") == 0)
    lua_pushinteger(L, ndim);
  else if (strcmp(k, "size") == 0)
    lua_pushinteger(L, lask_shape_size(ndim, shape, 1));
  else
    lua_getfield(L, lua_upvalueindex(1), k); /* a method, or nil */
  return 1;
}

static int nd_newindex(lua_State *L) { return luaL_error(L, "lask.ndarray is read-only"); }

static int nd_len(lua_State *L) {
  lask_dtype dt;
  int ndim;
  const int64_t *shape;
  if (!lask_l_ndarray_layout(L, 1, &dt, &ndim, &shape))
    return lask_l_checkndarray(L, 1), 0; /* released: raises */
  if (ndim == 0) return luaL_error(L, "lask.ndarray: a 0-d array has no length");
  lua_pushinteger(L, shape[0]);
  return 1;
}

/* --- arithmetic: the elementwise kernels, recorded (lndexpr.c) --- */

/* Applies array kernel name to the n operands on the stack (ndarrays, numbers,
 * booleans): a pending ndarray (lndexpr.c), evaluated in one pass with the rest of
 * its expression when its data is first needed. An operand of another kind (a lazy
 * lask.array, say) gets the operation instead, through its own metamethod mm: so
 * `a + x` works whichever side the ndarray is on. */
static int arith(lua_State *L, const char *name, const char *mm) {
  int n = lua_gettop(L) > 1 && strcmp(name, "neg") != 0 ? 2 : 1;
  for (int i = 1; i <= n; i++) {
    int t = lua_type(L, i);
    if (t == LUA_TNUMBER || t == LUA_TBOOLEAN || lask_l_isndarray(L, i)) continue;
    if (luaL_getmetafield(L, i, mm) == LUA_TNIL) break;
    lua_insert(L, 1);
    lua_call(L, n, 1);
    return 1;
  }
  if (lask_l_ndarray_apply(L, lask_akernel_find(name), 1, n)) return 1;
  lask_lctx *ctx = lask_l_ctx(L); /* an operand of no known kind: the kernel says what is wrong */
  lask_value args[2] = {lask_nil(), lask_nil()};
  for (int i = 0; i < n; i++)
    if (!lask_l_toval(L, ctx, i + 1, &args[i])) return luaL_error(L, "lask.ndarray: out of memory");
  return run_kernel(L, ctx, name, args, n, "");
}

static int nd_add(lua_State *L) { return arith(L, "add", "__add"); }
static int nd_sub(lua_State *L) { return arith(L, "sub", "__sub"); }
static int nd_mul(lua_State *L) { return arith(L, "mul", "__mul"); }
static int nd_div(lua_State *L) { return arith(L, "div", "__div"); }
static int nd_mod(lua_State *L) { return arith(L, "mod", "__mod"); }
static int nd_idiv(lua_State *L) { return arith(L, "floor_divide", "__idiv"); }
static int nd_pow(lua_State *L) { return arith(L, "pow", "__pow"); }
static int nd_unm(lua_State *L) { return arith(L, "neg", "__unm"); }

/* --- printing, numpy's way --- */

#define REPR_THRESHOLD 1000 /* numpy's: more elements than this print summarised */
#define REPR_EDGE      3
#define REPR_WIDTH     75

/* How the elements print: the widths that align them (numpy's FloatingFormat,
 * simplified: "maxprec" with precision 8, positional unless the magnitudes call
 * for scientific notation). */
typedef struct fmt {
  lask_dtype dt;
  bool sci;
  int ipart, fpart; /* widths of the integer and fraction parts (floats), or of the whole */
  int expw;         /* scientific: digits of the exponent (at least 2), as numpy pads them */
} fmt;

/* The printed width of every element. */
static int elem_width(const fmt *f) {
  if (f->dt == LASK_BOOL) return 5;
  return f->ipart + f->fpart + (f->sci ? 2 + f->expw : 0);
}

static bool elided(const lask_ndarray *a, int d, int64_t i) {
  return lask_ndarray_size(a) > REPR_THRESHOLD && a->shape[d] > 2 * REPR_EDGE && i >= REPR_EDGE &&
         i < a->shape[d] - REPR_EDGE;
}

/* Calls fn on every printed element (those not elided). */
static void each_shown(const lask_ndarray *a, int d, const char *p, void (*fn)(void *, const char *),
                       void *ctx) {
  if (d == a->ndim) return fn(ctx, p);
  for (int64_t i = 0; i < a->shape[d]; i++)
    if (!elided(a, d, i)) each_shown(a, d + 1, p + i * a->strides[d], fn, ctx);
}

/* The text of a float with up to 8 decimals, trailing zeros trimmed ("1.", "2.25"). */
static void float_text(double v, bool sci, char *buf, size_t size) {
  if (isnan(v)) return (void)snprintf(buf, size, "nan");
  if (isinf(v)) return (void)snprintf(buf, size, v < 0 ? "-inf" : "inf");
  snprintf(buf, size, sci ? "%.8e" : "%.8f", v);
  char *e = strchr(buf, 'e'), exp[16] = "";
  if (e) snprintf(exp, sizeof exp, "%s", e), *e = '\0';
  size_t n = strlen(buf);
  while (n > 0 && buf[n - 1] == '0') buf[--n] = '\0';
  snprintf(buf + n, size - n, "%s", exp);
}

typedef struct scan_ctx {
  fmt *f;
  double maxabs, minabs;
  int nonfinite; /* width of the widest nan/inf text */
} scan_ctx;

static void scan_range(void *ctx, const char *p) {
  scan_ctx *c = ctx;
  double v = fabs(lask_elem_f64(c->f->dt, p));
  if (!isfinite(v) || v == 0) return;
  if (v > c->maxabs) c->maxabs = v;
  if (v < c->minabs) c->minabs = v;
}

static void scan_width(void *ctx, const char *p) {
  scan_ctx *c = ctx;
  fmt *f = c->f;
  char buf[64];
  if (f->dt == LASK_BOOL) {
    f->ipart = 5;
    return;
  }
  if (f->dt == LASK_I64)
    snprintf(buf, sizeof buf, "%lld", (long long)*(const int64_t *)p);
  else
    float_text(lask_elem_f64(f->dt, p), f->sci, buf, sizeof buf);
  char *dot = f->dt == LASK_I64 ? NULL : strchr(buf, '.');
  if (!dot && f->dt != LASK_I64) { /* nan, inf: they only widen what the numbers leave */
    if ((int)strlen(buf) > c->nonfinite) c->nonfinite = (int)strlen(buf);
    return;
  }
  int ip = dot ? (int)(dot - buf) : (int)strlen(buf), fp = dot ? (int)strlen(dot) : 0;
  if (f->sci && dot) {
    char *e = strchr(dot, 'e');
    fp = (int)(e - dot);
    if ((int)strlen(e + 2) > f->expw) f->expw = (int)strlen(e + 2);
  }
  if (ip > f->ipart) f->ipart = ip;
  if (fp > f->fpart) f->fpart = fp;
}

static fmt make_fmt(const lask_ndarray *a) {
  fmt f = {a->dtype, false, 0, 0, 2};
  scan_ctx c = {&f, 0, INFINITY, 0};
  if (lask_ndarray_size(a) == 0) return f; /* no element, but maybe 10^16 indices on another axis */
  if (a->dtype == LASK_F64 || a->dtype == LASK_F32) {
    each_shown(a, 0, a->data, scan_range, &c);
    f.sci = c.maxabs >= 1e8 || (c.minabs < INFINITY && (c.minabs < 1e-4 || c.maxabs / c.minabs > 1e3));
  }
  each_shown(a, 0, a->data, scan_width, &c);
  if (c.nonfinite > elem_width(&f)) f.ipart += c.nonfinite - elem_width(&f);
  return f;
}

/* Appends element p, padded to the format's widths. */
static void add_elem(luaL_Buffer *b, const fmt *f, const char *p) {
  char buf[64], out[160];
  if (f->dt == LASK_BOOL) {
    snprintf(out, sizeof out, "%5s", *(const uint8_t *)p ? "True" : "False");
  } else if (f->dt == LASK_I64) {
    snprintf(out, sizeof out, "%*lld", f->ipart, (long long)*(const int64_t *)p);
  } else {
    float_text(lask_elem_f64(f->dt, p), f->sci, buf, sizeof buf);
    char *dot = strchr(buf, '.');
    if (!dot) { /* nan, inf: right-aligned over the whole width */
      snprintf(out, sizeof out, "%*s", elem_width(f), buf);
    } else if (f->sci) { /* numpy pads the mantissa with zeros and the exponent's digits: 1.0000e+00 */
      char *e = strchr(dot, 'e');
      int ip = (int)(dot - buf), fp = (int)(e - dot);
      snprintf(out, sizeof out, "%*s%.*s%.*se%c%0*d", f->ipart - ip, "", ip + fp, buf, f->fpart - fp,
               "0000000000", e[1], f->expw, atoi(e + 2));
    } else { /* positional: the fraction padded with spaces, 2.25 over 1.   */
      int ip = (int)(dot - buf), fp = (int)strlen(dot);
      snprintf(out, sizeof out, "%*s%s%*s", f->ipart - ip, "", buf, f->fpart - fp, "");
    }
  }
  luaL_addstring(b, out);
}

typedef struct repr {
  luaL_Buffer *b;
  const lask_ndarray *a;
  fmt f;
  int indent; /* columns before the first '[' */
  int col;    /* current column */
} repr;

static void add_text(repr *r, const char *s) {
  luaL_addstring(r->b, s);
  r->col += (int)strlen(s);
}

static void newline(repr *r, int blank_lines, int indent) {
  for (int i = 0; i <= blank_lines; i++) luaL_addchar(r->b, '\n');
  for (int i = 0; i < indent; i++) luaL_addchar(r->b, ' ');
  r->col = indent;
}

/* Appends axis d of the array starting at p: "[...]", rows on their own lines. */
static void add_axis(repr *r, int d, const char *p) {
  const lask_ndarray *a = r->a;
  int col0 = r->indent + d;
  add_text(r, "[");
  for (int64_t i = 0; i < a->shape[d]; i++) {
    if (elided(a, d, i)) {
      if (i == REPR_EDGE) {
        if (d == a->ndim - 1)
          add_text(r, " ...,");
        else
          add_text(r, "..."), add_text(r, ","), newline(r, a->ndim - d - 2, col0 + 1);
      }
      continue;
    }
    if (d == a->ndim - 1) { /* ", " between elements; a new line when the next would pass the width */
      int w = elem_width(&r->f);
      if (i > 0 && r->col + w + 2 > REPR_WIDTH)
        newline(r, 0, col0 + 1);
      else if (i > 0)
        add_text(r, " ");
      add_elem(r->b, &r->f, p + i * a->strides[d]);
      r->col += w;
      if (i < a->shape[d] - 1) add_text(r, ",");
    } else {
      add_axis(r, d + 1, p + i * a->strides[d]);
      if (i < a->shape[d] - 1) add_text(r, ","), newline(r, a->ndim - d - 2, col0 + 1);
    }
  }
  add_text(r, "]");
}

static int nd_tostring(lua_State *L) {
  lask_ndarray *a = lask_l_checkndarray(L, 1);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  repr r = {&b, a, make_fmt(a), 6, 6};
  luaL_addstring(&b, "array(");
  if (a->ndim == 0)
    add_elem(&b, &r.f, a->data);
  else if (lask_ndarray_size(a) == 0)
    luaL_addstring(&b, "[]");
  else
    add_axis(&r, 0, a->data);
  char shape[200];
  if (lask_ndarray_size(a) == 0 && a->ndim > 1)
    luaL_addstring(&b, ", shape="),
        luaL_addstring(&b, lask_shape_str(a->ndim, a->shape, shape, sizeof shape));
  if (a->dtype == LASK_F32 || lask_ndarray_size(a) == 0)
    luaL_addstring(&b, ", dtype="), luaL_addstring(&b, lask_dtype_name(a->dtype));
  luaL_addstring(&b, ")");
  luaL_pushresult(&b);
  return 1;
}

/* --- asarray: nested Lua tables to an array --- */

/* Reports where in the nested table the walk is: "[2][1]". */
static const char *where(lua_State *L, const int64_t *path, int depth) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int d = 0; d < depth; d++) lua_pushfstring(L, "[%I]", (LUAI_UACINT)(path[d] + 1)), luaL_addvalue(&b);
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

typedef struct nest {
  int ndim;
  int64_t shape[LASK_MAXDIM], path[LASK_MAXDIM];
  lask_dtype dt; /* promoted over the leaves */
  bool any;      /* a leaf was seen */
} nest;

/* The shape, from the first element at each depth. */
static void nest_shape(lua_State *L, int idx, nest *n) {
  n->ndim = 0;
  lua_pushvalue(L, idx);
  while (lua_type(L, -1) == LUA_TTABLE && !lask_l_isndarray(L, -1)) {
    if (n->ndim == LASK_MAXDIM) luaL_error(L, "asarray: more than %d nested levels", LASK_MAXDIM);
    n->shape[n->ndim++] = (int64_t)lua_rawlen(L, -1);
    if (lua_rawlen(L, -1) == 0) break;
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
}

/* Checks the table at idx (depth d) against the shape and promotes the dtype. */
static void nest_check(lua_State *L, int idx, nest *n, int d) {
  luaL_checkstack(L, 4, "asarray: too deep");
  for (int64_t i = 0; i < n->shape[d]; i++) {
    n->path[d] = i;
    int t = lua_rawgeti(L, idx, i + 1);
    const char *type = luaL_typename(L, -1); /* before where() pushes its string */
    if (d + 1 < n->ndim) {
      if (t != LUA_TTABLE || lask_l_isndarray(L, -1))
        luaL_error(L, "asarray: ragged nested table: %s is a %s, not a table of %d elements",
                   where(L, n->path, d + 1), type, (int)n->shape[d + 1]);
      int len = (int)lua_rawlen(L, -1);
      if (len != n->shape[d + 1])
        luaL_error(L, "asarray: ragged nested table: %s has %d elements, not %d", where(L, n->path, d + 1),
                   len, (int)n->shape[d + 1]);
      nest_check(L, lua_gettop(L), n, d + 1);
    } else {
      lask_dtype dt = t == LUA_TBOOLEAN ? LASK_BOOL : lua_isinteger(L, -1) ? LASK_I64 : LASK_F64;
      if (t == LUA_TTABLE)
        luaL_error(L, "asarray: ragged nested table: %s is a table where a number was expected",
                   where(L, n->path, d + 1));
      if (t != LUA_TNUMBER && t != LUA_TBOOLEAN)
        luaL_error(L, "asarray: %s is a %s, not a number or a boolean", where(L, n->path, d + 1), type);
      n->dt = n->any ? lask_dtype_promote(n->dt, dt) : dt;
      n->any = true;
    }
    lua_pop(L, 1);
  }
}

/* Writes the leaves of the table at idx (depth d) into a, from p on. */
static void nest_fill(lua_State *L, int idx, const nest *n, int d, lask_ndarray *a, char *p) {
  for (int64_t i = 0; i < n->shape[d]; i++, p += a->strides[d]) {
    lua_rawgeti(L, idx, i + 1);
    if (d + 1 < n->ndim)
      nest_fill(L, lua_gettop(L), n, d + 1, a, p);
    else if (lua_type(L, -1) == LUA_TBOOLEAN)
      lask_convert(a->dtype, p, 0, LASK_BOOL, &(uint8_t){lua_toboolean(L, -1)}, 0, 1);
    else if (lua_isinteger(L, -1))
      lask_convert(a->dtype, p, 0, LASK_I64, &(int64_t){lua_tointeger(L, -1)}, 0, 1);
    else
      lask_convert(a->dtype, p, 0, LASK_F64, &(double){lua_tonumber(L, -1)}, 0, 1);
    lua_pop(L, 1);
  }
}

/* asarray(v [, dtype]): v itself (an ndarray; converted if dtype differs), a 0-d
 * array (a number or boolean), or the array of a nested table of numbers or
 * booleans (dtype by numpy's promotion: bool < int64 < float64, float64 if empty). */
static int l_asarray(lua_State *L) {
  bool has_dt = !lua_isnoneornil(L, 2);
  lask_dtype want = has_dt ? check_dtype(L, 2) : LASK_F64;
  lask_ndarray *a = lask_l_tondarray(L, 1);
  lask_err err;
  if (a) {
    if (!has_dt || want == a->dtype) return lua_settop(L, 1), 1;
    push_new(L, lask_ndarray_copy(a, want, &err), &err);
    return 1;
  }
  int t = lua_type(L, 1);
  if (t != LUA_TTABLE && t != LUA_TNUMBER && t != LUA_TBOOLEAN)
    return luaL_error(L, "asarray: expected a table of numbers, a number or a lask.ndarray, got a %s",
                      luaL_typename(L, 1));
  nest n = {.dt = LASK_F64};
  if (t != LUA_TTABLE) { /* a number or a boolean: a 0-d array */
    n.dt = t == LUA_TBOOLEAN ? LASK_BOOL : lua_isinteger(L, 1) ? LASK_I64 : LASK_F64;
    if (!(a = lask_ndarray_new(has_dt ? want : n.dt, 0, NULL, &err)))
      return luaL_error(L, "asarray: %s", err.msg);
    if (t == LUA_TBOOLEAN)
      lask_convert(a->dtype, a->data, 0, LASK_BOOL, &(uint8_t){lua_toboolean(L, 1)}, 0, 1);
    else if (n.dt == LASK_I64)
      lask_convert(a->dtype, a->data, 0, LASK_I64, &(int64_t){lua_tointeger(L, 1)}, 0, 1);
    else
      lask_convert(a->dtype, a->data, 0, LASK_F64, &(double){lua_tonumber(L, 1)}, 0, 1);
    push_new(L, a, &err);
    return 1;
  }
  nest_shape(L, 1, &n);
  if (n.ndim > 0 && n.shape[0] > 0) nest_check(L, 1, &n, 0);
  if (!(a = lask_ndarray_new(has_dt ? want : n.dt, n.ndim, n.shape, &err)))
    return luaL_error(L, "asarray: %s", err.msg);
  lask_l_pushndarray(L, a);
  lask_release(lask_ndarray_value(a));
  if (lask_ndarray_size(a) > 0) nest_fill(L, 1, &n, 0, a, a->data);
  return 1;
}

/* --- load, isndarray, fused_kernel --- */

/* load(path [, {mmap = true | "r+"}]) -> the array, or nil and a message. mmap = "r+":
 * a writable shared mapping (stores into it reach the file). */
static int l_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  bool map = false, writable = false;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "mmap");
    writable = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "r+") == 0;
    if (lua_type(L, -1) == LUA_TSTRING && !writable)
      return luaL_error(L, "lask.ndarray: load: mmap must be true, false or \"r+\", got \"%s\"",
                        lua_tostring(L, -1));
    map = lua_toboolean(L, -1);
  }
  lask_err err;
  lask_ndarray *a = writable ? lask_npy_map_writable(path, &err) : lask_npy_load(path, map, &err);
  if (!a) {
    lua_pushnil(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  push_new(L, a, &err);
  return 1;
}

/* npy_header(path) -> {dtype=, shape=, fortran_order=, size=, data_offset=} as
 * engine/array/npy.c reads it (the one .npy header parser), or nil and a message. */
static int l_npy_header(lua_State *L) {
  lask_npy_header h;
  lask_err err;
  if (lask_npy_read_header(luaL_checkstring(L, 1), &h, &err) != LASK_OK) {
    lua_pushnil(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  lua_createtable(L, 0, 5);
  lua_pushstring(L, lask_dtype_name(h.dtype)), lua_setfield(L, -2, "dtype");
  lua_createtable(L, h.ndim, 0);
  for (int d = 0; d < h.ndim; d++) lua_pushinteger(L, h.shape[d]), lua_rawseti(L, -2, d + 1);
  lua_setfield(L, -2, "shape");
  lua_pushboolean(L, h.fortran_order), lua_setfield(L, -2, "fortran_order");
  lua_pushinteger(L, (lua_Integer)h.file_size), lua_setfield(L, -2, "size");
  lua_pushinteger(L, (lua_Integer)h.data_offset), lua_setfield(L, -2, "data_offset");
  return 1;
}

/* npy_finish(tmp, path) -> true, or nil and a message: lask_npy_finish. */
static int l_npy_finish(lua_State *L) {
  lask_err err;
  if (lask_npy_finish(luaL_checkstring(L, 1), luaL_checkstring(L, 2), &err) != LASK_OK) {
    lua_pushnil(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* npy_clean_stale(path) -> the number of unfinished temporaries of path removed. */
static int l_npy_clean_stale(lua_State *L) {
  lua_pushinteger(L, lask_npy_clean_stale(luaL_checkstring(L, 1)));
  return 1;
}

/* buffer_cache([limit_bytes [, floor_bytes [, grace_ms]]]) -> {bytes=, buffers=,
 * limit=, floor=, bound=, live=, grace_ms=}: the reuse cache of big buffers, its
 * limit, idle floor and grace period set first when given (nil or negative: keep). */
static int l_buffer_cache(lua_State *L) {
  lask_buffer_cache_stats st;
  lua_Integer l = luaL_optinteger(L, 1, -1), f = luaL_optinteger(L, 2, -1), g = luaL_optinteger(L, 3, -1);
  long grace = lask_buffer_cache_grace(g < 0 ? -1 : g > LONG_MAX ? LONG_MAX : (long)g);
  lask_buffer_cache_config(l < 0 ? SIZE_MAX : (size_t)l, f < 0 ? SIZE_MAX : (size_t)f, &st);
  lua_createtable(L, 0, 7);
  lua_pushinteger(L, (lua_Integer)grace), lua_setfield(L, -2, "grace_ms");
  lua_pushinteger(L, (lua_Integer)st.bytes), lua_setfield(L, -2, "bytes");
  lua_pushinteger(L, (lua_Integer)st.buffers), lua_setfield(L, -2, "buffers");
  lua_pushinteger(L, (lua_Integer)st.limit), lua_setfield(L, -2, "limit");
  lua_pushinteger(L, (lua_Integer)st.floor), lua_setfield(L, -2, "floor");
  lua_pushinteger(L, (lua_Integer)st.bound), lua_setfield(L, -2, "bound");
  lua_pushinteger(L, (lua_Integer)st.live), lua_setfield(L, -2, "live");
  return 1;
}

/* blas_cores() -> {enabled=, max=, widened=, threads=}: whether big BLAS calls of a
 * task that runs alone borrow the sleeping workers' cores (LASK_BLAS_BORROW), with at
 * most how many threads, how many calls were given more than one so far, and
 * OpenBLAS's thread count now (blas_cores.h). */
static int l_blas_cores(lua_State *L) {
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, lask_blas_cores_threads()), lua_setfield(L, -2, "threads");
  lua_pushboolean(L, lask_blas_cores_enabled()), lua_setfield(L, -2, "enabled");
  lua_pushinteger(L, lask_blas_threads_max()), lua_setfield(L, -2, "max");
  lua_pushinteger(L, lask_blas_cores_widened()), lua_setfield(L, -2, "widened");
  return 1;
}

/* trim(): gives the cached big buffers back to the system. */
static int l_trim(lua_State *L) {
  (void)L;
  lask_buffer_cache_trim();
  return 0;
}

static int l_isndarray(lua_State *L) {
  lua_pushboolean(L, lask_l_isndarray(L, 1));
  return 1;
}

/* pending(a): the number of nodes of a's pending expression (lndexpr.c) while it is
 * not evaluated, else false; never evaluates it (for tests and diagnostics). */
static int l_pending(lua_State *L) {
  const lask_ewexpr *e = lask_l_topending(L, 1);
  if (e)
    lua_pushinteger(L, e->nnodes);
  else
    lua_pushboolean(L, 0);
  return 1;
}

/* id(a): a string naming the engine array a wraps (the same for every wrapper of
 * it, different for other arrays while both live): for tokens. */
static int l_id(lua_State *L) {
  lua_pushfstring(L, "ndarray-%p", (void *)lask_l_checkndarray(L, 1));
  return 1;
}

/* fused_kernel(program): a new kernel evaluating the postfix program (akernels.h). */
static int l_fused_kernel(lua_State *L) {
  lask_err err;
  lask_kernel *k = lask_fused_kernel_new(luaL_checkstring(L, 1), &err);
  if (!k) return luaL_error(L, "%s", err.msg);
  lask_l_pushkernel(L, k);
  lask_release(lask_objval(&k->h));
  return 1;
}

/* Completes the lask.ndarray metatable (lndwrap.c's) with the methods and operators. */
static void fill_metatable(lua_State *L) {
  static const luaL_Reg mt[] = {
      {"__newindex", nd_newindex}, {"__len", nd_len}, {"__tostring", nd_tostring}, {"__add", nd_add},
      {"__sub", nd_sub},           {"__mul", nd_mul}, {"__div", nd_div},           {"__mod", nd_mod},
      {"__idiv", nd_idiv},         {"__pow", nd_pow}, {"__unm", nd_unm},           {NULL, NULL},
  };
  lask_l_ndarray_metatable(L);
  luaL_setfuncs(L, mt, 0);
  luaL_newlib(L, methods);
  lua_pushcclosure(L, nd_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void lask_l_open_ndarray(lua_State *L) {
  static const luaL_Reg funcs[] = {{"asarray", l_asarray},
                                   {"load", l_load},
                                   {"npy_header", l_npy_header},
                                   {"npy_finish", l_npy_finish},
                                   {"npy_clean_stale", l_npy_clean_stale},
                                   {"buffer_cache", l_buffer_cache},
                                   {"trim", l_trim},
                                   {"blas_cores", l_blas_cores},
                                   {"isndarray", l_isndarray},
                                   {"pending", l_pending},
                                   {"id", l_id},
                                   {NULL, NULL}};
  fill_metatable(L);
  luaL_newlib(L, funcs);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "ndarray");
  lua_getfield(L, -1, "asarray");
  lua_setfield(L, -3, "asarray");
  lua_getfield(L, -1, "load");
  lua_setfield(L, -3, "load");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_fused_kernel);
  lua_setfield(L, -2, "fused_kernel");
  lua_newtable(L);
  for (int i = 0; lask_akernel_at(i); i++) {
    lask_l_pushkernel(L, lask_akernel_at(i));
    lua_setfield(L, -2, lask_akernel_at(i)->name);
  }
  lua_setfield(L, -2, "array_kernels");
}
