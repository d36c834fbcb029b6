--- Parallel task graphs for Lua: keys, `get`, `compute`, Dask's graph utilities.
-- A task graph is a Lua table from keys to values or tasks, as Dask's dictionaries:
-- `{x = 1, y = {inc, "x"}, z = {add, "y", 10}}`. A key is a string or a tuple key
-- (`lask.key("x", 0)`); a task is a table whose first element is callable (a Lua
-- function or a native kernel) and whose other elements are its arguments: keys of
-- the graph (their values), literals, nested tasks and lists of them. A string that
-- is not a key of the graph is a literal; numbers are never keys.
--
-- `get` runs a graph on a scheduler (`lask.threaded` by default; `lask.sync`,
-- `lask.multiprocessing`); the graph utilities (`cull`, `fuse`, `toposort`, ...) are
-- Dask's, loaded on first use. Errors are raised, never returned: a failed `get`
-- raises an error object `{kind =, message =, key =, traceback =}` that prints as
-- `lask: task 'z' failed: ...`.
-- @module lask
-- @usage local inc = function(i) return i + 1 end
-- local d = {x = 1, y = {inc, "x"}, z = {lask.kernels.add, "y", 10}}
-- assert(lask.get(d, "z") == 12)
local core = require "lask.core"

--- lask's version with its name, as Lua's own `_VERSION` ("Lua 5.4"): "lask 0.1.0".
-- @field _VERSION

--- lask's version, "MAJOR.MINOR.PATCH" (the C API's `lask_version()`).
-- @field version
-- @usage assert(lask.version:match("^%d+%.%d+%.%d+$"))

--- A tuple key: Dask's `('x', 0, 1)`, made from a name and integers.
-- Equal tuple keys are the same value (interned), so they index tables and compare
-- with `==`; `1.0` and `1` are one part, as for Lua's table keys. A key costs one
-- allocation (64 bytes for `("x", i)` or `("x", i, j)`: short strings and numbers are
-- packed into its bytes) and is collected when nothing refers to it; `lask.key`
-- hashes the parts into lask's own intern table (no string is built).
-- @function key
-- @param name string: the name
-- @param ... integer: the indices (any string, number or boolean; 255 parts in all at most)
-- @return a tuple key; `tostring` prints it as Dask does, `k[1]` is the name and `#k` counts the parts
-- @raise when a part is not a string, number or boolean ("lask.key: part 2 is a table; parts must be
-- strings, numbers or booleans"), or with no part or more than 255
-- @usage local k = lask.key("x", 0)
-- assert(k == lask.key("x", 0) and tostring(k) == "('x', 0)" and k[1] == "x")
-- assert(lask.key("x", 1.0) == lask.key("x", 1) and #lask.key("t", 1, 2) == 3)

--- Whether a value is a tuple key.
-- @function iskey
-- @param v any value
-- @return boolean: true for a tuple key (strings, which may be keys too, give false)
-- @usage assert(lask.iskey(lask.key("x", 1)) and not lask.iskey("x"))

--- A quoted value: never read as a key, task or list when it is an argument.
-- @function quote
-- @param v any value
-- @return the quote; the task gets v itself
-- @usage local first = function(t) return t[1] end
-- assert(lask.get({x = 1, y = {first, lask.quote({"x"})}}, "y") == "x")

--- The native kernels (the same table as the `lask.kernels` module).
-- @table kernels
-- @usage assert(lask.get({a = {lask.kernels.add, 1, 2}}, "a") == 3)

--- A monotonic clock, in seconds (for timing tasks, as profilers do).
-- @function clock
-- @return number: seconds since an arbitrary start
-- @usage local t0 = lask.clock(); assert(lask.clock() >= t0)

--- A graph builder: a graph made by calls, a node at a time, with no Lua table a task.
-- For generated graphs (millions of tasks): `b:task(key, f, ...)` adds the task
-- `{f, ...}` under key, `b:value(key, v)` the literal v, `b:alias(key, other)` the
-- value of the key other; each gives key back. Arguments follow `get`'s rules (tuple
-- keys, strings that are keys, tasks and lists nested in tables, `lask.quote`), with
-- two differences: a string is a key only once the builder has a node of that name
-- (tuple keys may be used before they are defined), and a key cannot be defined
-- twice. `lask.get(b, keys, opts)` (or `b:get(keys, opts)`, or any scheduler's get)
-- runs it with the table path's errors (a missing dependency, a cycle: the key and
-- the cause); the first get makes the engine's graph and later gets reuse it (the
-- builder then takes no more nodes). Every node is computed (a table graph is culled
-- to what the keys need); callbacks get the builder where they get the graph;
-- `optimize` needs a table.
-- @function graph_builder
-- @return a builder (`lask.isbuilder` tells one)
-- @raise from `b:task` when the function is not callable or the key is not a string
-- or tuple key, or is defined already ("lask.graph_builder: task: key ('x', 1) is
-- defined already")
-- @usage local K, key = lask.kernels, lask.key
-- local b = lask.graph_builder()
-- b:value(key("x", 0), 1)
-- for i = 1, 10 do b:task(key("x", i), K.add, key("x", i - 1), i) end
-- b:alias("last", key("x", 10))
-- assert(lask.get(b, "last") == 56 and b:get({key("x", 2), key("x", 3)})[2] == 7)
-- assert(lask.sync.get(b, key("x", 1)) == 2)

--- Whether a value is a graph builder (`lask.graph_builder`).
-- @function isbuilder
-- @param v any value
-- @return boolean
-- @usage assert(lask.isbuilder(lask.graph_builder()) and not lask.isbuilder({}))

local lask = {
  _VERSION = "lask " .. core.version, -- as Lua's own _VERSION ("Lua 5.4")
  version = core.version, -- "MAJOR.MINOR.PATCH"
  key = core.key,
  iskey = core.iskey,
  quote = core.quote,
  kernels = core.kernels,
  clock = core.clock,
  graph_builder = core.graph_builder,
  isbuilder = core.isbuilder,
}

--- Runs a graph and gives the values of keys: the threaded scheduler's get.
-- The same as `lask.threaded.get`; `lask.sync.get` and `lask.multiprocessing.get`
-- take the same arguments and options.
-- @param dsk table: the graph, key -> value or task; or a `lask.graph_builder`
-- @param keys a key, or a list (nested lists allowed) of keys: the result has the same shape
-- @param[opt] opts table: `num_workers` (a positive integer; the number of cores by
-- default), `callbacks` (a list of callback objects, such as `lask.diagnostics`'
-- profilers), `optimize` (true: cull and fuse the graph first), `lua` ("caller",
-- the default: Lua tasks run one at a time on the calling Lua state; "parallel":
-- on every worker, each on a Lua state of its own), `strict` (with `lua =
-- "parallel"`: a task that cannot be copied to a worker is an error)
-- @return the value of keys (values of a list of keys as a list of the same shape)
-- @raise an error object `{kind =, message =, key =, traceback =}` when a task fails
-- (printing as `lask: task 'z' failed: ...`), or a message for a bad graph (a
-- cycle: "the graph has a cycle: x -> y -> x") or a bad option ("get: unknown option
-- 'schedular' (valid options: ...)")
-- @usage local d = {x = 1, y = {lask.kernels.inc, "x"}, z = {lask.kernels.add, "y", 10}}
-- assert(lask.get(d, "z") == 12)
-- local v = lask.get(d, {"x", {"y", "z"}}, {num_workers = 2})
-- assert(v[1] == 1 and v[2][1] == 2 and v[2][2] == 12)
function lask.get(dsk, keys, opts) return require("lask.threaded").get(dsk, keys, opts) end

--- A graph on one line, as Dask prints its dictionaries.
-- Keys are sorted (strings, then tuple keys); functions print by name; past 50
-- keys the rest is elided as `...` with a count.
-- @param dsk table: a graph, or a `lask.array` or delayed value (its graph is printed)
-- @return string
-- @usage local d = {x = 1, y = {lask.kernels.inc, "x"}}
-- assert(lask.tostring(d) == "{'x': 1, 'y': {inc, 'x'}}")
function lask.tostring(dsk)
  local mt = getmetatable(dsk)
  if type(mt) == "table" and (mt.__name == "lask.array" or mt.__name == "lask.delayed") then dsk = dsk.dask end
  return require("lask.graph").tostring(dsk)
end

--- The keys of a graph, sorted: strings first, then tuple keys, each in order.
-- @function sorted_keys
-- @param dsk table: a graph
-- @return table: a list of keys
-- @usage local ks = lask.sorted_keys({b = 1, a = 2, [lask.key("c", 0)] = 3})
-- assert(ks[1] == "a" and ks[2] == "b" and lask.iskey(ks[3]))
local function sorted_keys(dsk)
  local keys = {}
  for k in pairs(dsk) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local sa, sb = type(a) == "string", type(b) == "string"
    if sa ~= sb then return sa end
    return a < b
  end)
  return keys
end
lask.sorted_keys = sorted_keys

--- The priority of every key: the order the schedulers run a graph by (0 first).
-- The engine's `lask_order` (engine/core/order.c), the one every scheduler uses. It
-- reads the graph's structure only: renaming keys never changes which branch runs
-- first (see the differences from Dask).
-- @param dsk table: a graph
-- @param[opt] keys a list of the keys wanted (all keys by default)
-- @return table: key -> priority (an integer from 0)
-- @raise when dsk is not a table, or the graph has a cycle
-- @usage local o = lask.order({x = 1, y = {lask.kernels.inc, "x"}})
-- assert(o.x == 0 and o.y == 1)
function lask.order(dsk, keys)
  if type(dsk) ~= "table" then error("order: the graph must be a table, got " .. type(dsk), 2) end
  return core.order(dsk, keys or sorted_keys(dsk))
end

-- The Dask graph utilities live in lask.graph and lask.optimization; they are
-- reached through lask as Dask's are through dask.core and dask.optimization.

--- Whether a value is a task: a table (not a key, list or quote) whose first element is callable.
-- @function istask
-- @param v any value
-- @return boolean
-- @usage assert(lask.istask({lask.kernels.inc, 1}) and not lask.istask({1, 2}))

--- The keys a value of the graph needs directly (Dask's `get_dependencies`).
-- Nested tasks and lists are searched; a string that is not a key is a literal.
-- @function get_dependencies
-- @param dsk table: the graph
-- @param key the key whose value is looked at (nil to look at `task` instead)
-- @param[opt] task a value or task, when key is nil
-- @param[opt] as_list boolean: a list with duplicates, in Dask's order, instead of a set
-- @return table: a set (key -> true), or a list with as_list
-- @usage local d = {x = 1, y = 2, z = {lask.kernels.add, "x", {lask.kernels.inc, "y"}}}
-- local deps = lask.get_dependencies(d, "z")
-- assert(deps.x and deps.y)

--- Every key's dependencies and dependents (Dask's `get_deps`).
-- @function get_deps
-- @param dsk table: the graph
-- @return table: key -> set of the keys it needs
-- @return table: key -> set of the keys that need it
-- @usage local deps, dependents = lask.get_deps({x = 1, y = {lask.kernels.inc, "x"}})
-- assert(deps.y.x and dependents.x.y)

--- Every key of a graph, each after the keys it needs (Dask's `toposort`).
-- @function toposort
-- @param dsk table: the graph
-- @param[opt] dependencies table: key -> set of dependencies, when already known
-- @return table: the list of keys
-- @raise the error object `{kind = "cycle", cycle =, message = "the graph has a cycle: ..."}` on a cycle
-- @usage local keys = lask.toposort({x = 1, y = {lask.kernels.inc, "x"}})
-- assert(keys[1] == "x" and keys[2] == "y")

--- A cycle of the graph, as Dask's `getcycle`: each key depends on the next, the first repeated at the end.
-- @function getcycle
-- @param dsk table: the graph
-- @param[opt] keys a key or a list of keys to search from (all keys by default)
-- @return table: the list of keys of a cycle, or an empty table when there is none
-- @usage local d = {x = {lask.kernels.inc, "y"}, y = {lask.kernels.inc, "x"}}
-- local c = lask.getcycle(d)
-- assert(#c == 3 and c[1] == c[3])

--- Whether the graph has no cycle (reachable from keys).
-- @function isdag
-- @param dsk table: the graph
-- @param[opt] keys a key or a list of keys to search from (all keys by default)
-- @return boolean
-- @usage assert(lask.isdag({x = 1, y = {lask.kernels.inc, "x"}}))

--- A copy of a task with every argument equal to key replaced by val (Dask's `subs`).
-- Nested tasks and lists are searched; the task itself is never changed.
-- @function subs
-- @param task a task or value
-- @param key the key to replace
-- @param val the value to put in its place
-- @return the new task
-- @usage local t = lask.subs({lask.kernels.add, "x", 1}, "x", 41)
-- assert(t[2] == 41 and lask.get({a = t}, "a") == 42)

--- The leaves of a nested list, in order (Dask's `flatten`).
-- @function flatten
-- @param list a nested list (a string or key gives a one-element list)
-- @param[opt] container_check function(v) -> boolean: which elements to descend into
-- @return table: the list of leaves
-- @usage local f = lask.flatten({1, {2, {3}}, "x"})
-- assert(#f == 4 and f[3] == 3 and f[4] == "x")

--- Only the tasks needed for keys, and their dependencies (Dask's `cull`).
-- @function cull
-- @param dsk table: the graph
-- @param keys a key or a (nested) list of keys
-- @return table: the smaller graph
-- @return table: key -> list of its dependencies (duplicates kept)
-- @usage local d = {x = 1, y = {lask.kernels.inc, "x"}, unused = 3}
-- local culled = lask.cull(d, "y")
-- assert(culled.y and culled.x and culled.unused == nil)

--- Merges every task that has a single dependent into it (Dask's `fuse`).
-- Linear chains become one task and, as `ave_width` allows, small reductions too;
-- the keys asked for are never fused away.
-- @function fuse
-- @param dsk table: the graph
-- @param[opt] keys a key or a list of keys to keep
-- @param[opt] dependencies table: key -> dependencies, when already known (`cull`'s second result)
-- @param[opt] opts table: `ave_width` (1), `max_width`, `max_height`,
-- `max_depth_new_edges`, `rename_keys` (true: Dask's names, with an alias under the
-- old key; false; or a function(list of fused keys, root last) -> a new key or nil)
-- @return table: the fused graph
-- @return table: its dependencies
-- @usage local inc = lask.kernels.inc
-- local d = {a = 1, b = {inc, "a"}, c = {inc, "b"}}
-- local fused = lask.fuse(d, "c", nil, {rename_keys = false})
-- assert(fused.b == nil and lask.get(fused, "c") == 3)

--- Replaces the uses of keys by their values (Dask's `inline`).
-- With `inline_constants` every constant (a value that is not a task and needs no
-- key) and every alias is inlined too. The inlined keys stay in the graph (follow
-- with `cull` to drop them).
-- @function inline
-- @param dsk table: the graph
-- @param[opt] keys a key or a list of keys to inline
-- @param[opt=true] inline_constants boolean
-- @param[opt] dependencies table: key -> dependencies, when already known
-- @return table: the new graph
-- @usage local d = {x = 1, y = {lask.kernels.inc, "x"}}
-- local d2 = lask.inline(d)
-- assert(d2.y[2] == 1 and lask.get(d2, "y") == 2)

--- Inlines every task made only of fast functions into its dependents (Dask's `inline_functions`).
-- A task stays when it is in output or nothing depends on it.
-- @function inline_functions
-- @param dsk table: the graph
-- @param output a key or a list of keys to keep
-- @param fast_functions a list (or set) of the callables to inline
-- @param[opt=false] inline_constants boolean
-- @param[opt] dependencies table: key -> dependencies, when already known
-- @return table: the new graph
-- @usage local inc, add = lask.kernels.inc, lask.kernels.add
-- local d = {x = 1, y = {inc, "x"}, z = {add, "y", 1}}
-- local d2 = lask.inline_functions(d, {"z"}, {inc})
-- assert(d2.y == nil and lask.get(d2, "z") == 3)

--- A picture of a graph, through Graphviz, drawn as Dask's `visualize` draws it.
-- Tasks are circles labelled with their function, data are boxes labelled with
-- their key. Formats other than `.dot` need Graphviz's `dot` program. Given a
-- profiler (or a list of them) it is `lask.diagnostics.visualize`.
-- @function visualize
-- @param x a graph, a `lask.array`, or profilers
-- @param[opt] filename string: ending in .svg, .png, .pdf or .dot; nil gives the DOT source
-- @param[opt] opts table: `rankdir` ("BT"), `color` ("order": filled by `lask.order`'s
-- priority), `graph_attr`, `node_attr`, `edge_attr` (tables of Graphviz attributes)
-- @return string: filename, or the DOT source when no filename is given
-- @raise when the file name has no extension, or `dot` fails
-- @usage local src = lask.visualize({x = 1, y = {lask.kernels.inc, "x"}})
-- assert(src:match("^digraph"))

--- Wraps a function so that calls build tasks instead of running (Dask's `dask.delayed`).
-- `lask.delayed(f [, opts])` gives a wrapper: `w(a, b)` is a *delayed value* of
-- `f(a, b)`, a task of a graph that runs at `d:compute()` (or `lask.compute(d1, d2,
-- ...)`, sharing common work). Arguments may be delayed values, lazy arrays
-- (computed whole), tables of them, or plain values. `lask.delayed(v)` of a value
-- that is not a function is a delayed value of v; of a delayed value, v itself.
-- Delayed values have fields and arithmetic that are delayed too (`d.x`, `d[1]`, `d +
-- 1`); comparisons are methods (`d:lt(v)`, ...), since Lua's `<` and `==` give
-- booleans. The module `lask.delayed` says it all (`help "lask.delayed"` in the REPL).
-- @function delayed
-- @param f function|any: the function (or value)
-- @param[opt] opts table: `pure` (boolean: keys hash the arguments, so equal calls
-- share their work; false by default: a key per call), `nout` (integer: f returns
-- that many values, and `d[i]` is the i-th), `name` (string: the key prefix instead
-- of the function's name)
-- @return lask.delayed: the wrapper or the value
-- @raise for an unknown option (the valid ones named), a bad nout or name
-- @usage local inc = lask.delayed(function(x) return x + 1 end)
-- local add = lask.delayed(function(a, b) return a + b end)
-- local z = add(inc(1), 10) -- a graph: nothing ran yet
-- assert(z:compute() == 12 and (z * 2):compute() == 24)
-- local t = lask.delayed(function(n) return { n = n, name = "t" } end)(5)
-- assert(t.n:compute() == 5 and t.name:upper():compute() == "T") -- fields, method calls: delayed

--- Prints the manual entry of a function, a module or a name: the REPL's `help`.
-- The entry is made from the LDoc comments of the Lua sources (this reference's
-- text: summary, parameters, returns, raises, example). `help(da.sum)`, `help
-- "lask.array"` (a module's summary and contents), `help "x:sum"` (a name chain:
-- globals, then fields); nothing gives the general help. C functions have no entry
-- of their own: look them up through their module. `require("lask.help").entry(x)`
-- gives the text instead of printing it (nil and the reason when there is none).
-- @function help
-- @param[opt] x function, table or string: what to look up
-- @usage -- lask.help(lask.delayed) prints this text:
-- local text = require("lask.help").entry(lask.delayed)
-- assert(text:find("Wraps a function", 1, true))
-- assert(lask.help == require("lask.help").help)

--- Computes several collections at once, in one get (also `lask.array.compute`).
-- Lazy arrays give their `lask.ndarray`, delayed values their result; shared inputs
-- are computed once; other arguments are given back as they are. A last plain table
-- with option fields is taken as options.
-- @function compute
-- @param ... `lask.array`s and other values, then optionally the options: as
-- `Array:compute`'s
-- @return the arguments, each array replaced by its `lask.ndarray`
-- @usage local x = da.arange(4, {chunks = 2})
-- local a, b = lask.compute(x, x:sum())
-- assert(a:get(4) == 3 and b:item() == 6)
local lazy = {
  istask = "lask.graph", get_dependencies = "lask.graph", get_deps = "lask.graph", toposort = "lask.graph",
  getcycle = "lask.graph", isdag = "lask.graph", subs = "lask.graph", flatten = "lask.graph",
  tostring = "lask.graph", cull = "lask.optimization", fuse = "lask.optimization", inline = "lask.optimization",
  inline_functions = "lask.optimization",
  visualize = "lask.visualize", compute = "lask.delayed", delayed = "lask.delayed",
}

-- lask's own modules, reached as fields once required: lask.threaded is require
-- "lask.threaded", as dask.threaded is after import dask.
local submodules = {
  sync = true, threaded = true, multiprocessing = true, diagnostics = true, callbacks = true,
  array = true, graph = true, optimization = true,
}
-- Every name reached through __index, for the REPL's Tab (lask.repl.complete).
local lazy_names = {}
for name in pairs(lazy) do lazy_names[name] = true end
for name in pairs(submodules) do lazy_names[name] = true end
lazy.help = "lask.help"
lazy_names.help = true

return setmetatable(lask, {
  __lazy = lazy_names,
  __index = function(t, name)
    local v
    if submodules[name] then
      v = require("lask." .. name)
    else
      local mod = lazy[name]
      if not mod then return nil end
      v = require(mod)[name]
    end
    rawset(t, name, v)
    return v
  end,
})
