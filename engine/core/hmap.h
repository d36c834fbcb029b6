/* hmap.h — an open-addressing map from byte strings (or pointer identities) to ids.
 *
 * Keys are borrowed: the map stores the caller's pointer, so the bytes must live
 * as long as the map. A key added with lask_hmap_ptr_key compares by pointer
 * identity, never by content. Ids are small integers chosen by the caller (node
 * ids), so a key is stored once, in an array indexed by its id, and each slot of
 * the probe table is only 8 bytes (32 bits of hash and the id): a map of ten
 * million keys probes a table that stays compact in cache, and growing it never
 * touches the keys (a map made by lask_hmap_init_names stores none: the caller's
 * names array is its keys). Linear probing (numbered names' keys step a cache line
 * first: hmap.c); grows at 50% load.
 */
#ifndef LASK_HMAP_H
#define LASK_HMAP_H

#include <stddef.h>
#include <stdint.h>

#define LASK_HMAP_PTR UINT32_MAX /* len of a key that compares by identity */

typedef struct lask_hkey {
  const void *p;
  uint32_t len; /* LASK_HMAP_PTR for identity keys */
  uint64_t hash;
  uint64_t next; /* name keys ending in a number n with n % 8 == 0: the hash's run for n + 8; else 0 */
} lask_hkey;

typedef struct lask_hmap {
  struct lask_hslot *slots; /* cap of them (hmap.c) */
  size_t cap, count;
  const void **key_p; /* by id */
  uint32_t *key_len;  /* by id */
  size_t key_cap;
  char **const *names; /* lask_hmap_init_names: the keys are (*names)[id], the caller's */
} lask_hmap;

/* A key for the bytes p[0..len) (hashed now). */
lask_hkey lask_hmap_bytes_key(const void *p, size_t len);

/* A key for the name p[0..len) (the bytes, as lask_hmap_bytes_key), hashed so that
 * names that differ only in a trailing decimal number ("t-0", "t-1", ...) fall in
 * runs of neighbouring slots, 8 numbers (a cache line) a run: a map of millions of
 * generated names is then filled line by line, not at a random slot a name. */
lask_hkey lask_hmap_name_key(const char *p, size_t len);

/* A key that is the pointer p itself. */
lask_hkey lask_hmap_ptr_key(const void *p);

/* Initialises an empty map. */
void lask_hmap_init(lask_hmap *m);

/* Initialises an empty map whose keys are NUL-terminated strings the caller keeps by
 * id: the key of id is (*names)[id] (names points at the caller's array, which may move
 * as it grows). The map stores no key: after lask_hmap_intern adds a key under id fresh,
 * the caller sets (*names)[fresh] to a copy of its bytes before using the map again.
 * Only lask_hmap_name_key and lask_hmap_bytes_key keys without a NUL byte go in. */
void lask_hmap_init_names(lask_hmap *m, char **const *names);

/* Frees the map's memory (not the keys, which are borrowed). */
void lask_hmap_free(lask_hmap *m);

/* Looks k up: returns its id, or UINT32_MAX when absent. */
uint32_t lask_hmap_get(const lask_hmap *m, lask_hkey k);

/* Returns k's id, adding it with id `fresh` (< UINT32_MAX, not used by another key)
 * when absent (*added tells which). Returns UINT32_MAX when out of memory (the map is
 * unchanged). Adding a name key such as "t-8", it asks the cache for the slots of
 * "t-16": a builder adding "t-0", "t-1", ... in turn finds each in cache. */
uint32_t lask_hmap_intern(lask_hmap *m, lask_hkey k, uint32_t fresh, int *added);

/* Makes room for count keys (ids below count) without growing again; 0 when out of
 * memory (the map is unchanged). */
int lask_hmap_reserve(lask_hmap *m, size_t count);

#endif
