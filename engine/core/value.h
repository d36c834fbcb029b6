/* value.h — tagged values that cross threads.
 *
 * A lask_value is 16 bytes: nil, boolean, integer, float, or a pointer to a
 * refcounted object (string, list, kernel, host reference, ndarray, ...). An
 * object starts with a lask_obj header naming its class; the class says how to
 * destroy it. Objects whose refs field is LASK_REFS_STATIC live forever and are
 * never counted, so shared kernels cost no atomic traffic.
 *
 * Ownership: a function that returns or fills a value it "gives" hands over one
 * reference; "borrowed" values must be retained to be kept.
 */
#ifndef LASK_VALUE_H
#define LASK_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"

LASK_BEGIN_DECLS

typedef enum lask_type { LASK_TNIL, LASK_TBOOL, LASK_TINT, LASK_TNUM, LASK_TOBJ } lask_type;

typedef struct lask_obj lask_obj;

/* A class of objects: its name (for messages) and how to free one. */
typedef struct lask_class {
  const char *name;
  void (*destroy)(lask_obj *o); /* frees o itself too; called when the last ref goes */
} lask_class;

#define LASK_REFS_STATIC UINT32_MAX

struct lask_obj {
  const lask_class *cls;
  LASK_ATOMIC(uint32_t) refs;
};

typedef struct lask_value {
  uint8_t type; /* lask_type */
  union {
    bool b;
    int64_t i;
    double n;
    lask_obj *o;
  } as;
} lask_value;

typedef struct lask_str {
  lask_obj h;
  size_t len;
  char data[LASK_FLEX]; /* NUL-terminated */
} lask_str;

typedef struct lask_list {
  lask_obj h;
  size_t n;
  lask_value items[LASK_FLEX]; /* each owned by the list */
} lask_list;

extern const lask_class lask_str_class;
extern const lask_class lask_list_class;

/* (Assignments rather than compound literals: these also compile as C++.) */
static inline lask_value lask_nil(void) {
  lask_value v;
  v.type = LASK_TNIL, v.as.i = 0;
  return v;
}
static inline lask_value lask_bool(bool b) {
  lask_value v;
  v.type = LASK_TBOOL, v.as.i = 0, v.as.b = b;
  return v;
}
static inline lask_value lask_int(int64_t i) {
  lask_value v;
  v.type = LASK_TINT, v.as.i = i;
  return v;
}
static inline lask_value lask_num(double n) {
  lask_value v;
  v.type = LASK_TNUM, v.as.n = n;
  return v;
}
/* Wraps an object pointer, taking over the caller's reference. */
static inline lask_value lask_objval(lask_obj *o) {
  lask_value v;
  v.type = LASK_TOBJ, v.as.o = o;
  return v;
}

/* True when v is an object of class cls. */
static inline bool lask_isa(lask_value v, const lask_class *cls) {
  return v.type == LASK_TOBJ && v.as.o->cls == cls;
}

/* Initialises an object header with one reference (refs = 1). */
void lask_obj_init(lask_obj *o, const lask_class *cls);

/* Adds a reference to v (no-op for non-objects and static objects); returns v. */
lask_value lask_retain(lask_value v);

/* Drops a reference to v; frees the object when it was the last one. */
void lask_release(lask_value v);

/* Gives a new string holding a copy of s[0..len); NULL when out of memory. */
lask_str *lask_str_new(const char *s, size_t len);

/* Gives a new list of n nil items (fill items[] with owned values); NULL on ENOMEM. */
lask_list *lask_list_new(size_t n);

/* The name of v's type or class ("nil", "integer", "string", "list", ...): static storage. */
const char *lask_typename(lask_value v);

/* True when v is an integer or float; stores it as a double in *out. */
bool lask_tonumber(lask_value v, double *out);

LASK_END_DECLS

#endif
