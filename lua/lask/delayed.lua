--- Delayed values: custom workloads as task graphs without writing the graph (Dask's `dask.delayed`).
-- `lask.delayed(f)` wraps a function: calling the wrapper builds a task instead of
-- running it, and gives a *delayed value* (the task's result, to come). Arguments
-- may be delayed values, lazy arrays, (nested) tables of them, or plain values.
--
--     local delayed = lask.delayed
--     local inc = delayed(function(x) return x + 1 end)
--     local add = delayed(function(a, b) return a + b end)
--     local z = add(inc(1), 10)   -- lazy: a graph, nothing ran
--     print(z:compute())          --> 12
--
-- A delayed value has `d:compute([opts])`, `d:persist([opts])`,
-- `d:visualize(path)`, `d.dask` (its graph, a plain table) and `d.key` (its key, a
-- string; a block of `x:to_delayed()` keeps the block's tuple key, as in Dask).
-- Any other field `d.name` or index `d[k]` is a delayed value too (`v.name`,
-- `v[k]` of the result), and so is arithmetic: `d + 1`, `2 * d`, `-d`, `d .. "s"`,
-- `d // 2`, `d & 3`, ... Lua makes `<`, `<=` and `==` give booleans, so comparisons
-- are methods: `d:lt(v)`, `d:le(v)`, `d:gt(v)`, `d:ge(v)`, `d:eq(v)`, `d:ne(v)`.
-- Calling a delayed value whose result is a function builds a call of it, so
-- `d:upper()` on a delayed string is a delayed `s:upper()`.
-- Reserved names (not tasks): `key`, `dask`, `compute`, `persist`, `visualize`,
-- `lt`, `le`, `gt`, `ge`, `eq`, `ne`.
--
-- Keys: the function's name (the variable holding the wrapper, `inc`, or
-- `opts.name`) and a token: a hash of the function and the arguments when
-- `pure = true` (equal calls give the same key, so their work is shared), unique
-- per call otherwise, as Dask's. The graph is kept as links between delayed values
-- (and the layers of the arrays they read) and made into one table at compute.
-- @module lask.delayed
local lcore = require "lask.core"
local funcname = require "lask.funcname"

local fmt, mtype, pack = string.format, math.type, table.pack
local quote, iskey, isquote = lcore.quote, lcore.iskey, lcore.isquote

local M = {}

local FIELDS = {} -- the private key of a delayed value's fields
local Delayed_mt = { __name = "lask.delayed" }
local methods = {}

local function is_delayed(v) return getmetatable(v) == Delayed_mt end

local function fields_of(d) return rawget(d, FIELDS) end

local function array_core() return require "lask.array.core" end

local function is_array(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__name == "lask.array"
end

-- A new delayed value. f: {key=, task= (the key's value in the graph; nil when
-- layers make it), deps= (delayed values read), layers= (name -> array layer, or
-- nil), outputs= (set of layer names whose blocks are read), finals= (list of
-- arrays read whole), nout=, cleanup= (run when a compute fails)}.
local function new(f)
  f.deps = f.deps or {}
  return setmetatable({ [FIELDS] = f }, Delayed_mt)
end

--------------------------------------------------------------------------------
-- Tokens and names

local counter = 0
local salt -- this process's, made on first use

-- A token no other call of this process gives (Dask's uuid4): a salt (the time, the
-- clock, an address) and a counter.
local function unique_token()
  salt = salt or array_core().tokenize("unique", os.time(), os.clock(), tostring({})):sub(1, 12)
  counter = counter + 1
  return fmt("%s%012x", salt, counter)
end

local proto_names = {} -- "source:line" of a Lua function -> the name its calls got

-- The name of a wrapped function's calls: the function's own (lask.funcname's rules),
-- else that of the variable holding the wrapper d (`local inc = delayed(function...`),
-- else "function". Looked up once per function prototype (wrappers made in a loop
-- cost one look-up).
local function call_name(d, fn)
  local info = type(fn) == "function" and debug.getinfo(fn, "S")
  local proto = info and info.what == "Lua" and (info.source .. ":" .. info.linedefined)
  if proto and proto_names[proto] then return proto_names[proto] end
  local name = funcname.namer()(fn)
  if name == "function" or not name:match("^[%w_.]+$") then name = funcname.held_name(d) or name end
  name = name:match("[%w_.]+$") or "function"
  if proto then proto_names[proto] = name end
  return name
end

--------------------------------------------------------------------------------
-- Arguments: a delayed value becomes its key, an array its whole value (the key
-- of its finalize task), a table holding either becomes a list of arguments (or a
-- task that builds it), and every other value a literal the graph never interprets.

-- Builds a table from keys (a quoted list) and the values given after them.
local function build_table(keys, ...)
  local t = {}
  for i = 1, #keys do t[keys[i]] = (select(i, ...)) end
  return t
end
funcname.register(build_table, "table")

-- Builds a list of its arguments (a task, so that a list whose first element is
-- callable stays a value rather than a task).
local function build_list(...) return { ... } end
funcname.register(build_list, "list")

local function is_plain_table(v) return type(v) == "table" and getmetatable(v) == nil end

local callable = require("lask.graph").callable

-- Does v hold (or is it) a delayed value or an array? seen guards cycles.
local function holds_lazy(v, seen)
  if is_delayed(v) or is_array(v) then return true end
  if not is_plain_table(v) or seen[v] then return false end
  seen[v] = true
  for k, x in pairs(v) do
    if holds_lazy(k, seen) or holds_lazy(x, seen) then return true end
  end
  return false
end

-- A literal as an argument of a task: strings, tuple keys and tables are quoted
-- (never read as keys, tasks or lists); nil too (a hole would end the task).
local function literal(v)
  local t = type(v)
  if t == "number" or t == "boolean" or t == "function" or t == "userdata" and not iskey(v) and not isquote(v) then
    return v
  end
  return quote(v)
end

-- The argument for v, recording what it reads in acc ({deps=, finals=}); also a
-- form of v for tokens (delayed values by key, arrays by name).
local function to_arg(v, acc, level)
  if is_delayed(v) then
    local f = fields_of(v)
    acc.deps[#acc.deps + 1] = v
    return f.key, { "delayed", tostring(f.key) }
  elseif is_array(v) then
    acc.finals[#acc.finals + 1] = v
    return lcore.key("finalize-" .. v.name), v
  elseif is_plain_table(v) and holds_lazy(v, {}) then
    if level > 100 then error("lask.delayed: arguments nest more than 100 tables deep", 0) end
    local n = #v
    local is_list = true
    for k in pairs(v) do
      if mtype(k) ~= "integer" or k < 1 or k > n then is_list = false end
    end
    local args, tokens = {}, {}
    if is_list then
      for i = 1, n do args[i], tokens[i] = to_arg(v[i], acc, level + 1) end
      if n > 0 and not callable(args[1]) then return args, { "list", tokens } end -- the graph's own list
      return { build_list, table.unpack(args, 1, n) }, { "list", tokens }
    end
    local keys, vals = {}, {}
    for k, x in pairs(v) do
      if is_delayed(k) or is_array(k) then error("lask.delayed: a delayed value cannot be a table's key", 0) end
      keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b) -- a fixed order, for tokens
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      if ta == "number" or ta == "string" then return a < b end
      return tostring(a) < tostring(b)
    end)
    for i, k in ipairs(keys) do vals[i], tokens[i] = to_arg(v[k], acc, level + 1) end
    return { build_table, quote(keys), table.unpack(vals, 1, #keys) }, { "table", keys, tokens }
  end
  return literal(v), v
end

-- The arguments of a call (n of them, from args), their token form and what they read.
local function convert_args(args, n)
  local acc = { deps = {}, finals = {} }
  local out, tokens = {}, {}
  for i = 1, n do out[i], tokens[i] = to_arg(args[i], acc, 1) end
  return out, tokens, acc
end

--------------------------------------------------------------------------------
-- Building tasks

-- A delayed value for the task head(args...) named prefix-token. pure: the token
-- hashes what (the function's identity) and the arguments; otherwise unique.
local function make_call(prefix, head, what, args, n, pure, nout)
  local conv, tokens, acc = convert_args(args, n)
  local token = pure and array_core().tokenize(prefix, what, n, tokens) or unique_token()
  local task = { head, table.unpack(conv, 1, n) }
  return new { key = prefix .. "-" .. token, task = task, deps = acc.deps, finals = acc.finals, nout = nout }
end

-- The operations on delayed values, Lua functions with no upvalues (they are copied
-- to worker states as they are).
local OPS = {
  add = function(a, b) return a + b end,
  sub = function(a, b) return a - b end,
  mul = function(a, b) return a * b end,
  div = function(a, b) return a / b end,
  mod = function(a, b) return a % b end,
  pow = function(a, b) return a ^ b end,
  idiv = function(a, b) return a // b end,
  band = function(a, b) return a & b end,
  bor = function(a, b) return a | b end,
  bxor = function(a, b) return a ~ b end,
  shl = function(a, b) return a << b end,
  shr = function(a, b) return a >> b end,
  concat = function(a, b) return a .. b end,
  neg = function(a) return -a end,
  bnot = function(a) return ~a end,
  lt = function(a, b) return a < b end,
  le = function(a, b) return a <= b end,
  gt = function(a, b) return a > b end,
  ge = function(a, b) return a >= b end,
  eq = function(a, b) return a == b end,
  ne = function(a, b) return a ~= b end,
  getitem = function(v, k) return v[k] end,
  getattr = function(v, k) return v[k] end,
  call = function(f, ...) return f(...) end,
}
for name, f in pairs(OPS) do funcname.register(f, name) end

-- A pure task of an operation on values (delayed or not): Dask's operators are pure.
local function op(name, ...)
  return make_call(name, OPS[name], name, { ... }, select("#", ...), true)
end

for _, name in ipairs { "add", "sub", "mul", "div", "mod", "pow", "idiv", "band", "bor", "bxor", "shl", "shr",
  "concat" } do
  Delayed_mt["__" .. name] = function(a, b) return op(name, a, b) end
end
Delayed_mt.__unm = function(a) return op("neg", a) end
Delayed_mt.__bnot = function(a) return op("bnot", a) end

--- Is d less than v? A delayed boolean (Lua makes `<` give a boolean, so this is a method).
-- The other comparisons are methods too: `d:le(v)`, `d:gt(v)`, `d:ge(v)`, `d:eq(v)`, `d:ne(v)`.
-- @param d lask.delayed: the left operand
-- @param v any: the right operand (delayed or not)
-- @return lask.delayed: the comparison, to come
-- @usage local d = lask.delayed(3)
-- assert(d:lt(4):compute() == true and d:ge(4):compute() == false)
function methods.lt(d, v) return op("lt", d, v) end

function methods.le(d, v) return op("le", d, v) end

function methods.gt(d, v) return op("gt", d, v) end

function methods.ge(d, v) return op("ge", d, v) end

function methods.eq(d, v) return op("eq", d, v) end

function methods.ne(d, v) return op("ne", d, v) end

local function no_compare()
  error("lask.delayed: a delayed value cannot be compared with <, <=, > or >= (Lua makes the result a boolean): "
    .. "use d:lt(v), d:le(v), d:gt(v), d:ge(v), d:eq(v) or d:ne(v), which build tasks", 2)
end
Delayed_mt.__lt = no_compare
Delayed_mt.__le = no_compare

Delayed_mt.__len = function(d)
  local n = fields_of(d).nout
  if n then return n end
  error("lask.delayed: #d of a delayed value of unknown length (give nout to lask.delayed to make a list of n)", 2)
end

Delayed_mt.__tostring = function(d)
  local key = fields_of(d).key
  return fmt("Delayed(%s)", type(key) == "string" and ("'" .. key .. "'") or tostring(key))
end

-- d.name / d[k]: a delayed value of v.name / v[k]; the reserved names are fields
-- and methods.
Delayed_mt.__index = function(d, k)
  local f = fields_of(d)
  if k == "key" then return f.key end
  if k == "dask" then return M.graph(d) end
  local m = methods[k]
  if m then return m end
  local n = f.nout
  if n and mtype(k) == "integer" then -- nil out of range, as a lask.ndarray's a[i] (so ipairs works)
    local i = k < 0 and n + 1 + k or k
    if i < 1 or i > n then return nil end
    return op("getitem", d, i)
  end
  if k == nil then error("lask.delayed: a delayed value cannot be indexed with nil", 2) end
  return op(type(k) == "string" and "getattr" or "getitem", d, k)
end

Delayed_mt.__newindex = function(_, k)
  error("lask.delayed: delayed values are immutable (cannot set '" .. tostring(k) .. "')", 2)
end

-- d(...): a call of the function d computes to; a wrapped function's call runs it.
Delayed_mt.__call = function(d, ...)
  local f = fields_of(d)
  local n = select("#", ...)
  if f.fn then
    local name = f.name
    if not name then -- named when first called
      name = call_name(d, f.fn)
      f.name = name
      funcname.register(f.head, name)
    end
    return make_call(name, f.head, f.fn, { ... }, n, f.pure, f.nout)
  end
  return make_call("call", OPS.call, "call", { d, ... }, n + 1, false)
end

--------------------------------------------------------------------------------
-- The graph

-- Walks every delayed value d reads (d included, each once, no recursion) and
-- gives {tasks = key -> task, layers = name -> layer, outputs = set (the layers
-- whose blocks are read), finals = list (the arrays read whole), cleanup = list}.
local function collect(roots)
  local tasks, layers, outputs, finals, cleanup = {}, {}, {}, {}, {}
  local seen, seen_final = {}, {}
  local stack = {}
  for i = #roots, 1, -1 do stack[#stack + 1] = roots[i] end
  while #stack > 0 do
    local d = stack[#stack]
    stack[#stack] = nil
    if not seen[d] then
      seen[d] = true
      local f = fields_of(d)
      if f.task ~= nil then tasks[f.key] = f.task end
      for n, l in pairs(f.layers or {}) do layers[n] = l end
      for n in pairs(f.outputs or {}) do outputs[n] = true end
      for _, x in ipairs(f.finals or {}) do
        if not seen_final[x.name] then
          seen_final[x.name] = true
          finals[#finals + 1] = x
          for n, l in pairs(x.layers) do layers[n] = l end
          outputs[x.name] = true
        end
      end
      if f.cleanup then cleanup[#cleanup + 1] = f.cleanup end
      for _, dep in ipairs(f.deps) do stack[#stack + 1] = dep end
    end
  end
  return { tasks = tasks, layers = layers, outputs = outputs, finals = finals, cleanup = cleanup }
end

-- The tasks that assemble each array of finals whole (its finalize key), added to
-- dsk unless there already.
local function add_finals(dsk, finals)
  local core = array_core()
  for _, x in ipairs(finals) do
    local key = lcore.key("finalize-" .. x.name)
    if dsk[key] == nil then dsk[key] = { core.kernel("block"), core.key_grid(x.name, x.numblocks) } end
  end
end

--- The graph of a delayed value (`d.dask`): every task it needs, the arrays' unfused.
-- @param d lask.delayed: the value
-- @return table: the graph, key -> task
-- @usage local d = lask.delayed(function(a) return a * 2 end, { pure = true })(21)
-- assert(d.dask[d.key] ~= nil and d:compute() == 42)
function M.graph(d)
  local c = collect({ d })
  local dsk = {}
  for _, layer in pairs(c.layers) do
    for k, v in pairs(array_core().layer_tasks(layer)) do dsk[k] = v end
  end
  add_finals(dsk, c.finals)
  for k, v in pairs(c.tasks) do dsk[k] = v end
  return dsk
end

--------------------------------------------------------------------------------
-- Evaluation

-- Replaces, in a copy of v, every delayed value and array by what values[it] says
-- (through the lookup), recursively in plain tables; reports through found.
local function substitute(v, lookup, seen)
  if is_delayed(v) or is_array(v) then return lookup(v) end
  if not is_plain_table(v) or not holds_lazy(v, {}) then return v end
  if seen[v] then return seen[v] end
  local out = {}
  seen[v] = out
  for k, x in pairs(v) do out[k] = substitute(x, lookup, seen) end
  return out
end

-- Lists the delayed values and arrays in v (plain tables walked) into found.
local function find_lazy(v, found, seen)
  if is_delayed(v) then
    found.delayed[#found.delayed + 1] = v
  elseif is_array(v) then
    found.arrays[#found.arrays + 1] = v
  elseif is_plain_table(v) and not seen[v] then
    seen[v] = true
    for _, x in pairs(v) do find_lazy(x, found, seen) end
  end
end

--- Computes delayed values and arrays together, in one pass that shares their common work.
-- Each argument that is a delayed value gives its result, each array a
-- `lask.ndarray`; plain tables holding either are given back with them computed (as
-- Dask's traverse); other arguments are given back as they are. A last plain table
-- with option fields is the options: those of `x:compute` (`scheduler`, `num_workers`,
-- `lua`, `callbacks`, ...). If the get fails, what the values' stores would have left
-- (their temporary files) is removed before the error is raised again.
-- @param ... the values, then optionally the options
-- @return the computed values, one per argument
-- @raise the failing task's error (err.key, err.message), or an options error
-- @usage local inc = lask.delayed(function(x) return x + 1 end)
-- local a, b, n = lask.compute(inc(1), inc(2), 7, { scheduler = "sync" })
-- assert(a == 2 and b == 3 and n == 7)
function M.compute(...)
  local args = pack(...)
  local opts, n = require("lask.array.compute").split_options(args, args.n, 2)
  return M.compute_values(args, n, opts)
end

-- compute's work: args[1..n] computed with opts (checked).
function M.compute_values(args, n, opts)
  local CP = require "lask.array.compute"
  local found = { delayed = {}, arrays = {} }
  for i = 1, n do find_lazy(args[i], found, {}) end
  if #found.delayed == 0 and #found.arrays == 0 then return table.unpack(args, 1, n) end
  local c = collect(found.delayed)
  -- an array whose layer the delayed values' graph holds is never written in place
  -- (its blocks may be read there: to_delayed, store, from_delayed)
  local readers = { layers = c.layers }
  local layers, outputs = {}, c.outputs -- a copy: readers' layers stay the delayed values' own
  for name, l in pairs(c.layers) do layers[name] = l end
  for _, x in ipairs(found.arrays) do
    for name, l in pairs(x.layers) do layers[name] = l end
    outputs[x.name] = true
  end
  local dsk = CP.layers_graph(layers, outputs, opts)
  local keys, key_of = {}, {}
  for i, x in ipairs(found.arrays) do
    if not key_of[x] then
      local others = { readers }
      for j, y in ipairs(found.arrays) do
        if j ~= i and not rawequal(y, x) then others[#others + 1] = y end
      end
      key_of[x] = CP.final_key(dsk, x, opts, others)
    end
  end
  add_finals(dsk, c.finals)
  for k, v in pairs(c.tasks) do dsk[k] = v end
  local want, index = {}, {}
  local function want_key(v)
    local key = is_delayed(v) and fields_of(v).key or key_of[v]
    if index[key] == nil then
      want[#want + 1] = key
      index[key] = #want
    end
  end
  for _, d in ipairs(found.delayed) do want_key(d) end
  for _, x in ipairs(found.arrays) do want_key(x) end
  local ok, values = pcall(CP.run, dsk, want, opts)
  if not ok then
    for _, f in ipairs(c.cleanup) do pcall(f) end
    error(values, 0)
  end
  local function lookup(v)
    local key = is_delayed(v) and fields_of(v).key or key_of[v]
    return values[index[key]]
  end
  local out = {}
  for i = 1, n do out[i] = substitute(args[i], lookup, {}) end
  return table.unpack(out, 1, n)
end

--- Computes a delayed value.
-- @param d lask.delayed: the value
-- @param[opt] opts table: as `lask.compute`'s (`scheduler`, `num_workers`, `lua`, ...)
-- @return the value
-- @usage local add = lask.delayed(function(a, b) return a + b end)
-- assert(add(1, 2):compute({ scheduler = "sync" }) == 3)
function methods.compute(d, opts)
  opts = require("lask.array.compute").check_opts(opts, 2)
  return (M.compute_values({ d }, 1, opts))
end

--- Computes a delayed value and gives a delayed value of the same key holding the result.
-- @param d lask.delayed: the value
-- @param[opt] opts table: as `compute`'s
-- @return lask.delayed: the result, held (its graph is one literal)
-- @usage local d = lask.delayed(function() return 5 end)()
-- local p = d:persist()
-- assert(p.key == d.key and (p + 1):compute() == 6)
function methods.persist(d, opts)
  local v = methods.compute(d, opts)
  return new { key = fields_of(d).key, task = literal(v), nout = fields_of(d).nout }
end

--- Draws a delayed value's graph (Graphviz: .svg, .png or .dot), as `lask.visualize` does.
-- @param d lask.delayed: the value
-- @param path string: the file to write
-- @param[opt] opts table: as `lask.visualize`'s
-- @return string: path
function methods.visualize(d, path, opts) return require("lask.visualize").visualize(M.graph(d), path, opts) end

--------------------------------------------------------------------------------
-- lask.delayed

local DELAYED_OPTS = { pure = true, nout = true, name = true }

--- Wraps a function so that calls build tasks, or makes a value a delayed literal.
-- `lask.delayed(f [, opts])` gives a wrapper: `w(a, b)` is a delayed value of
-- `f(a, b)`; arguments may be delayed values, arrays (computed whole), tables of
-- them, or plain values. `lask.delayed(v)` of a value that is not a function is a
-- delayed value of v (tables holding delayed values are built by a task); of a
-- delayed value, v itself; of an array, the array computed whole.
-- @param f function|any: the function (or value)
-- @param[opt] opts table: `pure` (boolean: keys hash the arguments, so equal calls
-- share their work; false by default: a key per call), `nout` (integer: f returns
-- that many values; the result computes to a list of them and `d[i]` is a delayed
-- value of the i-th (negative from the end, nil out of range, so `ipairs(d)` and
-- `table.unpack(d)` work), `#d` is nout), `name` (string: the key prefix of the calls
-- instead of the function's name; for a literal, its key)
-- @return lask.delayed: the wrapper or the value
-- @raise for an unknown option (the valid ones named), a bad nout or name
-- @usage local delayed = lask.delayed
-- local divmod = delayed(function(a, b) return a // b, a % b end, { nout = 2 })
-- local q, r = table.unpack(divmod(7, 2))
-- assert(q:compute() == 3 and r:compute() == 1 and #divmod(7, 2):compute() == 2)
function M.delayed(f, opts)
  if opts ~= nil then
    if not is_plain_table(opts) then error("lask.delayed: options must be a table", 2) end
    require("lask.getter").check_names(opts, DELAYED_OPTS, "lask.delayed", 2)
  else
    opts = {}
  end
  local nout, name = opts.nout, opts.name
  if nout ~= nil and (mtype(nout) ~= "integer" or nout < 0) then
    error("lask.delayed: nout must be a non-negative integer, got " .. tostring(nout), 2)
  end
  if name ~= nil and (type(name) ~= "string" or name == "") then
    error("lask.delayed: name must be a non-empty string, got " .. tostring(name), 2)
  end
  if is_delayed(f) then return f end
  if callable(f) and not is_array(f) then
    local head = f
    if nout then
      local fn, count = f, nout
      head = function(...)
        local r = pack(fn(...))
        r.n = nil
        for i = count + 1, #r do r[i] = nil end
        return r
      end
    end
    if name then funcname.register(head, name) end
    local key = (name or "function") .. "-" .. array_core().tokenize("delayed-function", f, nout)
    return new { key = key, task = f, fn = f, head = head, pure = opts.pure == true, nout = nout, name = name }
  end
  if is_array(f) then
    return new { key = lcore.key("finalize-" .. f.name), finals = { f } }
  end
  local acc = { deps = {}, finals = {} }
  local arg, token = to_arg(f, acc, 1)
  local key = name or (type(f) .. "-" .. array_core().tokenize("delayed-literal", token))
  return new { key = key, task = arg, deps = acc.deps, finals = acc.finals, nout = nout }
end

--------------------------------------------------------------------------------
-- For lask.array: delayed values of blocks and of stores

-- A delayed value whose key is made by layers (name -> layer, with the arrays' own
-- layers), reading the blocks of the layers named in outputs; or by task (reading
-- those blocks), if given. cleanup: run when a compute of it fails.
function M.from_layers(key, layers, outputs, cleanup, task)
  return new { key = key, layers = layers, outputs = outputs, cleanup = cleanup, task = task }
end

-- d's key, the tasks that make d (unfused; arrays' layers apart) and the arrays
-- d reads: what da.from_delayed puts in a layer.
function M.parts(d)
  if not is_delayed(d) then error("lask.array: from_delayed: expected a delayed value, got " .. type(d), 3) end
  local c = collect({ d })
  local dsk = {}
  add_finals(dsk, c.finals)
  for k, v in pairs(c.tasks) do dsk[k] = v end
  return fields_of(d).key, dsk, c.layers, c.outputs
end

M.is_delayed = is_delayed
M.Delayed_mt = Delayed_mt

return M
