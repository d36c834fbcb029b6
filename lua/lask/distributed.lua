--- One graph over the ranks of an MPI job: owners, each rank's part, errors.
-- The half of `lask.mpi` that needs no MPI: `lask.mpi` (lua/mpi/lmpi.c) gives
-- the messenger and calls `make`, which returns the module users see
-- (`mpi.rank`, `mpi.size`, `mpi.get`).
--
-- Every rank runs the same script, so every rank has the same graph: nothing but
-- values travels. A get culls the graph to the keys, sorts its keys (Lua's string
-- hash differs between processes, so table order does too) and numbers them in
-- that order (a key's number is its message tag), decides every key's owner the
-- same way on every rank (`plan`), and runs on this rank only the tasks it owns
-- (lask.threaded's scheduler, with the values of other ranks' keys fed in as
-- they arrive and its own values sent once to each rank that reads them:
-- lua/binding/ldist.c). Data (a key whose value is no task and names no key) is
-- never sent: every rank has it.
-- @module lask.distributed
local core = require "lask.core"
local optimization = require "lask.optimization"
local getter = require "lask.getter"

local M = {}

-- A value that stays on the rank that computed it (mpi.get's keep, x:persist): every
-- rank's graph holds one per key, with the value only on that rank.
local Held = { __name = "lask.mpi.held" }
Held.__index = Held
function Held.__tostring(h) return ("lask.mpi.held(rank %d)"):format(h.rank) end
M.held_made = 0 -- how many were made (a get looks for them only then)

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

--- Plans this rank's part of a get: its graph and what travels.
-- The owners are decided in C (core.fed_plan, lua/binding/lplan.c), the same way on
-- every rank: `opts.owner` as `rule` — a function(key) -> rank (0-based), `"hash"` (a
-- hash of the key's text), or `"blocks"` (the default): tuple keys of array blocks
-- `(name, i, ...)` split over the ranks in contiguous ranges of `i` per name (aligned
-- arrays share ranks, element-wise work moves nothing); another task goes, in
-- dependency order, to the owner of a dependency (the one of lowest key), unless
-- that rank already holds more than its share (then to the least loaded rank); a
-- task with none is hashed. Data (no task in it) is on every rank, never sent.
-- @param dsk table: the graph
-- @param keys: the requested keys (a key or nested lists)
-- @param rank integer: this rank
-- @param size integer: the number of ranks
-- @param[opt] rule function|string: the owner rule
-- @param[opt] keep boolean: the requested keys stay on their owners
-- @param[opt] root integer: the requested keys go to this rank only
-- @return table: `dsk` (this rank's graph: its tasks, the data, and a placeholder for
-- each value it receives), `inputs` (key -> tag), `outputs` (key -> {tag, rank...}),
-- `sent` (the values this rank sends, once per rank), `ntags` (the largest tag)
-- @raise for a bad graph (a missing key, a cycle) or an owner that is not a rank
function M.plan(dsk, keys, rank, size, rule, keep, root)
  local held
  if M.held_made > 0 then -- values persisted on one rank: owned there
    for k, v in pairs(dsk) do
      if getmetatable(v) == Held then
        held = held or {}
        held[k] = v.rank
      end
    end
  end
  local part = core.fed_plan(dsk, keys, rank, size, rule, held, keep, root)
  local ldsk, ntags = {}, 0
  for _, k in ipairs(part.data) do ldsk[k] = dsk[k] end
  for _, k in ipairs(part.owned) do
    local v = dsk[k]
    if getmetatable(v) == Held then v = v.value end
    ldsk[k] = v
  end
  for k, tag in pairs(part.inputs) do ldsk[k], ntags = false, math.max(ntags, tag) end
  for _, out in pairs(part.outputs) do ntags = math.max(ntags, out[1]) end
  return { dsk = ldsk, inputs = part.inputs, outputs = part.outputs, sent = part.sent, ntags = ntags,
    where = part.where }
end

-- Replaces the keys of keys (a key or nested lists) by f(key), in a new structure.
local function map_keys(keys, f)
  if type(keys) == "table" and getmetatable(keys) == nil then
    local out = {}
    for i, k in ipairs(keys) do out[i] = map_keys(k, f) end
    return out
  end
  return f(keys)
end

-- A key as bytes: "" for none, "s" .. a string key, "t" then a tuple key's parts
-- (strings and numbers).
local function encode_key(k)
  if k == nil then return "" end
  if type(k) == "string" then return "s" .. k end
  local parts = { "t" }
  for i = 1, #k do
    local v = k[i]
    parts[#parts + 1] = type(v) == "string" and string.pack("<Bs4", 1, v)
      or math.type(v) == "integer" and string.pack("<Bi8", 2, v) or string.pack("<Bd", 3, v)
  end
  return table.concat(parts)
end

local function decode_key(s)
  if s == "" then return nil end
  if s:sub(1, 1) == "s" then return s:sub(2) end
  local parts, pos = {}, 2
  while pos <= #s do
    local kind, v
    kind, pos = string.unpack("<B", s, pos)
    v, pos = string.unpack(kind == 1 and "<s4" or kind == 2 and "<i8" or "<d", s, pos)
    parts[#parts + 1] = v
  end
  return core.key(table.unpack(parts))
end

-- An error as bytes for the other ranks: its key, kind, message and traceback.
local function encode_error(err)
  if type(err) ~= "table" then err = { message = tostring(err) } end
  return string.pack("<s4s4s4s4", encode_key(err.key), tostring(err.kind or "task"), tostring(err.message or err),
    tostring(err.traceback or ""))
end

-- The error every rank raises: the lowest rank's, as a lask.error with err.rank.
local function raise_first(errs)
  table.sort(errs, function(a, b) return a[1] < b[1] end)
  local first = errs[1]
  local key, kind, message, traceback = string.unpack("<s4s4s4s4", first[2])
  local err = { kind = kind, key = decode_key(key), message = message, traceback = traceback, rank = first[1] }
  if traceback == "" then err.traceback = nil end
  error(setmetatable(err, debug.getregistry()["lask.error"]), 0)
end

local GET_OPTIONS = { num_workers = true, optimize = true, lua = true, strict = true, owner = true, keep = true,
  root = true }

--- Makes the lask.mpi module around a messenger's Lua side.
-- @param c table: `rank`, `size`, `_begin()` (a new get: gives the messenger),
-- `_finish(failed [, error bytes])` (ends it; the errors of every rank), `_tag_ub()`
-- @return table: the module: `rank`, `size`, `get`, `abort`
function M.make(c)
  local mpi = { rank = c.rank, size = c.size, abort = c.abort }
  local last = { values = 0, messages = 0, bytes = 0, copied = 0 }

  --- What the last mpi.get moved on this rank.
  -- @return table: `values` (values this rank sent, counting each rank it sent one
  -- to), `messages` and `bytes` (the MPI messages this rank sent and their bytes: an
  -- array of 16 KiB or more is two, a header and its elements), `copied` (array
  -- element bytes copied into or out of messages on this rank: a strided array
  -- packed to be sent, a small array inline; 0 when only large C-contiguous arrays
  -- travelled, sent from and received into their own buffers)
  -- @usage local mpi = require "lask.mpi"
  -- mpi.get({ a = 1, b = { function(x) return x + 1 end, "a" } }, "b")
  -- assert(mpi.size > 1 or mpi.stats().messages == 0)
  function mpi.stats()
    return { values = last.values, messages = last.messages, bytes = last.bytes, copied = last.copied }
  end

  --- Runs a graph over every rank of the job; every rank gets the same result.
  -- Every rank calls it with the same graph and keys (the same script). Each task
  -- runs on its owner rank (opts.owner: a function(key) -> rank, `"hash"`, or
  -- `"blocks"`, the default: see lask.distributed.owners), on lask.threaded's
  -- scheduler there; values cross ranks at most once per rank that reads them.
  -- @param dsk table: the graph
  -- @param keys: a key or (nested) list of keys
  -- @param[opt] opts table: `owner`, `num_workers`, `optimize`, `lua`, `strict` (as lask.get's),
  -- `keep` (true: each value stays on its owner rank: the result holds, for each key,
  -- a `lask.mpi.held` object — `.rank`, and `.value` on that rank only — which a later
  -- mpi.get's graph may hold as the key's value: it is then read where it is),
  -- `root` (a rank: only that rank receives the requested values; every other rank
  -- gets nil for each key, as mpi4py's gather gives None off its root, and sends
  -- what it owns to root alone)
  -- @return the values, mirroring keys, on every rank (on rank `root` only, with root)
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
    local root = opts.root
    if root ~= nil and (math.type(root) ~= "integer" or root < 0 or root >= c.size) then
      error(("mpi.get: root must be a rank 0..%d, got %s"):format(c.size - 1, tostring(root)), 2)
    end
    if root ~= nil and opts.keep then error("mpi.get: root and keep cannot be used together", 2) end
    if opts.optimize then
      dsk = optimization.fuse((optimization.cull(dsk, flatten_keys(keys))), flatten_keys(keys))
    end
    local plan = M.plan(dsk, keys, c.rank, c.size, rule, opts.keep, root)
    local lkeys = keys
    if opts.keep or (root and root ~= c.rank) then -- only what this rank owns (or every rank has) is computed here
      lkeys = {}
      for _, k in ipairs(flatten_keys(keys)) do
        local r = plan.where[k]
        if r == -1 or r == c.rank then lkeys[#lkeys + 1] = k end
      end
    end
    if plan.ntags > c._tag_ub() then
      error(("mpi.get: %d keys, more than MPI's largest tag (%d)"):format(plan.ntags, c._tag_ub()), 2)
    end
    mpi.last_sent = plan.sent
    local messenger = c._begin()
    last = { values = plan.sent, messages = 0, bytes = 0, copied = 0 }
    local ok, res = pcall(core.get, plan.dsk, lkeys, {
      scheduler = "threaded", num_workers = opts.num_workers, lua = opts.lua, strict = opts.strict,
      fed = { messenger = messenger, inputs = plan.inputs, outputs = plan.outputs },
    })
    if ok then
      c._finish(false)
      last = c._stats()
      last.values = plan.sent
      if root and root ~= c.rank then return map_keys(keys, function() return nil end) end
      if not opts.keep then return res end
      local mine = {}
      for i, k in ipairs(lkeys) do mine[k] = res[i] end
      return map_keys(keys, function(k)
        local r = plan.where[k]
        if r == -1 then return mine[k] end
        M.held_made = M.held_made + 1
        return setmetatable({ rank = r, value = r == c.rank and mine[k] or nil }, Held)
      end)
    end
    local remote = type(res) == "table" and res.kind == "remote"
    local errs = c._finish(true, not remote and encode_error(res) or nil)
    last = c._stats()
    last.values = plan.sent
    if #errs == 0 then error(res, 0) end
    raise_first(errs)
  end

  return mpi
end

return M
