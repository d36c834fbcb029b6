/* engine.c — the engine object and the C convenience entry point lask_get. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lask.h"

struct lask_engine {
  int nworkers;
};

lask_engine *lask_engine_new(int num_workers, lask_err *err) {
  if (num_workers < 0) return lask_err_set(err, LASK_EINVAL, LASK_NO_NODE, "num_workers must be >= 0"), NULL;
  lask_engine *e = calloc(1, sizeof *e);
  if (!e) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "out of memory creating an engine"), NULL;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  e->nworkers = num_workers ? num_workers : (cores > 0 ? (int)cores : 1);
  return e;
}

void lask_engine_free(lask_engine *e) { free(e); }

int lask_engine_workers(const lask_engine *e) { return e->nworkers; }

uint32_t lask_graph_find(const lask_graph *g, const char *name) {
  if (g->names)
    for (uint32_t i = 0; i < g->n; i++)
      if (g->names[i] && strcmp(g->names[i], name) == 0) return i;
  return LASK_NO_NODE;
}

lask_status lask_get(lask_engine *e, const lask_graph *g, const char *const *names, size_t n, lask_value *results,
                     lask_err *err) {
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
  return st;
}
