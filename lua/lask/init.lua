-- lask: parallel task graphs for Lua (the README is the guide).
local core = require "lask.core"

local lask = {
  _VERSION = "lask " .. core.version, -- as Lua's own _VERSION ("Lua 5.4")
  version = core.version, -- "MAJOR.MINOR.PATCH"
  key = core.key,
  iskey = core.iskey,
  quote = core.quote,
  kernels = core.kernels,
  clock = core.clock,
}

-- lask.get is the threaded scheduler's get.
function lask.get(dsk, keys, opts) return require("lask.threaded").get(dsk, keys, opts) end

-- lask.tostring(dsk) prints a graph; given a lask.array or a delayed value, its graph.
function lask.tostring(dsk)
  local mt = getmetatable(dsk)
  if type(mt) == "table" and (mt.__name == "lask.array" or mt.__name == "lask.delayed") then dsk = dsk.dask end
  return require("lask.graph").tostring(dsk)
end

-- Sorted list of a graph's keys: strings first, then tuple keys, each in order.
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

-- order(dsk [, keys]): key -> priority, lower runs first: the engine's lask_order
-- (engine/core/order.c), the one every scheduler runs by. It reads the graph's
-- structure only: renaming keys never changes which branch runs first.
function lask.order(dsk, keys)
  if type(dsk) ~= "table" then error("order: the graph must be a table, got " .. type(dsk), 2) end
  return core.order(dsk, keys or sorted_keys(dsk))
end

-- The Dask graph utilities live in lask.graph and lask.optimization; they are
-- reached through lask as Dask's are through dask.core and dask.optimization.
local lazy = {
  istask = "lask.graph", get_dependencies = "lask.graph", get_deps = "lask.graph", toposort = "lask.graph",
  getcycle = "lask.graph", isdag = "lask.graph", subs = "lask.graph", flatten = "lask.graph",
  tostring = "lask.graph", cull = "lask.optimization", fuse = "lask.optimization", inline = "lask.optimization",
  inline_functions = "lask.optimization",
  visualize = "lask.visualize", compute = "lask.delayed", delayed = "lask.delayed",
}

return setmetatable(lask, {
  __index = function(t, name)
    local mod = lazy[name]
    if not mod then return nil end
    local f = require(mod)[name]
    rawset(t, name, f)
    return f
  end,
})
