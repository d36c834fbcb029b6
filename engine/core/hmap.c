/* hmap.c — open addressing with linear probing over 8-byte slots (hmap.h). */
#include "hmap.h"

#include <stdlib.h>
#include <string.h>

struct lask_hslot {
  uint32_t hash; /* the low 32 bits of the key's hash */
  uint32_t id;   /* UINT32_MAX: empty */
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
  return (lask_hkey){p, (uint32_t)len, mix(h)};
}

lask_hkey lask_hmap_ptr_key(const void *p) {
  return (lask_hkey){p, LASK_HMAP_PTR, mix((uint64_t)(uintptr_t)p) ^ 0x9e3779b97f4a7c15ULL};
}

void lask_hmap_init(lask_hmap *m) { memset(m, 0, sizeof *m); }

void lask_hmap_free(lask_hmap *m) {
  free(m->slots), free(m->key_p), free(m->key_len);
  lask_hmap_init(m);
}

static int key_eq(const lask_hmap *m, uint32_t id, const lask_hkey *k) {
  if (m->key_len[id] != k->len) return 0;
  return k->len == LASK_HMAP_PTR ? m->key_p[id] == k->p : memcmp(m->key_p[id], k->p, k->len) == 0;
}

/* Index of k's slot, or of the empty slot where it would go. */
static size_t probe(const lask_hmap *m, const lask_hkey *k) {
  size_t mask = m->cap - 1, i = (size_t)(uint32_t)k->hash & mask;
  for (;; i = (i + 1) & mask) {
    const struct lask_hslot *s = &m->slots[i];
    if (s->id == UINT32_MAX || (s->hash == (uint32_t)k->hash && key_eq(m, s->id, k))) return i;
  }
}

uint32_t lask_hmap_get(const lask_hmap *m, lask_hkey k) {
  return m->cap == 0 ? UINT32_MAX : m->slots[probe(m, &k)].id;
}

static int grow_slots(lask_hmap *m) {
  size_t cap = m->cap ? m->cap * 2 : 64, mask = cap - 1;
  struct lask_hslot *slots = malloc(cap * sizeof *slots);
  if (!slots) return 0;
  memset(slots, 0xff, cap * sizeof *slots); /* every id UINT32_MAX: empty */
  for (size_t i = 0; i < m->cap; i++) {
    if (m->slots[i].id == UINT32_MAX) continue;
    size_t j = m->slots[i].hash & mask;
    while (slots[j].id != UINT32_MAX) j = (j + 1) & mask;
    slots[j] = m->slots[i];
  }
  free(m->slots);
  m->slots = slots, m->cap = cap;
  return 1;
}

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
  *added = m->slots[i].id == UINT32_MAX;
  if (*added) {
    if (!grow_keys(m, fresh)) return UINT32_MAX;
    m->key_p[fresh] = k.p, m->key_len[fresh] = k.len;
    m->slots[i] = (struct lask_hslot){(uint32_t)k.hash, fresh};
    m->count++;
  }
  return m->slots[i].id;
}
