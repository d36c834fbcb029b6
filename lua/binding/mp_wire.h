/* mp_wire.h — message framing on lask.multiprocessing's sockets (internal).
 *
 * A message is a header {type, node, len} then len bytes of payload; descriptors
 * (shared-memory arrays) may travel with the header as SCM_RIGHTS. What the
 * payloads hold is lmp.c's business; this file only moves whole messages.
 */
#ifndef LASK_MP_WIRE_H
#define LASK_MP_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum { LASK_MP_RUN = 1, LASK_MP_DONE, LASK_MP_ERROR, LASK_MP_QUIT };
enum { LASK_MP_MAX_FDS = 250 }; /* under the kernel's SCM_MAX_FD */

typedef struct lask_mp_hdr {
  uint32_t type, node;
  uint64_t len;
} lask_mp_hdr;

/* Descriptors received with one message: the reader keeps what it maps (setting
 * its slot to -1) and closes the rest with lask_mp_fds_close. */
typedef struct lask_mp_fds {
  int fds[LASK_MP_MAX_FDS];
  size_t n;
} lask_mp_fds;

/* Closes the descriptors still in f and empties it. */
void lask_mp_fds_close(lask_mp_fds *f);

/* Sends a message on socket fd with the descriptors fds[0..nfds) (borrowed: the
 * caller closes its copies). Returns 1, or 0 when the peer is gone or nfds is too large. */
int lask_mp_send(int fd, uint32_t type, uint32_t node, const void *p, size_t len, const int *fds,
                 size_t nfds);

/* Reads one message: its header into *h, its payload into *data (malloc'd, the
 * caller frees it, even on failure), its descriptors into *f. Returns 1; 0 at end
 * of file before the header or the payload; -1 on an error or a short message (errno
 * ENOMEM when the payload could not be allocated: the peer is still there). */
int lask_mp_read(int fd, lask_mp_hdr *h, char **data, lask_mp_fds *f);

#endif
