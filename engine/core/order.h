/* order.h — static priorities that keep the working set small (Dask's `order`). */
#ifndef LASK_ORDER_H
#define LASK_ORDER_H

#include "graph.h"

/* Fills prio[0..g->n) with a permutation of 0..n-1: lower runs first when several
 * tasks are ready. Returns LASK_ECYCLE (prio unspecified) when g has a cycle. */
lask_status lask_order(const lask_graph *g, uint32_t *prio, lask_err *err);

#endif
