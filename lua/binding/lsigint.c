/* lsigint.c — SIGINT during a get: the flag the schedulers poll, the hook that stops
 * the Lua code the calling state runs, and a forward to whoever else runs Lua code
 * (the worker states of lua = "parallel", lstates.c, which register it). */
#include <signal.h>
#include <string.h>

#include "binding.h"

/* SIGINT during a get. A signal handler can only reach process-wide state: the
 * flag the schedulers poll between tasks, and the Lua state whose running task a
 * hook interrupts (as lua.c does). Both are set while a get is running; nested
 * gets share the outermost one's. */
static _Atomic int interrupted;
static lua_State *volatile interrupt_state;

int lask_l_interrupted(void) { return atomic_load_explicit(&interrupted, memory_order_relaxed); }

const _Atomic int *lask_l_interrupt_flag(void) { return &interrupted; }

static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted");
}

static void (*_Atomic forward)(int first); /* lask_l_sigint_forward's */

void lask_l_sigint_forward(void (*f)(int first)) { atomic_store(&forward, f); }

static void on_sigint(int sig) {
  (void)sig;
  int first = !atomic_exchange(&interrupted, 1);
  if (first && interrupt_state)
    lua_sethook(interrupt_state, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  void (*f)(int) = atomic_load(&forward);
  if (f) f(first); /* Lua code on worker states, with lua = "parallel" */
}

/* Installs the SIGINT handler unless an outer get did; returns 1 when it did. */
int lask_l_catch_sigint(lua_State *L, struct sigaction *old) {
  if (interrupt_state) return 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  atomic_store(&interrupted, 0);
  interrupt_state = L;
  sigaction(SIGINT, &sa, old);
  return 1;
}

void lask_l_release_sigint(lua_State *L, int installed, const struct sigaction *old) {
  if (!installed) return;
  sigaction(SIGINT, old, NULL);
  interrupt_state = NULL;
  if (atomic_load(&interrupted)) lua_sethook(L, NULL, 0, 0); /* ours, if it was not needed */
}
