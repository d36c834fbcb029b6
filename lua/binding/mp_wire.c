/* mp_wire.c — message framing on lask.multiprocessing's sockets (mp_wire.h). */
#include "mp_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t k = send(fd, c, n, MSG_NOSIGNAL); /* a dead peer is an error, not a SIGPIPE */
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return 0;
    c += k, n -= (size_t)k;
  }
  return 1;
}

/* 1: read n bytes; 0: end of file before any; -1: error or a short read. */
static int read_all(int fd, void *p, size_t n) {
  char *c = p;
  size_t got = 0;
  while (got < n) {
    ssize_t k = read(fd, c + got, n - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return got == 0 && k == 0 ? 0 : -1;
    got += (size_t)k;
  }
  return 1;
}

typedef union control {
  char buf[CMSG_SPACE(LASK_MP_MAX_FDS * sizeof(int))];
  struct cmsghdr align;
} control;

/* Sends the header h with the descriptors as SCM_RIGHTS; 1 on success. */
static int send_header_fds(int fd, lask_mp_hdr *h, const int *fds, size_t nfds) {
  control c;
  struct iovec iov = {h, sizeof *h};
  struct msghdr msg = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = c.buf,
                       .msg_controllen = CMSG_SPACE(nfds * sizeof(int))};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET, cm->cmsg_type = SCM_RIGHTS, cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
  memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
  ssize_t k;
  do k = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (k < 0 && errno == EINTR);
  if (k < 0) return 0;
  return k == (ssize_t)sizeof *h || write_all(fd, (char *)h + k, sizeof *h - (size_t)k);
}

int lask_mp_send(int fd, uint32_t type, uint32_t node, const void *p, size_t len, const int *fds,
                 size_t nfds) {
  lask_mp_hdr h = {type, node, len};
  if (nfds > LASK_MP_MAX_FDS) return 0;
  int ok = nfds ? send_header_fds(fd, &h, fds, nfds) : write_all(fd, &h, sizeof h);
  return ok && (len == 0 || write_all(fd, p, len));
}

void lask_mp_fds_close(lask_mp_fds *f) {
  for (size_t i = 0; i < f->n; i++)
    if (f->fds[i] >= 0) close(f->fds[i]);
  f->n = 0;
}

/* Reads the header (with any descriptors sent along, into *f). As read_all. */
static int read_header(int fd, lask_mp_hdr *h, lask_mp_fds *f) {
  control c;
  struct iovec iov = {h, sizeof *h};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
  ssize_t k;
  f->n = 0;
  do k = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (k < 0 && errno == EINTR);
  if (k <= 0) return k == 0 ? 0 : -1;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
      size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      memcpy(f->fds + f->n, CMSG_DATA(cm), n * sizeof(int));
      f->n += n;
    }
  return (size_t)k == sizeof *h || read_all(fd, (char *)h + k, sizeof *h - (size_t)k) == 1 ? 1 : -1;
}

int lask_mp_read(int fd, lask_mp_hdr *h, char **data, lask_mp_fds *f) {
  *data = NULL;
  int st = read_header(fd, h, f);
  if (st <= 0) return st;
  if (!(*data = malloc(h->len ? h->len : 1))) return errno = ENOMEM, -1; /* the caller tells it from EOF */
  return h->len ? read_all(fd, *data, h->len) : 1;
}
