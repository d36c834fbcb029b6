/* check.h — the second tier of checks: internal invariants (as Lua's lua_assert).
 *
 * The engine has two kinds of checks. Misuse by a caller (a bad argument, a node
 * that does not exist, a graph with a cycle) is always checked and answered with an
 * error status (err.h); the engine never aborts on it. An internal invariant (a
 * counter that would underflow, a heap out of order, a CSR array out of range) can
 * only fail through a bug in the engine itself: LASK_ASSERT(cond) checks it in
 * builds compiled with -DLASK_CHECKS (make asan, make tsan) and is compiled out
 * otherwise, where it costs nothing (cond is not evaluated, only type-checked, so
 * a variable kept for an assert is not "unused"). Whole-structure checkers
 * (lask_graph_check, lask_heap_ordered, ...) are functions returning bool, used
 * inside LASK_ASSERT after the structure is built, as SQLite does.
 *
 * A failed check calls the check handler: by default it prints the condition and
 * where it failed to stderr and aborts; tests may install their own.
 */
#ifndef LASK_CHECK_H
#define LASK_CHECK_H

#include <stdbool.h>

/* Called with the failed condition's text and place; the default aborts. */
typedef void (*lask_check_handler)(const char *cond, const char *file, int line);

#ifdef LASK_CHECKS
#define LASK_ASSERT(cond) ((cond) ? (void)0 : lask_check_failed(#cond, __FILE__, __LINE__))
#else
#define LASK_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

/* Reports a failed check to the current handler (LASK_ASSERT calls it). */
void lask_check_failed(const char *cond, const char *file, int line);

/* Installs h (NULL: the default, which aborts) and returns the previous handler
 * (NULL for the default). Any thread; a handler that returns lets the engine go on. */
lask_check_handler lask_check_set_handler(lask_check_handler h);

/* True when the engine library was compiled with LASK_CHECKS. */
bool lask_checks_enabled(void);

#endif
