-- lask.getter: makes the get function of each scheduler (lask.sync, lask.threaded,
-- lask.multiprocessing): what every get does before the engine runs — checks the
-- options, activates the callbacks, optionally optimises the graph — then the run
-- itself on the named engine scheduler (lask.core.get). Each scheduler module is
-- one line: require("lask.getter").make_get(name).
--
-- Options (every scheduler): num_workers, callbacks (a list of callback objects),
-- optimize (cull and fuse first), lua ("caller", the default, or "parallel": where
-- Lua tasks run: on every worker's own Lua state, lask.threaded), strict (with
-- lua = "parallel": a task that cannot be copied is an error). Any other field is an error naming the valid ones, with the
-- nearest as "did you mean" (a typo used to run with the defaults).
local core = require "lask.core"
local callbacks = require "lask.callbacks"

local M = {}

-- Edit distance between two short strings (Levenshtein), for "did you mean".
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- The valid name nearest to name, if it is near enough to be a typo.
function M.nearest(name, valid)
  local best, bestd = nil, math.huge
  for v in pairs(valid) do
    local d = distance(name, v)
    if d < bestd or (d == bestd and v < best) then best, bestd = v, d end
  end
  if best and bestd <= (#name <= 3 and 1 or 2) then return best end
  return nil
end

-- Raises, naming the unknown option of what (e.g. "get") and the valid ones, when
-- opts (a table) has a field not in valid (a set of names). hint(name) may add a
-- sentence for a name that is valid elsewhere. level as error's.
function M.check_names(opts, valid, what, level, hint)
  for k in pairs(opts) do
    if not valid[k] then
      local names = {}
      for v in pairs(valid) do names[#names + 1] = v end
      table.sort(names)
      local near = type(k) == "string" and M.nearest(k, valid)
      local msg = ("%s: unknown option %s%s (valid options: %s)%s"):format(what,
        type(k) == "string" and ("'" .. k .. "'") or tostring(k),
        near and ("; did you mean '" .. near .. "'?") or "", table.concat(names, ", "),
        hint and hint(k) or "")
      error(msg, level + 1)
    end
  end
end

-- The options of every scheduler's get.
local GET_OPTIONS = { num_workers = true, callbacks = true, optimize = true, lua = true, strict = true }
M.GET_OPTIONS = GET_OPTIONS

-- Where Lua tasks run: "caller" (the calling Lua state, one task at a time; the default)
-- or "parallel" (Lua tasks in parallel).
local LUA_MODES = { caller = true, parallel = true }

local function scheduler_hint(k)
  if type(k) == "string" and M.nearest(k, { scheduler = true, get = true }) then
    return "; a scheduler is chosen by calling its get (lask.sync.get, lask.threaded.get, "
      .. "lask.multiprocessing.get) or with compute's scheduler option"
  end
  return ""
end

local function check_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("get: opts must be a table, got " .. type(opts), 3) end
  M.check_names(opts, GET_OPTIONS, "get", 3, scheduler_hint)
  local nw = opts.num_workers
  if nw ~= nil and (math.type(nw) ~= "integer" or nw < 1) then
    error("get: num_workers must be a positive integer, got " .. tostring(nw), 3)
  end
  if opts.lua ~= nil and not LUA_MODES[opts.lua] then
    error("get: lua must be \"caller\" or \"parallel\", got " .. tostring(opts.lua), 3)
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
    local builder = core.isbuilder(dsk)
    if type(dsk) ~= "table" and not builder then
      error("get: the graph must be a table or a lask.graph_builder, got " .. type(dsk), 2)
    end
    if opts.optimize and builder then error("get: optimize needs a graph table, not a lask.graph_builder", 2) end
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
