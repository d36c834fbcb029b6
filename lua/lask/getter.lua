-- lask.getter: makes the get function of each scheduler (lask.sync, lask.threaded,
-- lask.multiprocessing): what every get does before the engine runs — checks the
-- options, activates the callbacks, optionally optimises the graph — then the run
-- itself on the named engine scheduler (lask.core.get). Each scheduler module is
-- one line: require("lask.getter").make_get(name). Options: num_workers, callbacks,
-- optimize, lua ("caller" or "parallel": where Lua tasks run, lask.threaded only),
-- strict (with lua = "parallel": a task that cannot be copied is an error).
local core = require "lask.core"
local callbacks = require "lask.callbacks"

local M = {}

local function check_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("get: opts must be a table, got " .. type(opts), 3) end
  local nw = opts.num_workers
  if nw ~= nil and (math.type(nw) ~= "integer" or nw < 1) then
    error("get: num_workers must be a positive integer, got " .. tostring(nw), 3)
  end
  local lua = opts.lua
  if lua ~= nil and lua ~= "caller" and lua ~= "parallel" then
    error("get: lua must be \"caller\" or \"parallel\", got " .. tostring(lua), 3)
  end
  return opts
end

-- Optimises like Dask's default: cull to the keys, then fuse linear chains.
local function optimize(dsk, keys)
  local opt = require "lask.optimization"
  local flat = {}
  local function collect(k)
    if type(k) == "table" and getmetatable(k) == nil then
      for _, v in ipairs(k) do collect(v) end
    else
      flat[#flat + 1] = k
    end
  end
  collect(keys)
  local culled, deps = opt.cull(dsk, flat)
  return (opt.fuse(culled, flat, deps))
end

-- A get function for the named engine scheduler.
function M.make_get(name)
  return function(dsk, keys, opts)
    opts = check_opts(opts)
    if type(dsk) ~= "table" then error("get: the graph must be a table, got " .. type(dsk), 2) end
    if opts.optimize then dsk = optimize(dsk, keys) end
    return core.get(dsk, keys, {
      scheduler = name,
      num_workers = opts.num_workers,
      callbacks = callbacks.active(opts.callbacks),
      lua = opts.lua,
      strict = opts.strict,
    })
  end
end

return M
