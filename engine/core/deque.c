/* deque.c — the Chase–Lev deque of Lê, Pop, Cohen and Zappa Nardelli (PPoPP 2013).
 *
 * The code follows figure 1 of the paper line by line; each atomic access keeps
 * the paper's memory order unless a comment says otherwise. Two departures:
 *
 *   - Indices are signed 64-bit. The paper's size_t makes `b = bottom - 1` wrap
 *     to SIZE_MAX when the owner pops an empty deque at bottom 0, and `t <= b`
 *     then lies. 2^63 pushes do not happen.
 *   - Push publishes with a release store of bottom instead of the paper's
 *     release fence followed by a relaxed store. For the thief that reads bottom
 *     with acquire the guarantee is the same (the slot, and everything the owner
 *     wrote before the push, happen-before its reads), and ThreadSanitizer, which
 *     does not model standalone fences, sees that edge; with the fence it reports
 *     false races on the task data the caller filled in before pushing. Cost: none
 *     on x86 (both are a plain store), the same on ARMv8 (stlr vs dmb + str).
 *
 * The seq_cst fences in pop and steal stay as in the paper: they order a store
 * before a later load (the Dekker pattern between the owner's bottom and the
 * thieves' top), which no acquire/release pairing expresses, and no plain data
 * depends on them for happens-before, so TSan's blindness to them reports nothing.
 * Slots are atomics (relaxed) because a thief may read a slot the owner is
 * overwriting after a wrap-around; the thief then loses its CAS and discards the
 * value, but a plain access would still be a data race.
 */
#include "deque.h"

#include <stdlib.h>

#include "check.h"

/* GCC >= 12 warns (-Wtsan, an error with -Werror) that ThreadSanitizer does not
 * model atomic_thread_fence wherever a fence gets inlined. The fence still runs
 * (TSan's hook executes a full barrier); only happens-before through it is not
 * tracked, and nothing in this file relies on that for plain data. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

struct lask_deque_buf {
  int64_t mask;         /* capacity - 1; capacity is a power of two */
  lask_deque_buf *next; /* the retired list, owner only */
  _Atomic uint32_t slots[];
};

static lask_deque_buf *buf_new(int64_t capacity) {
  if ((uint64_t)capacity > (SIZE_MAX - sizeof(lask_deque_buf)) / sizeof(uint32_t)) return NULL;
  lask_deque_buf *b = malloc(sizeof *b + (size_t)capacity * sizeof(uint32_t));
  if (!b) return NULL;
  LASK_ASSERT(capacity > 0 && (capacity & (capacity - 1)) == 0); /* masks need a power of two */
  b->mask = capacity - 1;
  b->next = NULL;
  return b;
}

/* Who may call (check.h): the owner's calls never overlap. Relaxed, so that in a
 * TSan build the check creates no happens-before that would hide a real race; in
 * normal builds both are empty. */
static inline void owner_enter(lask_deque *d) {
#ifdef LASK_CHECKS
  int inside = atomic_fetch_add_explicit(&d->owner_calls, 1, memory_order_relaxed);
  LASK_ASSERT(inside == 0); /* push or pop from two threads at once */
#else
  (void)d;
#endif
}

static inline void owner_leave(lask_deque *d) {
#ifdef LASK_CHECKS
  atomic_fetch_sub_explicit(&d->owner_calls, 1, memory_order_relaxed);
#else
  (void)d;
#endif
}

static inline uint32_t buf_get(lask_deque_buf *b, int64_t i) {
  return atomic_load_explicit(&b->slots[i & b->mask], memory_order_relaxed);
}

static inline void buf_put(lask_deque_buf *b, int64_t i, uint32_t id) {
  atomic_store_explicit(&b->slots[i & b->mask], id, memory_order_relaxed);
}

bool lask_deque_init(lask_deque *d, unsigned log2_capacity) {
  if (log2_capacity > LASK_DEQUE_MAX_LOG2) return false;
  lask_deque_buf *b = buf_new((int64_t)1 << log2_capacity);
  if (!b) return false;
  atomic_init(&d->top, 0);
  atomic_init(&d->bottom, 0);
  atomic_init(&d->buf, b);
  d->retired = NULL;
#ifdef LASK_CHECKS
  atomic_init(&d->owner_calls, 0);
#endif
  return true;
}

void lask_deque_destroy(lask_deque *d) {
  free(atomic_load_explicit(&d->buf, memory_order_relaxed));
  for (lask_deque_buf *b = d->retired, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  d->retired = NULL;
}

/* Owner only (called by push when full). Copies [t, b) into a buffer twice as big
 * and publishes it. The old buffer joins the retired list instead of being freed:
 * a thief that loaded the old pointer may still read a slot from it (the value is
 * right, since the owner never writes a live index in the old buffer again). */
static lask_deque_buf *grow(lask_deque *d, lask_deque_buf *old, int64_t t, int64_t b) {
  lask_deque_buf *nb = buf_new(2 * (old->mask + 1));
  if (!nb) return NULL;
  for (int64_t i = t; i < b; i++) buf_put(nb, i, buf_get(old, i));
  /* release: a thief that loads the new pointer (acquire) sees the copied slots. */
  atomic_store_explicit(&d->buf, nb, memory_order_release);
  old->next = d->retired;
  d->retired = old;
  return nb;
}

static bool push(lask_deque *d, uint32_t id) {
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed); /* only we write it */
  /* acquire: a thief's CAS that freed slot t happens-before we overwrite it. */
  int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
  lask_deque_buf *a = atomic_load_explicit(&d->buf, memory_order_relaxed); /* only we write it */
  LASK_ASSERT(t <= b && b - t <= a->mask + 1); /* invariants 1–2, no pop under way */
  if (b - t > a->mask) {
    a = grow(d, a, t, b);
    if (!a) return false;
  }
  LASK_ASSERT(b - t <= a->mask); /* room for one more */
  buf_put(a, b, id);
  /* release (the paper: release fence + relaxed store; see the file comment). */
  atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
  return true;
}

bool lask_deque_push(lask_deque *d, uint32_t id) {
  owner_enter(d);
  bool pushed = push(d, id);
  owner_leave(d);
  return pushed;
}

static bool pop(lask_deque *d, uint32_t *id) {
  /* empty for sure (top never goes back, and only we move bottom): no fence needed,
   * which makes looking into an empty deque as cheap as a load */
  if (atomic_load_explicit(&d->top, memory_order_relaxed) >=
      atomic_load_explicit(&d->bottom, memory_order_relaxed))
    return false;
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
  lask_deque_buf *a = atomic_load_explicit(&d->buf, memory_order_relaxed);
  atomic_store_explicit(&d->bottom, b, memory_order_relaxed);
  /* seq_cst: our store of bottom and the thieves' stores of top must be seen in one
   * order by all: either a thief sees the smaller bottom, or we see its larger top. */
  atomic_thread_fence(memory_order_seq_cst);
  int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
  LASK_ASSERT(t <= b + 1); /* invariant 1 */
  if (t > b) {             /* empty: undo the claim */
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    return false;
  }
  uint32_t x = buf_get(a, b);
  if (t == b) { /* the last id: race the thieves for it through top, as they do */
    bool won = atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                                       memory_order_relaxed);
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    if (!won) return false;
  }
  *id = x;
  return true;
}

bool lask_deque_pop(lask_deque *d, uint32_t *id) {
  owner_enter(d);
  bool popped = pop(d, id);
  owner_leave(d);
  return popped;
}

lask_steal_result lask_deque_steal(lask_deque *d, uint32_t *id) {
  /* acquire on top: pairs with other thieves' and the owner's CAS. */
  int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
  /* seq_cst: the mirror of the fence in pop (read top, then bottom, in one order). */
  atomic_thread_fence(memory_order_seq_cst);
  /* acquire on bottom: pairs with push's release, so slot t and the data behind it
   * are visible. */
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_acquire);
  if (t >= b) return LASK_STEAL_EMPTY;
  /* acquire (the paper's consume): the slots copied by grow are visible. */
  lask_deque_buf *a = atomic_load_explicit(&d->buf, memory_order_acquire);
  uint32_t x = buf_get(a, t);
  /* seq_cst: the CAS decides between thieves, and against pop's CAS on the last id. */
  if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                               memory_order_relaxed))
    return LASK_STEAL_LOST;
  *id = x;
  return LASK_STEAL_GOT;
}

size_t lask_deque_size_estimate(const lask_deque *d) {
  /* relaxed: a hint; reading bottom first errs toward 0 when a thief races us. */
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
  return b > t ? (size_t)(b - t) : 0;
}
