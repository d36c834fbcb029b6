/* value.c — refcounting and the built-in string and list classes.
 *
 * Invariant: a counted object's refs is >= 1 while it is alive; retaining or
 * releasing one whose count is 0 (a dead object) is an engine bug, checked in
 * builds with LASK_CHECKS on the value the atomic operation returns.
 */
#include "value.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

void lask_obj_init(lask_obj *o, const lask_class *cls) {
  o->cls = cls;
  atomic_init(&o->refs, 1);
}

lask_value lask_retain(lask_value v) {
  if (v.type != LASK_TOBJ || atomic_load_explicit(&v.as.o->refs, memory_order_relaxed) == LASK_REFS_STATIC)
    return v;
  uint32_t before = atomic_fetch_add_explicit(&v.as.o->refs, 1, memory_order_relaxed);
  LASK_ASSERT(before > 0); /* retaining a dead object */
  return v;
}

void lask_release(lask_value v) {
  if (v.type != LASK_TOBJ) return;
  lask_obj *o = v.as.o;
  if (atomic_load_explicit(&o->refs, memory_order_relaxed) == LASK_REFS_STATIC) return;
  /* acq_rel: the thread that frees must see every write made by the other owners. */
  uint32_t before = atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel);
  LASK_ASSERT(before > 0); /* releasing a dead object */
  if (before == 1) o->cls->destroy(o);
}

static void str_destroy(lask_obj *o) { free(o); }

static void list_destroy(lask_obj *o) {
  lask_list *l = (lask_list *)o;
  for (size_t i = 0; i < l->n; i++) lask_release(l->items[i]);
  free(l);
}

const lask_class lask_str_class = {"string", str_destroy};
const lask_class lask_list_class = {"list", list_destroy};

lask_str *lask_str_new(const char *s, size_t len) {
  lask_str *str = malloc(sizeof *str + len + 1);
  if (!str) return NULL;
  lask_obj_init(&str->h, &lask_str_class);
  str->len = len;
  memcpy(str->data, s, len);
  str->data[len] = '\0';
  return str;
}

lask_list *lask_list_new(size_t n) {
  lask_list *l = malloc(sizeof *l + n * sizeof(lask_value));
  if (!l) return NULL;
  lask_obj_init(&l->h, &lask_list_class);
  l->n = n;
  for (size_t i = 0; i < n; i++) l->items[i] = lask_nil();
  return l;
}

const char *lask_typename(lask_value v) {
  switch ((lask_type)v.type) {
  case LASK_TNIL: return "nil";
  case LASK_TBOOL: return "boolean";
  case LASK_TINT: return "integer";
  case LASK_TNUM: return "number";
  case LASK_TOBJ: return v.as.o->cls->name;
  }
  return "?";
}

bool lask_tonumber(lask_value v, double *out) {
  if (v.type == LASK_TINT)
    *out = (double)v.as.i;
  else if (v.type == LASK_TNUM)
    *out = v.as.n;
  else
    return false;
  return true;
}
