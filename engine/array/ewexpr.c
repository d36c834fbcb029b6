/* ewexpr.c — elementwise expressions built one operator at a time (ewexpr.h).
 *
 * An expression is a postfix program of fused.h's nodes, as compiling a fused
 * kernel's text gives one, except that an ARG node holds its array itself (the
 * arguments are numbered only when it is evaluated). Applying an operator
 * concatenates the operands' programs and appends the operator: the typing of that
 * one node is the fused program's typing of it (lask_fused_type_op: each node's
 * type depends only on its operands'), and the shape is the broadcast of the
 * operands' shapes, which is the broadcast of all the arrays' shapes, as the kernel
 * computes it over its arguments.
 */
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "ewexpr.h"

/* The nodes, arrays and stack depth of an operand. */
static int op_nodes(const lask_ewexpr_operand *o) { return o->expr ? o->expr->nnodes : 1; }
static int op_arrays(const lask_ewexpr_operand *o) {
  return o->expr ? o->expr->narrays : lask_ndarray_of(o->value) != NULL;
}
static int op_depth(const lask_ewexpr_operand *o) { return o->expr ? o->expr->depth : 1; }

/* The stack depth of op over ops: operand k is evaluated with k values below it. */
static int apply_depth(const lask_ewop *op, const lask_ewexpr_operand *ops) {
  int depth = 0;
  for (int k = 0; k < op->arity; k++)
    if (op_depth(&ops[k]) + k > depth) depth = op_depth(&ops[k]) + k;
  return depth;
}

bool lask_ewexpr_fits(const lask_ewop *op, const lask_ewexpr_operand *ops) {
  int nodes = 1, arrays = 0;
  for (int k = 0; k < op->arity; k++) nodes += op_nodes(&ops[k]), arrays += op_arrays(&ops[k]);
  return nodes <= LASK_EWEXPR_MAX_NODES && arrays <= LASK_FUSED_MAX_ARGS &&
         apply_depth(op, ops) <= LASK_FUSED_MAX_DEPTH;
}

/* The type of operand k, as the kernel types its argument k; false when it is
 * neither an array nor a number or boolean (the kernel's error then in err). */
static bool operand_type(const char *kname, const lask_ewexpr_operand *o, int k, lask_ew_type *t,
                         lask_err *err) {
  const lask_ndarray *a = o->expr ? NULL : lask_ndarray_of(o->value);
  if (o->expr)
    *t = (lask_ew_type){o->expr->dtype, false};
  else if (a)
    *t = (lask_ew_type){a->dtype, false}; /* every array is strong, 0-d ones too (numpy 2) */
  else if (o->value.type == LASK_TBOOL)
    *t = (lask_ew_type){LASK_BOOL, true};
  else if (o->value.type == LASK_TINT)
    *t = (lask_ew_type){LASK_I64, true};
  else if (o->value.type == LASK_TNUM)
    *t = (lask_ew_type){LASK_F64, true};
  else
    return lask_err_set(err, LASK_ETYPE, LASK_NO_NODE, "%s: argument %d is a %s, not an array or a number",
                        kname, k + 1, lask_typename(o->value)),
           false;
  return true;
}

/* Whether op, computing in dtype compute, may fail on the data (integers to a
 * negative power: the kernel finds it element by element). */
static bool may_fail(const lask_ewop *op, lask_dtype compute) {
  return op->domain_msg && (compute == LASK_I64 || compute == LASK_BOOL);
}

/* Appends the nodes of operand o at n (taking a reference to each array). */
static lask_fused_node *append(lask_fused_node *n, const lask_ewexpr_operand *o) {
  if (o->expr) {
    memcpy(n, o->expr->nodes, (size_t)o->expr->nnodes * sizeof *n);
    for (int i = 0; i < o->expr->nnodes; i++)
      if (n[i].kind == LASK_FNODE_ARG) lask_retain(n[i].cval);
    return n + o->expr->nnodes;
  }
  bool array = lask_ndarray_of(o->value) != NULL;
  *n = (lask_fused_node){.kind = array ? LASK_FNODE_ARG : LASK_FNODE_CONST, .cval = o->value};
  if (array) lask_retain(o->value);
  return n + 1;
}

lask_status lask_ewexpr_apply(const char *kname, const lask_ewop *op, const lask_ew_param *param,
                              const lask_ewexpr_operand *ops, lask_ewexpr **out, lask_err *err) {
  LASK_ASSERT(lask_ewexpr_fits(op, ops));
  lask_ew_type t[3], res;
  lask_dtype compute;
  int ndims[3], n = 0, nodes = 1, arrays = 0;
  const int64_t *shapes[3];
  bool now = false;
  *out = NULL;
  for (int k = 0; k < op->arity; k++) {
    if (!operand_type(kname, &ops[k], k, &t[k], err)) return err->code;
    const lask_ndarray *a = ops[k].expr ? NULL : lask_ndarray_of(ops[k].value);
    if (ops[k].expr) ndims[n] = ops[k].expr->ndim, shapes[n++] = ops[k].expr->shape;
    if (a) ndims[n] = a->ndim, shapes[n++] = a->shape, now = now || !a->buf->stable;
    nodes += op_nodes(&ops[k]), arrays += op_arrays(&ops[k]);
  }
  LASK_ASSERT(n > 0);
  if (lask_fused_type_op(kname, op, param, t, &res, &compute, err)) return err->code;
  int ndim;
  int64_t shape[LASK_MAXDIM];
  if (lask_broadcast_shapes(n, ndims, shapes, &ndim, shape, kname, err)) return err->code;
  if (now || may_fail(op, compute) || lask_shape_size(ndim, shape, lask_dtype_size(res.dt)) < 0)
    return LASK_OK;
  lask_ewexpr *e = malloc(sizeof *e + (size_t)nodes * sizeof e->nodes[0]);
  if (!e) return lask_err_set(err, LASK_ENOMEM, LASK_NO_NODE, "%s: out of memory", kname);
  e->dtype = res.dt, e->ndim = ndim, e->kname = kname;
  memcpy(e->shape, shape, (size_t)ndim * sizeof shape[0]);
  e->nnodes = nodes, e->narrays = arrays, e->depth = apply_depth(op, ops);
  lask_fused_node *at = e->nodes;
  for (int k = 0; k < op->arity; k++) at = append(at, &ops[k]);
  *at = (lask_fused_node){.kind = LASK_FNODE_OP, .op = op, .param = *param};
  LASK_ASSERT(at == e->nodes + nodes - 1);
  *out = e;
  return LASK_OK;
}

lask_status lask_ewexpr_eval(const lask_ewexpr *e, lask_value *out, lask_err *err) {
  lask_fused_node nodes[LASK_EWEXPR_MAX_NODES];
  lask_value args[LASK_FUSED_MAX_ARGS];
  int nargs = 0;
  memcpy(nodes, e->nodes, (size_t)e->nnodes * sizeof nodes[0]);
  for (int i = 0; i < e->nnodes; i++) { /* number the arrays, each once */
    if (nodes[i].kind != LASK_FNODE_ARG) continue;
    int a = 0;
    while (a < nargs && args[a].as.o != nodes[i].cval.as.o) a++;
    if (a == nargs) args[nargs++] = nodes[i].cval;
    nodes[i].arg = a, nodes[i].cval = lask_nil();
  }
  LASK_ASSERT(nargs <= e->narrays);
  return lask_fused_eval_nodes(e->kname, nodes, e->nnodes, args, nargs, out, err);
}

void lask_ewexpr_free(lask_ewexpr *e) {
  if (!e) return;
  for (int i = 0; i < e->nnodes; i++)
    if (e->nodes[i].kind == LASK_FNODE_ARG) lask_release(e->nodes[i].cval);
  free(e);
}
