/* graph.h — the engine's compact task graph and its builder.
 *
 * Nodes are dense ids 0..n-1. Each node has an argument program: postfix code over
 * a value stack, one 32-bit word per instruction (op in the low 3 bits, operand
 * above), with the ops
 *   KEY id    push node id's result          CONST c   push constant c
 *   LIST n    pop n values, push a list      CALL n    pop n args and the head
 *                                                      below them, push head(args)
 * A node whose program is a lone CONST is a literal, a lone KEY an alias. A node is
 * "host" when some CALL head in its program is not a native kernel: only the host
 * (the thread that owns the Lua state) may run it.
 *
 * Dependencies (the distinct KEY operands of a node's program) and dependents are
 * kept in CSR form. Its invariants (lask_graph_check): offsets start at 0 and never
 * go down; dep_off[n] == out_off[n] (one edge each way); ids are < n; a node's
 * dependencies are distinct; d is among i's dependencies exactly when i is among d's
 * dependents, which are listed in increasing id. Memory is about 40 bytes a node plus 4 a word of code, 8 an
 * edge and 16 a constant, so ten million tasks fit in well under 1 GiB.
 */
#ifndef LASK_GRAPH_H
#define LASK_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "err.h"
#include "value.h"

LASK_BEGIN_DECLS

/* An argument program's word: the op in the low 3 bits, its operand above. KEY pushes
 * a node's value, CONST a constant of the pool, INT the integer that is its operand
 * (two's complement in 29 bits: the integers of [LASK_INT_MIN, LASK_INT_MAX] live in
 * the code, not in the pool); LIST and CALL pop their operand's count of values. */
enum { LASK_OP_KEY, LASK_OP_CONST, LASK_OP_LIST, LASK_OP_CALL, LASK_OP_INT };
#define LASK_OP(w)       ((w)&7u)
#define LASK_OPERAND(w)  ((w) >> 3)
#define LASK_MAX_OPERAND ((1u << 29) - 1)
#define LASK_INT_MIN     (-((int64_t)1 << 28))
#define LASK_INT_MAX     (((int64_t)1 << 28) - 1)

/* The integer an INT word w pushes. */
static inline int64_t lask_op_int(uint32_t w) { return (int64_t)((int32_t)w >> 3); }

enum { LASK_NODE_HOST = 1 };

typedef uint32_t *lask_graph_plan; /* see lask_graph.plan */
typedef void *lask_graph_spare;    /* see lask_graph.spare */

typedef struct lask_graph {
  uint32_t n;
  uint32_t *code_off, *code_len; /* node i's program is code[code_off[i] ..+ code_len[i]] */
  uint32_t *code;
  lask_value *consts; /* owned */
  uint32_t nconsts;
  uint32_t *dep_off, *deps;            /* node i depends on deps[dep_off[i] .. dep_off[i+1]) */
  uint32_t *out_off, *outs;            /* node i's dependents: outs[out_off[i] .. out_off[i+1]) */
  uint8_t *flags;                      /* LASK_NODE_* */
  char **names;                        /* names[i] or NULL (in name_chunks); the array itself may be NULL */
  struct lask_name_chunk *name_chunks; /* the names' bytes (owned; graph.c) */
  /* What every run of the graph shares, made by its first run (run_state.c) and kept
   * until lask_graph_free: the priorities (lask_order) of nodes 0..n-1, the number of
   * nodes without dependencies, the number without dependents, how many nodes are
   * host nodes, then the nodes without dependencies, most urgent first. NULL until a run has made it. */
  LASK_ATOMIC(lask_graph_plan) plan;
  /* The arrays of the last run's state (run_state.c), kept for the next run so that
   * runs of a built graph allocate nothing; NULL when none or while a run uses them. */
  LASK_ATOMIC(lask_graph_spare) spare;
} lask_graph;

/* The builder: misuse (a NULL builder, a NULL name, an unknown node or constant,
 * unbalanced programs) never crashes; lask_gb_finish reports the first error. */
typedef struct lask_graph_builder lask_graph_builder;

/* Gives a new empty builder; NULL when out of memory. */
lask_graph_builder *lask_gb_new(void);

/* Frees a builder and everything it holds. */
void lask_gb_free(lask_graph_builder *b);

/* Makes room for about nodes nodes and code instructions in all (a hint: building
 * more or fewer is the same graph; a good one saves growing the arrays and the name map). */
void lask_gb_reserve(lask_graph_builder *b, size_t nodes, size_t code);

/* Adds a node with no program yet; returns its id. */
uint32_t lask_gb_node(lask_graph_builder *b);

/* Returns the id of the node called name (copied), adding it when new; LASK_NO_NODE
 * once the build has failed (lask_gb_finish reports why). */
uint32_t lask_gb_named(lask_graph_builder *b, const char *name);

/* Number of nodes added so far. */
uint32_t lask_gb_count(const lask_graph_builder *b);

/* Starts node id's program; the emit calls below append to it until lask_gb_end.
 * Programs begun in increasing id order have their edges made as they are emitted; any
 * other order builds the same graph, with one more pass over the code in lask_gb_finish. */
void lask_gb_begin(lask_graph_builder *b, uint32_t id);

/* Emits KEY id: a dependency on node id. */
void lask_gb_key(lask_graph_builder *b, uint32_t id);

/* Emits v as a literal, taking over the caller's reference to v: INT v for an integer
 * within [LASK_INT_MIN, LASK_INT_MAX] (in the code, no pool entry), else CONST of v,
 * shared with a recent equal constant. */
void lask_gb_const(lask_graph_builder *b, lask_value v);

/* Adds v (taking over the caller's reference) to the constant pool without emitting
 * anything; returns its index for lask_gb_const_ref (UINT32_MAX on failure). */
uint32_t lask_gb_add_const(lask_graph_builder *b, lask_value v);

/* Emits CONST c for a constant index c returned by lask_gb_add_const. */
void lask_gb_const_ref(lask_graph_builder *b, uint32_t c);

/* Emits LIST n. */
void lask_gb_list(lask_graph_builder *b, uint32_t n);

/* Emits CALL n (head and n args already emitted). */
void lask_gb_call(lask_graph_builder *b, uint32_t nargs);

/* Ends the current node's program. */
void lask_gb_end(lask_graph_builder *b);

/* Builds the graph and frees the builder (always). Errors made while emitting (out of
 * memory, unbalanced programs, a node never defined) are reported here. Cycles are
 * not: see lask_graph_cycle. Gives the graph, or NULL with err filled. */
lask_graph *lask_gb_finish(lask_graph_builder *b, lask_err *err);

/* True when g's CSR arrays keep the invariants above and every KEY and CONST
 * operand is in range: a whole-graph checker for LASK_ASSERT (O(n + edges + code)). */
bool lask_graph_check(const lask_graph *g);

/* Frees a graph and its constants. */
void lask_graph_free(lask_graph *g);

/* Finds a cycle: gives a malloc'd list of its node ids in dependency order (each
 * depends on the next, the last on the first) in *ids and *len, or *ids = NULL when
 * the graph is acyclic. Returns LASK_ENOMEM or LASK_OK. */
lask_status lask_graph_cycle(const lask_graph *g, uint32_t **ids, size_t *len);

/* Fills err with LASK_ECYCLE and a cycle of g, named as "the graph has a cycle: a ->
 * b -> a" (a cycle of more than 20 nodes: its count, first 10 and last 5 names; err->node
 * its first node); returns LASK_ECYCLE. For a g that has a cycle (lask_graph_cycle). */
lask_status lask_graph_cycle_error(const lask_graph *g, lask_err *err);

/* The name of node i for messages: its name, or "#i" written into buf. */
const char *lask_graph_name(const lask_graph *g, uint32_t i, char *buf, size_t size);

/* Returns the id of the node named name in g (names come from lask_gb_named), or
 * LASK_NO_NODE. Linear in the size of the graph. */
uint32_t lask_graph_find(const lask_graph *g, const char *name);

LASK_END_DECLS

#endif
