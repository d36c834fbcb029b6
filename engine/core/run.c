/* run.c — lask_run, the one way into a run: it checks the request, makes the run
 * state (run_state.h), starts the trace, hands the state to a scheduler
 * (schedulers.h) and gives the outputs. lask_get (engine.h) is lask_run by node names.
 *
 * Misuse (a node that does not exist, a name not in the graph) is answered with an
 * error status; the schedulers' own invariants are checked with LASK_ASSERT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "run.h"
#include "schedulers.h"
#include "transport.h"

/* Runs the state s with the scheduler o asks for; threaded needs an engine and work. */
static lask_status dispatch(lask_engine *e, lask_state *s, const lask_run_opts *o, int threaded,
                            lask_err *err) {
  if (o->sched == LASK_SCHED_REMOTE) return lask_run_remote(s, o, err);
  if (threaded) return lask_run_threaded(e, s, o, err);
  return lask_run_sync(s, o, err);
}

/* Misuse: a NULL graph, or a NULL list (called what) or results array for n items. */
static lask_status check_args(const char *fn, const lask_graph *g, size_t n, const void *list,
                              const char *what, const void *results, lask_err *err) {
  if (g && (!n || (list && results))) return LASK_OK;
  return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "%s: %s is NULL", fn,
                      !g      ? "the graph"
                      : !list ? what
                              : "the results array");
}

lask_status lask_run(lask_engine *e, const lask_graph *g, const uint32_t *outs, size_t nouts,
                     const lask_run_opts *opts, lask_value *results, lask_err *err) {
  lask_run_opts defaults = {0};
  const lask_run_opts *o = opts ? opts : &defaults;
  lask_state s;
  lask_err scratch; /* err may be NULL: the status alone then tells */
  if (!err) err = &scratch;
  lask_err_clear(err);
  if (check_args("lask_run", g, nouts, outs, "the list of outputs", results, err)) return err->code;
  for (size_t k = 0; k < nouts; k++)
    if (outs[k] >= g->n)
      return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "requested node #%u does not exist", outs[k]);
  int remote = o->sched == LASK_SCHED_REMOTE;
  if (remote && (!o->transport || o->transport->nworkers < 1))
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "a remote run needs a transport with workers");
  if (o->feed && (o->sched != LASK_SCHED_THREADED || !e))
    return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE,
                        "a fed run needs the threaded scheduler and an engine");
  lask_status st = lask_state_init(&s, g, outs, nouts, err);
  if (st != LASK_OK) return st;
  int threaded = o->sched == LASK_SCHED_THREADED && e && g->n > 0;
  /* e->nworkers read here, not through lask_engine_workers: engine.c calls nothing of ours */
  int nworkers = remote ? o->transport->nworkers : threaded ? e->nworkers : 1;
  if (o->trace && lask_trace_begin(o->trace, nworkers) != LASK_OK) {
    lask_state_free(&s);
    return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory starting a trace");
  }
  if (e) lask_engine_run_begin(e);
  st = dispatch(e, &s, o, threaded, err);
  LASK_ASSERT(st != LASK_OK || lask_state_done(&s, outs, nouts));
  if (st == LASK_OK) lask_state_take_outputs(&s, outs, nouts, results);
  lask_state_free(&s);
  if (e) lask_engine_run_end(e); /* last: it may free e (lask_engine_free during the run) */
  return st;
}

/* Puts the name of the node a run failed at in front of err's message ("node 'z': ";
 * "node #3: " for a node without a name), cutting the message's end if need be. */
static void name_failed_node(const lask_graph *g, lask_err *err) {
  if (!err || err->node >= g->n || err->code == LASK_ECYCLE) return; /* a cycle names its path */
  char buf[24], prefix[LASK_ERR_MSG_MAX];
  const char *name = lask_graph_name(g, err->node, buf, sizeof buf);
  int n = name == buf ? snprintf(prefix, sizeof prefix, "node %s: ", name)
                      : snprintf(prefix, sizeof prefix, "node '%s': ", name);
  size_t plen = n < 0 ? 0 : (size_t)n < sizeof prefix ? (size_t)n : sizeof prefix - 1;
  size_t mlen = strlen(err->msg), cap = sizeof err->msg - 1;
  if (plen > cap) plen = cap;
  if (plen + mlen > cap) mlen = cap - plen;
  memmove(err->msg + plen, err->msg, mlen);
  memcpy(err->msg, prefix, plen);
  err->msg[plen + mlen] = '\0';
}

lask_status lask_get(lask_engine *e, const lask_graph *g, const char *const *names, size_t n,
                     lask_value *results, lask_err *err) {
  lask_err scratch; /* err may be NULL: the status alone then tells */
  if (!err) err = &scratch;
  if (check_args("lask_get", g, n, names, "the list of names", results, err)) return err->code;
  for (size_t k = 0; k < n; k++)
    if (!names[k]) return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "lask_get: name %zu is NULL", k);
  uint32_t *outs = malloc((n ? n : 1) * sizeof *outs);
  if (!outs) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory");
  for (size_t k = 0; k < n; k++)
    if ((outs[k] = lask_graph_find(g, names[k])) == LASK_NO_NODE) {
      free(outs);
      return lask_err_set(err, LASK_EMISSING, LASK_NO_NODE, "no node called '%s' in the graph", names[k]);
    }
  lask_run_opts o = {.sched = LASK_SCHED_THREADED};
  lask_status st = lask_run(e, g, outs, n, &o, results, err);
  free(outs);
  if (st != LASK_OK) name_failed_node(g, err);
  return st;
}
