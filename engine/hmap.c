/* hmap.c — open addressing with linear probing; a slot with len 0 and p NULL is empty. */
#include "hmap.h"

#include <stdlib.h>
#include <string.h>

struct lask_hentry {
  lask_hkey k;
  uint32_t id;
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
  h = mix(h);
  return (lask_hkey){p, (uint32_t)len, h ? h : 1}; /* hash 0 marks empty slots */
}

lask_hkey lask_hmap_ptr_key(const void *p) {
  uint64_t h = mix((uint64_t)(uintptr_t)p) ^ 0x9e3779b97f4a7c15ULL;
  return (lask_hkey){p, LASK_HMAP_PTR, h ? h : 1};
}

void lask_hmap_init(lask_hmap *m) { memset(m, 0, sizeof *m); }

void lask_hmap_free(lask_hmap *m) {
  free(m->slots);
  lask_hmap_init(m);
}

static int key_eq(const lask_hkey *a, const lask_hkey *b) {
  if (a->hash != b->hash || a->len != b->len) return 0;
  return a->len == LASK_HMAP_PTR ? a->p == b->p : memcmp(a->p, b->p, a->len) == 0;
}

static int slot_empty(const struct lask_hentry *e) { return e->k.p == NULL && e->k.len == 0 && e->k.hash == 0; }

/* Index of k's slot, or of the empty slot where it would go. */
static size_t probe(const lask_hmap *m, const lask_hkey *k) {
  size_t mask = m->cap - 1, i = (size_t)k->hash & mask;
  while (!slot_empty(&m->slots[i]) && !key_eq(&m->slots[i].k, k)) i = (i + 1) & mask;
  return i;
}

uint32_t lask_hmap_get(const lask_hmap *m, lask_hkey k) {
  if (m->cap == 0) return UINT32_MAX;
  size_t i = probe(m, &k);
  return slot_empty(&m->slots[i]) ? UINT32_MAX : m->slots[i].id;
}

static int grow(lask_hmap *m) {
  size_t cap = m->cap ? m->cap * 2 : 64;
  struct lask_hentry *old = m->slots, *slots = calloc(cap, sizeof *slots);
  if (!slots) return 0;
  size_t oldcap = m->cap;
  m->slots = slots;
  m->cap = cap;
  for (size_t i = 0; i < oldcap; i++)
    if (!slot_empty(&old[i])) m->slots[probe(m, &old[i].k)] = old[i];
  free(old);
  return 1;
}

uint32_t lask_hmap_intern(lask_hmap *m, lask_hkey k, uint32_t fresh, int *added) {
  if ((m->count + 1) * 2 > m->cap && !grow(m)) return UINT32_MAX;
  size_t i = probe(m, &k);
  *added = slot_empty(&m->slots[i]);
  if (*added) {
    m->slots[i] = (struct lask_hentry){k, fresh};
    m->count++;
  }
  return m->slots[i].id;
}
