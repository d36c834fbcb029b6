/* main.c — the `lask` program.
 *
 * A drop-in for the stock lua5.4 interpreter: the same options (-e -l -i -v -E -W
 * -- -), the same global `arg`, LUA_INIT handling and exit statuses, and the
 * standard package.path/cpath, so tools that run "a Lua" (busted --lua=lask) work.
 * Its state also has lask's modules preloaded, so it runs with no files beside it.
 * Its REPL reads with GNU readline (editing, history kept in ~/.lask_history, Tab
 * completion of Lua names through lask.repl.complete), shows results through
 * lask.repl.describe, has help() (lask.help, reading the manual from the built-in
 * module sources, "lask.sources"), and takes Ctrl-C as "cancel this line" or
 * "interrupt this code", never as "quit".
 *
 * One deliberate difference: an error in a chunk read from a piped stdin gives exit
 * status 1 (lua.c 5.4.4 reports it but exits 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lask.h"

/* Defined in build/preload.c, generated from lua/lask/ by lua/tools/gen_preload.lua:
 * registers the embedded modules in package.preload; gives one's source (static). */
void lask_preload_lua_modules(lua_State *L);
const char *lask_preload_lua_source(const char *name, size_t *len);
/* The native module, in liblask.a. */
int luaopen_lask_core(lua_State *L);

#define PROMPT1            "> "
#define PROMPT2            ">> "
#define EOFMARK            "<eof>"
#define HISTORY_FILE       ".lask_history"
#define HISTORY_MAX        1000
#define INIT_VAR           "LUA_INIT"
#define INIT_VAR_VERSIONED "LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR

enum { HAS_ERROR = 1, HAS_I = 2, HAS_V = 4, HAS_EXEC = 8, HAS_NOENV = 16, HAS_HELP = 32 };

/* What the command line asked for. */
typedef struct {
  int argc;
  char **argv;
  const char *progname; /* prefix of error messages; NULL inside the REPL, as lua.c */
  int flags;            /* HAS_* */
  int script;           /* argv index of the script, 0 if none; of the bad option on HAS_ERROR */
} cli;

/* Results of reading a statement in the REPL besides Lua's statuses. */
enum { READ_EOF = -1, READ_CANCEL = -2 };

/* Signal handlers and readline's line callback take no context pointer, so what they
 * share with the rest of the program lives in this one singleton. main() sets L
 * before any handler is installed; the REPL sets the rest before reading. */
static struct {
  lua_State *L;                 /* state to interrupt on SIGINT, and to complete names in */
  volatile sig_atomic_t sigint; /* SIGINT came while reading a line */
  int wake[2];                  /* self-pipe: SIGINT wakes poll() whichever thread gets it */
  char *line;                   /* line handed over by readline's callback */
  int got_line;                 /* the callback ran (line is NULL at end of input) */
} g = {NULL, 0, {-1, -1}, NULL, 0};

/* ---- Signals ---------------------------------------------------------------- */

/* Installs handler for SIGINT, saving the previous disposition in old if not NULL. */
static void set_sigint(void (*handler)(int), int flags, struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, old);
}

static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* SIGINT while Lua runs: a handler cannot raise a Lua error, so it makes the next Lua
 * instruction do it. A second Ctrl-C kills the program as usual. */
static void on_sigint_running(int sig) {
  set_sigint(SIG_DFL, 0, NULL);
  (void)sig;
  lua_sethook(g.L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* SIGINT in the REPL outside Lua code: flag it and wake the poll() in read_line. */
static void on_sigint_reading(int sig) {
  int saved = errno;
  (void)sig;
  g.sigint = 1;
  if (write(g.wake[1], "", 1) < 0) {
    /* the pipe is full: a wake-up is pending anyway */
  }
  errno = saved;
}

/* ---- Messages and protected calls -------------------------------------------- */

static void message(const char *progname, const char *msg) {
  if (progname) fprintf(stderr, "%s: ", progname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

/* Prints the error on top of the stack, if status is one, and pops it. */
static int report(const cli *c, lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    message(c->progname, msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

/* Message handler: turns the error into a string and adds a traceback, except for
 * error objects with a __tostring, which speak for themselves. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Calls the function below narg arguments with a traceback on error; Ctrl-C during
 * the call interrupts it. */
static int docall(lua_State *L, int narg, int nres) {
  struct sigaction old;
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  set_sigint(on_sigint_running, SA_RESTART, &old);
  int status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  lua_remove(L, base);
  return status;
}

/* ---- Running chunks ---------------------------------------------------------- */

static int dochunk(const cli *c, lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(c, L, status);
}

static int dofile(const cli *c, lua_State *L, const char *name) {
  return dochunk(c, L, luaL_loadfile(L, name));
}

static int dostring(const cli *c, lua_State *L, const char *s, const char *name) {
  return dochunk(c, L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l mod or -l g=mod: g = require "mod". */
static int dolibrary(const cli *c, lua_State *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  lua_getglobal(L, "require");
  lua_pushstring(L, eq ? eq + 1 : spec);
  int status = docall(L, 1, 1);
  if (status == LUA_OK) {
    const char *name = lua_pushlstring(L, spec, eq ? (size_t)(eq - spec) : strlen(spec));
    lua_insert(L, -2);
    lua_setglobal(L, name);
    lua_pop(L, 1);
  }
  return report(c, L, status);
}

/* Pushes arg[1..#arg] as the script's arguments; returns how many. */
static int push_script_args(lua_State *L) {
  if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  int n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -n - 1);
  return n;
}

/* Runs the script; "-" is stdin unless it follows "--". */
static int handle_script(const cli *c, lua_State *L) {
  const char *fname = c->argv[c->script];
  if (strcmp(fname, "-") == 0 && strcmp(c->argv[c->script - 1], "--") != 0) fname = NULL;
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) status = docall(L, push_script_args(L), 0);
  return report(c, L, status);
}

/* ---- Command line ------------------------------------------------------------ */

/* How many argv entries an -e or -l at argv[i] takes: 1 with its value attached, 2
 * with the value next, 0 (bad) without one. */
static int option_value(char **argv, int i, int argc) {
  if (argv[i][2] != '\0') return 1;
  return i + 1 < argc && argv[i + 1][0] != '-' ? 2 : 0;
}

/* Reads the option at argv[i] into *flags; returns how many argv entries it takes, 0
 * if it is bad. Options without a value must stand alone ("-vx" is bad). */
static int read_option(char **argv, int i, int argc, int *flags) {
  int alone = argv[i][2] == '\0';
  switch (argv[i][1]) {
  case 'E': *flags |= HAS_NOENV; return alone;
  case 'W': return alone;
  case 'i': *flags |= HAS_I | HAS_V; return alone; /* -i implies -v, as in lua.c */
  case 'v': *flags |= HAS_V; return alone;
  case 'e': *flags |= HAS_EXEC; return option_value(argv, i, argc);
  case 'l': return option_value(argv, i, argc);
  default: return 0;
  }
}

/* Fills c->flags and c->script from the options, as lua.c reads them. */
static void parse_options(cli *c) {
  c->flags = 0;
  for (int i = 1, n; i < c->argc; i += n) {
    const char *a = c->argv[i];
    c->script = i;
    if (a[0] != '-' || a[1] == '\0') return; /* the script, or "-" for stdin */
    if (a[1] == '-' && a[2] == '\0') {       /* "--": the script follows, if any */
      c->script = i + 1 < c->argc ? i + 1 : 0;
      return;
    }
    if (a[1] == '-') { /* lask's own long options */
      int flag = strcmp(a, "--help") == 0 ? HAS_HELP : strcmp(a, "--version") == 0 ? HAS_V : 0;
      c->flags = flag ? c->flags | flag : HAS_ERROR;
      if (!flag) return; /* c->script is the bad option */
      n = 1;
      continue;
    }
    if ((n = read_option(c->argv, i, c->argc, &c->flags)) == 0) {
      c->flags = HAS_ERROR; /* c->script is the bad option */
      return;
    }
  }
  c->script = 0;
}

/* The usage, as lua5.4 prints it, with lask's own options. */
static void print_help(const cli *c, FILE *out) {
  fprintf(out,
          "usage: %s [options] [script [args]]\n"
          "lask runs Lua 5.4 scripts with lask built in (require \"lask\"); alone, a REPL.\n"
          "Available options are:\n"
          "  -e stat   execute string 'stat'\n"
          "  -i        enter interactive mode after executing 'script'\n"
          "  -l mod    require library 'mod' into global 'mod'\n"
          "  -l g=mod  require library 'mod' into global 'g'\n"
          "  -v        show version information\n"
          "  -E        ignore environment variables\n"
          "  -W        turn warnings on\n"
          "  --help    show this help, and exit\n"
          "  --version show version information (as -v)\n"
          "  --        stop handling options\n"
          "  -         stop handling options and execute stdin\n",
          c->progname);
  fflush(out);
}

static void print_usage(const cli *c, const char *bad) {
  fprintf(stderr, "%s: ", c->progname);
  if (bad[1] == 'e' || bad[1] == 'l')
    fprintf(stderr, "'%s' needs argument\n", bad);
  else
    fprintf(stderr, "unrecognized option '%s'\n", bad);
  print_help(c, stderr);
}

static void print_version(void) {
  printf("lask %s (%s)\n", LASK_VERSION, LUA_RELEASE);
  fflush(stdout);
}

/* arg[0] is the script (or argv[0] without one), the script's arguments are positive,
 * the interpreter and its options negative. */
static void create_arg_table(const cli *c, lua_State *L) {
  int script = c->script;
  lua_createtable(L, c->argc > script ? c->argc - script - 1 : 0, script + 1);
  for (int i = 0; i < c->argc; i++) {
    lua_pushstring(L, c->argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* LUA_INIT_5_4, else LUA_INIT: "@file" runs a file, anything else is code. */
static int handle_luainit(const cli *c, lua_State *L) {
  const char *name = "=" INIT_VAR_VERSIONED;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=" INIT_VAR;
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dofile(c, L, init + 1);
  return dostring(c, L, init, name);
}

/* Runs -e and -l (and turns on warnings for -W) in command-line order. */
static int run_options(const cli *c, lua_State *L) {
  int lim = c->script > 0 ? c->script : c->argc;
  for (int i = 1; i < lim; i++) {
    char opt = c->argv[i][1];
    if (opt == 'e' || opt == 'l') {
      const char *val = c->argv[i][2] ? c->argv[i] + 2 : c->argv[++i];
      int status = opt == 'e' ? dostring(c, L, val, "=(command line)") : dolibrary(c, L, val);
      if (status != LUA_OK) return 0;
    } else if (opt == 'W') {
      lua_warning(L, "@on", 0);
    }
  }
  return 1;
}

/* sources(name): the source text of lask's built-in module name, or nil. */
static int l_module_source(lua_State *L) {
  size_t len;
  const char *src = lask_preload_lua_source(luaL_checkstring(L, 1), &len);
  if (src)
    lua_pushlstring(L, src, len);
  else
    lua_pushnil(L);
  return 1;
}

/* require "lask.sources" gives l_module_source (lask.help reads the manual from it). */
static int open_sources(lua_State *L) {
  lua_pushcfunction(L, l_module_source);
  return 1;
}

/* The standard libraries, lask's Lua modules and its native core, all preloaded. */
static void open_libraries(lua_State *L) {
  luaL_openlibs(L);
  lask_preload_lua_modules(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_lask_core);
  lua_setfield(L, -2, "lask.core");
  lua_pushcfunction(L, open_sources);
  lua_setfield(L, -2, "lask.sources");
  lua_pop(L, 1);
}

/* ---- REPL: reading lines with readline ----------------------------------------- */

typedef struct {
  struct sigaction sigint; /* disposition of SIGINT before the REPL */
  const char *history;     /* path of the history file (a string on the Lua stack), or NULL */
} repl;

static void on_line(char *line) {
  g.line = line;
  g.got_line = 1;
  rl_callback_handler_remove();
}

static void drain_wake_pipe(void) {
  char buf[64];
  while (g.wake[0] >= 0 && read(g.wake[0], buf, sizeof buf) > 0) {
  }
}

/* Waits for input or Ctrl-C, and feeds readline what arrived. */
static void wait_and_feed(void) {
  struct pollfd fds[2] = {{fileno(rl_instream), POLLIN, 0}, {g.wake[0], POLLIN, 0}};
  if (poll(fds, 2, -1) <= 0 || g.sigint) return;
  if (fds[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) rl_callback_read_char();
}

/* Ctrl-C at the prompt: forget the line and leave the terminal as it was. */
static void cancel_line(void) {
  rl_free_line_state();
  rl_callback_sigcleanup();
  rl_replace_line("", 0);
  rl_echo_signal_char(SIGINT);
  rl_callback_handler_remove();
  fputs("\n", rl_outstream);
  fflush(rl_outstream);
}

/* Reads a line. Readline's callback interface lets Ctrl-C cancel the line instead of
 * killing the program. Returns 0 if cancelled, else 1 with *line malloc'd, or NULL at
 * end of input. */
static int read_line(const char *prompt, char **line) {
  g.got_line = 0;
  g.line = NULL;
  g.sigint = 0;
  drain_wake_pipe();
  rl_callback_handler_install(prompt, on_line);
  while (!g.got_line && !g.sigint) wait_and_feed();
  if (!g.got_line) {
    cancel_line();
    return 0;
  }
  *line = g.line;
  return 1;
}

static void history_open(repl *r, lua_State *L) {
  using_history();
  stifle_history(HISTORY_MAX);
  const char *home = getenv("HOME");
  r->history = NULL;
  if (home == NULL || home[0] == '\0') return;
  r->history = lua_pushfstring(L, "%s/%s", home, HISTORY_FILE);
  read_history(r->history); /* none yet is fine */
}

/* Keeps a statement in history, in memory and (at once, so os.exit loses nothing) on
 * disk; a history file that cannot be written is silently ignored. */
static void history_add(const repl *r, const char *line) {
  if (line[0] == '\0') return;
  HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
  if (last && strcmp(last->line, line) == 0) return;
  add_history(line);
  if (r->history && append_history(1, r->history) != 0) write_history(r->history);
}

static void history_close(const repl *r) {
  if (r->history) history_truncate_file(r->history, HISTORY_MAX);
  clear_history();
}

/* ---- REPL: statements ----------------------------------------------------------- */

/* Reads a line and pushes it (a first line "=e" becomes "return e"); LUA_OK, or
 * READ_EOF / READ_CANCEL with nothing pushed. The prompt is _PROMPT / _PROMPT2 if
 * set, as in lua.c. */
static int push_line(lua_State *L, int first) {
  char *line = NULL;
  lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2"); /* stays on the stack while in use */
  const char *prompt = lua_tostring(L, -1);
  int got = read_line(prompt ? prompt : first ? PROMPT1 : PROMPT2, &line);
  lua_pop(L, 1);
  if (!got) return READ_CANCEL;
  if (line == NULL) return READ_EOF;
  if (first && line[0] == '=')
    lua_pushfstring(L, "return %s", line + 1);
  else
    lua_pushstring(L, line);
  free(line);
  return LUA_OK;
}

/* Whether a load status is a syntax error that more input could fix. */
static int incomplete(lua_State *L, int status) {
  size_t len, mark = sizeof EOFMARK - 1;
  if (status != LUA_ERRSYNTAX) return 0;
  const char *msg = lua_tolstring(L, -1, &len);
  return len >= mark && strcmp(msg + len - mark, EOFMARK) == 0;
}

/* Line on top: tries "return <line>" so that an expression shows its value. On
 * success leaves line and chunk; on failure leaves the line alone. */
static int try_return(const repl *r, lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *code = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, code, strlen(code), "=stdin");
  lua_remove(L, -2);
  if (status == LUA_OK)
    history_add(r, line);
  else
    lua_pop(L, 1);
  return status;
}

/* Line on top: loads it as a statement, reading continuation lines while it is
 * incomplete. Leaves the (joined) line and the chunk or error message. */
static int load_multiline(const repl *r, lua_State *L) {
  for (;;) {
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    int status = luaL_loadbuffer(L, code, len, "=stdin");
    if (!incomplete(L, status)) {
      history_add(r, code);
      return status;
    }
    int more = push_line(L, 0);
    if (more == READ_EOF) return status; /* report what is missing */
    if (more == READ_CANCEL) {
      lua_pop(L, 1);
      return READ_CANCEL;
    }
    lua_remove(L, -2); /* the incomplete-error message */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/* Reads one statement. LUA_OK with its chunk pushed, a load error with the message
 * pushed, or READ_EOF / READ_CANCEL with nothing pushed. */
static int read_statement(const repl *r, lua_State *L) {
  int status = push_line(L, 1);
  if (status != LUA_OK) return status;
  if ((status = try_return(r, L)) != LUA_OK) status = load_multiline(r, L);
  lua_remove(L, status == READ_CANCEL ? -1 : -2); /* the line */
  return status;
}

/* ---- REPL: showing results ---------------------------------------------------- */

/* require("lask.repl").describe(v), as a protected step. */
static int call_describe(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lask.repl");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "describe");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

/* Pushes the one-line form of the value at idx; plain tostring if lask.repl fails. */
static void describe(lua_State *L, int idx) {
  lua_pushcfunction(L, call_describe);
  lua_pushvalue(L, idx);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) return;
  lua_pop(L, 1);
  luaL_tolstring(L, idx, NULL);
}

/* Prints all its arguments on one line, tab-separated, as lua.c's REPL does. */
static int show_values(lua_State *L) {
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, '\t');
    describe(L, i);
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '\n');
  luaL_pushresult(&b);
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  fwrite(s, 1, len, stdout);
  fflush(stdout);
  return 0;
}

/* Prints the values above base, protected: a failing __tostring must not end the REPL. */
static void print_results(const cli *c, lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n <= 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_pushcfunction(L, show_values);
  lua_insert(L, base + 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK)
    message(c->progname, lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1)));
}

/* ---- REPL: completion ----------------------------------------------------------- */

/* require("lask.repl").complete(text) for the text (a light userdata) on the stack. */
static int call_complete(lua_State *L) {
  const char *text = lua_touserdata(L, 1);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lask.repl");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "complete");
  lua_pushstring(L, text);
  lua_call(L, 1, 1);
  return 1;
}

/* Length of the prefix that all n strings of the table on top share. */
static size_t common_prefix(lua_State *L, lua_Integer n) {
  lua_rawgeti(L, -1, 1);
  size_t len;
  const char *first = lua_tolstring(L, -1, &len);
  for (lua_Integer i = 2; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    const char *s = lua_tostring(L, -1);
    size_t j = 0;
    while (j < len && s && s[j] == first[j]) j++;
    len = j;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return len;
}

/* Readline's match list from the table of n > 0 strings on top: [0] is what replaces
 * the text (the common prefix), then the matches if several; malloc'd, readline frees
 * it. */
static char **to_matches(lua_State *L, lua_Integer n) {
  char **m = calloc((size_t)n + 2, sizeof *m);
  if (!m) return NULL;
  size_t len = common_prefix(L, n);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    if (i == 1) m[0] = strndup(lua_tostring(L, -1), len);
    if (n > 1) m[i] = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  if (m[0] == NULL) { /* out of memory: no completion */
    for (lua_Integer i = 1; i <= n; i++) free(m[i]);
    free(m);
    return NULL;
  }
  return m;
}

/* Whether the value on top is a non-empty list of strings, of length *n. */
static int is_string_list(lua_State *L, lua_Integer *n) {
  if (!lua_istable(L, -1)) return 0;
  *n = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= *n; i++) {
    int t = lua_rawgeti(L, -1, i);
    lua_pop(L, 1);
    if (t != LUA_TSTRING) return 0;
  }
  return *n > 0;
}

/* Tab: Lua names (globals, fields, methods) from lask.repl.complete; without any,
 * readline's file names. Runs protected, since it is called from inside readline. */
static char **complete(const char *text, int start, int end) {
  lua_State *L = g.L;
  int top = lua_gettop(L);
  char **matches = NULL;
  lua_Integer n;
  (void)start, (void)end;
  if (!lua_checkstack(L, 8)) return NULL;
  lua_pushcfunction(L, call_complete);
  lua_pushlightuserdata(L, (void *)text);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && is_string_list(L, &n)) matches = to_matches(L, n);
  lua_settop(L, top);
  if (matches) rl_completion_append_character = '\0'; /* "f" -> "function", not "function " */
  return matches;
}

/* ---- REPL: the loop ------------------------------------------------------------- */

static void repl_open(repl *r, lua_State *L) {
  rl_readline_name = "lask";
  rl_catch_signals = 0; /* SIGINT is ours: it cancels the line */
  rl_attempted_completion_function = complete;
  /* Words end at Lua's operators and brackets, not at '.' and ':' (fields and
   * methods), nor at '/' and '-' (file names in strings). */
  rl_basic_word_break_characters = " \t\n\"\\'><=;+*%^~#{}()[],&|";
  rl_instream = stdin;
  rl_outstream = stdout;
  if (pipe2(g.wake, O_CLOEXEC | O_NONBLOCK) != 0) g.wake[0] = g.wake[1] = -1;
  /* From here on Ctrl-C never kills the REPL: it cancels the line being read, or
   * interrupts Lua code (docall); one pressed in between is dropped. */
  set_sigint(on_sigint_reading, 0, &r->sigint);
  history_open(r, L);
}

static void repl_close(const repl *r) {
  sigaction(SIGINT, &r->sigint, NULL);
  history_close(r);
  for (int i = 0; i < 2; i++)
    if (g.wake[i] >= 0) close(g.wake[i]), g.wake[i] = -1;
}

/* Defines the global help (lask.help's), unless the user has one, and says how to
 * get help and how to leave. */
static void repl_banner(lua_State *L) {
  static const char code[] = "if help == nil then help = require('lask.help').help end";
  if (luaL_loadbuffer(L, code, sizeof code - 1, "=help") != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK)
    lua_pop(L, 1); /* no help: the REPL works without it */
  fputs("Type help() for the manual, help \"lask.array\" or help(f) for an entry; Tab completes;\n"
        "Ctrl-D or os.exit() exits, Ctrl-C cancels the line or stops the code running.\n",
        stdout);
  fflush(stdout);
}

static void run_repl(cli *c, lua_State *L) {
  const char *progname = c->progname;
  repl r;
  c->progname = NULL;
  repl_banner(L);
  repl_open(&r, L);
  int base = lua_gettop(L), status;
  while ((status = read_statement(&r, L)) != READ_EOF) {
    if (status == READ_CANCEL) continue;
    if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK)
      print_results(c, L, base);
    else
      report(c, L, status);
    lua_settop(L, base);
  }
  fputs("\n", stdout);
  fflush(stdout);
  repl_close(&r);
  c->progname = progname;
}

/* ---- Program ------------------------------------------------------------------- */

/* Everything after creating the state, run protected. Returns true on success. */
static int pmain(lua_State *L) {
  cli *c = lua_touserdata(L, 1);
  luaL_checkversion(L);
  if (c->flags & HAS_ERROR) {
    print_usage(c, c->argv[c->script]);
    return 0;
  }
  if (c->flags & HAS_HELP) {
    print_help(c, stdout);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (c->flags & HAS_V) print_version();
  if (c->flags & HAS_NOENV) { /* tells the package library to ignore LUA_PATH etc. */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  open_libraries(L);
  create_arg_table(c, L);
  lua_gc(L, LUA_GCGEN, 0, 0); /* as lua5.4 */
  if (!(c->flags & HAS_NOENV) && handle_luainit(c, L) != LUA_OK) return 0;
  if (!run_options(c, L)) return 0;
  if (c->script > 0 && handle_script(c, L) != LUA_OK) return 0;
  if (c->flags & HAS_I) {
    run_repl(c, L);
  } else if (c->script == 0 && !(c->flags & (HAS_EXEC | HAS_V))) {
    if (!isatty(STDIN_FILENO)) {
      if (dofile(c, L, NULL) != LUA_OK) return 0;
    } else {
      print_version();
      run_repl(c, L);
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

int main(int argc, char **argv) {
  cli c = {argc, argv, argc > 0 && argv[0][0] ? argv[0] : "lask", 0, 0};
  parse_options(&c);
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    message(c.progname, "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  g.L = L;
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &c);
  int status = lua_pcall(L, 1, 1, 0);
  int ok = lua_toboolean(L, -1);
  report(&c, L, status);
  lua_close(L);
  return ok && status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
