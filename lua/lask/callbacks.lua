--- Callback objects: functions a get calls around its tasks, as Dask's `Callback`.
-- A callback object has any of `start(dsk)`, `pretask(key, dsk, state)`,
-- `posttask(key, result, dsk, state, worker_id)`, `finish(dsk, state, errored)`,
-- called as plain functions (no self), as Dask's `Callback(start=..., ...)` does;
-- and `timeline(trace)`: the engine's record of every task (key, start, finish,
-- worker), given after the run to objects that have it (see lua/binding/ltrace.c).
-- It is active while a `<close>` variable holds it, or between `register()` and
-- `unregister()`; a get's `callbacks` option adds objects for that get only. The
-- callbacks run on the calling thread, between tasks, on every scheduler.
-- @module lask.callbacks
local M = {}

local active = {} -- registration order, so callbacks run in the order they were made active

local Callback = {}
Callback.__index = Callback
Callback.__name = "lask.Callback"

function Callback:register()
  for _, cb in ipairs(active) do
    if cb == self then return self end
  end
  active[#active + 1] = self
  return self
end

function Callback:unregister()
  for i, cb in ipairs(active) do
    if cb == self then
      table.remove(active, i)
      return self
    end
  end
  return self
end

Callback.__close = Callback.unregister

--- A callback object, active at once: `local cb <close> = Callback{...}` scopes it like Dask's `with`.
-- `cb:register()` and `cb:unregister()` activate and deactivate it (both return it).
-- @param fields table: any of `start`, `pretask`, `posttask`, `finish`, `timeline` (functions)
-- @return the callback object, registered
-- @raise when a field is not a function
-- @usage local cb = require "lask.callbacks"
-- local seen = {}
-- do
--   local c <close> = cb.Callback{posttask = function(key, result) seen[key] = result end}
--   lask.get({x = 1, y = {lask.kernels.inc, "x"}}, "y")
-- end
-- assert(seen.y == 2)
function M.Callback(fields)
  local cb = setmetatable({}, Callback)
  for _, name in ipairs { "start", "pretask", "posttask", "finish", "timeline" } do
    local f = fields and fields[name]
    if f ~= nil and type(f) ~= "function" then
      error(("Callback: %s must be a function, got %s"):format(name, type(f)), 2)
    end
    cb[name] = f
  end
  return cb:register()
end

-- The callbacks a get should call: the registered ones, then those in extra; nil when none.
function M.active(extra)
  if #active == 0 and (extra == nil or #extra == 0) then return nil end
  local list = table.move(active, 1, #active, 1, {})
  for _, cb in ipairs(extra or {}) do list[#list + 1] = cb end
  return list
end

return M
