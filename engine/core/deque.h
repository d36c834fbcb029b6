/* deque.h — a Chase–Lev work-stealing deque of 32-bit task ids.
 *
 * One thread, the owner, pushes and pops at the bottom (LIFO: the task it made
 * last is hot in its cache); any other thread, a thief, steals from the top
 * (FIFO: the oldest task, usually the root of the most work). The algorithm and
 * its C11 memory orders are those of
 *
 *   N. M. Lê, A. Pop, A. Cohen, F. Zappa Nardelli, "Correct and Efficient
 *   Work-Stealing for Weak Memory Models", PPoPP 2013 (figure 1),
 *
 * on D. Chase, Y. Lev, "Dynamic Circular Work-Stealing Deque", SPAA 2005. The
 * few departures from the paper are explained where they are made in deque.c.
 *
 * Invariants (top and bottom are signed 64-bit and only grow, except that the
 * owner's pop moves bottom down by one and maybe back):
 *   1. top <= bottom + 1 at every instant; the deque holds ids [top, bottom).
 *   2. Slot i lives at buffer[i & mask]; bottom - top <= capacity of the buffer.
 *   3. A buffer replaced by growth stays allocated until lask_deque_destroy:
 *      a thief that read the old pointer may still read from it.
 *
 * Which thread may call what is said per function; "owner" is one thread fixed
 * for the deque's life (or a successor after a happens-before hand-over, e.g. a
 * thread join). Init and destroy must not race with any other call.
 * With LASK_CHECKS (check.h) the indices of invariants 1–2 are asserted, and so is
 * "one owner": two push/pop calls that overlap in time fire a check.
 */
#ifndef LASK_DEQUE_H
#define LASK_DEQUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LASK_DEQUE_MAX_LOG2 30 /* largest initial capacity is 2^30 ids (4 GiB) */

typedef struct lask_deque_buf lask_deque_buf;

/* Thieves hammer top with CAS while the owner writes bottom on every push and
 * pop: the padding keeps them on different cache lines without asking the
 * allocator of an enclosing struct for 64-byte alignment. */
typedef struct lask_deque {
  _Atomic int64_t top; /* next id to steal; written by CAS only */
  char pad_top[64 - sizeof(int64_t)];
  _Atomic int64_t bottom;        /* next free slot; written by the owner only */
  _Atomic(lask_deque_buf *) buf; /* current buffer; replaced by the owner only */
  lask_deque_buf *retired;       /* outgrown buffers, owner only; freed by destroy */
  char pad_end[64 - sizeof(int64_t) - 2 * sizeof(void *)];
#ifdef LASK_CHECKS
  _Atomic int owner_calls; /* push and pop calls under way: more than 1 is a bug */
#endif
} lask_deque;

/* The result of a steal. LOST means another thread took the id we tried for:
 * the deque may still hold more, so retrying is reasonable (the caller decides;
 * a thief scanning many victims may prefer to move on). */
typedef enum lask_steal_result {
  LASK_STEAL_LOST = -1,
  LASK_STEAL_EMPTY = 0,
  LASK_STEAL_GOT = 1
} lask_steal_result;

/* Initialises an empty deque with room for 2^log2_capacity ids before it first
 * grows. Returns false (d untouched, nothing to destroy) when out of memory or
 * log2_capacity > LASK_DEQUE_MAX_LOG2. Not thread-safe: no other call may race. */
bool lask_deque_init(lask_deque *d, unsigned log2_capacity);

/* Frees the buffer and every retired buffer. Ids still inside are dropped. Call
 * only when no thread uses d any more (after the thieves are joined). */
void lask_deque_destroy(lask_deque *d);

/* Owner only. Pushes id at the bottom, doubling the buffer when full. Everything
 * the owner wrote before the push happens-before whatever the thread that takes
 * id does after taking it. Returns false when growth ran out of memory: the
 * deque is unchanged and still usable. */
bool lask_deque_push(lask_deque *d, uint32_t id);

/* Owner only. Takes the newest id (LIFO) into *id; returns false when empty
 * (possibly because a thief won the race for the last id). */
bool lask_deque_pop(lask_deque *d, uint32_t *id);

/* Any thread (the owner too, though pop is cheaper for it). Takes the oldest id
 * (FIFO) into *id: see lask_steal_result. *id is written only on GOT. */
lask_steal_result lask_deque_steal(lask_deque *d, uint32_t *id);

/* Any thread. The number of ids held at some recent instant: exact when no other
 * thread is working on d, otherwise only a hint (never negative). */
size_t lask_deque_size_estimate(const lask_deque *d);

#endif
