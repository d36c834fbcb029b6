--- One graph over the ranks of an MPI job: owners, each rank's part, errors.
-- The half of `lask.mpi` that needs no MPI: `lask.mpi` (lua/mpi/lmpi.c) gives
-- the messenger and calls `make`, which returns the module users see
-- (`mpi.rank`, `mpi.size`, `mpi.get`).
--
-- Every rank runs the same script, so every rank has the same graph: nothing but
-- values travels. A get culls the graph to the keys, sorts its keys (Lua's string
-- hash differs between processes, so table order does too) and numbers them in
-- that order (a key's number is its message tag), decides every key's owner the
-- same way on every rank (`owners`), and runs on this rank only the tasks it owns
-- (lask.threaded's scheduler, with the values of other ranks' keys fed in as
-- they arrive and its own values sent once to each rank that reads them:
-- lua/binding/ldist.c). Data (a key whose value is no task and names no key) is
-- never sent: every rank has it.
-- @module lask.distributed
local core = require "lask.core"
local graph = require "lask.graph"
local optimization = require "lask.optimization"
local getter = require "lask.getter"

local M = {}

-- Every key of a (nested) list of keys, in order.
local function flatten_keys(keys, out)
  out = out or {}
  if type(keys) == "table" and getmetatable(keys) == nil then
    for _, k in ipairs(keys) do flatten_keys(k, out) end
  else
    out[#out + 1] = keys
  end
  return out
end

-- Strings first, then tuple keys, each in order: the same on every rank.
local function key_less(a, b)
  local sa, sb = type(a) == "string", type(b) == "string"
  if sa ~= sb then return sa end
  return a < b
end

-- A 32-bit FNV-1a hash of a key's text: the same on every rank.
local function hash(k)
  local s = type(k) == "string" and k or core.keyrepr(k)
  local h = 2166136261
  for i = 1, #s do h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff end
  return h
end

-- A tuple key of an array block: ("name", i, ...) with an integer first coordinate.
local function block_of(k)
  if type(k) == "string" then return nil end
  local i = k[2]
  if math.type(i) ~= "integer" then return nil end
  return k[1], i
end

--- Decides which rank owns each task key, identically on every rank.
-- `rule` is a function(key) -> rank (0-based), `"hash"` (a hash of the key), or
-- `"blocks"` (the default): tuple keys of array blocks are split over the ranks in
-- contiguous ranges of their first block coordinate, per array name (so aligned
-- arrays share ranks and element-wise work moves nothing); another task goes to
-- the owner of its first dependency that has one (in dependency order), unless
-- that rank already holds more than its share (then to the least loaded rank);
-- a task with none is hashed.
-- @param sorted table: the task keys, sorted (key_less)
-- @param deps table: key -> list of its dependencies
-- @param data table: key -> true for data keys (no owner: every rank has them)
-- @param size integer: the number of ranks
-- @param[opt] rule function|string: as above
-- @return table: key -> rank
-- @raise when rule gives something that is not a rank
function M.owners(sorted, deps, data, size, rule)
  local owner = {}
  if type(rule) == "function" then
    for _, k in ipairs(sorted) do
      local r = rule(k)
      if math.type(r) ~= "integer" or r < 0 or r >= size then
        error(("mpi.get: owner(%s) gave %s, not a rank 0..%d"):format(graph.describe_key(k), tostring(r),
          size - 1), 3)
      end
      owner[k] = r
    end
    return owner
  end
  if rule == "hash" then
    for _, k in ipairs(sorted) do owner[k] = hash(k) % size end
    return owner
  end
  local lo, hi, load = {}, {}, {}
  for r = 0, size - 1 do load[r] = 0 end
  for _, k in ipairs(sorted) do
    local name, i = block_of(k)
    if name ~= nil then
      lo[name] = math.min(lo[name] or i, i)
      hi[name] = math.max(hi[name] or i, i)
    end
  end
  for _, k in ipairs(sorted) do
    local name, i = block_of(k)
    if name ~= nil then
      owner[k] = (i - lo[name]) * size // (hi[name] - lo[name] + 1)
      load[owner[k]] = load[owner[k]] + 1
    end
  end
  local cap = #sorted // size + #sorted // (4 * size) + 1
  local function least_loaded()
    local best = 0
    for r = 1, size - 1 do if load[r] < load[best] then best = r end end
    return best
  end
  local function decide(k)
    local r
    for _, d in ipairs(deps[k]) do
      if owner[d] ~= nil then r = owner[d]; break end
    end
    if r == nil then r = hash(k) % size end
    if load[r] >= cap then r = least_loaded() end
    owner[k], load[r] = r, load[r] + 1
  end
  -- dependencies first, depth-first with a work list (no recursion: chains are long)
  local state = {}
  for _, root in ipairs(sorted) do
    if owner[root] == nil and state[root] == nil then
      local stack, n = { root }, 1
      while n > 0 do
        local k = stack[n]
        if state[k] == nil then
          state[k] = 1
          for _, d in ipairs(deps[k]) do
            if state[d] == nil and owner[d] == nil and not data[d] then n = n + 1; stack[n] = d end
          end
        else
          stack[n], n = nil, n - 1
          if state[k] == 1 then
            state[k] = 2
            if owner[k] == nil then decide(k) end
          end
        end
      end
    end
  end
  return owner
end

-- True when the value v of a key with no dependencies is data (no task anywhere in it).
local function is_data(v)
  if graph.istask(v) then return false end
  if type(v) == "table" and getmetatable(v) == nil then
    for _, x in pairs(v) do
      if not is_data(x) then return false end
    end
  end
  return true
end

--- Plans this rank's part of a get: the local graph and what travels.
-- @param dsk table: the graph
-- @param keys: the requested keys (a key or nested lists)
-- @param rank integer: this rank
-- @param size integer: the number of ranks
-- @param[opt] rule function|string: the owner rule (`owners`)
-- @return table: the plan: `dsk` (this rank's graph: its tasks, the data, and a
-- placeholder for each value it receives), `inputs` (key -> tag), `outputs` (key
-- -> {tag, rank...}), `sorted` (tag -> key), `owner` (key -> rank), `sent` (the
-- number of values this rank sends, counting each rank it sends one to)
function M.plan(dsk, keys, rank, size, rule)
  local flat = flatten_keys(keys)
  local culled, deps = optimization.cull(dsk, flat)
  local sorted = {}
  for k in pairs(culled) do sorted[#sorted + 1] = k end
  table.sort(sorted, key_less)
  local data, tasks = {}, {}
  for _, k in ipairs(sorted) do
    if #deps[k] == 0 and is_data(culled[k]) then data[k] = true else tasks[#tasks + 1] = k end
  end
  local owner = M.owners(tasks, deps, data, size, rule)
  local tag = {}
  for i, k in ipairs(sorted) do tag[k] = i end
  -- need[k]: the other ranks that read k's value
  local need = {}
  local function wants(k, r)
    if data[k] or owner[k] == r then return end
    local set = need[k]
    if not set then set = {}; need[k] = set end
    set[r] = true
  end
  for _, k in ipairs(tasks) do
    for _, d in ipairs(deps[k]) do wants(d, owner[k]) end
  end
  for _, k in ipairs(flat) do
    for r = 0, size - 1 do wants(k, r) end
  end
  local ldsk, inputs, outputs, sent = {}, {}, {}, 0
  for _, k in ipairs(sorted) do
    if data[k] then
      ldsk[k] = culled[k]
    elseif owner[k] == rank then
      ldsk[k] = culled[k]
      if need[k] then
        local out = { tag[k] }
        for r = 0, size - 1 do if need[k][r] then out[#out + 1] = r end end
        outputs[k] = out
        sent = sent + #out - 1
      end
    elseif need[k] and need[k][rank] then
      ldsk[k] = false -- a placeholder: its value arrives from owner[k]
      inputs[k] = tag[k]
    end
  end
  return { dsk = ldsk, inputs = inputs, outputs = outputs, sorted = sorted, owner = owner, sent = sent }
end

-- An error as bytes for the other ranks: the key's tag, kind, message, traceback.
local function encode_error(err, tag)
  if type(err) ~= "table" then err = { message = tostring(err) } end
  local key = err.key
  return string.pack("<i8s4s4s4", key ~= nil and tag[key] or 0, tostring(err.kind or "task"),
    tostring(err.message or err), tostring(err.traceback or ""))
end

-- The error every rank raises: the lowest rank's, as a lask.error with err.rank.
local function raise_first(errs, sorted)
  table.sort(errs, function(a, b) return a[1] < b[1] end)
  local first = errs[1]
  local t, kind, message, traceback = string.unpack("<i8s4s4s4", first[2])
  local err = { kind = kind, key = sorted[t], message = message, traceback = traceback, rank = first[1] }
  if traceback == "" then err.traceback = nil end
  error(setmetatable(err, debug.getregistry()["lask.error"]), 0)
end

local GET_OPTIONS = { num_workers = true, optimize = true, lua = true, strict = true, owner = true }

--- Makes the lask.mpi module around a messenger's Lua side.
-- @param c table: `rank`, `size`, `_begin()` (a new get: gives the messenger),
-- `_finish(failed [, error bytes])` (ends it; the errors of every rank), `_tag_ub()`
-- @return table: the module: `rank`, `size`, `get`, `abort`
function M.make(c)
  local mpi = { rank = c.rank, size = c.size, abort = c.abort }

  --- Runs a graph over every rank of the job; every rank gets the same result.
  -- Every rank calls it with the same graph and keys (the same script). Each task
  -- runs on its owner rank (opts.owner: a function(key) -> rank, `"hash"`, or
  -- `"blocks"`, the default: see lask.distributed.owners), on lask.threaded's
  -- scheduler there; values cross ranks at most once per rank that reads them.
  -- @param dsk table: the graph
  -- @param keys: a key or (nested) list of keys
  -- @param[opt] opts table: `owner`, `num_workers`, `optimize`, `lua`, `strict` (as lask.get's)
  -- @return the values, mirroring keys, on every rank
  -- @raise a lask.error, the same on every rank: the failing task's `key`,
  -- `message`, `traceback`, and `rank` (where it failed; the lowest rank's error
  -- when several failed)
  -- @usage local mpi = require "lask.mpi"  -- under mpirun -np N, or alone (one rank)
  -- local d = { a = 1, b = { function(x) return x + 1 end, "a" } }
  -- assert(mpi.get(d, "b") == 2)
  function mpi.get(dsk, keys, opts)
    opts = opts or {}
    if type(opts) ~= "table" then error("mpi.get: opts must be a table, got " .. type(opts), 2) end
    getter.check_names(opts, GET_OPTIONS, "mpi.get", 2)
    if type(dsk) ~= "table" then error("mpi.get: the graph must be a table, got " .. type(dsk), 2) end
    local rule = opts.owner
    if rule ~= nil and type(rule) ~= "function" and rule ~= "hash" and rule ~= "blocks" then
      error("mpi.get: owner must be a function(key) -> rank, \"blocks\" or \"hash\", got " .. tostring(rule), 2)
    end
    if opts.optimize then
      dsk = optimization.fuse((optimization.cull(dsk, flatten_keys(keys))), flatten_keys(keys))
    end
    local plan = M.plan(dsk, keys, c.rank, c.size, rule)
    if #plan.sorted > c._tag_ub() then
      error(("mpi.get: %d keys, more than MPI's largest tag (%d)"):format(#plan.sorted, c._tag_ub()), 2)
    end
    mpi.last_sent = plan.sent
    local messenger = c._begin()
    local ok, res = pcall(core.get, plan.dsk, keys, {
      scheduler = "threaded", num_workers = opts.num_workers, lua = opts.lua, strict = opts.strict,
      fed = { messenger = messenger, inputs = plan.inputs, outputs = plan.outputs },
    })
    if ok then
      c._finish(false)
      return res
    end
    local remote = type(res) == "table" and res.kind == "remote"
    local errs = c._finish(true, not remote and encode_error(res, setmetatable({}, {
      __index = function(_, k) for i, x in ipairs(plan.sorted) do if x == k then return i end end end,
    })) or nil)
    if #errs == 0 then error(res, 0) end
    raise_first(errs, plan.sorted)
  end

  return mpi
end

return M
