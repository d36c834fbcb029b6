/* version.h — lask's version: the one place it is written (the Makefile, the
 * rockspec and lask.pc read it from here). */
#ifndef LASK_VERSION_H
#define LASK_VERSION_H

#include "api.h"

LASK_BEGIN_DECLS

#define LASK_VERSION_MAJOR 0
#define LASK_VERSION_MINOR 1
#define LASK_VERSION_PATCH 0

#define LASK_VERSION_STR_(x) #x
#define LASK_VERSION_STR(x)  LASK_VERSION_STR_(x)
/* "MAJOR.MINOR.PATCH", as a string literal. */
#define LASK_VERSION                                                                                         \
  LASK_VERSION_STR(LASK_VERSION_MAJOR)                                                                       \
  "." LASK_VERSION_STR(LASK_VERSION_MINOR) "." LASK_VERSION_STR(LASK_VERSION_PATCH)

/* The version of the library actually linked ("MAJOR.MINOR.PATCH", static storage):
 * a host compares it with LASK_VERSION, the version of the headers it was built with. */
const char *lask_version(void);

LASK_END_DECLS

#endif
