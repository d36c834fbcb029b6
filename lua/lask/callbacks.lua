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
-- starts: the debug library gives each running Lua function's variables in scope
-- (slot and name), and its bytecode (`string.dump`, read once per function and
-- cached) says which slot and name each `<close>` variable has. A
-- `<close>` variable in a function that called `coroutine.resume` is not seen from
-- inside the coroutine, nor one in a function loaded without debug information
-- (`string.dump(f, true)`): register the object there instead. Leaving the variable's
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

-- A reader of a string.dump'ed chunk (ldump.c's format): s, and pos the next byte.
local function reader(s, pos) return { s = s, pos = pos } end

-- lundump.c's loadUnsigned: 7 bits a byte, most significant first, the last byte
-- flagged with 0x80. Raises at the end of the string.
local function read_varint(r)
  local x = 0
  repeat
    local b = r.s:byte(r.pos) or error("truncated dump")
    x = (x << 7) | (b & 0x7f)
    r.pos = r.pos + 1
  until b & 0x80 ~= 0
  return x
end

-- A string: its length + 1 (0 for none), then its bytes.
local function read_string(r)
  local n = read_varint(r)
  if n == 0 then return nil end
  local str = r.s:sub(r.pos, r.pos + n - 2)
  r.pos = r.pos + n - 1
  return str
end

local CONST_SIZE = { [0x03] = 8, [0x13] = 8 } -- integer, float; nil and booleans: 0; strings: a string

-- Reads a function (ldump.c's dumpFunction) and, if keep, returns its code (the
-- position of its first instruction and their count) and its local variables
-- ({name, startpc}); nested functions are read past.
local function read_function(r, keep)
  read_string(r) -- source
  read_varint(r) -- linedefined
  read_varint(r) -- lastlinedefined
  r.pos = r.pos + 3 -- numparams, is_vararg, maxstacksize
  local ncode = read_varint(r)
  local code = r.pos
  r.pos = r.pos + 4 * ncode
  for _ = 1, read_varint(r) do -- constants
    local tag = r.s:byte(r.pos) or error("truncated dump")
    r.pos = r.pos + 1
    if tag == 0x04 or tag == 0x14 then read_string(r) else r.pos = r.pos + (CONST_SIZE[tag] or 0) end
  end
  local nup = read_varint(r) -- (read before r.pos is: read_varint moves it)
  r.pos = r.pos + 3 * nup -- upvalues: instack, idx, kind
  for _ = 1, read_varint(r) do read_function(r, false) end
  local nlines = read_varint(r)
  r.pos = r.pos + nlines -- lineinfo, a byte an instruction
  for _ = 1, read_varint(r) do -- abslineinfo: pc, line
    read_varint(r)
    read_varint(r)
  end
  local locvars = {}
  for i = 1, read_varint(r) do
    local name = read_string(r)
    local startpc = read_varint(r)
    read_varint(r) -- endpc
    if keep then locvars[i] = { name = name, startpc = startpc } end
  end
  for _ = 1, read_varint(r) do read_string(r) end -- upvalue names
  if r.pos > #r.s + 1 then error("truncated dump") end
  return code, ncode, locvars
end

-- The to-be-closed variables of f's own code, from its bytecode: a list of {reg =
-- (0-based register), names = {name = true}}: the variables its TBC instructions
-- declare (a variable starts at its TBC instruction). names is nil when the dump
-- cannot be read past the code (then any variable in the register counts); the list
-- is empty when the dump is not Lua 5.4's.
local function scan_tbc(f)
  local ok, s = pcall(string.dump, f)
  if not ok or s:sub(1, 4) ~= "\27Lua" or s:byte(5) ~= 0x54 or s:byte(6) ~= 0 or s:byte(13) ~= 4 then
    return {}
  end
  local r = reader(s, HEADER_LEN + 2) -- after the header and the count of upvalues
  local parsed, code, ncode, locvars = pcall(read_function, r, true)
  if not parsed then
    -- the code alone (it comes first): registers without names
    local ok2, c, n = pcall(function()
      local r2 = reader(s, HEADER_LEN + 2)
      read_string(r2)
      read_varint(r2)
      read_varint(r2)
      r2.pos = r2.pos + 3
      local count = read_varint(r2)
      return r2.pos, count
    end)
    if not ok2 or c + 4 * n - 1 > #s then return {} end
    code, ncode, locvars = c, n, nil
  end
  local by_reg, list = {}, {}
  for pc = 0, ncode - 1 do
    local ins = string.unpack("=I4", s, code + 4 * pc)
    if ins & 0x7f == OP_TBC then
      local reg = (ins >> 7) & 0xff
      local entry = by_reg[reg]
      if not entry then
        entry = { reg = reg, names = locvars and {} or nil }
        by_reg[reg] = entry
        list[#list + 1] = entry
      end
      for _, v in ipairs(locvars or {}) do
        if v.startpc == pc and v.name then entry.names[v.name] = true end
      end
    end
  end
  table.sort(list, function(x, y) return x.reg < y.reg end)
  return list
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
-- variables of the functions running on this coroutine, outermost first. A variable
-- is taken as to-be-closed when its slot and its name are those of a `<close>`
-- variable of the function (so a plain local of another block reusing the slot
-- does not count, unless it has the same name too).
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
    for _, tbc in ipairs(fr.regs) do
      local name, v = debug.getlocal(fr.level, tbc.reg + 1)
      if name and name:sub(1, 1) ~= "(" and (tbc.names == nil or tbc.names[name])
        and M.is_callback(v) and not set[v] then
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
