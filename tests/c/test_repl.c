/* test_repl.c — drives the lask REPL through a pseudo-terminal, as a person would:
 * typing lines, arrow keys, Ctrl-C and Ctrl-D, and reading what it shows.
 *
 * The program is $LASK_BIN (default build/lask). Each test gets a fresh HOME and
 * TERM=dumb so nothing of the user's environment leaks in, and every read has a
 * deadline, so a broken REPL fails the test instead of hanging it.
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define TIMEOUT_MS 5000
#define OUT_MAX    (1 << 16)

/* One running REPL and what it has printed. */
typedef struct {
  pid_t pid;
  int fd;              /* pty master */
  int eof;             /* the REPL closed the terminal */
  char home[64];       /* its HOME, a fresh directory */
  char out[OUT_MAX];   /* output so far without '\r' (the tty turns "\n" into "\r\n") */
  size_t len, matched; /* bytes in out; end of the last expected text */
} session;

static const char *lask_bin(void) {
  const char *bin = getenv("LASK_BIN");
  return bin && bin[0] ? bin : "build/lask";
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* In the child: a clean environment, then the REPL. */
static void exec_repl(const char *home) {
  setenv("HOME", home, 1);
  setenv("TERM", "dumb", 1);
  unsetenv("INPUTRC");
  unsetenv("LUA_INIT");
  unsetenv("LUA_INIT_5_4");
  execl(lask_bin(), lask_bin(), (char *)NULL);
  _exit(127);
}

/* Starts the REPL with HOME s->home. */
static void start(session *s) {
  struct winsize ws = {.ws_row = 24, .ws_col = 200};
  s->len = s->matched = 0;
  s->eof = 0;
  s->out[0] = '\0';
  s->pid = forkpty(&s->fd, NULL, NULL, &ws);
  assert_true(s->pid >= 0);
  if (s->pid == 0) exec_repl(s->home);
}

/* Reads what the REPL printed within timeout_ms; returns 0 once it closed the terminal. */
static int pump(session *s, int timeout_ms) {
  struct pollfd p = {s->fd, POLLIN, 0};
  if (s->eof || poll(&p, 1, timeout_ms) <= 0) return !s->eof;
  char buf[4096];
  ssize_t n = read(s->fd, buf, sizeof buf);
  if (n <= 0) { /* EIO: the child closed its side */
    s->eof = 1;
    return 0;
  }
  for (ssize_t i = 0; i < n && s->len + 1 < OUT_MAX; i++)
    if (buf[i] != '\r') s->out[s->len++] = buf[i];
  s->out[s->len] = '\0';
  return 1;
}

/* Waits until text appears after the previous match; fails the test on timeout. */
static void expect(session *s, const char *text) {
  long deadline = now_ms() + TIMEOUT_MS;
  for (;;) {
    const char *hit = strstr(s->out + s->matched, text);
    if (hit) {
      s->matched = (size_t)(hit - s->out) + strlen(text);
      return;
    }
    long left = deadline - now_ms();
    if (left <= 0 || !pump(s, (int)left)) break;
  }
  print_error("REPL output so far:\n%s\n", s->out);
  fail_msg("expected %s", text);
}

static void type(session *s, const char *keys) {
  size_t n = strlen(keys);
  while (n > 0) {
    ssize_t w = write(s->fd, keys, n);
    if (w < 0 && errno == EINTR) continue;
    assert_true(w > 0);
    keys += w, n -= (size_t)w;
  }
}

/* Types a line at the next prompt. */
static void line(session *s, const char *text) {
  expect(s, "> ");
  type(s, text);
  type(s, "\r");
}

/* Sends Ctrl-D at the prompt and returns the exit status; fails if it does not exit. */
static int quit(session *s) {
  int status = 0;
  expect(s, "> ");
  type(s, "\004");
  long deadline = now_ms() + TIMEOUT_MS;
  while (waitpid(s->pid, &status, WNOHANG) == 0) {
    if (now_ms() > deadline) fail_msg("the REPL did not exit on Ctrl-D");
    pump(s, 50);
  }
  s->pid = -1;
  return status;
}

static void assert_exit_ok(session *s) {
  int status = quit(s);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

static int setup(void **state) {
  session *s = calloc(1, sizeof *s);
  if (!s) return -1;
  s->pid = -1;
  s->fd = -1;
  strcpy(s->home, "/tmp/lask-repl-XXXXXX");
  if (!mkdtemp(s->home)) return -1;
  if (access(lask_bin(), X_OK) != 0) {
    print_error("cannot run %s (set LASK_BIN)\n", lask_bin());
    return -1;
  }
  *state = s;
  return 0;
}

static int teardown(void **state) {
  session *s = *state;
  char path[128];
  if (s->pid > 0) {
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
  }
  if (s->fd >= 0) close(s->fd);
  snprintf(path, sizeof path, "%s/.lask_history", s->home);
  unlink(path);
  rmdir(s->home);
  free(s);
  return 0;
}

static void test_expression_prints_value(void **state) {
  session *s = *state;
  start(s);
  line(s, "1+2");
  expect(s, "\n3\n");
  assert_exit_ok(s);
}

static void test_globals_persist(void **state) {
  session *s = *state;
  start(s);
  line(s, "x = 40");
  line(s, "x + 2");
  expect(s, "\n42\n");
  assert_exit_ok(s);
}

static void test_up_arrow_recalls_previous_line(void **state) {
  session *s = *state;
  start(s);
  line(s, "x = 40");
  line(s, "x + 2");
  expect(s, "\n42\n");
  line(s, "\033[A");
  expect(s, "\n42\n");
  assert_exit_ok(s);
}

static void test_incomplete_statement_continues(void **state) {
  session *s = *state;
  start(s);
  line(s, "for i=1,2 do");
  expect(s, ">> ");
  type(s, "print(i) end\r");
  expect(s, "\n1\n2\n");
  assert_exit_ok(s);
}

static void test_error_then_continue(void **state) {
  session *s = *state;
  start(s);
  line(s, "error(\"boom\")");
  expect(s, "stdin:1: boom");
  expect(s, "stack traceback");
  line(s, "1+1");
  expect(s, "\n2\n");
  assert_exit_ok(s);
}

static void test_multiple_values_tab_separated(void **state) {
  session *s = *state;
  start(s);
  line(s, "1, nil, 'a'");
  expect(s, "\n1\tnil\ta\n");
  assert_exit_ok(s);
}

static void test_banner_says_how_to_get_help_and_exit(void **state) {
  session *s = *state;
  start(s);
  expect(s, "lask ");
  expect(s, "Type help() for the manual");
  expect(s, "Ctrl-D or os.exit() exits");
  assert_exit_ok(s);
}

static void test_small_graph_prints_in_full_large_as_summary(void **state) {
  session *s = *state;
  start(s);
  line(s, "inc = function(i) return i + 1 end; add = function(a, b) return a + b end");
  line(s, "{x = 1, y = {inc, 'x'}, z = {add, 'y', 10}}");
  expect(s, "\n{'x': 1, 'y': {inc, 'x'}, 'z': {add, 'y', 10}}\n");
  line(s, "g = {}; for i = 1, 1000 do g['k' .. i] = {inc, i} end");
  line(s, "g");
  expect(s, "\nlask graph: 1000 keys, 1000 tasks\n");
  assert_exit_ok(s);
}

static void test_arrays_and_tables_print_readably(void **state) {
  session *s = *state;
  start(s);
  line(s, "da = require 'lask.array'; lask = require 'lask'");
  line(s, "x = da.arange(4, {chunks = 2})");
  line(s, "x");
  expect(s, "\nlask.array<arange-");
  expect(s, "shape=(4,), chunks=((2, 2)), dtype=int64>\n");
  line(s, "x.dask");
  expect(s, "\n{('arange-");
  expect(s, "', 0): {arange, 0, 2},\n ('arange-");
  expect(s, "', 1): {arange, 2, 4}}\n");
  line(s, "x:compute()");
  expect(s, "\narray([0, 1, 2, 3])\n");
  line(s, "{1, 2, name = 'v', t = {a = {b = {c = {}}}}}");
  expect(s, "\n{1, 2, name = \"v\", t = {a = {b = {…}}}}\n");
  assert_exit_ok(s);
}

static void test_help_prints_manual_entries(void **state) {
  session *s = *state;
  start(s);
  line(s, "help \"lask.diagnostics.Profiler\"");
  expect(s, "lask.diagnostics.Profiler()");
  expect(s, "A profiler of every task the gets run while it is active.");
  expect(s, "Example:");
  line(s, "help(require('lask.callbacks').Callback)");
  expect(s, "lask.callbacks.Callback(fields)");
  expect(s, "Parameters:\n  fields: table");
  line(s, "help \"lask.diagnostics\"");
  expect(s, "Profilers and a progress bar");
  expect(s, "  ProgressBar");
  line(s, "help \"nothing.here\"");
  expect(s, "no manual entry for 'nothing.here': no such global, field or module\n");
  line(s, "help()");
  expect(s, "help \"lask.array\"");
  assert_exit_ok(s);
}

static void test_tab_completes_lazy_names_and_methods(void **state) {
  session *s = *state;
  start(s);
  line(s, "lask = require 'lask'; x = require('lask.array').arange(3)");
  expect(s, "> ");
  type(s, "lask.thr\t");
  expect(s, "lask.threaded");
  type(s, ".g\t");
  expect(s, ".get"); /* the line now reads lask.threaded.get */
  type(s, " ~= nil\r");
  expect(s, "\ntrue\n");
  expect(s, "> ");
  type(s, "x:su\t");
  expect(s, "x:sum");
  type(s, "():compute()\r");
  expect(s, "\narray(3)\n");
  assert_exit_ok(s);
}

static void test_tab_completes_lua_names(void **state) {
  session *s = *state;
  start(s);
  expect(s, "> ");
  type(s, "string.fo\t");
  expect(s, "string.format");
  type(s, "('%d', 5)\r");
  expect(s, "\n5\n");
  assert_exit_ok(s);
}

static void test_ctrl_c_cancels_line(void **state) {
  session *s = *state;
  start(s);
  expect(s, "> ");
  type(s, "1+");
  expect(s, "1+");
  type(s, "\003");
  line(s, "2+2"); /* 4, not 1+2+2 */
  expect(s, "\n4\n");
  line(s, "for i=1,2 do");
  expect(s, ">> ");
  type(s, "\003");
  line(s, "5");
  expect(s, "\n5\n");
  assert_exit_ok(s);
}

static void test_ctrl_c_interrupts_running_code(void **state) {
  session *s = *state;
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
  skip(); /* ThreadSanitizer delivers signals only in calls it intercepts, never in Lua's loop */
#endif
#endif
  start(s);
  line(s, "while true do end");
  expect(s, "while true do end\n");
  usleep(200 * 1000); /* let the loop start */
  type(s, "\003");
  expect(s, "interrupted!");
  line(s, "6");
  expect(s, "\n6\n");
  assert_exit_ok(s);
}

static void test_history_saved_across_sessions(void **state) {
  session *s = *state;
  start(s);
  line(s, "6*7");
  expect(s, "\n42\n");
  assert_exit_ok(s);
  close(s->fd);
  start(s);
  line(s, "\033[A");
  expect(s, "\n42\n");
  assert_exit_ok(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_expression_prints_value, setup, teardown),
      cmocka_unit_test_setup_teardown(test_globals_persist, setup, teardown),
      cmocka_unit_test_setup_teardown(test_up_arrow_recalls_previous_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_incomplete_statement_continues, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_then_continue, setup, teardown),
      cmocka_unit_test_setup_teardown(test_multiple_values_tab_separated, setup, teardown),
      cmocka_unit_test_setup_teardown(test_banner_says_how_to_get_help_and_exit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_small_graph_prints_in_full_large_as_summary, setup, teardown),
      cmocka_unit_test_setup_teardown(test_arrays_and_tables_print_readably, setup, teardown),
      cmocka_unit_test_setup_teardown(test_help_prints_manual_entries, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tab_completes_lazy_names_and_methods, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tab_completes_lua_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ctrl_c_cancels_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ctrl_c_interrupts_running_code, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history_saved_across_sessions, setup, teardown),
  };
  return cmocka_run_group_tests_name("repl", tests, NULL, NULL);
}
