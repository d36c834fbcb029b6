/* check.c — what a failed LASK_ASSERT does (check.h): the handler, by default abort. */
#include "check.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static _Atomic(lask_check_handler) handler; /* NULL: the default */

void lask_check_failed(const char *cond, const char *file, int line) {
  lask_check_handler h = atomic_load(&handler);
  if (h) return h(cond, file, line);
  fprintf(stderr, "lask: internal check failed: %s (%s:%d)\n", cond, file, line);
  abort();
}

lask_check_handler lask_check_set_handler(lask_check_handler h) { return atomic_exchange(&handler, h); }

bool lask_checks_enabled(void) {
#ifdef LASK_CHECKS
  return true;
#else
  return false;
#endif
}
