/* err.h — status codes and error reports of the engine.
 *
 * Every engine call that can fail takes a lask_err * and returns a status code.
 * Codes and their one-line meanings are defined once, in LASK_ERRNO_MAP. The
 * engine never raises or exits: bindings turn a lask_err into their own errors.
 */
#ifndef LASK_ERR_H
#define LASK_ERR_H

#include <stdint.h>

#include "api.h"

LASK_BEGIN_DECLS

#define LASK_ERRNO_MAP(X)                                                                                    \
  X(OK, "success")                                                                                           \
  X(ENOMEM, "out of memory")                                                                                 \
  X(EINVAL, "invalid argument")                                                                              \
  X(ECYCLE, "the graph has a cycle")                                                                         \
  X(EMISSING, "missing dependency")                                                                          \
  X(ETYPE, "wrong type")                                                                                     \
  X(EKERNEL, "a kernel failed")                                                                              \
  X(EHOST, "a host task failed")                                                                             \
  X(ECANCELED, "canceled")                                                                                   \
  X(EINTR, "interrupted")

typedef enum lask_status {
#define LASK_ERRNO_ENUM(name, msg) LASK_##name,
  LASK_ERRNO_MAP(LASK_ERRNO_ENUM)
#undef LASK_ERRNO_ENUM
} lask_status;

#define LASK_NO_NODE     UINT32_MAX
#define LASK_ERR_MSG_MAX 512

/* An error report: the code, the node it happened at (or LASK_NO_NODE) and a message. */
typedef struct lask_err {
  lask_status code;
  uint32_t node;
  char msg[LASK_ERR_MSG_MAX];
} lask_err;

/* Returns the fixed one-line meaning of a status code (static storage). */
const char *lask_strstatus(lask_status code);

/* Fills err (if not NULL) with code, node and a printf-style message; returns code. */
lask_status lask_err_set(lask_err *err, lask_status code, uint32_t node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Resets err (if not NULL) to LASK_OK with an empty message. */
void lask_err_clear(lask_err *err);

LASK_END_DECLS

#endif
