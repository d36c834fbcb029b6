/* hmap.c — open addressing with linear probing over 8-byte slots (hmap.h). */
#include "hmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#ifdef __linux__
#include <sys/mman.h>
#endif

#define HUGE_PAGE  ((size_t)2 << 20)
#define LINE_STEPS 4 /* probes a line apart before the steps slot by slot */
/* A bit of a key's hash (above the slot index of any table that fits in memory) set for
 * keys of numbered names only, whose probes step a line apart first (probe_next); other
 * keys probe slot by slot from the start. */
#define LINE_KEY ((uint64_t)1 << 31)

struct lask_hslot {
  uint32_t hash; /* the low 32 bits of the key's hash */
  uint32_t id1;  /* the id + 1; 0: empty */
};

static uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

lask_hkey lask_hmap_bytes_key(const void *p, size_t len) {
  const unsigned char *s = p;
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ s[i]) * 1099511628211ULL;
  return (lask_hkey){p, (uint32_t)len, mix(h) & ~LINE_KEY, 0};
}

/* The number name[*end..len) ends with (up to 8 digits; *end = len: none), read 8 bytes
 * at once: bytes '0'..'9' xor '0' are 0..9, the others have a byte >= 10, flagged by
 * bit 7 of (x + 0x76) | x (a carry out of a byte >= 0x8a may flag a '9' above it too:
 * the split stays a function of the bytes, all the map needs); the digits, leading
 * zeros in the bytes below them, become the number by three multiplies. */
/* The number a name of len >= 8 bytes ends with, up to 8 digits, and in *rest a hash of
 * the bytes before it (*end: where it starts; len: no number). The last 8 bytes are read
 * at once: bytes '0'..'9' xor '0' are 0..9, the others have a byte >= 10, flagged by bit
 * 7 of (x + 0x76) | x (a carry out of a byte >= 0x8a may flag a '9' above it too: the
 * split stays a function of the bytes, all the map needs); the digits, leading zeros in
 * the bytes below them, become the number by three multiplies. */
static uint64_t trailing_number8(const unsigned char *s, size_t len, size_t *end, uint64_t *rest) {
  uint64_t w, x, nd;
  memcpy(&w, s + len - 8, 8);
  x = w ^ 0x3030303030303030ULL;
  nd = ((x + 0x7676767676767676ULL) | x) & 0x8080808080808080ULL;
  unsigned k = nd ? (unsigned)__builtin_clzll(nd) / 8 : 8; /* trailing digits: the top bytes */
  *end = len - k;
  if (!k) return 0;
  uint64_t low = k == 8 ? 0 : (1ULL << (8 * (8 - k))) - 1; /* the bytes before the digits */
  uint64_t h = 1469598103934665603ULL ^ k;
  for (size_t i = 0; i + 8 < len; i++) h = (h ^ s[i]) * 1099511628211ULL;
  *rest = h ^ ((w & low) * 0x9e3779b97f4a7c15ULL);
  x &= ~low;
  x = x * 10 + (x >> 8);
  return (((x & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
          (((x >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
         32;
}

lask_hkey lask_hmap_name_key(const char *p, size_t len) {
  const unsigned char *s = (const unsigned char *)p;
  size_t end = len;
  uint64_t u = 0, pow = 1, h;
  if (len >= 8) {
    u = trailing_number8(s, len, &end, &h);
    if (end == len) return lask_hmap_bytes_key(p, len);
  } else {
    for (unsigned d; end > 0 && (d = (unsigned)s[end - 1] - '0') < 10; end--) u += d * pow, pow *= 10;
    if (end == len) return lask_hmap_bytes_key(p, len);
    h = 1469598103934665603ULL ^ (len - end);
    for (size_t i = 0; i < end; i++) h = (h ^ s[i]) * 1099511628211ULL;
  }
  /* the rest of the name (h) and the number's block of 8 choose a random run of 8 slots
   * (a cache line); the number's low three bits the slot in it */
  uint64_t next = u & 7 ? 0 : mix(h ^ (((u >> 3) + 1) * 0x9e3779b97f4a7c15ULL)) << 3 | 1;
  h = mix(h ^ ((u >> 3) * 0x9e3779b97f4a7c15ULL));
  return (lask_hkey){p, (uint32_t)len, ((h << 3) | (u & 7) | LINE_KEY), next};
}

lask_hkey lask_hmap_ptr_key(const void *p) {
  return (lask_hkey){p, LASK_HMAP_PTR, (mix((uint64_t)(uintptr_t)p) ^ 0x9e3779b97f4a7c15ULL) & ~LINE_KEY, 0};
}

void lask_hmap_init(lask_hmap *m) { memset(m, 0, sizeof *m); }

void lask_hmap_init_names(lask_hmap *m, char **const *names) {
  lask_hmap_init(m);
  m->names = names;
}

static int key_eq(const lask_hmap *m, uint32_t id, const lask_hkey *k) {
  if (m->names) {
    const char *name = (*m->names)[id];
    return memcmp(name, k->p, k->len) == 0 && name[k->len] == '\0';
  }
  if (m->key_len[id] != k->len) return 0;
  return k->len == LASK_HMAP_PTR ? m->key_p[id] == k->p : memcmp(m->key_p[id], k->p, k->len) == 0;
}

/* Index of k's slot, or of the empty slot where it would go. */
/* The probe sequence after slot i (t: the probes so far, from first_step): for numbered
 * names, the same slot of the next lines, then slot by slot. A run of numbered names
 * (lask_hmap_name_key) whose line is taken moves to the next line together, a name a
 * probe, instead of each name walking the slots the others took; the steps slot by slot
 * reach every slot in the end. */
static inline unsigned first_step(uint32_t hash) { return hash & LINE_KEY ? 0 : LINE_STEPS; }

static inline size_t probe_next(size_t i, unsigned *t, size_t mask) {
  return (i + (++*t < LINE_STEPS ? 8 : 1)) & mask;
}

static inline size_t probe(const lask_hmap *m, const lask_hkey *k) {
  size_t mask = m->cap - 1, i = (size_t)(uint32_t)k->hash & mask;
  unsigned t = first_step((uint32_t)k->hash);
  for (;; i = probe_next(i, &t, mask)) {
    const struct lask_hslot *s = &m->slots[i];
    if (!s->id1 || (s->hash == (uint32_t)k->hash && key_eq(m, s->id1 - 1, k))) return i;
  }
}

uint32_t lask_hmap_get(const lask_hmap *m, lask_hkey k) {
  return m->cap == 0 ? UINT32_MAX : m->slots[probe(m, &k)].id1 - 1; /* empty: UINT32_MAX */
}

/* An empty slot table of cap slots (a power of two, at least 64), aligned to cache
 * lines so a run of 8 slots (lask_hmap_name_key) is one line. A big one is aligned to,
 * and asks the kernel for, huge pages: probes land anywhere in it, and with 4 KiB pages
 * nearly every probe of a table of millions of keys would also miss the TLB. (It comes
 * from malloc, not a mapping of its own: a program building graph after graph then gets
 * the last one's table back, measured faster than fresh zero pages each time.) */
static struct lask_hslot *new_slots(size_t cap) {
  size_t bytes = cap * sizeof(struct lask_hslot);
  LASK_ASSERT(cap >= 64 && (cap & (cap - 1)) == 0);
  bool huge = bytes >= HUGE_PAGE; /* bytes is a power of two: a multiple of HUGE_PAGE */
  struct lask_hslot *slots = aligned_alloc(huge ? HUGE_PAGE : 64, bytes);
  if (!slots) return NULL;
#ifdef MADV_HUGEPAGE
  if (huge) madvise(slots, bytes, MADV_HUGEPAGE); /* advice only: failure changes nothing */
#endif
  memset(slots, 0, bytes); /* every id1 0: empty */
  return slots;
}

void lask_hmap_free(lask_hmap *m) {
  free(m->slots), free(m->key_p), free(m->key_len);
  lask_hmap_init(m);
}

/* Moves the slots into a new table of cap slots (a power of two, >= 64, > count). */
static int grow_slots_to(lask_hmap *m, size_t cap) {
  size_t mask = cap - 1;
  struct lask_hslot *slots = new_slots(cap);
  if (!slots) return 0;
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->slots[i].id1) continue;
    size_t j = m->slots[i].hash & mask;
    unsigned t = first_step(m->slots[i].hash);
    while (slots[j].id1) j = probe_next(j, &t, mask);
    slots[j] = m->slots[i];
  }
  free(m->slots);
  m->slots = slots, m->cap = cap;
  return 1;
}

static int grow_slots(lask_hmap *m) { return grow_slots_to(m, m->cap ? m->cap * 2 : 64); }

static int grow_keys(lask_hmap *m, uint32_t id) {
  if (id < m->key_cap) return 1;
  size_t cap = m->key_cap ? m->key_cap : 64;
  while (cap <= id) cap *= 2;
  const void **p = realloc(m->key_p, cap * sizeof *p);
  if (!p) return 0;
  m->key_p = p;
  uint32_t *len = realloc(m->key_len, cap * sizeof *len);
  if (!len) return 0;
  m->key_len = len, m->key_cap = cap;
  return 1;
}

uint32_t lask_hmap_intern(lask_hmap *m, lask_hkey k, uint32_t fresh, int *added) {
  if ((m->count + 1) * 2 > m->cap && !grow_slots(m)) return UINT32_MAX;
  size_t i = probe(m, &k);
  *added = !m->slots[i].id1;
  if (*added) {
    if (!m->names) {
      if (!grow_keys(m, fresh)) return UINT32_MAX;
      m->key_p[fresh] = k.p, m->key_len[fresh] = k.len;
    }
    m->slots[i] = (struct lask_hslot){(uint32_t)k.hash, fresh + 1};
    m->count++;
    if (k.next) /* the slots names numbered like k's, 8 on, go to: in cache by their turn */
      __builtin_prefetch(&m->slots[(k.next & ~(uint64_t)7) & (m->cap - 1)], 1);
    return fresh;
  }
  return m->slots[i].id1 - 1;
}

int lask_hmap_reserve(lask_hmap *m, size_t count) {
  size_t cap = m->cap ? m->cap : 64;
  while (count * 2 > cap) cap *= 2; /* the load intern keeps: at most half */
  if (cap > m->cap && !grow_slots_to(m, cap)) return 0;
  return count && !m->names ? grow_keys(m, (uint32_t)(count - 1)) : 1;
}
