-- lask.array.compute: evaluation — compute and persist (lask.compute over several
-- collections, arrays and delayed values, is lask.delayed's, on these pieces).
--
-- Every evaluation builds one graph from the layers of all the arrays involved
-- (layers of the same name are the same work, so shared inputs are computed once),
-- fuses its elementwise chains (lask.array.expression) unless opts.fuse == false, adds a final task per
-- array that assembles its blocks (the block kernel: one copy into the result; on
-- the threaded or sync scheduler the block tasks write into the result instead,
-- see write_in_place), and runs one get. opts: scheduler ("threaded" by default,
-- "sync", "multiprocessing", "mpi": lask.mpi, its ranks) or get (a get function), num_workers, callbacks, fuse,
-- optimize (lask's graph optimisation, off by default: the graph is already fused),
-- lua and strict (as get's: lua = "parallel" runs Lua block functions such as
-- map_blocks's on every worker); any other field is an error naming the valid ones.
local core = require "lask.array.core"
local expression = require "lask.array.expression"
local lcore = require "lask.core"

local CP = {}

-- Dask's names for the schedulers, besides our module names.
local SCHEDULER_ALIASES = {
  threads = "threaded", processes = "multiprocessing", synchronous = "sync", ["single-threaded"] = "sync",
}

-- The scheduler's module name for opts.scheduler (threaded by default).
local function scheduler_name(opts)
  local sched = opts.scheduler or "threaded"
  return SCHEDULER_ALIASES[sched] or sched
end

local function get_function(opts)
  if opts.get then return opts.get end
  local sched = scheduler_name(opts)
  local ok, mod = false, nil
  if type(sched) == "string" and sched:match("^[%w_]+$") then ok, mod = pcall(require, "lask." .. sched) end
  if not ok or type(mod) ~= "table" or not mod.get then
    error("lask.array: unknown scheduler '" .. tostring(opts.scheduler) ..
      "' (threaded or threads, multiprocessing or processes, sync or synchronous, mpi)", 4)
  end
  return mod.get
end

-- compute's options: get's and scheduler, get, fuse. Others are errors (getter.check_names).
local OPTION_FIELDS = { scheduler = true, get = true, fuse = true }
for k in pairs(require("lask.getter").GET_OPTIONS) do OPTION_FIELDS[k] = true end

local function check_opts(opts, level)
  if opts == nil then return {} end
  if type(opts) ~= "table" or core.is_array(opts) then error("lask.array: options must be a table", level + 1) end
  require("lask.getter").check_names(opts, OPTION_FIELDS, "lask.array: compute", level + 1)
  return opts
end

-- All layers of arrays, merged.
local function merged_layers(arrays)
  local layers = {}
  for _, x in ipairs(arrays) do
    for n, l in pairs(x.layers) do layers[n] = l end
  end
  return layers
end

-- The graph of layers whose outputs (a set of layer names) are wanted.
function CP.layers_graph(layers, outputs, opts)
  if opts.fuse == false then return expression.unfused(layers) end
  return expression.graph(layers, outputs)
end

-- The graph for arrays (their blocks wanted).
function CP.graph(arrays, opts)
  local outputs = {}
  for _, x in ipairs(arrays) do outputs[x.name] = true end
  return CP.layers_graph(merged_layers(arrays), outputs, opts)
end

-- The key of x's only block, or nil when it has several (or none).
local function only_block(x)
  local first = {}
  for d, n in ipairs(x.numblocks) do
    if n ~= 1 then return nil end
    first[d] = 0
  end
  return core.block_key(x.name, first)
end

-- Adds a task assembling x's blocks to dsk: the key whose value is x in memory.
local function finalize(dsk, x)
  local key = lcore.key("finalize-" .. x.name)
  dsk[key] = { core.kernel("block"), core.key_grid(x.name, x.numblocks) }
  return key
end

-- The schedulers whose workers share the process's memory: there the blocks of
-- x:compute() are written into the result by their own tasks (write_in_place).
local SHARED_MEMORY = { threaded = true, sync = true }
local KERNEL_MT = getmetatable(core.kernel("into"))

-- Instead of assembling x's blocks in a final task (one more copy of everything,
-- on one worker), its block tasks write into the result as they run: an empty
-- array first, then every task {f, args...} of a native kernel becomes {into,
-- result, offset, f, args...}: a fused elementwise kernel evaluates straight into
-- the result, others copy their block there in parallel. A block made otherwise (a
-- Lua function, persisted data, an alias) gets a task of its own that copies it
-- there, {into, result, offset, copy, block}, also in parallel. Returns the final key.
local function write_in_place(dsk, x)
  if x.size == 0 then return nil end
  local tasks = {}
  core.each_block(x.numblocks, function(idx)
    tasks[#tasks + 1] = { core.block_key(x.name, idx), table.move(idx, 1, #idx, 1, {}) }
  end)
  local out = lcore.key("finalize-" .. x.name .. "-out")
  dsk[out] = { core.kernel("empty"), core.plain(x.shape), x.dtype }
  local starts, keys = {}, { out }
  for d, c in ipairs(x.chunks) do starts[d] = core.offsets(c) end
  local kinto, kcopy = core.kernel("into"), core.kernel("copy")
  for _, kt in ipairs(tasks) do
    local key, idx = kt[1], kt[2]
    local off = {}
    for d, i in ipairs(idx) do off[d] = starts[d][i + 1] end
    local t = dsk[key]
    if type(t) == "table" and getmetatable(t[1]) == KERNEL_MT then
      dsk[key] = { kinto, out, off, table.unpack(t) }
      keys[#keys + 1] = key
    else
      local copy = lcore.key("finalize-" .. x.name .. "-copy", table.unpack(idx))
      dsk[copy] = { kinto, out, off, kcopy, key }
      keys[#keys + 1] = copy
    end
  end
  local key = lcore.key("finalize-" .. x.name)
  dsk[key] = { core.kernel("item"), keys, 0 } -- the result, once every block is in
  return key
end

function CP.run(dsk, keys, opts, keep)
  local get = get_function(opts)
  return get(dsk, keys, { num_workers = opts.num_workers, callbacks = opts.callbacks, optimize = opts.optimize,
    lua = opts.lua, strict = opts.strict, keep = keep })
end

-- The key of x in memory, with x's final task(s) added to dsk. others: the other
-- arrays of the same get; x's blocks are written in place only when none of them
-- reads x (after that their tasks give nil) and x is not among them twice.
local function final_key(dsk, x, opts, others)
  local only = only_block(x)
  if only then return only end
  local in_place = not opts.get and SHARED_MEMORY[scheduler_name(opts)] and core.known_chunks(x)
  for _, y in ipairs(others) do
    if y.layers[x.name] then in_place = false end
  end
  return in_place and write_in_place(dsk, x) or finalize(dsk, x)
end

CP.final_key = final_key
CP.check_opts = check_opts

CP.final_key = final_key
CP.check_opts = check_opts

-- x:compute([opts]): x in memory, a lask.ndarray.
function CP.compute(x, opts)
  opts = check_opts(opts, 2)
  local dsk = CP.graph({ x }, opts)
  return CP.run(dsk, final_key(dsk, x, opts, {}), opts)
end

-- x:persist([opts]): x with its blocks computed and held in memory: a lazy array
-- of the same name and chunks whose graph holds the blocks themselves (with
-- scheduler = "mpi", each block on the rank that computed it: the array is then
-- computed with scheduler = "mpi" only).
function CP.persist(x, opts)
  opts = check_opts(opts, 2)
  local dsk = CP.graph({ x }, opts)
  local grid = core.key_grid(x.name, x.numblocks)
  -- lask.mpi: each block stays on the rank that computed it (a lask.mpi.held there)
  local values = CP.run(dsk, grid, opts, not opts.get and scheduler_name(opts) == "mpi" or nil)
  local data = {}
  local function fill(keys, vals)
    if lcore.iskey(keys) then
      data[keys] = vals
      return
    end
    for i = 1, #keys do fill(keys[i], vals[i]) end
  end
  fill(grid, values)
  local layer = { name = x.name, kind = "generic", dsk = data, deps = {} }
  return core.new(layer, {}, x.chunks, x.dtype)
end

-- The options of compute(a, b, ..., opts) among its n arguments args: the last one
-- when it is a plain table with an option field (or nearly: a typo is an error,
-- not a value). Gives the options (checked) and the count of the other arguments.
-- (lask.compute, lask.delayed's, evaluates arrays and delayed values together.)
function CP.split_options(args, n, level)
  local last = args[n]
  if n > 0 and type(last) == "table" and getmetatable(last) == nil then
    for k in pairs(last) do
      if OPTION_FIELDS[k] or (type(k) == "string" and require("lask.getter").nearest(k, OPTION_FIELDS)) then
        return check_opts(last, level + 1), n - 1
      end
    end
  end
  return {}, n
end

return CP
