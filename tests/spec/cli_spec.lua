-- The lask program's non-interactive command line: it must behave as lua5.4 does
-- (options, the `arg` table, exit statuses), and carry lask inside it.
-- Runs under `busted --lua=build/lask`; the program tested is $LASK_BIN.

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local S = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "spec_helpers.lua")
local BIN, read_file, write_file = S.BIN, S.read_file, S.write_file

local tmpdir

-- Runs a shell command line; returns stdout, stderr and the exit status.
-- opts.stdin: text fed to standard input; opts.cwd: directory to run in.
local function sh(cmd, opts)
  opts = opts or {}
  local err, input = tmpdir .. "/stderr", tmpdir .. "/stdin"
  write_file(input, opts.stdin or "")
  if opts.cwd then cmd = "cd " .. shell_quote(opts.cwd) .. " && " .. cmd end
  local p = assert(io.popen("(" .. cmd .. ") <" .. shell_quote(input) .. " 2>" .. shell_quote(err)))
  local out = p:read("a")
  local _, _, code = p:close()
  return out, read_file(err), code
end

-- Runs lask with the given arguments (each quoted for the shell).
local function lask(args, opts)
  local words = { shell_quote(BIN) }
  for _, a in ipairs(args) do words[#words + 1] = shell_quote(a) end
  return sh(table.concat(words, " "), opts)
end

describe("the lask program", function()
  setup(function()
    local p = assert(io.popen("mktemp -d /tmp/lask-cli-XXXXXX"))
    tmpdir = p:read("*l")
    p:close()
  end)

  teardown(function()
    if tmpdir then os.execute("rm -rf " .. shell_quote(tmpdir)) end
  end)

  it("runs -e code", function()
    local out, err, code = lask { "-e", "print(1+1)" }
    assert.are.equal("2\n", out)
    assert.are.equal("", err)
    assert.are.equal(0, code)
  end)

  it("runs several -e in order, attached or not", function()
    local out, _, code = lask { "-e", "x = 1", "-ex = x + 1", "-e", "print(x)" }
    assert.are.equal("2\n", out)
    assert.are.equal(0, code)
  end)

  it("prints its own usage with --help, on stdout, and exits 0 running nothing", function()
    local out, err, code = lask { "--help", "-e", "print('ran')" }
    assert.are.equal(0, code)
    assert.are.equal("", err)
    assert.matches("^usage: .- %[options%] %[script %[args%]%]\n", out)
    for _, opt in ipairs { "-e stat", "-i", "-l mod", "-v", "-E", "-W", "--help", "--version", "--" } do
      assert.truthy(out:find("\n  " .. opt, 1, true), opt)
    end
    assert.is_nil(out:find("ran", 1, true))
  end)

  it("prints its version with --version as with -v, and refuses other long options", function()
    local out, _, code = lask { "--version" }
    assert.matches("^lask %d+%.%d+%.%d+ %(Lua 5%.4%.%d+%)\n$", out)
    assert.are.equal(0, code)
    local _, err
    out, err, code = lask { "--verbose" }
    assert.are.equal(1, code)
    assert.matches("unrecognized option '%-%-verbose'", err)
  end)

  it("prints its version with -v", function()
    local out, _, code = lask { "-v" }
    assert.matches("^lask %d+%.%d+[%w.]* %(Lua 5%.4%.%d+%)\n$", out)
    assert.are.equal(0, code)
  end)

  it("runs a script with its arguments in arg and ...", function()
    local script = tmpdir .. "/args.lua"
    write_file(script, [[
      print(arg[0], arg[1], arg[2], #arg, arg[-1], arg[-2])
      print(select("#", ...), ...)
    ]])
    local out, err, code = lask { script, "a b", "c" }
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal(
      ("%s\ta b\tc\t2\t%s\tnil\n2\ta b\tc\n"):format(script, BIN), out)
  end)

  it("puts the interpreter and its options at negative indices", function()
    local script = tmpdir .. "/neg.lua"
    write_file(script, "print(arg[-4], arg[-3], arg[-2], arg[-1], arg[0], arg[1], #arg)")
    local out, _, code = lask { "-e", "x=1", script, "z" }
    assert.are.equal(0, code)
    assert.are.equal(("nil\t%s\t-e\tx=1\t%s\tz\t1\n"):format(BIN, script), out)
    out = lask { "-e", "x=1", "--", script, "z" }
    assert.are.equal(("%s\t-e\tx=1\t--\t%s\tz\t1\n"):format(BIN, script), out)
  end)

  it("sets arg with no script: arg[0] is the program", function()
    local out = lask { "-e", "print(arg[0], arg[1], arg[2], #arg, arg[-1])" }
    assert.are.equal(("%s\t-e\tprint(arg[0], arg[1], arg[2], #arg, arg[-1])\t2\tnil\n"):format(BIN), out)
  end)

  it("reads the script from stdin with -", function()
    local out, err, code = lask({ "-", "p", "q" }, { stdin = "print(arg[0], #arg, ...)\n" })
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("-\t2\tp\tq\n", out)
  end)

  it("runs stdin when it is not a terminal and there is no script", function()
    local out, _, code = lask({}, { stdin = "print('from stdin')\n" })
    assert.are.equal("from stdin\n", out)
    assert.are.equal(0, code)
  end)

  it("requires a library with -l mod and -l g=mod", function()
    write_file(tmpdir .. "/mymod.lua", "return { v = 42 }")
    local env = "LUA_PATH=" .. shell_quote(tmpdir .. "/?.lua") .. " "
    local out, err, code = sh(env .. shell_quote(BIN) .. " -l mymod -e 'print(mymod.v)'")
    assert.are.equal("", err)
    assert.are.equal("42\n", out)
    assert.are.equal(0, code)
    out = lask { "-l", "s=string", "-e", "print(s.rep('ab', 2), s == string)" }
    assert.are.equal("abab\ttrue\n", out)
  end)

  it("exits non-zero with the message on stderr when a script fails", function()
    local script = tmpdir .. "/boom.lua"
    write_file(script, "print('before')\nerror('boom')\nprint('after')\n")
    local out, err, code = lask { script }
    assert.are.equal("before\n", out)
    assert.are_not.equal(0, code)
    assert.matches("boom.lua:2: boom", err, 1, true)
    assert.matches("stack traceback:", err, 1, true)
  end)

  it("exits non-zero when -e fails or a file is missing", function()
    local _, err, code = lask { "-e", "error('bad')" }
    assert.are_not.equal(0, code)
    assert.matches("(command line):1: bad", err, 1, true)
    _, err, code = lask { tmpdir .. "/missing.lua" }
    assert.are_not.equal(0, code)
    assert.matches("cannot open", err, 1, true)
  end)

  it("exits with the status os.exit gives", function()
    local _, _, code = lask { "-e", "os.exit(3)" }
    assert.are.equal(3, code)
  end)

  it("rejects unknown options with the usage on stderr", function()
    local out, err, code = lask { "-x" }
    assert.are.equal("", out)
    assert.are.equal(1, code)
    assert.matches("unrecognized option '-x'", err, 1, true)
    assert.matches("usage:", err, 1, true)
    _, err, code = lask { "-e" }
    assert.are.equal(1, code)
    assert.matches("'-e' needs argument", err, 1, true)
  end)

  it("runs LUA_INIT first, unless -E", function()
    local out = sh("LUA_INIT='x = 5' " .. shell_quote(BIN) .. " -e 'print(x)'")
    assert.are.equal("5\n", out)
    out = sh("LUA_INIT='x = 5' LUA_INIT_5_4='x = 6' " .. shell_quote(BIN) .. " -e 'print(x)'")
    assert.are.equal("6\n", out)
    out = sh("LUA_INIT='x = 5' " .. shell_quote(BIN) .. " -E -e 'print(x)'")
    assert.are.equal("nil\n", out)
  end)

  it("keeps the standard package.path and cpath", function()
    if not os.execute("command -v lua5.4 >/dev/null") then
      pending("lua5.4 is not installed")
      return
    end
    local code = "print(package.path) print(package.cpath)"
    local mine = lask { "-E", "-e", code }
    local stock = sh("lua5.4 -E -e " .. shell_quote(code))
    assert.are.equal(stock, mine)
  end)

  it("has lask inside it: require 'lask' works with no files beside it", function()
    local out, err, code = lask({ "-e", [[
      local lask = require "lask"
      print(type(lask), type(package.preload["lask.core"]), tostring(lask.key("x", 0)))
    ]] }, { cwd = tmpdir })
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("table\tfunction\t('x', 0)\n", out)
  end)
end)

describe("lask.repl.describe", function()
  local repl = require "lask.repl"
  local describe_value = repl.describe
  local lask = require "lask"
  local da = require "lask.array"

  it("shows plain values as lua5.4's REPL does", function()
    assert.are.equal("3", describe_value(3))
    assert.are.equal("nil", describe_value(nil))
    assert.are.equal("abc", describe_value("abc"))
    assert.are.equal("true", describe_value(true))
    assert.are.equal("1.5", describe_value(1.5))
    assert.matches("^function: ", describe_value(print))
  end)

  it("pretty-prints plain tables as Lua constructors: the list, then number keys, names, other keys", function()
    assert.are.equal("{}", describe_value({}))
    assert.are.equal("{1, 2, 3}", describe_value({ 1, 2, 3 }))
    assert.are.equal('{1, "a", [10] = 4, x = 2.0, y = "b\\n", [true] = false}',
      describe_value({ 1, "a", x = 2.0, y = "b\n", [10] = 4, [true] = false }))
    assert.are.equal('{["a b"] = 1, ["end"] = 2}', describe_value({ ["a b"] = 1, ["end"] = 2 }))
    assert.are.equal("{a = {b = 1}, k = ('x', 0)}", describe_value({ a = { b = 1 }, k = lask.key("x", 0) }))
  end)

  it("bounds depth, length and width, and marks cycles", function()
    assert.are.equal("{a = {b = {c = {…}}}}", describe_value({ a = { b = { c = { d = 1 } } } }))
    local long = {}
    for i = 1, 30 do long[i] = i end
    local s = describe_value(long)
    assert.truthy(s:find("… (10 more)", 1, true), s)
    assert.falsy(s:find("21", 1, true), s)
    for line in s:gmatch("[^\n]+") do assert.is_true(#line <= repl.WIDTH, line) end
    local named = {}
    for i = 1, 30 do named["field" .. i] = i end
    s = describe_value(named)
    assert.truthy(s:find("… (10 more)", 1, true), s)
    assert.are.equal(23, select(2, s:gsub("\n", "")) + 1, s) -- {, 20 fields, the rest, } on lines of their own
    local t = { 1 }
    t.self = t
    assert.are.equal("{1, self = <cycle>}", describe_value(t))
    local shared = { 1 }
    assert.are.equal("{a = {1}, b = {1}}", describe_value({ a = shared, b = shared }))
  end)

  it("uses __tostring and __name", function()
    local v = setmetatable({}, { __tostring = function() return "custom" end })
    assert.are.equal("custom", describe_value(v))
    assert.matches("^Thing: ", describe_value(setmetatable({}, { __name = "Thing" })))
    assert.are.equal("{custom}", describe_value({ v }))
  end)

  it("prints a small graph in full, as the talk shows it, and a large one as a summary", function()
    local function inc(i) return i + 1 end
    local function add(a, b) return a + b end
    local d = { x = 1, y = { inc, "x" }, z = { add, "y", 10 } }
    assert.are.equal("{'x': 1, 'y': {inc, 'x'}, 'z': {add, 'y', 10}}", describe_value(d))
    assert.are.equal(lask.tostring(d), describe_value(d))
    local x = da.arange(6, { chunks = 3 })
    assert.are.equal(lask.tostring(x.dask), describe_value(x.dask))
    assert.truthy(describe_value(x.dask):find("{('arange-", 1, true))
    local big = {}
    for i = 1, repl.SMALL_GRAPH do big["k" .. i] = { inc, 1 } end
    assert.truthy(describe_value(big):find("^{'k1': {inc, 1}"))
    big.extra = 5
    assert.are.equal(("lask graph: %d keys, %d tasks"):format(repl.SMALL_GRAPH + 1, repl.SMALL_GRAPH),
      describe_value(big))
  end)

  it("prints arrays as numpy does, and lazy arrays as their summary", function()
    local x = da.arange(6, { chunks = 3 })
    assert.are.equal(tostring(x), describe_value(x))
    assert.matches("^lask.array<arange%-", describe_value(x))
    assert.are.equal("array([0, 1, 2, 3, 4, 5])", describe_value(x:compute()))
    assert.are.equal("array([[1., 1.],\n       [1., 1.]], dtype=float32)",
      describe_value(da.ones({ 2, 2 }, { dtype = "float32" }):compute()))
  end)

  it("does not take tables with number keys or without tasks for graphs", function()
    local function inc(i) return i + 1 end
    assert.matches("^{function: ", describe_value({ inc, 1 }))
    assert.are.equal('{x = 1, y = "x"}', describe_value({ x = 1, y = "x" }))
  end)

  it("shows tuple keys as tuples and counts them as graph keys", function()
    assert.are.equal("('x', 0)", describe_value(lask.key("x", 0)))
    local g = { [lask.key("x", 0)] = 1, [lask.key("x", 1)] = { math.max, lask.key("x", 0), 2 } }
    assert.are.equal(lask.tostring(g), describe_value(g))
    assert.truthy(describe_value(g):find("('x', 1): {math.max, ('x', 0), 2}", 1, true))
  end)
end)

describe("lask.help", function()
  local help = require "lask.help"
  local diag = require "lask.diagnostics"

  it("gives a function's entry from its LDoc comment, by value or by name", function()
    local text = assert(help.entry(diag.Profiler))
    assert.truthy(text:find("^lask.diagnostics.Profiler%(%)"), text)
    assert.truthy(text:find("A profiler of every task the gets run while it is active.", 1, true))
    assert.truthy(text:find("Returns:\n  lask.Profiler", 1, true))
    assert.truthy(text:find("Example:\n  local diag = require \"lask.diagnostics\"", 1, true))
    assert.are.equal(text, help.entry("lask.diagnostics.Profiler"))
    _G.__lask_spec_diag = diag
    assert.are.equal(text:gsub("^%S+", ""), (help.entry("__lask_spec_diag.Profiler"):gsub("^%S+", "")))
    _G.__lask_spec_diag = nil
    local cb = assert(help.entry("lask.callbacks.Callback"))
    assert.truthy(cb:find("Parameters:\n  fields: table: any of", 1, true), cb)
    assert.truthy(cb:find("Raises:\n  when a field is not a function", 1, true), cb)
  end)

  it("gives a module's entry: its summary and contents", function()
    local text = assert(help.entry("lask.diagnostics"))
    assert.truthy(text:find("^lask.diagnostics"), text)
    assert.truthy(text:find("Profilers and a progress bar", 1, true), text)
    assert.truthy(text:find("\n  Profiler%s+A profiler of every task"), text)
    assert.are.equal(text, help.entry(diag))
  end)

  it("finds the entry of a function made by a factory from the line that assigns it", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/lask_spec_pkg"))
    local f = assert(io.open(dir .. "/lask_spec_pkg/mod.lua", "w"))
    f:write("local function make() return function(a, b) return a + b end end\n",
      "local M = {\n  --- Subtracts b from a.\n  sub = make(),\n}\n\n",
      "--- Adds two numbers.\n-- @param a number\n-- @return number\nM.add = make()\nreturn M\n")
    f:close()
    local saved = package.path
    package.path = dir .. "/?.lua;" .. package.path
    local mod = require "lask_spec_pkg.mod"
    local text = help.entry(mod.add)
    local sub = help.entry("lask_spec_pkg.mod.sub")
    package.path = saved
    package.loaded["lask_spec_pkg.mod"] = nil
    os.execute("rm -rf " .. dir)
    assert.truthy(text and text:find("^lask_spec_pkg.mod.add%(a, b%)"), text)
    assert.truthy(text:find("Adds two numbers.\n\nParameters:\n  a: number\n\nReturns:\n  number", 1, true), text)
    assert.truthy(sub and sub:find("^lask_spec_pkg.mod.sub%(a, b%)"), sub)
    assert.truthy(sub:find("Subtracts b from a.", 1, true), sub)
  end)

  it("says clearly when there is no entry", function()
    local none, why = help.entry("no_such_thing.at_all")
    assert.is_nil(none)
    assert.are.equal("no manual entry for 'no_such_thing.at_all': no such global, field or module", why)
    none, why = help.entry(print)
    assert.is_nil(none)
    assert.truthy(why:find("it is a C function", 1, true), why)
    none, why = help.entry(function() end)
    assert.is_nil(none)
    assert.truthy(why:find("has no doc comment", 1, true), why)
    assert.truthy(help.entry():find("help \"lask.array\"", 1, true))
  end)
end)

describe("lask.repl.complete", function()
  local complete = require("lask.repl").complete

  it("completes globals and keywords", function()
    assert.are.same({ "print" }, complete("pri"))
    assert.are.same({ "function" }, complete("functi"))
  end)

  it("completes fields of nested tables", function()
    assert.are.same({ "string.format" }, complete("string.fo"))
    assert.are.same({ "io.stdout" }, complete("io.stdo"))
  end)

  it("completes methods through __index tables", function()
    _G.__lask_spec_s = "x"
    assert.are.same({ "__lask_spec_s:upper" }, complete("__lask_spec_s:upp"))
    assert.are.same({ "io.stdout:write" }, complete("io.stdout:wri"))
    _G.__lask_spec_s = nil
  end)

  it("gives nothing for unknown names or non-names", function()
    assert.are.same({}, complete("no_such_global.x"))
    assert.are.same({}, complete("1+x"))
    assert.are.same({}, complete("a:b.c"))
  end)

  it("completes what lask loads on first use, and a lazy array's fields and methods", function()
    local lask = require "lask"
    _G.lask_spec = lask
    assert.are.same({ "lask_spec.threaded" }, complete("lask_spec.thr"))
    assert.are.same({ "lask_spec.cull" }, complete("lask_spec.cul"))
    assert.are.same({ "lask_spec.threaded.get" }, complete("lask_spec.threaded.g"))
    assert.are.same({ "lask_spec.diagnostics.Profiler" }, complete("lask_spec.diagnostics.Prof"))
    _G.lask_spec = nil
    _G.__lask_spec_x = require("lask.array").arange(6, { chunks = 3 })
    assert.are.same({ "__lask_spec_x:sum" }, complete("__lask_spec_x:su"))
    assert.are.same({ "__lask_spec_x.shape" }, complete("__lask_spec_x.sha"))
    assert.are.same({ "__lask_spec_x.dask" }, complete("__lask_spec_x.das"))
    _G.__lask_spec_x = nil
  end)

  it("never runs __index functions", function()
    local called = false
    _G.__lask_spec_t = setmetatable({}, { __index = function() called = true end })
    assert.are.same({}, complete("__lask_spec_t.x.y"))
    assert.is_false(called)
    _G.__lask_spec_t = nil
  end)
end)
