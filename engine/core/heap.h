/* heap.h — a binary min-heap of node ids ordered by a priority array.
 *
 * The ready queue of the synchronous scheduler and the host queue of the threaded
 * one (and the roots' sort when a threaded run starts). Not thread-safe: the
 * threaded scheduler guards its host queue with a mutex.
 *
 * Invariant (the heap order): prio[ids[(i-1)/2]] <= prio[ids[i]] for 0 < i < n;
 * checked locally by each push and pop in builds with LASK_CHECKS (check.h), and
 * as a whole by lask_heap_ordered.
 */
#ifndef LASK_HEAP_H
#define LASK_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Zero-initialise with .prio set (borrowed, must outlive the heap); free(ids) at the end. */
typedef struct lask_heap {
  uint32_t *ids;
  size_t n, cap;
  const uint32_t *prio;
} lask_heap;

/* Adds id; returns 0 when out of memory (the heap is unchanged). */
int lask_heap_push(lask_heap *h, uint32_t id);

/* Removes and returns the id of lowest priority; the heap must not be empty. */
uint32_t lask_heap_pop(lask_heap *h);

/* True when the whole heap is in heap order (a checker for LASK_ASSERT; O(n)). */
bool lask_heap_ordered(const lask_heap *h);

#endif
