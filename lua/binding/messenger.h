/* messenger.h — how a fed get (ldist.c) reaches other processes: bytes with tags.
 *
 * lask.mpi (lua/mpi/lmpi.c, its own module linked with libmpi) implements it over
 * one MPI communicator per get; the core library never links MPI. A messenger is
 * handed to core.get as a light userdata (opts.fed.messenger) and called only from
 * the thread that runs the get.
 */
#ifndef LASK_MESSENGER_H
#define LASK_MESSENGER_H

#include <stddef.h>
#include <stdint.h>

/* What one get moved on this rank (reset when a get begins). */
typedef struct lask_messenger_stats {
  uint64_t messages, bytes; /* messages this rank sent, and their bytes */
  uint64_t copied;          /* array element bytes copied into or out of a message (packing a strided
                             * array, or an array small enough to travel inline); a large C-contiguous
                             * array is sent from and received into its own buffer: none */
} lask_messenger_stats;

typedef struct lask_messenger {
  void *ctx;
  int rank, size; /* this process's rank among size */
  lask_messenger_stats stats;
  /* Starts sending len bytes at data to rank dst with tag (>= 1); done(arg) is called
   * once they have left (data must stay until then; from a later send or poll).
   * Returns 1, or 0 with *why (a static string) when it could not start. */
  int (*send)(void *ctx, int dst, int tag, const char *data, size_t len, void (*done)(void *arg), void *arg,
              const char **why);
  /* Makes progress (completes sends) and looks for one arrived message: returns 1
   * and gives it (*data malloc'd, the caller frees it), 0 when none is there, -1
   * when another rank's get failed (its error is kept for the end of the get), -2
   * with *why when the messenger itself failed. */
  int (*poll)(void *ctx, int *src, int *tag, char **data, size_t *len, const char **why);
  /* Receives the next message from src with tag (a body following a header that poll
   * gave) into into, exactly len bytes, making progress until it is there (never
   * blocking in MPI_Wait). Returns 1; -1 when another rank's get failed meanwhile;
   * -2 with *why when the messenger failed or the message was not len bytes. */
  int (*recv)(void *ctx, int src, int tag, char *into, size_t len, const char **why);
} lask_messenger;

#endif
