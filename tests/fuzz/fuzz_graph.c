/* fuzz_graph.c — libFuzzer target for graph building and execution: the input
 * describes a graph of up to 48 nodes (integer literals, inc, add, sum of a list,
 * dependencies anywhere, so cycles and missing programs too); it is built with
 * lask_gb_* and run by the sync scheduler (the reference) and the work-stealing
 * one on a 3-worker engine. Both must give the same status and the same values,
 * and ASan+UBSan must see nothing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "array/scalar.h"
#include "lask.h"

enum { MAX_NODES = 48 };

typedef struct input {
  const uint8_t *p, *end;
} input;

static unsigned next(input *in) { return in->p < in->end ? *in->p++ : 0; }

/* Builds the graph; NULL when the builder refuses it (also a valid outcome). */
static lask_graph *build(input *in, uint32_t *n) {
  lask_graph_builder *b = lask_gb_new();
  if (!b) return NULL;
  *n = 1 + next(in) % MAX_NODES;
  for (uint32_t i = 0; i < *n; i++) lask_gb_node(b);
  uint32_t inc = lask_gb_add_const(b, lask_objval((lask_obj *)&lask_kernel_find("inc")->h));
  uint32_t add = lask_gb_add_const(b, lask_objval((lask_obj *)&lask_kernel_find("add")->h));
  uint32_t sum = lask_gb_add_const(b, lask_objval((lask_obj *)&lask_kernel_find("sum")->h));
  for (uint32_t i = 0; i < *n; i++) {
    unsigned op = next(in), undefined = op >= 250; /* a node never defined: finish refuses */
    if (undefined) continue;
    lask_gb_begin(b, i);
    switch (op % 4) {
    case 0: lask_gb_const(b, lask_int((int64_t)next(in))); break;
    case 1:
      lask_gb_const_ref(b, inc);
      lask_gb_key(b, next(in) % *n);
      lask_gb_call(b, 1);
      break;
    case 2:
      lask_gb_const_ref(b, add);
      lask_gb_key(b, next(in) % *n);
      lask_gb_key(b, next(in) % *n);
      lask_gb_call(b, 2);
      break;
    default: {
      unsigned k = next(in) % 5;
      lask_gb_const_ref(b, sum);
      for (unsigned j = 0; j < k; j++) lask_gb_key(b, next(in) % *n);
      lask_gb_list(b, k);
      lask_gb_call(b, 1);
    }
    }
    lask_gb_end(b);
  }
  lask_err err;
  return lask_gb_finish(b, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lask_engine *e;
  lask_err err;
  if (!e && !(e = lask_engine_new(3, &err))) abort();
  input in = {data, data + size};
  uint32_t n;
  lask_graph *g = build(&in, &n);
  if (!g) return 0;
  uint32_t outs[MAX_NODES];
  lask_value ref[MAX_NODES], got[MAX_NODES];
  for (uint32_t i = 0; i < n; i++) outs[i] = i;
  lask_run_opts sync = {.sched = LASK_SCHED_SYNC}, threaded = {.sched = LASK_SCHED_THREADED};
  lask_status s1 = lask_run(e, g, outs, n, &sync, ref, &err);
  lask_status s2 = lask_run(e, g, outs, n, &threaded, got, &err);
  if (s1 != s2) {
    fprintf(stderr, "sync gave status %d, threaded %d (%s)\n", s1, s2, err.msg);
    abort();
  }
  for (uint32_t i = 0; s1 == LASK_OK && i < n; i++) {
    if (ref[i].type != got[i].type || (ref[i].type == LASK_TINT && ref[i].as.i != got[i].as.i)) {
      fprintf(stderr, "node %u: sync and threaded differ\n", i);
      abort();
    }
    lask_release(ref[i]), lask_release(got[i]);
  }
  lask_graph_free(g);
  return 0;
}
