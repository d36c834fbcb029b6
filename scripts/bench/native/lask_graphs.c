/* lask_graphs.c — the lask side of the native-runtimes benchmark (native.lua): a
 * graph of N tasks built through the C API, then run.
 *
 *   lask_graphs SHAPE N WORKERS REPS
 *
 * SHAPE is chain (t0 = 0 + 1, ti = t(i-1) + 1), fanin (N-1 tasks ti = i + 1, then one
 * sum over all of them) or tree (N/2 leaves ti = i + 1, then a binary reduction of
 * additions to one root). Every task is the native kernel add (sum for fan-in's
 * last). Prints one line
 *   RESULT build=<ns/task> named=<ns/task> run=<ns/task> value=<the root's value>
 * build: building the graph with unnamed nodes (median of REPS builds); named: the same with every node
 * named (the names "t-<i>" are formatted before the clock starts: what is timed is
 * lask_gb_named's cost, not snprintf's); run: the median of REPS runs of the built graph (lask_run, the
 * threaded scheduler on WORKERS workers), per task. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lask.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const lask_kernel *k_add, *k_sum;

static void head(lask_graph_builder *b, const lask_kernel *k) {
  lask_gb_const(b, lask_objval((lask_obj *)&k->h));
}

/* Builds SHAPE with n tasks, named names[i] when names is not NULL; *root gets the
 * node whose value the run asks for. */
static lask_graph *build(const char *shape, uint32_t n, char *const *names, uint32_t *root, lask_err *err) {
  lask_graph_builder *b = lask_gb_new();
  if (!b) return NULL;
  lask_gb_reserve(b, n,
                  (size_t)n * 5); /* the sizes are known: no growing (about 4 words a task, 5 for fan-in) */
  for (uint32_t i = 0; i < n; i++) {
    if (names)
      lask_gb_named(b, names[i]);
    else
      lask_gb_node(b);
  }
  if (!strcmp(shape, "chain")) {
    for (uint32_t i = 0; i < n; i++) {
      lask_gb_begin(b, i);
      head(b, k_add);
      if (i == 0)
        lask_gb_const(b, lask_int(0));
      else
        lask_gb_key(b, i - 1);
      lask_gb_const(b, lask_int(1));
      lask_gb_call(b, 2);
      lask_gb_end(b);
    }
    *root = n - 1;
  } else if (!strcmp(shape, "fanin")) {
    for (uint32_t i = 0; i + 1 < n; i++) {
      lask_gb_begin(b, i);
      head(b, k_add);
      lask_gb_const(b, lask_int(i));
      lask_gb_const(b, lask_int(1));
      lask_gb_call(b, 2);
      lask_gb_end(b);
    }
    lask_gb_begin(b, n - 1);
    head(b, k_sum);
    for (uint32_t i = 0; i + 1 < n; i++) lask_gb_key(b, i);
    lask_gb_list(b, n - 1);
    lask_gb_call(b, 1);
    lask_gb_end(b);
    *root = n - 1;
  } else { /* tree: nodes 0..leaves-1 are leaves; then each level pairs the one below */
    uint32_t leaves = n / 2, next = leaves, m = leaves;
    uint32_t *level = malloc(leaves * sizeof *level);
    if (!level) return lask_gb_free(b), NULL;
    for (uint32_t i = 0; i < leaves; i++) {
      lask_gb_begin(b, i);
      head(b, k_add);
      lask_gb_const(b, lask_int(i));
      lask_gb_const(b, lask_int(1));
      lask_gb_call(b, 2);
      lask_gb_end(b);
      level[i] = i;
    }
    while (m > 1) { /* pairs become one node; an odd one out moves up as it is */
      uint32_t k = 0;
      for (uint32_t i = 0; i + 1 < m; i += 2) {
        lask_gb_begin(b, next);
        head(b, k_add);
        lask_gb_key(b, level[i]);
        lask_gb_key(b, level[i + 1]);
        lask_gb_call(b, 2);
        lask_gb_end(b);
        level[k++] = next++;
      }
      if (m % 2) level[k++] = level[m - 1];
      m = k;
    }
    *root = level[0];
    free(level);
    for (uint32_t i = next; i < n; i++) { /* pad to n nodes with constants nobody reads */
      lask_gb_begin(b, i);
      lask_gb_const(b, lask_int(0));
      lask_gb_end(b);
    }
  }
  return lask_gb_finish(b, err);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s chain|fanin|tree N WORKERS REPS\n", argv[0]);
    return 2;
  }
  const char *shape = argv[1];
  uint32_t n = (uint32_t)strtoul(argv[2], NULL, 10);
  int workers = atoi(argv[3]), reps = atoi(argv[4]);
  if (n < 4 || workers < 1 || reps < 1 || reps > 99) return 2;
  k_add = lask_kernel_find("add");
  k_sum = lask_kernel_find("sum");
  lask_err err;
  lask_engine *e = lask_engine_new(workers, &err);
  if (!e) return fprintf(stderr, "%s\n", err.msg), 1;
  uint32_t root;
  char **names = malloc(n * sizeof *names), *text = malloc((size_t)n * 16);
  if (!names || !text) return fprintf(stderr, "out of memory\n"), 1;
  for (uint32_t i = 0; i < n; i++) snprintf(names[i] = text + (size_t)i * 16, 16, "t-%u", i);
  /* builds named and unnamed in turns, REPS of each, each graph freed before the next
   * (the medians are taken) */
  double named_t[99], built_t[99];
  lask_graph *g = NULL;
  for (int r = 0; r < reps; r++)
    for (int named = 1; named >= 0; named--) {
      lask_graph_free(g);
      double t0 = now();
      g = build(shape, n, named ? names : NULL, &root, &err);
      (named ? named_t : built_t)[r] = now() - t0;
      if (!g) return fprintf(stderr, "%s\n", err.msg), 1;
    }
  free(names), free(text);
  qsort(named_t, (size_t)reps, sizeof *named_t, cmp);
  qsort(built_t, (size_t)reps, sizeof *built_t, cmp);
  double named = named_t[reps / 2], built = built_t[reps / 2], t0;
  lask_run_opts opts = {.sched = LASK_SCHED_THREADED, .num_workers = workers};
  double times[99];
  long long value = 0;
  for (int r = 0; r < reps; r++) {
    lask_value v = lask_nil();
    t0 = now();
    if (lask_run(e, g, &root, 1, &opts, &v, &err) != LASK_OK) return fprintf(stderr, "%s\n", err.msg), 1;
    times[r] = now() - t0;
    value = v.type == LASK_TINT ? (long long)v.as.i : -1;
    lask_release(v);
  }
  qsort(times, (size_t)reps, sizeof *times, cmp);
  printf("RESULT build=%.1f named=%.1f run=%.1f value=%lld\n", 1e9 * built / n, 1e9 * named / n,
         1e9 * times[reps / 2] / n, value);
  lask_graph_free(g);
  lask_engine_free(e);
  return 0;
}
