/* larrayops.h — the elementwise operators' table, typing rule and the fused
 * kernel's limits as lask.core.arrayops (larrayops.c; internal to the binding). */
#ifndef LASK_LARRAYOPS_H
#define LASK_LARRAYOPS_H

#include <lua.h>

/* Sets arrayops (ops, result_type, fused_limits) in the table on top of the stack. */
void lask_l_open_arrayops(lua_State *L);

#endif
