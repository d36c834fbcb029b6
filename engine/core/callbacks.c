/* callbacks.c — the per-task callbacks' (run.h's lask_callbacks) side of a run: how a
 * callback that asks to stop is reported. Each scheduler calls them itself, on the
 * calling thread (sched_threaded.c queues pool threads' events for it). */
#include "callbacks.h"

lask_status lask_callback_failed(uint32_t node, lask_err *err) {
  return lask_err_set(err, LASK_EHOST, node, "a callback failed");
}
