/* callbacks.h — the schedulers' side of the per-task callbacks (run_opts.h's
 * lask_callbacks), which each scheduler calls itself on the calling thread. */
#ifndef LASK_CALLBACKS_H
#define LASK_CALLBACKS_H

#include <stdint.h>

#include "err.h"

/* Fills err for a callback that asked to stop the run at node; returns LASK_EHOST. */
lask_status lask_callback_failed(uint32_t node, lask_err *err);

#endif
