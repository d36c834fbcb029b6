/* lmpi.c — luaopen_lask_mpi: the lask.mpi module, the only code linked with libmpi
 * (build/lib/lask/mpi.so, loaded when a script requires it; the core library and
 * the lask program never need MPI).
 *
 * It initialises MPI (MPI_THREAD_FUNNELED: only the thread that runs the get calls
 * MPI), gives the messenger (lua/binding/messenger.h) that a fed get sends and
 * receives values through, and hands the rest to lask.distributed (owners, the
 * local graph, errors), which makes the module's get.
 *
 * One communicator per get (MPI_Comm_idup), so a failed get's messages never
 * match the next one's. Nothing waits in MPI_Wait (it spins a core): requests are
 * tested (MPI_Testsome, MPI_Iprobe) and the caller parks with back-off between
 * tests. Ending a get (l_finish): on success, this rank's sends complete; on a
 * failure, the error is sent to every rank with MPI_Issend (complete only once
 * received), everything arriving is drained, and an MPI_Ibarrier entered once this
 * rank's sends are complete ends the drain when every rank's are: then every rank
 * has every error, and no send is left hanging.
 */
#include <dlfcn.h>
#include <lauxlib.h>
#include <lua.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "messenger.h"

enum { ERR_TAG = 0, SPINS = 64, SLEEP_MIN_NS = 2000, SLEEP_MAX_NS = 100000 };

typedef struct pending {
  void (*done)(void *arg);
  void *arg;
} pending;

typedef struct errmsg {
  int rank;
  char *data;
  size_t len;
} errmsg;

/* The process's one MPI state (MPI itself is once per process): an explicitly
 * initialised singleton, set up by luaopen_lask_mpi. */
typedef struct mpistate {
  int inited, rank, size;
  MPI_Comm comm; /* the running get's, or MPI_COMM_NULL */
  MPI_Request *reqs;
  pending *pend;
  int *done; /* MPI_Testsome's indices: as many as reqs */
  int nreqs, capreqs;
  errmsg *errs; /* errors received (and this rank's own) during the get */
  int nerrs, caperrs;
  int failed; /* an error message arrived */
  lask_messenger m;
} mpistate;

static mpistate S = {.comm = MPI_COMM_NULL};

/* Sleeps a little longer each time nothing happened (*idle counts those times). */
static void backoff(int *idle, int progress) {
  if (progress) {
    *idle = 0;
    return;
  }
  if (++*idle <= SPINS) return;
  long ns = SLEEP_MIN_NS;
  for (int k = SPINS; k < *idle && ns < SLEEP_MAX_NS; k++) ns *= 2;
  nanosleep(&(struct timespec){0, ns < SLEEP_MAX_NS ? ns : SLEEP_MAX_NS}, NULL);
}

static int add_req(MPI_Request req, void (*done)(void *), void *arg) {
  if (S.nreqs == S.capreqs) {
    int cap = S.capreqs ? S.capreqs * 2 : 64;
    MPI_Request *r = realloc(S.reqs, (size_t)cap * sizeof *r);
    if (!r) return 0;
    S.reqs = r;
    pending *p = realloc(S.pend, (size_t)cap * sizeof *p);
    if (!p) return 0;
    S.pend = p;
    int *d = realloc(S.done, (size_t)cap * sizeof *d);
    if (!d) return 0;
    S.done = d, S.capreqs = cap;
  }
  S.reqs[S.nreqs] = req, S.pend[S.nreqs++] = (pending){done, arg};
  return 1;
}

/* Completes the sends that are done; returns how many were. */
static int test_sends(void) {
  if (!S.nreqs) return 0;
  int outcount = 0;
  MPI_Testsome(S.nreqs, S.reqs, &outcount, S.done, MPI_STATUSES_IGNORE);
  if (outcount <= 0 || outcount == MPI_UNDEFINED) return 0;
  int k = 0;
  for (int i = 0; i < S.nreqs; i++) {
    if (S.reqs[i] == MPI_REQUEST_NULL) {
      if (S.pend[i].done) S.pend[i].done(S.pend[i].arg);
      continue;
    }
    S.reqs[k] = S.reqs[i], S.pend[k++] = S.pend[i];
  }
  S.nreqs = k;
  return outcount;
}

static void keep_error(int rank, char *data, size_t len) {
  if (S.nerrs == S.caperrs) {
    int cap = S.caperrs ? S.caperrs * 2 : 8;
    errmsg *e = realloc(S.errs, (size_t)cap * sizeof *e);
    if (!e) return free(data);
    S.errs = e, S.caperrs = cap;
  }
  S.errs[S.nerrs++] = (errmsg){rank, data, len};
}

/* Receives one arrived message if there is one: 1 (given), 0 (none), -2 (failure). */
static int recv_one(int *src, int *tag, char **data, size_t *len) {
  int flag = 0, count = 0;
  MPI_Status st;
  if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, S.comm, &flag, &st) != MPI_SUCCESS) return -2;
  if (!flag) return 0;
  MPI_Get_count(&st, MPI_BYTE, &count);
  char *buf = malloc(count ? (size_t)count : 1);
  if (!buf) return -2;
  MPI_Recv(buf, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, S.comm, MPI_STATUS_IGNORE);
  *src = st.MPI_SOURCE, *tag = st.MPI_TAG, *data = buf, *len = (size_t)count;
  return 1;
}

static int m_send(void *ctx, int dst, int tag, const char *data, size_t len, void (*done)(void *), void *arg,
                  const char **why) {
  (void)ctx;
  MPI_Request req;
  if (len > 0x7fffffff) return *why = "a value over 2 GiB (split it into smaller blocks)", 0;
  if (MPI_Isend(data, (int)len, MPI_BYTE, dst, tag, S.comm, &req) != MPI_SUCCESS)
    return *why = "MPI_Isend failed", 0;
  if (!add_req(req, done, arg)) return *why = "out of memory", 0; /* (the send stays in flight) */
  S.m.stats.messages++, S.m.stats.bytes += len;
  return 1;
}

/* Receives the next message from src with tag into into (len bytes): tests it, and
 * this rank's sends, with back-off until it is there; an error message from another
 * rank meanwhile cancels it (-1). */
static int m_recv(void *ctx, int src, int tag, char *into, size_t len, const char **why) {
  (void)ctx;
  MPI_Request req;
  MPI_Status st;
  int done = 0, idle = 0, count = 0;
  if (len > 0x7fffffff) return *why = "a message over 2 GiB", -2;
  if (MPI_Irecv(into, (int)len, MPI_BYTE, src, tag, S.comm, &req) != MPI_SUCCESS)
    return *why = "MPI_Irecv failed", -2;
  for (;;) {
    if (MPI_Test(&req, &done, &st) != MPI_SUCCESS) return *why = "receiving failed", -2;
    if (done) break;
    int progress = test_sends(), failed = 0;
    MPI_Iprobe(MPI_ANY_SOURCE, ERR_TAG, S.comm, &failed, MPI_STATUS_IGNORE);
    if (failed) { /* the body will not come: m_poll gives the error next */
      MPI_Cancel(&req);
      MPI_Wait(&req, MPI_STATUS_IGNORE); /* a cancelled receive completes at once */
      S.failed = 1;
      return -1;
    }
    backoff(&idle, progress);
  }
  MPI_Get_count(&st, MPI_BYTE, &count);
  if ((size_t)count != len) return *why = "an array's elements did not match its header", -2;
  return 1;
}

static int m_poll(void *ctx, int *src, int *tag, char **data, size_t *len, const char **why) {
  (void)ctx;
  test_sends();
  for (;;) {
    if (S.failed) return -1;
    int got = recv_one(src, tag, data, len);
    if (got < 0) return *why = "receiving failed", -2;
    if (got == 0) return 0;
    if (*tag != ERR_TAG) return 1;
    keep_error(*src, *data, *len);
    S.failed = 1;
  }
}

/* mpi._begin(): a new communicator for a get (every rank calls it, in the same order). */
static int l_begin(lua_State *L) {
  if (S.comm != MPI_COMM_NULL) return luaL_error(L, "lask.mpi: a get is already running on this rank");
  MPI_Request req;
  int done = 0, idle = 0;
  S.m.stats = (lask_messenger_stats){0};
  if (MPI_Comm_idup(MPI_COMM_WORLD, &S.comm, &req) != MPI_SUCCESS)
    return luaL_error(L, "lask.mpi: MPI_Comm_idup failed");
  while (MPI_Test(&req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done) backoff(&idle, 0);
  S.failed = 0, S.nerrs = 0;
  lua_pushlightuserdata(L, &S.m);
  return 1;
}

/* mpi._finish(failed [, error bytes]) -> list of {rank, bytes} of the errors every
 * rank raised (sorted by rank; empty after a success). Ends the get's communicator. */
static int l_finish(lua_State *L) {
  int failed = lua_toboolean(L, 1) || S.failed, idle = 0, inbarrier = 0, done = 0;
  size_t elen = 0;
  const char *ebytes = luaL_optlstring(L, 2, NULL, &elen);
  char *own = NULL;
  MPI_Request barrier = MPI_REQUEST_NULL;
  if (S.comm == MPI_COMM_NULL) return luaL_error(L, "lask.mpi: no get is running");
  if (ebytes && (own = malloc(elen ? elen : 1))) {
    memcpy(own, ebytes, elen);
    for (int r = 0; r < S.size; r++) {
      MPI_Request req;
      if (r != S.rank && MPI_Issend(own, (int)elen, MPI_BYTE, r, ERR_TAG, S.comm, &req) == MPI_SUCCESS)
        add_req(req, NULL, NULL);
    }
  }
  while (!done) {
    int progress = test_sends();
    if (failed) { /* drain: what arrives now is for a get that failed */
      int src, tag;
      char *data;
      size_t len;
      while (recv_one(&src, &tag, &data, &len) == 1) {
        progress = 1;
        if (tag == ERR_TAG)
          keep_error(src, data, len);
        else
          free(data);
      }
      if (!S.nreqs && !inbarrier) inbarrier = MPI_Ibarrier(S.comm, &barrier) == MPI_SUCCESS;
      if (inbarrier) MPI_Test(&barrier, &done, MPI_STATUS_IGNORE);
    } else {
      done = !S.nreqs;
    }
    if (!done) backoff(&idle, progress);
  }
  MPI_Comm_free(&S.comm);
  S.comm = MPI_COMM_NULL;
  if (own) keep_error(S.rank, own, elen);
  lua_createtable(L, S.nerrs, 0);
  for (int i = 0; i < S.nerrs; i++) {
    lua_createtable(L, 2, 0);
    lua_pushinteger(L, S.errs[i].rank), lua_rawseti(L, -2, 1);
    lua_pushlstring(L, S.errs[i].data, S.errs[i].len), lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, i + 1);
    free(S.errs[i].data);
  }
  S.nerrs = 0, S.failed = 0;
  return 1;
}

/* mpi._stats() -> {messages =, bytes =, copied =}: what the last get moved on this
 * rank (lask_messenger_stats). */
static int l_stats(lua_State *L) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)S.m.stats.messages), lua_setfield(L, -2, "messages");
  lua_pushinteger(L, (lua_Integer)S.m.stats.bytes), lua_setfield(L, -2, "bytes");
  lua_pushinteger(L, (lua_Integer)S.m.stats.copied), lua_setfield(L, -2, "copied");
  return 1;
}

/* mpi._tag_ub(): the largest tag MPI allows. */
static int l_tag_ub(lua_State *L) {
  int *ub, flag = 0;
  MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &flag);
  lua_pushinteger(L, flag ? *ub : 32767);
  return 1;
}

/* mpi.abort([code]): ends every rank of the job now (MPI_Abort). */
static int l_abort(lua_State *L) {
  MPI_Abort(MPI_COMM_WORLD, (int)luaL_optinteger(L, 1, 1));
  return 0;
}

/* At exit. */
static void finalize(void) {
  int fin = 0;
  if (!S.inited || MPI_Finalized(&fin) != MPI_SUCCESS || fin) return;
  MPI_Finalize();
}

/* Keeps this module and libmpi loaded until the process ends: finalize runs from
 * atexit, after lua_close has unloaded the modules it loaded. Open MPI's plugins
 * also need libmpi's symbols global. */
static void pin_libraries(void) {
  Dl_info info;
  if (dladdr((void *)pin_libraries, &info) && info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE);
  if (!dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE))
    dlopen("libmpi.so", RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
}

int luaopen_lask_mpi(lua_State *L) {
  if (!S.inited) {
    int already = 0, provided = 0;
    pin_libraries();
    MPI_Initialized(&already);
    if (!already && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      return luaL_error(L, "lask.mpi: MPI_Init_thread failed");
    MPI_Comm_rank(MPI_COMM_WORLD, &S.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &S.size);
    S.m = (lask_messenger){
        .ctx = &S, .rank = S.rank, .size = S.size, .send = m_send, .poll = m_poll, .recv = m_recv};
    S.inited = 1;
    if (!already) atexit(finalize);
  }
  static const luaL_Reg funcs[] = {{"_begin", l_begin}, {"_finish", l_finish}, {"_tag_ub", l_tag_ub},
                                   {"_stats", l_stats}, {"abort", l_abort},    {NULL, NULL}};
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lask.distributed");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "make");
  luaL_newlib(L, funcs);
  lua_pushinteger(L, S.rank), lua_setfield(L, -2, "rank");
  lua_pushinteger(L, S.size), lua_setfield(L, -2, "size");
  lua_call(L, 1, 1);
  return 1;
}
