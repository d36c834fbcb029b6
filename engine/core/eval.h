/* eval.h — running one node's argument program. */
#ifndef LASK_EVAL_H
#define LASK_EVAL_H

#include "api.h"
#include "graph.h"

LASK_BEGIN_DECLS

/* What the host (the thread owning a Lua state, say) supplies to run heads that are
 * not native kernels. Only the host thread ever calls these. */
typedef struct lask_host_ops {
  void *ctx;
  /* Calls head with nargs borrowed args for node `node`; gives the result in *out.
   * On failure fills err and returns its code. */
  lask_status (*call)(void *ctx, uint32_t node, lask_value head, const lask_value *args, int nargs,
                      lask_value *out, lask_err *err);
} lask_host_ops;

/* Evaluates node id's program over results (borrowed values of its finished
 * dependencies); gives the value in *out. host may be NULL when the node is native.
 * On failure *out is nil, err is filled with err->node = id, and its code returned. */
lask_status lask_eval(const lask_graph *g, uint32_t id, const lask_value *results, const lask_host_ops *host,
                      lask_value *out, lask_err *err);

LASK_END_DECLS

#endif
