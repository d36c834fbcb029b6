/* lask.h — the lask engine's public C API: the manual for host programs.
 *
 * lask runs task graphs: nodes whose values are literals or calls of functions on
 * other nodes' values. A host program
 *   1. opens an engine (a pool of worker threads)      lask_engine_new / _free
 *   2. builds a graph of native kernels                 lask_gb_* in graph.h
 *   3. runs it for the values it wants                  lask_get
 * and its kernels read and make arrays through           lask_ndarray_* in array/ndarray.h
 * or hands the engine a Lua state, where scripts build graphs from Lua tables
 * (lask_lua_open, lask_lua_dofile, below). What is not declared in the headers
 * this file includes is not API.
 *
 * Conventions: every call that can fail takes a lask_err * and returns a
 * lask_status; on failure the message says what went wrong and at which node.
 * Values given to the caller are owned by the caller (lask_release them).
 *
 * Threads: a process may hold several engines, each run from its own host thread.
 * After the first engine starts, OpenBLAS runs single-threaded in this process (the
 * scheduler owns the cores; see lask_engine_new in core/engine.h).
 */
#ifndef LASK_H
#define LASK_H

#include "array/ndarray.h"
#include "array/scalar.h"
#include "core/engine.h"
#include "core/err.h"
#include "core/eval.h"
#include "core/graph.h"
#include "core/kernel.h"
#include "core/run.h"
#include "core/trace.h"
#include "core/value.h"
#include "core/version.h"

LASK_BEGIN_DECLS

/* --- Lua (implemented by the binding; link liblask.a and lua5.4) --- */
struct lua_State;

/* Makes the lask modules requirable in L, running lask.threaded graphs on e (which
 * must outlive L; e NULL: lask makes its own engine when first needed). Returns 0. */
int lask_lua_open(lask_engine *e, struct lua_State *L);

/* Gives a new Lua state with the standard libraries and lask opened on e; NULL on
 * failure. Close it with lua_close. */
struct lua_State *lask_lua_new_state(lask_engine *e);

/* Runs the Lua script at path (no arguments: `...` empty, the global arg untouched)
 * in L; on error fills err (LASK_EHOST, the Lua message with its traceback) and
 * returns its code. lask_lua_dofile_args passes arguments. */
lask_status lask_lua_dofile(struct lua_State *L, const char *path, lask_err *err);

/* Runs the Lua script at path in L with the arguments argv[0..argc), as lua5.4 runs
 * `lua5.4 path args...`: they are the chunk's `...`, and the global `arg` is set to
 * {[0] = path, argv[0], ...}. Errors as lask_lua_dofile (LASK_EINVAL for argv NULL
 * with argc > 0). The strings are copied; the caller keeps argv. */
lask_status lask_lua_dofile_args(struct lua_State *L, const char *path, int argc, const char *const *argv,
                                 lask_err *err);

/* Runs the Lua code in src (chunk name "=lask") in L; errors as lask_lua_dofile. */
lask_status lask_lua_dostring(struct lua_State *L, const char *src, lask_err *err);

LASK_END_DECLS

#endif
