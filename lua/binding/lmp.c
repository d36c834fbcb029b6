/* lmp.c — lask.multiprocessing: Lua tasks in parallel in forked worker processes.
 *
 * The get converts the graph as usual, then forks N workers: each inherits the
 * Lua state, so the graph and every function with its upvalues are there without
 * sending code. The engine's remote scheduler (core/sched_remote.c) decides what
 * runs where and which values move; this file is its transport (core/transport.h)
 * over one socket per worker. A worker runs a task (lask_eval with the same host
 * ops as the threaded scheduler), keeps the result and sends a copy back, until
 * told to forget it. Values cross as bytes (lserial.c), arrays in shared memory.
 *
 * Messages (framing in mp_wire.c): a header {type, node, len} then len bytes.
 *   parent -> worker  RUN node: u32 nforget, the ids to forget, u32 ndeps, then per
 *                     dependency its u32 id, u64 size and bytes.   QUIT.
 *   worker -> parent  DONE node: f64 start, f64 end (CLOCK_MONOTONIC), the value.
 *                     ERROR node: u32 kind (0 the task raised, 1 its result
 *                     cannot be sent), u32 message length, message, traceback.
 * A worker that dies (EOF on its socket) is reported on the task it was running;
 * so is one stopped (SIGSTOP) on a task for 10 s (LASK_MP_STOPPED_SECONDS, fractions
 * allowed), after it is killed: the parent reads its state from /proc when no answer
 * comes.
 * Workers die with the parent (PR_SET_PDEATHSIG), ignore SIGINT (the parent
 * handles Ctrl-C for the whole process group), and are reaped before get returns.
 * Each worker reseeds math.random from the system (so tasks draw different numbers;
 * for reproducible results seed inside the task, from its arguments). A task may
 * return functions that existed when the workers were forked (lserial.c).
 * A failure that is not a Lua error still leaves a table in the errobj slot
 * (note_error), which the get's error reads.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "binding.h"
#include "core/blas_threads.h"
#include "core/cores.h"
#include "core/sampler.h"
#include "core/transport.h"
#include "mp_wire.h"

typedef struct worker {
  pid_t pid;
  int fd;               /* the parent's end of the socket; -1 once closed */
  uint32_t running;     /* node, or LASK_NO_NODE when idle */
  double stopped_since; /* when it was first seen stopped while running, or 0 */
} worker;

typedef struct mp {
  lask_lrun *r;
  lua_State *L;
  const lask_graph *g;
  int nw;
  worker *w;
  int next;             /* where receive looks first, so that every worker gets its turn */
  double stopped_limit; /* seconds a worker may stay stopped on a task (LASK_MP_STOPPED_SECONDS) */
  lask_sbuf out;        /* the message being sent */
} mp;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Sends the bytes of b with its descriptors, then closes them (the peer has copies). */
static int send_buf(int fd, uint32_t type, uint32_t node, lask_sbuf *b) {
  int ok = lask_mp_send(fd, type, node, b->data, b->len, b->fds, b->nfds);
  lask_sbuf_reset(b);
  return ok;
}

/* ------------------------------------------------------------------ worker */

static void worker_reply_error(int fd, uint32_t node, uint32_t kind, const char *msg, const char *tb) {
  lask_sbuf b = {0};
  uint32_t len = (uint32_t)strlen(msg);
  if (lask_sbuf_put(&b, &kind, 4) && lask_sbuf_put(&b, &len, 4) && lask_sbuf_put(&b, msg, len) &&
      lask_sbuf_put(&b, tb, strlen(tb)))
    lask_mp_send(fd, LASK_MP_ERROR, node, b.data, b.len, NULL, 0);
  free(b.data);
}

/* Applies a RUN message's forgets and dependency values to vals. */
static int worker_take_inputs(mp *m, lask_value *vals, const char *p, const char *end, lask_mp_fds *f) {
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
    if (!lask_l_deserialize(m->L, p, len, f->fds, f->n, &vals[id], NULL)) return 0;
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
    worker_reply_error(fd, node, 0, err.msg, tb);
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
    worker_reply_error(fd, node, 1, msg, "");
  } else if (!send_buf(fd, LASK_MP_DONE, node, &b)) {
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
    lask_mp_hdr h;
    char *data;
    lask_mp_fds f;
    int st = lask_mp_read(fd, &h, &data, &f);
    if (st <= 0 || h.type == LASK_MP_QUIT) _exit(st < 0 ? 2 : 0);
    if (h.type != LASK_MP_RUN || !worker_take_inputs(m, vals, data, data + h.len, &f)) _exit(2);
    lask_mp_fds_close(&f);
    worker_run(m, fd, vals, h.node);
    free(data);
  }
}

/* Seeds the worker's math.random from the system's entropy, as Dask reseeds each
 * worker: a fork would otherwise repeat the parent's sequence in every worker (and
 * math.randomseed() alone seeds from the time and an address, equal across forks). */
static void reseed(lua_State *L) {
  lua_Integer seed[2] = {0, 0};
  if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
    seed[0] = (lua_Integer)getpid() ^ (lua_Integer)(now() * 1e9);
  int top = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "math") == LUA_TTABLE && lua_getfield(L, -1, "randomseed") == LUA_TFUNCTION) {
    lua_pushinteger(L, seed[0]), lua_pushinteger(L, seed[1]);
    lua_pcall(L, 2, 0, 0);
  }
  lua_settop(L, top);
}

/* In the child right after fork: keep only its socket, follow the parent's death,
 * leave Ctrl-C to the parent, forget the parent's thread pool (its threads do
 * not exist here; a nested get makes a new engine), and reseed math.random. */
static void become_worker(mp *m, int fd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);
  signal(SIGINT, SIG_IGN);
  reseed(m->L);
  for (int j = 0; j < m->nw; j++)
    if (m->w[j].fd >= 0) close(m->w[j].fd);
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
      /* a worker process is in no run of the parent's, and its BLAS runs on one thread
       * even when the fork came while a call of the parent's borrowed cores */
      lask_cores_leave(NULL);
      lask_blas_threads_single_again();
      become_worker(m, sv[1], parent);
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
      lask_mp_send(m->w[i].fd, LASK_MP_QUIT, 0, NULL, 0, NULL, 0);
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
  }
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

/* The parent could not take worker wi's answer (out of memory): the worker is
 * alive and waiting, so it is killed and reaped (waiting for it to exit would be
 * forever), and the task fails on its key. */
static lask_status worker_dropped(mp *m, int wi, size_t bytes, lask_err *err) {
  worker *w = &m->w[wi];
  kill(w->pid, SIGKILL);
  waitpid(w->pid, NULL, 0);
  w->pid = 0;
  close(w->fd), w->fd = -1;
  lask_err_set(err, LASK_ENOMEM, w->running,
               "not enough memory in the parent process to receive the task's result (%zu bytes) from worker "
               "process %d, which was stopped",
               bytes, wi);
  return note_error(m, LASK_ENOMEM, err);
}

/* Appends dependency id's value for the task node: u32 id, u64 size, bytes. */
static lask_status put_dep(mp *m, uint32_t node, uint32_t id, lask_value v, lask_err *err) {
  lask_sbuf *b = &m->out;
  size_t at = b->len;
  uint64_t len = 0;
  if (!lask_sbuf_put(b, &id, 4) || !lask_sbuf_put(b, &len, 8))
    return lask_err_set(err, LASK_ENOMEM, node, "out of memory sending a task");
  const char *why = lask_l_serialize(m->L, v, b);
  if (why) {
    lask_err_set(err, LASK_ETYPE, node,
                 "the value of a dependency cannot be sent to a worker process: it is or contains %s", why);
    lua_pop(m->L, 1);
    return LASK_ETYPE;
  }
  len = b->len - at - 12;
  memcpy(b->data + at + 4, &len, 8);
  return LASK_OK;
}

/* lask_transport.send: a RUN message. */
static lask_status mp_send(void *ctx, int wi, uint32_t node, const uint32_t *forget, size_t nforget,
                           const uint32_t *ids, const lask_value *vals, size_t ndeps, lask_err *err) {
  mp *m = ctx;
  lask_sbuf *b = &m->out;
  uint32_t nf = (uint32_t)nforget, nd = (uint32_t)ndeps;
  lask_sbuf_reset(b);
  if (!lask_sbuf_put(b, &nf, 4) || !lask_sbuf_put(b, forget, nforget * 4) || !lask_sbuf_put(b, &nd, 4))
    return lask_err_set(err, LASK_ENOMEM, node, "out of memory sending a task");
  for (size_t k = 0; k < ndeps; k++) {
    lask_status st = put_dep(m, node, ids[k], vals[k], err);
    if (st != LASK_OK) return st;
  }
  m->w[wi].running = node;
  return send_buf(m->w[wi].fd, LASK_MP_RUN, node, b) ? LASK_OK : worker_died(m, wi, err);
}

static void on_done(mp *m, int wi, const lask_mp_hdr *h, const char *p, lask_mp_fds *f, lask_reply *rep) {
  if (h->len < 16) {
    lask_err_set(&rep->err, LASK_EHOST, h->node, "malformed message from worker %d", wi);
  } else {
    memcpy(&rep->start, p, 8), memcpy(&rep->end, p + 8, 8);
    const char *why;
    if (!lask_l_deserialize(m->L, p + 16, h->len - 16, f->fds, f->n, &rep->value, &why))
      lask_err_set(&rep->err, LASK_EHOST, h->node,
                   "could not rebuild the result (%zu bytes) from worker %d: %s", (size_t)h->len, wi, why);
  }
  rep->status = rep->err.code == LASK_OK ? LASK_OK : note_error(m, rep->err.code, &rep->err);
}

/* An ERROR message: kind 0 keeps the task's Lua error in the errobj slot. */
static void on_error(mp *m, const lask_mp_hdr *h, const char *p, lask_reply *rep) {
  uint32_t kind, mlen;
  size_t len = h->len;
  lua_State *L = m->L;
  if (len < 8) {
    lask_err_set(&rep->err, LASK_EHOST, h->node, "malformed error from a worker");
    rep->status = note_error(m, LASK_EHOST, &rep->err);
    return;
  }
  memcpy(&kind, p, 4), memcpy(&mlen, p + 4, 4);
  if (mlen > len - 8) mlen = (uint32_t)(len - 8);
  rep->status = lask_err_set(&rep->err, kind ? LASK_ETYPE : LASK_EHOST, h->node, "%.*s", (int)mlen, p + 8);
  if (kind) return;
  lua_createtable(L, 0, 3); /* what raise_run_error reads for a task's error */
  lua_pushlstring(L, p + 8, mlen), lua_setfield(L, -2, "message");
  lua_pushlstring(L, p + 8 + mlen, len - 8 - mlen), lua_setfield(L, -2, "traceback");
  lua_pushlstring(L, p + 8, mlen), lua_setfield(L, -2, "value");
  lua_replace(L, m->r->errobj);
}

/* Reads worker wi's answer into *rep. */
static void read_reply(mp *m, int wi, lask_reply *rep) {
  lask_mp_hdr h;
  char *data;
  lask_mp_fds f;
  int st = lask_mp_read(m->w[wi].fd, &h, &data, &f);
  if (st > 0) lask_l_ctx(m->L)->mp_bytes += sizeof h + h.len;
  if (st < 0 && errno == ENOMEM)
    rep->status = worker_dropped(m, wi, h.len, &rep->err);
  else if (st <= 0)
    rep->status = worker_died(m, wi, &rep->err);
  else if (h.type == LASK_MP_DONE)
    on_done(m, wi, &h, data, &f, rep);
  else if (h.type == LASK_MP_ERROR)
    on_error(m, &h, data, rep);
  else
    rep->status = note_error(
        m, lask_err_set(&rep->err, LASK_EHOST, LASK_NO_NODE, "unexpected message from worker %d", wi),
        &rep->err);
  m->w[wi].running = LASK_NO_NODE;
  lask_mp_fds_close(&f);
  free(data);
}

/* A stopped worker answers nothing while its process lives, so its socket alone
 * would make get wait forever: a worker seen stopped on a task for stopped_limit
 * seconds is killed and its task fails. Gives 1 with *rep filled then. */
static int check_stopped(mp *m, lask_reply *rep) {
  double t = now();
  for (int i = 0; i < m->nw; i++) {
    worker *w = &m->w[i];
    if (w->running == LASK_NO_NODE || w->pid <= 0 || !lask_process_stopped(w->pid)) {
      w->stopped_since = 0;
      continue;
    }
    if (w->stopped_since == 0) w->stopped_since = t;
    if (t - w->stopped_since < m->stopped_limit) continue;
    kill(w->pid, SIGKILL);
    waitpid(w->pid, NULL, 0);
    w->pid = 0;
    close(w->fd), w->fd = -1;
    rep->worker = i, rep->node = w->running;
    lask_err_set(&rep->err, LASK_EHOST, w->running,
                 "worker process %d was stopped (SIGSTOP?) for %g s while running the task, and was killed "
                 "(LASK_MP_STOPPED_SECONDS sets the limit)",
                 i, m->stopped_limit);
    rep->status = note_error(m, LASK_EHOST, &rep->err);
    w->running = LASK_NO_NODE;
    return 1;
  }
  return 0;
}

/* lask_transport.receive: polls the sockets of the workers with a task; a stopped
 * limit below the scheduler's wait shortens the wait to half of it, so that a
 * stopped worker is seen within the limit. */
static int mp_receive(void *ctx, int timeout_ms, lask_reply *rep) {
  mp *m = ctx;
  struct pollfd fds[m->nw];
  for (int i = 0; i < m->nw; i++)
    fds[i] = (struct pollfd){.fd = m->w[i].running == LASK_NO_NODE ? -1 : m->w[i].fd, .events = POLLIN};
  double half_limit_ms = m->stopped_limit * 500;
  if (half_limit_ms < timeout_ms) timeout_ms = half_limit_ms < 1 ? 1 : (int)half_limit_ms;
  int k = poll(fds, (nfds_t)m->nw, timeout_ms);
  *rep = (lask_reply){.worker = -1, .node = LASK_NO_NODE, .value = lask_nil()};
  lask_err_clear(&rep->err);
  if (k < 0 && errno != EINTR) {
    rep->status = note_error(
        m, lask_err_set(&rep->err, LASK_EHOST, LASK_NO_NODE, "poll: %s", strerror(errno)), &rep->err);
    return 1;
  }
  for (int j = 0; j < m->nw && k > 0; j++) {
    int i = (m->next + j) % m->nw;
    if (fds[i].fd < 0 || !fds[i].revents) continue;
    m->next = (i + 1) % m->nw;
    rep->worker = i, rep->node = m->w[i].running;
    read_reply(m, i, rep);
    return 1;
  }
  return k == 0 && check_stopped(m, rep);
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

lask_status lask_l_run_mp(lask_lrun *r, const lask_run_opts *o, lask_value *results, lask_err *err) {
  mp m = {
      .r = r, .L = r->L, .g = r->c->g, .nw = lask_l_mp_workers(r->L, o->num_workers), .stopped_limit = 10};
  const char *limit = getenv("LASK_MP_STOPPED_SECONDS");
  if (limit && atof(limit) > 0) m.stopped_limit = atof(limit);
  lask_err_clear(err);
  lask_l_ctx(r->L)->mp_bytes = 0;
  if (!(m.w = calloc((size_t)m.nw, sizeof *m.w)))
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a run");
  for (int i = 0; i < m.nw; i++) m.w[i].fd = -1;
  lask_status st = start_workers(&m, err);
  if (st == LASK_OK) {
    lask_transport t = {.ctx = &m, .nworkers = m.nw, .send = mp_send, .receive = mp_receive};
    lask_run_opts remote = *o;
    remote.sched = LASK_SCHED_REMOTE, remote.transport = &t;
    st = lask_run(NULL, m.g, r->c->outs, r->c->nouts, &remote, results, err);
  }
  stop_workers(&m, st != LASK_OK);
  free(m.w);
  lask_sbuf_free(&m.out);
  return st;
}
