/* heap.c — the binary min-heap of heap.h: sift up on push, sift down on pop. */
#include "heap.h"

#include <stdlib.h>

#include "check.h"

int lask_heap_push(lask_heap *h, uint32_t id) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 64;
    uint32_t *ids = realloc(h->ids, cap * sizeof *ids);
    if (!ids) return 0;
    h->ids = ids, h->cap = cap;
  }
  size_t i = h->n++;
  while (i > 0 && h->prio[h->ids[(i - 1) / 2]] > h->prio[id])
    h->ids[i] = h->ids[(i - 1) / 2], i = (i - 1) / 2;
  h->ids[i] = id;
  LASK_ASSERT(i == 0 || h->prio[h->ids[(i - 1) / 2]] <= h->prio[id]);
  return 1;
}

uint32_t lask_heap_pop(lask_heap *h) {
  LASK_ASSERT(h->n > 0);
  uint32_t top = h->ids[0], last = h->ids[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && h->prio[h->ids[c + 1]] < h->prio[h->ids[c]]) c++;
    if (h->prio[h->ids[c]] >= h->prio[last]) break;
    h->ids[i] = h->ids[c], i = c;
  }
  h->ids[i] = last;
  /* last's new place: not above its parent, and the top was the least of all */
  LASK_ASSERT(i == 0 || h->prio[h->ids[(i - 1) / 2]] <= h->prio[last]);
  LASK_ASSERT(h->n == 0 || h->prio[top] <= h->prio[h->ids[0]]);
  return top;
}

bool lask_heap_ordered(const lask_heap *h) {
  for (size_t i = 1; i < h->n; i++)
    if (h->prio[h->ids[(i - 1) / 2]] > h->prio[h->ids[i]]) return false;
  return true;
}
