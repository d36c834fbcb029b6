/* binding.h — internals shared by the Lua binding's files (not API).
 *
 * The binding turns Lua values into engine values and back. A Lua value the
 * engine cannot represent (a function, a table, foreign userdata) becomes a host
 * object: an engine object holding a reference into the "lask.refs" table of the
 * Lua state. Host objects may be released on a worker thread, where Lua must not
 * be touched, so their destructor only queues the reference; the host thread
 * drains the queue (lask_l_drain) at safe points.
 */
#ifndef LASK_BINDING_H
#define LASK_BINDING_H

#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>

#include "core/hmap.h"
#include "lask.h"
#include "array/ewexpr.h"
#include "array/ndarray.h"
#include "core/order.h"

#define LASK_KEY_MT     "lask.key"
#define LASK_QUOTE_MT   "lask.quote"
#define LASK_KERNEL_MT  "lask.kernel"
#define LASK_ERROR_MT   "lask.error"
#define LASK_NDARRAY_MT "lask.ndarray"

#define LASK_KEY_PARTS_MAX 255 /* parts of a tuple key, at most */

/* The binding's per-Lua-state context (a full userdata kept in the registry). */
typedef struct lask_lctx {
  lask_engine *engine; /* NULL until first needed */
  int owns_engine;
  pthread_mutex_t dead_mu; /* guards dead[]: host refs whose objects died */
  int *dead;
  size_t ndead, capdead;
  _Atomic size_t ndead_hint;   /* ndead, readable without the lock */
  uint64_t mp_bytes;           /* bytes of messages the last multiprocessing get received */
  uint64_t conversions;        /* graph conversions made in this state (lask_lconv.serial) */
  struct lask_lstates *states; /* the worker states of lua = "parallel" gets (lstates.c), or NULL */
  void (*close_states)(struct lask_lctx *ctx); /* set with states: closes them when the state closes */
} lask_lctx;

/* A class of engine objects that the binding pushes to Lua with a function of its
 * own (copied Lua values, lcopy.c): the engine class, then how to push one. The
 * class registers itself (lask_l_register_push); lask_l_pushval, which knows only the
 * engine's classes, then calls push for its objects, so value conversion needs no
 * knowledge of the files that add classes. */
typedef struct lask_lclass {
  lask_class cls;
  void (*push)(lua_State *L, lask_value v);
} lask_lclass;

/* Registers c (static storage) with lask_l_pushval, once per process (idempotent;
 * first from the calling thread's luaopen, before any worker state exists). */
void lask_l_register_push(const lask_lclass *c);

typedef struct lask_hostobj {
  lask_obj h;
  lask_lctx *ctx;
  int ref; /* index in the lask.refs table */
} lask_hostobj;

extern const lask_class lask_host_class;

/* Returns L's binding context, creating it (and the refs table) on first use. */
lask_lctx *lask_l_ctx(lua_State *L);

/* Returns the engine used by threaded gets in L, making one on first use (raises on failure). */
lask_engine *lask_l_engine(lua_State *L);

/* Converts the Lua value at idx to an engine value given in *out (a host object for
 * what has no engine form). Returns 0 when out of memory. */
int lask_l_toval(lua_State *L, lask_lctx *ctx, int idx, lask_value *out);

/* Pushes the Lua form of v (borrowed). */
void lask_l_pushval(lua_State *L, lask_value v);

/* Frees the host references queued by dead host objects. Host thread only. */
void lask_l_drain(lua_State *L, lask_lctx *ctx);

/* Pushes the userdata standing for kernel k (the same userdata for the same static kernel). */
void lask_l_pushkernel(lua_State *L, const lask_kernel *k);

/* The kernel at idx, or NULL when idx is not a kernel userdata. */
const lask_kernel *lask_l_tokernel(lua_State *L, int idx);

/* True when the value at idx is a tuple key / a quote. */
int lask_l_iskey(lua_State *L, int idx);
int lask_l_isquote(lua_State *L, int idx);

/* The first bytes of a tuple key (its parts follow, encoded: lkey.c): its node id
 * in the conversion of serial number `conversion` (split in two 32-bit halves, so a
 * key ("x", i) fits 64 bytes), so that a conversion finds a key it met before
 * without a hash lookup (lconvert.c). A new key has conversion 0. */
typedef struct lask_keystamp {
  uint32_t conversion_lo, conversion_hi;
  uint32_t node;
} lask_keystamp;

/* The number of parts of the tuple key at idx. */
int lask_l_keylen(lua_State *L, int idx);

/* Pushes part i (from 1) of the tuple key at idx; returns its type, LUA_TNONE (nil
 * pushed) past the last part. */
int lask_l_keypart(lua_State *L, int idx, int i);

/* The metatables of the binding's userdata, as lua_topointer gives them: a loop
 * over many values (conversion) tells them apart by pointer comparison. */
typedef struct lask_lmts {
  const void *key, *quote, *kernel;
} lask_lmts;

/* Fills m with L's metatables (they live as long as L). */
void lask_l_metatables(lua_State *L, lask_lmts *m);

/* Pushes the quoted value of the quote at idx. */
void lask_l_unquote(lua_State *L, int idx);

/* Pushes how the key (string or tuple key) at idx prints in messages: 'x' or ('x', 0). */
void lask_l_pushkeyrepr(lua_State *L, int idx);

/* True when the value at idx can be called (a function or has __call). */
int lask_l_iscallable(lua_State *L, int idx);

/* --- the lask.ndarray userdata (lndwrap.c) --- */

/* A lask.ndarray is an engine array, or a pending elementwise expression
 * (array/ewexpr.h) that becomes one the first time its data is needed: every
 * function below but lask_l_ndarray_layout, lask_l_isndarray and lask_l_topending
 * evaluates a pending one first, in place (it then stays an ordinary array). */

/* Pushes a lask.ndarray wrapping engine array a (retained: no copy). */
void lask_l_pushndarray(lua_State *L, lask_ndarray *a);

/* Pushes a new pending lask.ndarray and gives the slot of its expression (NULL now;
 * what the caller stores there the userdata owns). Pop it if the slot stays NULL. */
lask_ewexpr **lask_l_pushpending(lua_State *L);

/* The engine array of the lask.ndarray at idx (borrowed), or NULL when it is not
 * one; raises when evaluating a pending one fails (out of memory). */
lask_ndarray *lask_l_tondarray(lua_State *L, int idx);

/* As lask_l_tondarray, but never raises: when evaluating a pending array fails,
 * gives NULL and sets *failed (for conversions that report failure themselves). */
lask_ndarray *lask_l_tondarray_quiet(lua_State *L, int idx, bool *failed);

/* The engine array of the lask.ndarray at idx (borrowed); raises when it is not one,
 * was released, or evaluating it fails. */
lask_ndarray *lask_l_checkndarray(lua_State *L, int idx);

/* True when the value at idx is a lask.ndarray, pending or not (never evaluates). */
bool lask_l_isndarray(lua_State *L, int idx);

/* The expression of the pending lask.ndarray at idx (borrowed), or NULL when idx is
 * not a pending lask.ndarray. */
const lask_ewexpr *lask_l_topending(lua_State *L, int idx);

/* The dtype, ndim and shape (borrowed) of the lask.ndarray at idx without
 * evaluating it; false when idx is not a live lask.ndarray. */
bool lask_l_ndarray_layout(lua_State *L, int idx, lask_dtype *dt, int *ndim, const int64_t **shape);

/* Pushes the lask.ndarray metatable, making it on first use with __gc only
 * (lask_l_open_ndarray adds the methods and operators). */
void lask_l_ndarray_metatable(lua_State *L);

/* --- elementwise operators on lask.ndarray values, recorded (lndexpr.c) --- */

/* Applies kernel k to the n values from stack index first on, when k is an
 * elementwise operator kernel (lask_ew_kernel_operator) and its operands are
 * lask.ndarray values (pending or not), numbers and booleans, at least one an
 * ndarray: pushes a pending lask.ndarray recording the operation, or its result when
 * it runs at once (ewexpr.h says when), and returns 1; raises the error the kernel
 * would give. Returns 0, pushing nothing, for any other kernel or operands (the
 * caller then runs k itself). */
int lask_l_ndarray_apply(lua_State *L, const lask_kernel *k, int first, int n);

/* --- lask.core's array functions (lndarray.c) --- */

/* Sets ndarray (asarray, load, isndarray, pending, id), asarray, load, fused_kernel and
 * array_kernels (every array kernel by name) in the table on top of the stack. */
void lask_l_open_ndarray(lua_State *L);

/* Registers the key and quote functions into the table on top of the stack. */
void lask_l_open_keys(lua_State *L);

/* Registers the kernel metatable and pushes the lask.kernels table. */
void lask_l_open_kernels(lua_State *L);

/* Registers get, order and the graph-conversion functions into the table on top. */
void lask_l_open_get(lua_State *L);
void lask_l_open_sampler(lua_State *L); /* core.sampler, core.isatty: lsampler.c (diagnostics) */

#endif

/* --- graph conversion (lconvert.c) --- */

/* The state of one conversion of a Lua graph: a userdata, so a Lua error raised
 * half-way frees everything through __gc. */
typedef struct lask_lconv {
  lask_lctx *ctx;
  lask_graph_builder *b;
  lask_graph *g;
  lask_hmap ids;   /* key identity -> node id */
  lask_hmap heads; /* address of a head or other shared Lua object -> constant index */
  uint32_t *outs;  /* requested node ids, in the order of the flattened keys */
  size_t nouts, capouts;
  int dsk, keys, vals; /* stack indices: the graph, node id + 1 -> Lua key (lask_lconv_keys), node id + 1 ->
                          its value (during the walk) */
  int keys_complete;   /* keys has every node's key (else only string keys': lask_lconv_keys) */
  int building;        /* a graph builder's (lbuilder.c): nodes come from calls, not from dsk */
  /* A graph builder's lookups (NULL in a table's conversion): the node of a tuple key
   * whose stamp is not this conversion's (found, or added as a dependency of the node
   * being defined), and of a requested key (UINT32_MAX unless defined). */
  uint32_t (*ref)(lua_State *L, struct lask_lconv *c, int idx);
  uint32_t (*find)(lua_State *L, struct lask_lconv *c, int idx);
  uint32_t cur;            /* node being converted, for messages */
  int running;             /* runs of g in progress: a close then leaves g to them (os.exit in a task) */
  uint64_t serial;         /* this conversion's number in its state (lask_keystamp.conversion) */
  lask_lmts mts;           /* the binding's metatables, to tell keys, quotes and kernels by pointer */
  const void *last_shared; /* the shared constant emitted last (a head) */
  uint32_t last_shared_ci; /* and its constant index */
  const void *last_head;   /* the head of the task converted last */
  uint32_t last_head_ci;   /* and its constant index */
} lask_lconv;

/* Pushes the tables of keys and values, then a new conversion userdata, for the
 * graph at stack index dsk; returns it. */
lask_lconv *lask_lconv_new(lua_State *L, int dsk);

/* Adds the requested keys (a key or nested lists of keys, at idx) as outputs; raises
 * a Lua error for a key of a wrong type or one missing from the graph. */
void lask_lconv_outputs(lua_State *L, lask_lconv *c, int idx);

/* Converts every node reachable from the outputs and builds c->g; raises a Lua error
 * (a lask.error object) on bad input. */
void lask_lconv_build(lua_State *L, lask_lconv *c);

/* The stack index of the table node id + 1 -> key. A conversion records string keys
 * as it meets them, and tuple keys only when asked for them: this fills them in from
 * the keys' stamps (one pass over the graph) the first time. A new conversion in the
 * state (which re-stamps keys) first does so for the one before it, unless that one
 * called lask_lconv_done. */
int lask_lconv_keys(lua_State *L, lask_lconv *c);

/* Tells that c's keys will not be asked for any more (its get has ended). */
void lask_lconv_done(lua_State *L, lask_lconv *c);

/* Records the keys of the conversion whose get is still going, if any (before keys
 * are stamped again: see lask_lconv_keys). */
void lask_lconv_complete_pending(lua_State *L);

/* Fills a new conversion in (zeroed): context, serial number, engine builder. */
void lask_lconv_setup(lua_State *L, lask_lconv *c);

/* Frees what c holds (its __gc). */
void lask_lconv_free(lua_State *L, lask_lconv *c);

/* Emits, into the node being defined, an argument by the argument rules / a head
 * (shared by identity) / a literal (numbers shared), from the value at idx. */
void lask_lconv_emit_arg(lua_State *L, lask_lconv *c, int idx);
void lask_lconv_emit_head(lua_State *L, lask_lconv *c, int idx);
void lask_lconv_emit_literal(lua_State *L, lask_lconv *c, int idx);

/* True when the value at idx can be called (a function, a kernel, __call). */
int lask_lconv_is_callable(lua_State *L, lask_lconv *c, int idx);

/* --- graph builders (lbuilder.c) --- */

/* The builder at idx as a conversion ready for a get: pushes its keys table, nil and
 * the builder (the stack of lask_lconv_new), with no outputs yet; NULL when the value
 * at idx is not a builder. */
lask_lconv *lask_lbuild_get_begin(lua_State *L, int idx);

/* Makes the builder's graph (once: later gets reuse it); raises the missing
 * dependency errors a table graph's conversion raises. */
void lask_lbuild_finish(lua_State *L, lask_lconv *c);

void lask_l_open_builder(lua_State *L);

/* Raises a lask.error: fields kind, key (node's key, or nil), message, and
 * (cycle only) the list of keys on the cycle. Does not return. */
int lask_l_raise(lua_State *L, lask_lconv *c, const char *kind, uint32_t node, const char *fmt, ...);

/* Pushes a new lask.trace userdata over a new engine trace, keeping the conversion
 * userdata (at conv) and the keys table (at keys) alive; returns the engine trace. */
lask_trace *lask_l_newtrace(lua_State *L, int conv, int keys, int nworkers);

/* --- values crossing processes (lserial.c) --- */

typedef struct lask_sbuf {
  char *data; /* malloc'd; the owner frees it (lask_sbuf_free) */
  size_t len, cap;
  int *fds; /* shared-memory descriptors of arrays, sent along (SCM_RIGHTS) and then closed */
  size_t nfds, capfds;
  int portable; /* set by the owner: for another machine (arrays inline, kernels by name, no functions) */
} lask_sbuf;

/* Frees b's bytes and closes its descriptors; b is then empty. */
void lask_sbuf_free(lask_sbuf *b);

/* Closes b's descriptors (after they were sent) and empties b, keeping its memory. */
void lask_sbuf_reset(lask_sbuf *b);

/* Appends n bytes at p to b; returns 0 when out of memory (b unchanged). */
int lask_sbuf_put(lask_sbuf *b, const void *p, size_t n);

/* Appends the bytes of v to b (portable bytes when b->portable). Returns NULL, or a message saying what
 * cannot be sent ("a function", ...), left on top of L's stack until the caller pops it. */
const char *lask_l_serialize(lua_State *L, lask_value v, lask_sbuf *b);

/* Reads one value from data[0..len) into *out (given to the caller), with the
 * descriptors fds[0..nfds) that came along: the arrays it maps take theirs (set to
 * -1), the caller closes the rest. Returns 0 when the bytes are malformed or name
 * a function this process does not have (then *out is nil and *why, if why is not
 * NULL, says which; a static string). */
int lask_l_deserialize(lua_State *L, const char *data, size_t len, int *fds, size_t nfds, lask_value *out,
                       const char **why);

/* Pushes the lask.key function (to rebuild tuple keys). */
void lask_l_pushkeyfunc(lua_State *L);

/* --- get (lget.c) --- */

/* The state of one get on the Lua side, shared by the schedulers' host code. */
typedef struct lask_lrun {
  lua_State *L;
  lask_lconv *c;
  int msgh;            /* stack index of the message handler */
  int cbs;             /* stack index of the callbacks list, or 0 */
  int state;           /* stack index of the state table given to callbacks */
  int errobj;          /* stack index of the slot holding the first task error (a table), or nil */
  int callback_failed; /* errobj holds a callback's error */
  int c_index;         /* stack index of the conversion userdata */
  int freeze_results;  /* lua = "parallel": results of Lua tasks are frozen, for worker states */
  lua_Integer done;
} lask_lrun;

/* Host ops' call for Lua heads: runs head(args) on r->L (lask_host_ops.call). */
lask_status lask_l_host_call(void *ctx, uint32_t node, lask_value head, const lask_value *args, int nargs,
                             lask_value *out, lask_err *err);

/* Pushes the message handler used around Lua tasks (keeps the error's traceback). */
void lask_l_push_msgh(lua_State *L);

/* The number of stack levels of L. */
int lask_l_stack_depth(lua_State *L);

/* The callbacks' entry points (lask_callbacks) for a get whose ctx is a lask_lrun. */
int lask_l_on_pretask(void *ctx, uint32_t node);
int lask_l_on_posttask(void *ctx, uint32_t node, lask_value result, int worker);

/* Raises the lask.error for a failed run. Does not return. */
int lask_l_raise_run_error(lask_lrun *r, const lask_err *err);

/* --- copying Lua values between Lua states (lcopy.c) --- */

extern const lask_lclass lask_frozen_class;

/* Freezes the value at idx into *out, a value no Lua state owns (numbers and
 * strings as themselves would be simpler, but one form serves tables, functions,
 * keys and objects alike); origin (retained; nil for none) is what a state owning
 * it gets back instead of a copy. Returns NULL, or a message saying what cannot be
 * copied ("upvalue 'co' is a thread"), left on top of the stack until popped. */
const char *lask_l_freeze(lua_State *L, int idx, lask_value origin, lask_value *out);

/* Pushes a copy of frozen value v in L (raises a Lua error when a module it names
 * cannot be loaded). Constants are copied once per get and state. */
void lask_l_thaw(lua_State *L, lask_value v);

/* Converts the value at idx like lask_l_toval, but what would be a host object is
 * frozen; with keep_origin the host object is the frozen value's origin, and kept
 * as it is when it cannot be frozen. Returns NULL or the message (on the stack). */
const char *lask_l_toval_frozen(lua_State *L, int idx, int keep_origin, lask_value *out);

/* Pushes L's cache of bytecode: Lua function -> its lua_dump (weak keys). */
void lask_l_push_dumps(lua_State *L);

/* Marks frozen v as a constant of the get (its copies are cached per state). */
void lask_l_frozen_set_constant(lask_value v);

/* Starts a get in L: empties the constants' copies, rebuilds the C function paths. */
void lask_l_copy_new_get(lua_State *L);

/* Rebuilds L's map from C functions and module tables to their package.loaded paths. */
void lask_l_copy_begin(lua_State *L);

/* Pushes the environment copied functions get in L (the get's, or L's globals) /
 * sets it to the table at idx. */
void lask_l_copy_env(lua_State *L);
void lask_l_copy_set_env(lua_State *L, int idx);

/* --- Lua states per worker (lstates.c) --- */

typedef struct lask_lpar lask_lpar;

/* Prepares a lua = "parallel" get of r's converted graph (opts at stack index opts:
 * strict): freezes its Lua constants, decides which tasks run anywhere, snapshots
 * the globals, and fills o->workers. Raises when strict and a task cannot be copied.
 * The preparation is a userdata left on the stack (freed by its __gc). Gives NULL
 * (Lua tasks then run on the calling state) for a get nested in a running one. */
lask_lpar *lask_l_par_prepare(lask_lrun *r, int opts, lask_run_opts *o);

/* With callbacks: sets the callbacks' state.on_caller to the set of keys whose Lua
 * tasks run on the calling state (they could not be copied). */
void lask_l_par_mark(lask_lrun *r, lask_lpar *p);

/* Just before the run (nothing may raise between it and lask_l_par_finish): makes
 * p the get the worker states serve. */
void lask_l_par_arm(lask_lpar *p);

/* After the run: puts the failing worker task's error in r's errobj slot. */
void lask_l_par_finish(lask_lrun *r, lask_lpar *p, const lask_err *err);

/* True once SIGINT arrived during the running get (lget.c; any thread may ask). */
int lask_l_interrupted(void);

/* From the SIGINT handler (async-signal-safe): hooks the worker state the calling
 * thread runs, and when first is set forwards SIGINT to the other threads running
 * worker states (lstates.c). */
void lask_l_states_sigint(int first);

struct sigaction;

/* lsigint.c: installs the SIGINT handler for a get on L unless an outer get did
 * (returns 1 when it did, the old action in *old); release undoes it. */
int lask_l_catch_sigint(lua_State *L, struct sigaction *old);
void lask_l_release_sigint(lua_State *L, int installed, const struct sigaction *old);

/* The flag a run polls for Ctrl-C (lask_run_opts.interrupt), set by the handler. */
const _Atomic int *lask_l_interrupt_flag(void);

/* Makes the SIGINT handler also call f(first) (NULL: nothing more); async-signal-safe f. */
void lask_l_sigint_forward(void (*f)(int first));

/* Closes ctx's worker states (the engine's threads must be idle). */
void lask_l_states_free(lask_lctx *ctx);

/* --- fed gets: this process's part of a graph spread over ranks (ldist.c) --- */

typedef struct lask_ldist lask_ldist;

/* With opts.fed (at stack index opts): prepares the fed run of r's converted graph
 * (inputs and outputs by key, the messenger) and fills o->feed, o->sched; the
 * preparation is a userdata left on the stack. NULL (nothing pushed) without fed. */
lask_ldist *lask_l_fed_prepare(lask_lrun *r, int opts, lask_run_opts *o);

/* With opts.fed (at stack index opts): adds the keys whose values go to other ranks
 * to c's outputs, so that converting builds them (the caller then drops them from
 * the outputs again: they are sent, not requested). */
void lask_l_fed_convert_outputs(lua_State *L, lask_lconv *c, int opts);

/* Registers core.fed_plan (lplan.c: owners and each rank's part) into the table on top. */
void lask_l_open_plan(lua_State *L);

/* True when d's run failed because another rank's did (an error message came). */
int lask_l_fed_remote(const lask_ldist *d);

/* --- multiprocessing (lmp.c) --- */

/* core.mp_stats(): statistics of the last multiprocessing get (lmp.c). */
int lask_l_mp_stats(lua_State *L);

/* The number of worker processes a multiprocessing get uses for num_workers (0: cores). */
int lask_l_mp_workers(lua_State *L, int num_workers);

/* Runs r's graph on worker processes forked from this one: lask_run's remote
 * scheduler over a fork-and-socket transport (opts as for lask_run, whose sched and
 * transport it sets). The processes are ended before it returns. */
lask_status lask_l_run_mp(lask_lrun *r, const lask_run_opts *o, lask_value *results, lask_err *err);
