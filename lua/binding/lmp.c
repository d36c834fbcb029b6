/* lmp.c — lask.multiprocessing: Lua tasks in parallel in forked worker processes.
 *
 * The get converts the graph as usual, then forks N workers: each inherits the
 * Lua state, so the graph and every function with its upvalues are there without
 * sending code. The parent schedules: it sends a worker a task's id with the
 * dependency values that worker lacks; the worker runs it (lask_eval with the
 * same host ops as the threaded scheduler), keeps the result, and sends a copy
 * back. Results stay where they were made, so a task goes preferably to the
 * worker holding most of its inputs (a chain stays on one worker), and the parent
 * keeps its copy only until the last dependent has been sent. Literals and aliases
 * are evaluated by the parent. Values cross as bytes (lserial.c).
 *
 * Messages on each worker's socket: a header {type, node, len} then len bytes.
 *   parent -> worker  RUN node: u32 ndrops, the ids to forget, u32 ndeps, then per
 *                     dependency its u32 id, u64 size and bytes.   QUIT.
 *   worker -> parent  DONE node: f64 start, f64 end (CLOCK_MONOTONIC), the value.
 *                     ERROR node: u32 kind (0 the task raised, 1 its result
 *                     cannot be sent), u32 message length, message, traceback.
 * A worker that dies (EOF on its socket) is reported on the task it was running.
 * Workers die with the parent (PR_SET_PDEATHSIG), ignore SIGINT (the parent
 * handles Ctrl-C for the whole process group), and are reaped before get returns.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "binding.h"
#include "core/run_state.h"

enum { M_RUN = 1, M_DONE, M_ERROR, M_QUIT };
enum { LOCALITY_WINDOW = 4, POLL_MS = 100 };

typedef struct hdr {
  uint32_t type, node;
  uint64_t len;
} hdr;

typedef struct worker {
  pid_t pid;
  int fd;           /* the parent's end of the socket; -1 once closed */
  uint32_t running; /* node, or LASK_NO_NODE when idle */
  uint32_t *drops;  /* ids this worker may forget, sent with its next task */
  size_t ndrops, capdrops;
} worker;

typedef struct mp {
  lask_lrun *r;
  lua_State *L;
  const lask_graph *g;
  const lask_run_opts *o;
  int nw;
  worker *w;
  uint32_t *prio, *left, *holds;
  uint64_t *have;     /* bit i: worker i holds the node's value (i < 64) */
  lask_value *values; /* the parent's copies */
  lask_heap ready;
  uint32_t *locals; /* ready literals and aliases, evaluated by the parent */
  size_t nlocals;
  uint32_t done;
  double clock_base; /* CLOCK_MONOTONIC seconds at the trace's zero */
  lask_sbuf out;
} mp;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

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

enum { MAX_FDS = 250 }; /* under the kernel's SCM_MAX_FD */

/* Sends a message; the descriptors fds[0..nfds) travel with its header (SCM_RIGHTS). */
static int send_msg_fds(int fd, uint32_t type, uint32_t node, const void *p, size_t len, const int *fds,
                        size_t nfds) {
  hdr h = {type, node, len};
  if (nfds == 0) return write_all(fd, &h, sizeof h) && (len == 0 || write_all(fd, p, len));
  if (nfds > MAX_FDS) return 0;
  union {
    char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {&h, sizeof h};
  struct msghdr msg = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = CMSG_SPACE(nfds * sizeof(int))};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
  memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  ssize_t k;
  do k = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (k < 0 && errno == EINTR);
  if (k < 0) return 0;
  return (k == (ssize_t)sizeof h || write_all(fd, (char *)&h + k, sizeof h - (size_t)k)) &&
         (len == 0 || write_all(fd, p, len));
}

static int send_msg(int fd, uint32_t type, uint32_t node, const void *p, size_t len) {
  return send_msg_fds(fd, type, node, p, len, NULL, 0);
}

/* Sends the bytes of b with its descriptors, then closes them (the peer has copies). */
static int send_buf(int fd, uint32_t type, uint32_t node, lask_sbuf *b) {
  int ok = send_msg_fds(fd, type, node, b->data, b->len, b->fds, b->nfds);
  lask_sbuf_reset(b);
  return ok;
}

/* Received descriptors of one message: the reader maps what it needs, closes the rest. */
typedef struct fdset {
  int fds[MAX_FDS];
  size_t n;
} fdset;

static void fdset_close(fdset *f) {
  for (size_t i = 0; i < f->n; i++)
    if (f->fds[i] >= 0) close(f->fds[i]);
  f->n = 0;
}

/* Reads the header (with any descriptors sent along, into *f). As read_all. */
static int read_header(int fd, hdr *h, fdset *f) {
  union {
    char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {h, sizeof *h};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  ssize_t k;
  f->n = 0;
  do k = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (k < 0 && errno == EINTR);
  if (k <= 0) return k == 0 ? 0 : -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      memcpy(f->fds + f->n, CMSG_DATA(c), n * sizeof(int));
      f->n += n;
    }
  return (size_t)k == sizeof *h || read_all(fd, (char *)h + k, sizeof *h - (size_t)k) == 1 ? 1 : -1;
}

/* Reads a message's payload into a malloc'd buffer (*data, freed by the caller);
 * its descriptors into *f (the caller closes what it does not keep). */
static int read_msg(int fd, hdr *h, char **data, fdset *f) {
  *data = NULL;
  int st = read_header(fd, h, f);
  if (st <= 0) return st;
  if (!(*data = malloc(h->len ? h->len : 1))) return -1;
  return h->len ? read_all(fd, *data, h->len) : 1;
}

/* ------------------------------------------------------------------ worker */

static void worker_reply_error(mp *m, int fd, uint32_t node, uint32_t kind, const char *msg, const char *tb) {
  lask_sbuf b = {0};
  uint32_t len = (uint32_t)strlen(msg);
  if (lask_sbuf_put(&b, &kind, 4) && lask_sbuf_put(&b, &len, 4) && lask_sbuf_put(&b, msg, len) &&
      lask_sbuf_put(&b, tb, strlen(tb)))
    send_msg(fd, M_ERROR, node, b.data, b.len);
  free(b.data);
  (void)m;
}

/* Applies a RUN message's drops and dependency values to vals. */
static int worker_take_inputs(mp *m, lask_value *vals, const char *p, const char *end, fdset *f) {
  uint32_t n;
  if (end - p < 4) return 0;
  memcpy(&n, p, 4), p += 4;
  for (uint32_t i = 0; i < n; i++, p += 4) {
    uint32_t id;
    if (end - p < 4) return 0;
    memcpy(&id, p, 4);
    lask_release(vals[id]), vals[id] = lask_nil();
  }
  if (end - p < 4) return 0;
  memcpy(&n, p, 4), p += 4;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t id;
    uint64_t len;
    if (end - p < 12) return 0;
    memcpy(&id, p, 4), memcpy(&len, p + 4, 8), p += 12;
    if ((uint64_t)(end - p) < len) return 0;
    lask_release(vals[id]);
    if (!lask_l_deserialize(m->L, p, len, f->fds, f->n, &vals[id])) return 0;
    p += len;
  }
  return 1;
}

static void worker_run(mp *m, int fd, lask_value *vals, uint32_t node) {
  lua_State *L = m->L;
  lask_host_ops host = {.ctx = m->r, .call = lask_l_host_call};
  lask_err err;
  lask_err_clear(&err);
  double t0 = now();
  if (lask_eval(m->g, node, vals, &host, &vals[node], &err) != LASK_OK) {
    const char *tb = "";
    int pushed = err.code == LASK_EHOST && lua_type(L, m->r->errobj) == LUA_TTABLE;
    if (pushed && lua_getfield(L, m->r->errobj, "traceback") == LUA_TSTRING) tb = lua_tostring(L, -1);
    worker_reply_error(m, fd, node, 0, err.msg, tb);
    if (pushed) lua_pop(L, 1);
    return;
  }
  double t1 = now();
  lask_sbuf b = {0};
  lask_sbuf_put(&b, &t0, 8), lask_sbuf_put(&b, &t1, 8);
  const char *why = lask_l_serialize(L, vals[node], &b);
  if (why) {
    char msg[LASK_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "its result cannot be sent to the parent process: it is or contains %s", why);
    lua_pop(L, 1);
    worker_reply_error(m, fd, node, 1, msg, "");
  } else if (!send_buf(fd, M_DONE, node, &b)) {
    _exit(3); /* the parent is gone */
  }
  lask_sbuf_free(&b);
  lask_l_drain(L, lask_l_ctx(L));
}

/* The body of a worker process: serve RUN messages until QUIT or end of file. */
static void worker_main(mp *m, int fd) {
  lask_value *vals = calloc(m->g->n ? m->g->n : 1, sizeof *vals);
  if (!vals) _exit(2);
  for (;;) {
    hdr h;
    char *data;
    fdset f;
    int st = read_msg(fd, &h, &data, &f);
    if (st <= 0 || h.type == M_QUIT) _exit(st < 0 ? 2 : 0);
    if (h.type != M_RUN || !worker_take_inputs(m, vals, data, data + h.len, &f)) _exit(2);
    fdset_close(&f);
    worker_run(m, fd, vals, h.node);
    free(data);
  }
}

/* In the child right after fork: keep only its socket, follow the parent's death,
 * leave Ctrl-C to the parent, and forget the parent's thread pool (its threads do
 * not exist here; a nested get makes a new engine). */
static void become_worker(mp *m, int wi, int fd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);
  signal(SIGINT, SIG_IGN);
  for (int j = 0; j < m->nw; j++)
    if (m->w[j].fd >= 0) close(m->w[j].fd);
  (void)wi;
  lask_lctx *ctx = lask_l_ctx(m->L);
  ctx->engine = NULL, ctx->owns_engine = 0;
  worker_main(m, fd);
}

/* ------------------------------------------------------------------ parent */

static lask_status start_workers(mp *m, lask_err *err) {
  pid_t parent = getpid();
  fflush(NULL); /* buffered output must not be written twice */
  for (int i = 0; i < m->nw; i++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "cannot make a socket for a worker: %s",
                          strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
      close(sv[0]), close(sv[1]);
      return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "cannot fork a worker: %s", strerror(errno));
    }
    if (pid == 0) {
      close(sv[0]);
      become_worker(m, i, sv[1], parent);
    }
    close(sv[1]);
    m->w[i] = (worker){.pid = pid, .fd = sv[0], .running = LASK_NO_NODE};
  }
  return LASK_OK;
}

/* Ends every worker: politely after success, with SIGKILL after a failure; reaps all. */
static void stop_workers(mp *m, int failed) {
  for (int i = 0; i < m->nw; i++) {
    if (m->w[i].pid <= 0) continue;
    if (failed)
      kill(m->w[i].pid, SIGKILL);
    else if (m->w[i].fd >= 0)
      send_msg(m->w[i].fd, M_QUIT, 0, NULL, 0);
  }
  for (int i = 0; i < m->nw; i++) {
    if (m->w[i].fd >= 0) close(m->w[i].fd), m->w[i].fd = -1;
    if (m->w[i].pid <= 0) continue;
    int status;
    for (int tries = 0; waitpid(m->w[i].pid, &status, tries < 200 ? WNOHANG : 0) == 0; tries++) {
      if (tries == 199) kill(m->w[i].pid, SIGKILL); /* 2 s to quit, then no more */
      struct timespec ms = {0, 10000000};
      nanosleep(&ms, NULL);
    }
    m->w[i].pid = 0;
    free(m->w[i].drops), m->w[i].drops = NULL;
  }
}

static int is_local(const lask_graph *g, uint32_t id) {
  return g->code_len[id] == 1 && LASK_OP(g->code[g->code_off[id]]) != LASK_OP_CALL;
}

/* id's dependencies are all done: queue it for a worker, or for the parent when
 * it calls nothing (run_locals evaluates those, iteratively). */
static lask_status make_ready(mp *m, uint32_t id, lask_err *err) {
  if (is_local(m->g, id))
    m->locals[m->nlocals++] = id; /* each node once: n slots suffice */
  else if (!lask_heap_push(&m->ready, id))
    return lask_err_set(err, LASK_ENOMEM, id, "out of memory");
  return LASK_OK;
}

static void forget(mp *m, uint32_t d) {
  lask_release(m->values[d]);
  m->values[d] = lask_nil();
  for (int i = 0; i < m->nw && i < 64; i++) {
    worker *w = &m->w[i];
    if (!(m->have[d] >> i & 1)) continue;
    if (w->ndrops == w->capdrops) {
      size_t cap = w->capdrops ? w->capdrops * 2 : 64;
      uint32_t *drops = realloc(w->drops, cap * sizeof *drops);
      if (!drops) continue; /* the worker keeps it until it quits */
      w->drops = drops, w->capdrops = cap;
    }
    w->drops[w->ndrops++] = d;
  }
  m->have[d] = 0;
}

/* id's value is in m->values[id]: release what it held, make its dependents ready. */
static lask_status finish_node(mp *m, uint32_t id, lask_err *err) {
  const lask_graph *g = m->g;
  m->done++;
  for (uint32_t e = g->dep_off[id]; e < g->dep_off[id + 1]; e++)
    if (--m->holds[g->deps[e]] == 0) forget(m, g->deps[e]);
  for (uint32_t e = g->out_off[id]; e < g->out_off[id + 1]; e++)
    if (--m->left[g->outs[e]] == 0) {
      lask_status st = make_ready(m, g->outs[e], err);
      if (st != LASK_OK) return st;
    }
  return LASK_OK;
}

static lask_status run_locals(mp *m, lask_err *err) {
  lask_status st = LASK_OK;
  while (st == LASK_OK && m->nlocals) {
    uint32_t id = m->locals[--m->nlocals];
    st = lask_eval(m->g, id, m->values, NULL, &m->values[id], err);
    if (st == LASK_OK) st = finish_node(m, id, err);
  }
  return st;
}

/* Makes the errobj slot describe err, for failures that are not a Lua error. */
static lask_status note_error(mp *m, lask_status code, const lask_err *err) {
  lua_State *L = m->L;
  lua_createtable(L, 0, 2);
  lua_pushstring(L, err->msg), lua_setfield(L, -2, "message");
  lua_pushliteral(L, ""), lua_setfield(L, -2, "traceback");
  lua_replace(L, m->r->errobj);
  return code;
}

/* The ready task for worker wi: among the most urgent few, the one with most inputs there. */
static uint32_t pick(mp *m, int wi) {
  uint32_t cand[LOCALITY_WINDOW];
  int n = 0, best = 0, best_local = -1;
  while (n < LOCALITY_WINDOW && m->ready.n) cand[n++] = lask_heap_pop(&m->ready);
  for (int c = 0; c < n; c++) {
    int local = 0;
    for (uint32_t e = m->g->dep_off[cand[c]]; e < m->g->dep_off[cand[c] + 1]; e++)
      local += wi < 64 && (m->have[m->g->deps[e]] >> wi & 1);
    if (local > best_local) best = c, best_local = local;
  }
  for (int c = 0; c < n; c++)
    if (c != best) lask_heap_push(&m->ready, cand[c]); /* cannot fail: it held them */
  return cand[best];
}

static lask_status worker_died(mp *m, int wi, lask_err *err);

static lask_status dispatch(mp *m, int wi, lask_err *err) {
  worker *w = &m->w[wi];
  uint32_t id = pick(m, wi), ndeps = 0;
  lask_sbuf *b = &m->out;
  lask_sbuf_reset(b);
  uint32_t nd = (uint32_t)w->ndrops;
  int ok = lask_sbuf_put(b, &nd, 4) && lask_sbuf_put(b, w->drops, w->ndrops * 4);
  size_t count_at = b->len;
  ok = ok && lask_sbuf_put(b, &ndeps, 4);
  for (uint32_t e = m->g->dep_off[id]; ok && e < m->g->dep_off[id + 1]; e++) {
    uint32_t d = m->g->deps[e];
    if (wi < 64 && (m->have[d] >> wi & 1)) continue;
    size_t at = b->len;
    uint64_t len = 0;
    ok = lask_sbuf_put(b, &d, 4) && lask_sbuf_put(b, &len, 8);
    const char *why = ok ? lask_l_serialize(m->L, m->values[d], b) : NULL;
    if (why) {
      lask_err_set(err, LASK_ETYPE, id,
                   "the value of a dependency cannot be sent to a worker process: it is or "
                   "contains %s",
                   why);
      lua_pop(m->L, 1);
      return LASK_ETYPE;
    }
    len = b->len - at - 12;
    memcpy(b->data + at + 4, &len, 8);
    ndeps++;
    if (wi < 64) m->have[d] |= 1ull << wi;
  }
  if (!ok) return lask_err_set(err, LASK_ENOMEM, id, "out of memory sending a task");
  memcpy(b->data + count_at, &ndeps, 4);
  const lask_callbacks *cb = m->o->callbacks;
  if (cb && cb->pretask && cb->pretask(cb->ctx, id)) return lask_callback_failed(id, err);
  if (!send_buf(w->fd, M_RUN, id, b)) {
    w->running = id;
    return worker_died(m, wi, err);
  }
  w->ndrops = 0;
  w->running = id;
  return LASK_OK;
}

/* A worker's socket closed: it died. Describes how, on the task it was running. */
static lask_status worker_died(mp *m, int wi, lask_err *err) {
  worker *w = &m->w[wi];
  int status = 0;
  char how[128] = "it closed its connection";
  if (waitpid(w->pid, &status, 0) == w->pid) {
    if (WIFSIGNALED(status))
      snprintf(how, sizeof how, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
      snprintf(how, sizeof how, "it exited with status %d", WEXITSTATUS(status));
    w->pid = 0;
  }
  close(w->fd), w->fd = -1;
  lask_err_set(err, LASK_EHOST, w->running, "worker process %d died while running the task: %s", wi, how);
  return note_error(m, LASK_EHOST, err);
}

static lask_status on_done(mp *m, int wi, uint32_t node, const char *p, size_t len, fdset *f, lask_err *err) {
  double t0, t1;
  if (len < 16) return lask_err_set(err, LASK_EHOST, node, "malformed message from worker %d", wi);
  memcpy(&t0, p, 8), memcpy(&t1, p + 8, 8);
  if (!lask_l_deserialize(m->L, p + 16, len - 16, f->fds, f->n, &m->values[node]))
    return lask_err_set(err, LASK_EHOST, node, "malformed result from worker %d", wi);
  if (wi < 64) m->have[node] |= 1ull << wi;
  m->w[wi].running = LASK_NO_NODE;
  if (m->o->trace) lask_trace_record(m->o->trace, wi, node, t0 - m->clock_base, t1 - m->clock_base);
  const lask_callbacks *cb = m->o->callbacks;
  if (cb && cb->posttask && cb->posttask(cb->ctx, node, m->values[node], wi))
    return lask_callback_failed(node, err);
  lask_status st = finish_node(m, node, err);
  return st == LASK_OK ? run_locals(m, err) : st;
}

static lask_status on_error(mp *m, uint32_t node, const char *p, size_t len, lask_err *err) {
  uint32_t kind, mlen;
  lua_State *L = m->L;
  if (len < 8) return lask_err_set(err, LASK_EHOST, node, "malformed error from a worker");
  memcpy(&kind, p, 4), memcpy(&mlen, p + 4, 4);
  if (mlen > len - 8) mlen = (uint32_t)(len - 8);
  lask_err_set(err, kind ? LASK_ETYPE : LASK_EHOST, node, "%.*s", (int)mlen, p + 8);
  if (kind) return LASK_ETYPE;
  lua_createtable(L, 0, 3); /* what raise_run_error reads for a task's error */
  lua_pushlstring(L, p + 8, mlen), lua_setfield(L, -2, "message");
  lua_pushlstring(L, p + 8 + mlen, len - 8 - mlen), lua_setfield(L, -2, "traceback");
  lua_pushlstring(L, p + 8, mlen), lua_setfield(L, -2, "value");
  lua_replace(L, m->r->errobj);
  return LASK_EHOST;
}

static lask_status on_message(mp *m, int wi, lask_err *err) {
  hdr h;
  char *data;
  fdset f;
  int st = read_msg(m->w[wi].fd, &h, &data, &f);
  lask_status rc;
  if (st > 0) lask_l_ctx(m->L)->mp_bytes += sizeof h + h.len;
  if (st <= 0)
    rc = worker_died(m, wi, err);
  else if (h.type == M_DONE)
    rc = on_done(m, wi, h.node, data, h.len, &f, err);
  else if (h.type == M_ERROR)
    rc = on_error(m, h.node, data, h.len, err);
  else
    rc = lask_err_set(err, LASK_EHOST, LASK_NO_NODE, "unexpected message from worker %d", wi);
  fdset_close(&f);
  free(data);
  return rc;
}

static lask_status wait_for_workers(mp *m, lask_err *err) {
  struct pollfd fds[m->nw];
  for (int i = 0; i < m->nw; i++)
    fds[i] = (struct pollfd){.fd = m->w[i].running == LASK_NO_NODE ? -1 : m->w[i].fd, .events = POLLIN};
  int k = poll(fds, (nfds_t)m->nw, POLL_MS);
  if (k < 0 && errno != EINTR)
    return lask_err_set(err, LASK_EHOST, LASK_NO_NODE, "poll: %s", strerror(errno));
  for (int i = 0; i < m->nw && k > 0; i++)
    if (fds[i].fd >= 0 && fds[i].revents) {
      lask_status st = on_message(m, i, err);
      if (st != LASK_OK) return st;
    }
  return LASK_OK;
}

static lask_status schedule(mp *m, lask_err *err) {
  const lask_graph *g = m->g;
  lask_status st = LASK_OK;
  uint32_t *roots = malloc((g->n ? g->n : 1) * sizeof *roots), nroots = 0;
  if (!roots) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a run");
  for (uint32_t i = 0; i < g->n; i++) /* all roots first: evaluating one may ready others */
    if (m->left[i] == 0) roots[nroots++] = i;
  for (uint32_t k = 0; k < nroots && st == LASK_OK; k++) st = make_ready(m, roots[k], err);
  free(roots);
  if (st == LASK_OK) st = run_locals(m, err);
  while (st == LASK_OK && m->done < g->n) {
    if (m->o->interrupt && atomic_load(m->o->interrupt))
      return lask_err_set(err, LASK_EINTR, LASK_NO_NODE, "interrupted");
    int running = 0;
    for (int i = 0; i < m->nw && st == LASK_OK; i++) {
      if (m->w[i].running == LASK_NO_NODE && m->ready.n) st = dispatch(m, i, err);
      running += m->w[i].running != LASK_NO_NODE;
    }
    if (st == LASK_OK && !running) /* nothing ready nor running, yet not done: cannot happen in a DAG */
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "multiprocessing scheduler stalled (a bug)");
    if (st == LASK_OK) st = wait_for_workers(m, err);
  }
  return st;
}

/* core.mp_stats() -> {bytes_received = n}: what the last multiprocessing get read
 * from its workers' sockets (arrays travel in shared memory, not in these bytes). */
int lask_l_mp_stats(lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_pushinteger(L, (lua_Integer)lask_l_ctx(L)->mp_bytes);
  lua_setfield(L, -2, "bytes_received");
  return 1;
}

int lask_l_mp_workers(lua_State *L, int num_workers) {
  (void)L;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int n = num_workers > 0 ? num_workers : (cores > 0 ? (int)cores : 1);
  return n > 256 ? 256 : n;
}

static void mp_free(mp *m) {
  if (m->values)
    for (uint32_t i = 0; i < m->g->n; i++) lask_release(m->values[i]);
  free(m->values), free(m->prio), free(m->left), free(m->holds), free(m->have), free(m->w),
      free(m->ready.ids);
  free(m->locals);
  lask_sbuf_free(&m->out);
}

lask_status lask_l_run_mp(lask_lrun *r, const lask_run_opts *o, lask_value *results, lask_err *err) {
  const lask_graph *g = r->c->g;
  size_t n = g->n ? g->n : 1;
  mp m = {.r = r, .L = r->L, .g = g, .o = o, .nw = lask_l_mp_workers(r->L, o->num_workers)};
  lask_err_clear(err);
  lask_l_ctx(r->L)->mp_bytes = 0;
  m.values = calloc(n, sizeof *m.values), m.prio = malloc(n * 4), m.left = malloc(n * 4),
  m.holds = malloc(n * 4);
  m.have = calloc(n, 8), m.w = calloc((size_t)m.nw, sizeof *m.w), m.locals = malloc(n * 4);
  m.ready.prio = m.prio;
  if (!m.values || !m.prio || !m.left || !m.holds || !m.have || !m.w || !m.locals) {
    mp_free(&m);
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a run");
  }
  lask_status st = lask_order(g, m.prio, err);
  for (uint32_t i = 0; i < g->n; i++) {
    m.left[i] = g->dep_off[i + 1] - g->dep_off[i];
    m.holds[i] = g->out_off[i + 1] - g->out_off[i];
  }
  for (size_t k = 0; k < r->c->nouts; k++) m.holds[r->c->outs[k]]++;
  for (int i = 0; i < m.nw; i++) m.w[i].fd = -1;
  if (o->trace && st == LASK_OK && lask_trace_begin(o->trace, m.nw) != LASK_OK)
    st = lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a trace");
  if (o->trace) m.clock_base = now() - lask_trace_now(o->trace);
  if (st == LASK_OK) st = start_workers(&m, err);
  if (st == LASK_OK) st = schedule(&m, err);
  stop_workers(&m, st != LASK_OK);
  if (st == LASK_OK)
    for (size_t k = 0; k < r->c->nouts; k++) results[k] = lask_retain(m.values[r->c->outs[k]]);
  mp_free(&m);
  return st;
}
