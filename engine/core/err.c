/* err.c — status code names and error reports. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

const char *lask_strstatus(lask_status code) {
  switch (code) {
#define LASK_ERRNO_CASE(name, msg)                                                                           \
  case LASK_##name: return msg;
    LASK_ERRNO_MAP(LASK_ERRNO_CASE)
#undef LASK_ERRNO_CASE
  }
  return "unknown status";
}

lask_status lask_err_set(lask_err *err, lask_status code, uint32_t node, const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  err->node = node;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}

void lask_err_clear(lask_err *err) {
  if (!err) return;
  err->code = LASK_OK;
  err->node = LASK_NO_NODE;
  err->msg[0] = '\0';
}
