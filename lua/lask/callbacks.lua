--- Callback objects, and which of them a get calls.
-- A callback object has any of `start(dsk)`, `pretask(key, dsk, state)`,
-- `posttask(key, result, dsk, state, worker_id)`, `finish(dsk, state, errored)`,
-- called as plain functions (no self), as Dask's `Callback(start=..., ...)` does;
-- and `timeline(trace)`: the engine's record of every task (key, start, finish,
-- worker), given after the run to objects that have it (see lua/binding/ltrace.c).
--
-- Making a callback object activates nothing (as in Dask). A get calls the callback
-- objects that are **active when it starts**:
--
-- 1. those registered with `cb:register()` and not yet `cb:unregister()`ed, in the
--    order they were registered; then
-- 2. those held by a to-be-closed variable (`local cb <close> = ...`) that is in
--    scope in a function running on the calling coroutine, outermost function
--    first, in the order of declaration; then
-- 3. those in the get's `callbacks` option.
--
-- Each object is called once a get even if it is active several ways. Lua has no
-- hook for entering a block, so rule 2 is applied by looking at the stack when a get
-- starts: the debug library gives each running Lua function's variables, and its
-- bytecode says which variable slots are to-be-closed (cached per function). A
-- `<close>` variable in a function that called `coroutine.resume` is not seen from
-- inside the coroutine: register the object there instead. Leaving the variable's
-- scope (or an error passing through it) closes the object, which also ends any
-- registration.
-- @module lask.callbacks
local M = {}

local registered = {} -- registration order, so callbacks run in the order they were made active

--- The class of callback objects; other callback classes take their methods from it.
-- @table Callback
local Callback = {}
Callback.__index = Callback
Callback.__name = "lask.Callback"
Callback.__lask_callback = true

--- Activates the callback object until `cb:unregister()`.
-- @return the object itself
-- @usage local cb = require("lask.callbacks").Callback { finish = function() end }
-- assert(cb:register() == cb)
-- cb:unregister()
function Callback:register()
  for _, cb in ipairs(registered) do
    if cb == self then return self end
  end
  registered[#registered + 1] = self
  return self
end

--- Ends a registration made by `cb:register()` (nothing if there is none).
-- @return the object itself
function Callback:unregister()
  for i, cb in ipairs(registered) do
    if cb == self then
      table.remove(registered, i)
      return self
    end
  end
  return self
end

Callback.__close = function(self) return self:unregister() end

--- A new class of callback objects named name, with the Callback methods.
-- @param name string: the class's `__name`
-- @return table: the class (its methods go in it; it is its own `__index`)
function M.class(name)
  local cls = setmetatable({}, { __index = Callback })
  cls.__index = cls
  cls.__name = name
  cls.__lask_callback = true
  cls.__close = Callback.__close
  return cls
end

--- Whether v is a callback object (made by `Callback` or a class from `class`).
-- @param v any value
-- @return boolean
function M.is_callback(v)
  local mt = type(v) == "table" and getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__lask_callback") == true
end

--- A callback object with the given functions; inactive until registered or held by
-- a `<close>` variable (see the rule above).
-- @param fields table: any of `start`, `pretask`, `posttask`, `finish`, `timeline` (functions)
-- @return lask.Callback
-- @raise when a field is not a function: "Callback: start must be a function, got number"
-- @usage local callbacks = require "lask.callbacks"
-- local n = 0
-- do
--   local cb <close> = callbacks.Callback { posttask = function() n = n + 1 end }
--   lask.get({ x = 1, y = { lask.kernels.inc, "x" } }, "y")
-- end
-- lask.get({ x = 1, y = { lask.kernels.inc, "x" } }, "y") -- cb is closed: not called
-- assert(n == 1)
function M.Callback(fields)
  local cb = setmetatable({}, Callback)
  for _, name in ipairs { "start", "pretask", "posttask", "finish", "timeline" } do
    local f = fields and fields[name]
    if f ~= nil and type(f) ~= "function" then
      error(("Callback: %s must be a function, got %s"):format(name, type(f)), 2)
    end
    cb[name] = f
  end
  return cb
end

-- To-be-closed variables ----------------------------------------------------------

-- Lua 5.4's binary chunk header (lundump.h): signature, version 5.4, format 0,
-- LUAC_DATA, then the sizes of Instruction, lua_Integer, lua_Number and two check numbers.
local HEADER_LEN = 4 + 1 + 1 + 6 + 3 + 8 + 8
local OP_TBC = 55 -- lopcodes.h: the opcode that marks a register to-be-closed

-- Reads an unsigned integer of lundump.c's loadUnsigned at pos: 7 bits a byte,
-- most significant first, the last byte flagged with 0x80. Returns it and the next pos.
local function read_varint(s, pos)
  local x = 0
  repeat
    local b = s:byte(pos)
    if not b then return nil end
    x = (x << 7) | (b & 0x7f)
    pos = pos + 1
  until b & 0x80 ~= 0
  return x, pos
end

-- The registers (0-based) that f's own code marks to-be-closed, from its bytecode;
-- an empty list when there are none or the dump is not the format expected.
local function scan_tbc(f)
  local ok, s = pcall(string.dump, f)
  if not ok or s:sub(1, 4) ~= "\27Lua" or s:byte(5) ~= 0x54 or s:byte(6) ~= 0 or s:byte(13) ~= 4 then
    return {}
  end
  local pos = HEADER_LEN + 2 -- after the header and the count of upvalues
  local srclen
  srclen, pos = read_varint(s, pos) -- the source: its length + 1, or 0
  if not srclen then return {} end
  pos = pos + math.max(srclen - 1, 0)
  for _ = 1, 2 do -- linedefined, lastlinedefined
    _, pos = read_varint(s, pos)
    if not pos then return {} end
  end
  pos = pos + 3 -- numparams, is_vararg, maxstacksize
  local ncode
  ncode, pos = read_varint(s, pos)
  if not ncode or pos + 4 * ncode - 1 > #s then return {} end
  local regs, seen = {}, {}
  for i = 0, ncode - 1 do
    local ins = string.unpack("=I4", s, pos + 4 * i)
    if ins & 0x7f == OP_TBC then
      local a = (ins >> 7) & 0xff
      if not seen[a] then
        seen[a] = true
        regs[#regs + 1] = a
      end
    end
  end
  table.sort(regs)
  return regs
end

local tbc_cache = setmetatable({}, { __mode = "k" })

local function tbc_registers(f)
  local regs = tbc_cache[f]
  if not regs then
    regs = scan_tbc(f)
    tbc_cache[f] = regs
  end
  return regs
end

-- Appends to list (and set) the callback objects held by in-scope to-be-closed
-- variables of the functions running on this coroutine, outermost first. (A slot
-- is taken as to-be-closed if the function marks it so anywhere: a plain local that
-- reuses the slot of a `<close>` variable of another block counts too.)
local function add_closing(list, set)
  local frames, level = {}, 2
  while true do
    local info = debug.getinfo(level, "fS")
    if not info then break end
    if info.what ~= "C" and info.func then
      local regs = tbc_registers(info.func)
      if #regs > 0 then frames[#frames + 1] = { level = level, regs = regs } end
    end
    level = level + 1
  end
  for i = #frames, 1, -1 do
    local fr = frames[i]
    for _, r in ipairs(fr.regs) do
      local name, v = debug.getlocal(fr.level, r + 1)
      if name and name:sub(1, 1) ~= "(" and M.is_callback(v) and not set[v] then
        set[v] = true
        list[#list + 1] = v
      end
    end
  end
end

--- The callback objects a get starting now calls (the rule above), then those in extra.
-- @param[opt] extra list of callback objects (the get's `callbacks` option)
-- @return list, or nil when there are none
function M.active(extra)
  local list, set = {}, {}
  for _, cb in ipairs(registered) do
    if not set[cb] then
      set[cb] = true
      list[#list + 1] = cb
    end
  end
  add_closing(list, set)
  for _, cb in ipairs(extra or {}) do list[#list + 1] = cb end
  if #list == 0 then return nil end
  return list
end

return M
