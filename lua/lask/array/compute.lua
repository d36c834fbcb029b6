-- lask.array.compute: evaluation — compute, persist, and lask.compute over several
-- collections at once.
--
-- Every evaluation builds one graph from the layers of all the arrays involved
-- (layers of the same name are the same work, so shared inputs are computed once),
-- fuses it (lask.array.fuse) unless opts.fuse == false, adds a final task per
-- array that assembles its blocks (the block kernel: one copy into the result),
-- and runs one get. opts: scheduler ("threaded" by default, "sync",
-- "multiprocessing") or get (a get function), num_workers, callbacks, fuse,
-- optimize (lask's graph optimisation, off by default: the graph is already fused).
local core = require "lask.array.core"
local fuse = require "lask.array.fuse"
local lcore = require "lask.core"

local CP = {}

local function get_function(opts)
  if opts.get then return opts.get end
  local sched = opts.scheduler or "threaded"
  local ok, mod = pcall(require, "lask." .. sched)
  if not ok or type(mod) ~= "table" or not mod.get then
    error("lask.array: unknown scheduler '" .. tostring(sched) .. "'", 4)
  end
  return mod.get
end

local function check_opts(opts, level)
  if opts == nil then return {} end
  if type(opts) ~= "table" or core.is_array(opts) then error("lask.array: options must be a table", level + 1) end
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
  if opts.fuse == false then return fuse.unfused(layers) end
  return fuse.graph(layers, outputs)
end

-- The graph for arrays (their blocks wanted).
function CP.graph(arrays, opts)
  local outputs = {}
  for _, x in ipairs(arrays) do outputs[x.name] = true end
  return CP.layers_graph(merged_layers(arrays), outputs, opts)
end

-- Adds x's final task to dsk: the key whose value is x in memory.
local function finalize(dsk, x)
  local one, first = true, {}
  for d, n in ipairs(x.numblocks) do
    if n ~= 1 then one = false end
    first[d] = 0
  end
  if one then return core.block_key(x.name, first) end
  local key = lcore.key("finalize-" .. x.name)
  dsk[key] = { core.kernel("block"), core.key_grid(x.name, x.numblocks) }
  return key
end

function CP.run(dsk, keys, opts)
  local get = get_function(opts)
  return get(dsk, keys, { num_workers = opts.num_workers, callbacks = opts.callbacks, optimize = opts.optimize })
end

-- x:compute([opts]): x in memory, a lask.ndarray.
function CP.compute(x, opts)
  opts = check_opts(opts, 2)
  local dsk = CP.graph({ x }, opts)
  return CP.run(dsk, finalize(dsk, x), opts)
end

-- x:persist([opts]): x with its blocks computed and held in memory: a lazy array
-- of the same name and chunks whose graph holds the blocks themselves.
function CP.persist(x, opts)
  opts = check_opts(opts, 2)
  local dsk = CP.graph({ x }, opts)
  local grid = core.key_grid(x.name, x.numblocks)
  local values = CP.run(dsk, grid, opts)
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

-- compute(a, b, ...): every array argument in memory, in one get (shared inputs
-- are computed once); other arguments are given back as they are. A last plain
-- table argument with option fields is taken as options.
local OPTION_FIELDS = { scheduler = true, get = true, num_workers = true, callbacks = true, fuse = true, optimize = true }

function CP.compute_many(...)
  local n = select("#", ...)
  local args = { ... }
  local opts = {}
  local last = args[n]
  if n > 0 and type(last) == "table" and getmetatable(last) == nil then
    local is_opts = next(last) ~= nil
    for k in pairs(last) do if not OPTION_FIELDS[k] then is_opts = false end end
    if is_opts then
      opts, n = last, n - 1
    end
  end
  local arrays, keys, where = {}, {}, {}
  for i = 1, n do
    if core.is_array(args[i]) then
      arrays[#arrays + 1] = args[i]
      where[#arrays] = i
    end
  end
  if #arrays == 0 then return table.unpack(args, 1, n) end
  local dsk = CP.graph(arrays, opts)
  for i, x in ipairs(arrays) do keys[i] = finalize(dsk, x) end
  local values = CP.run(dsk, keys, opts)
  local out = table.move(args, 1, n, 1, {})
  for i = 1, #arrays do out[where[i]] = values[i] end
  return table.unpack(out, 1, n)
end

core.Array.compute = CP.compute
core.Array.persist = CP.persist

return CP
