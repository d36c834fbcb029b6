--- The manual at the prompt: `help(f)`, `help "lask.array"`, `help "da.sum"`.
-- Entries are the LDoc comments of the Lua sources (`---` summary lines, `@param`,
-- `@return`, `@raise`, `@usage`), read from the module's source file found with
-- `package.searchpath` on `package.path`, else from the copy built into the `lask`
-- program, else from the file the function was loaded from. The `lask` REPL defines
-- the global `help`; elsewhere `require("lask").help(x)`.
-- @module lask.help
local M = {}

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The source text of the module named name, and where it came from.
local function module_source(name)
  local path = package.searchpath(name, package.path)
  if path then return read_all(path), path end
  local ok, sources = pcall(require, "lask.sources") -- the lask program's built-in copies
  if ok and type(sources) == "function" then
    local src = sources(name)
    if src then return src, "(built into lask) " .. name end
  end
  return nil
end

-- Whether name is a module that can be required (loaded, preloaded or on the path).
local function is_module(name)
  if package.loaded[name] ~= nil or package.preload[name] ~= nil then return true end
  return package.searchpath(name, package.path) ~= nil
end

-- The module name a chunk name like "@lua/lask/array/init.lua" stands for.
local function module_of_chunk(source)
  local rel = source:match("^@.-(lask/[%w_/]+)%.lua$") or source:match("^@(lask/[%w_/]+)%.lua$")
  if not rel then return nil end
  return (rel:gsub("/init$", ""):gsub("/", "."))
end

-- The source text of the file a function was loaded from.
local function function_source(info)
  local mod = module_of_chunk(info.source)
  if mod then
    local src, where = module_source(mod)
    if src then return src, where end
  end
  if info.source:sub(1, 1) == "@" then
    local path = info.source:sub(2)
    local src = read_all(path)
    if src then return src, path end
  end
  return nil
end

local function split_lines(src)
  local lines = {}
  for line in (src .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = line end
  return lines
end

-- The comment block just above line n (the lines starting with "--"), from its
-- first "---" line if it has one; nil if there is none.
local function comment_above(lines, n)
  local first = n
  while first > 1 and lines[first - 1]:match("^%s*%-%-") do first = first - 1 end
  if first == n then return nil end
  local block = {}
  for i = first, n - 1 do block[#block + 1] = lines[i] end
  for i, l in ipairs(block) do
    if l:match("^%s*%-%-%-") then return table.move(block, i, #block, 1, {}) end
  end
  return block
end

-- The comment block at the top of a file (after a #! line).
local function comment_at_top(lines)
  local i = lines[1] and lines[1]:match("^#!") and 2 or 1
  local block = {}
  while lines[i] and lines[i]:match("^%s*%-%-") do
    block[#block + 1] = lines[i]
    i = i + 1
  end
  return #block > 0 and block or nil
end

-- Turns an LDoc block into the text shown: summary and description, then
-- Parameters, Returns, Raises and Example sections.
local function render_block(block)
  local body, params, returns, raises, usage = {}, {}, {}, {}, {}
  local target = body
  for _, line in ipairs(block) do
    local text = line:gsub("^%s*%-%-%-?%s?", "")
    local tag, rest = text:match("^@([%w_]+)%S*%s*(.*)$")
    local opt = text:match("^@param%[opt%]")
    if tag == "param" then
      local name, desc = rest:match("^(%S+)%s*(.*)$")
      params[#params + 1] = ("  %s%s: %s"):format(name or rest, opt and " (optional)" or "", desc or "")
      target = params
    elseif tag == "return" then
      returns[#returns + 1] = "  " .. rest
      target = returns
    elseif tag == "raise" then
      raises[#raises + 1] = "  " .. rest
      target = raises
    elseif tag == "usage" then
      if rest ~= "" then usage[#usage + 1] = "  " .. rest end
      target = usage
    elseif tag == "field" then
      local name, desc = rest:match("^(%S+)%s*(.*)$")
      params[#params + 1] = ("  %s: %s"):format(name or rest, desc or "")
      target = params
    elseif tag then
      target = {} -- @module, @table, @see ...: not shown
    elseif target == usage then
      usage[#usage + 1] = "  " .. text
    elseif target == body then
      body[#body + 1] = text
    else
      target[#target] = target[#target] .. " " .. text:gsub("^%s+", "")
    end
  end
  local out = { table.concat(body, "\n") }
  local function section(title, list)
    if #list > 0 then out[#out + 1] = title .. "\n" .. table.concat(list, "\n") end
  end
  section("Parameters:", params)
  section("Returns:", returns)
  section("Raises:", raises)
  section("Example:", usage)
  return (table.concat(out, "\n\n"):gsub("^\n+", ""))
end

-- A name for value v from the loaded modules ("lask.array.sum"), or nil.
local function name_of(v)
  local best
  for modname, mod in pairs(package.loaded) do
    if type(mod) == "table" then
      for k, x in next, mod do
        if x == v and type(k) == "string" then
          local name = modname .. "." .. k
          local lask_first = best and (name:match("^lask") ~= nil) ~= (best:match("^lask") ~= nil)
          if not best or (lask_first and name:match("^lask")) or (not lask_first and #name < #best) then
            best = name
          end
        end
      end
    end
  end
  return best
end

-- The line that defines short, the last name of a dotted name, at the top level of
-- a file: "function M.short(", "function M:short(", "M.short =" or "return { short ="
-- (the first found).
local function definition_line(lines, short)
  if not short then return nil end
  for i, l in ipairs(lines) do
    if l:match("^function [%w_.]+[.:]" .. short .. "%s*%(") or l:match("^[%w_]+%." .. short .. "%s*=")
      or l:match("^return%s*{%s*" .. short .. "%s*=") then
      return i
    end
  end
  return nil
end

-- "f(a, b, ...)" from a Lua function's parameter names.
local function signature(f, name)
  local info = debug.getinfo(f, "u")
  local params = {}
  for i = 1, info.nparams do params[i] = debug.getlocal(f, i) end
  if info.isvararg then params[#params + 1] = "..." end
  return ("%s(%s)"):format(name, table.concat(params, ", "))
end

-- The doc comment of Lua function f (called name): the block above its definition,
-- or, for a function made by a factory, above the line that assigns it (M.sum =
-- simple("sum")) in its own file or in the module it is a field of. Returns the
-- block, where it is and the line; or nil and a reason.
local function doc_block(f, name)
  local info = debug.getinfo(f, "S")
  if info.what == "C" then
    return nil, ("no manual entry for %s: it is a C function (try help of its module)"):format(name)
  end
  local src, where = function_source(info)
  if not src then
    return nil, ("no manual entry for %s: its source (%s) cannot be read"):format(name, info.short_src)
  end
  local lines = split_lines(src)
  local block = info.linedefined > 0 and comment_above(lines, info.linedefined)
  if block then return block, where, info.linedefined end
  local short = name:match("([%w_]+)$")
  local candidates = { { lines, where } }
  for _, n in ipairs { name, name_of(f) } do
    local mod = n and n:match("^(.+)[.:][%w_]+$")
    if mod and is_module(mod) then
      local msrc, mwhere = module_source(mod)
      if msrc then candidates[#candidates + 1] = { split_lines(msrc), mwhere } end
    end
  end
  for _, c in ipairs(candidates) do
    local line = definition_line(c[1], short)
    block = line and comment_above(c[1], line)
    if block then return block, c[2], line end
  end
  for _, c in ipairs(candidates) do -- an entry of a table constructor with an LDoc comment
    for i, l in ipairs(c[1]) do
      if short and l:match("^%s+" .. short .. "%s*=") then
        block = comment_above(c[1], i)
        if block and block[1]:match("^%s*%-%-%-") then return block, c[2], i end
      end
    end
  end
  return nil, ("no manual entry for %s: %s:%d has no doc comment"):format(name, where, info.linedefined)
end

-- The entry of function f; nil and a reason when there is none.
local function function_entry(f, name)
  name = name or name_of(f) or tostring(f)
  local block, where, line = doc_block(f, name)
  if not block then return nil, where end
  return ("%s    [%s:%d]\n\n%s"):format(signature(f, name), where, line, render_block(block))
end

-- The summary line of function f's entry (called name), or "".
local function summary(f, name)
  if type(f) ~= "function" then return "" end
  local block = doc_block(f, name)
  if not block then return "" end
  return (block[1]:gsub("^%s*%-%-%-?%s?", ""))
end

-- The entry of the module modname (its table mod): the file's top comment, then its
-- functions and tables with their summaries.
local function module_entry(modname, mod)
  local src, where = module_source(modname)
  local out = { modname .. (where and ("    [" .. where .. "]") or "") }
  local block = src and comment_at_top(split_lines(src))
  out[#out + 1] = block and render_block(block) or "(no module comment)"
  if type(mod) == "table" then
    local names = {}
    for k in next, mod do
      if type(k) == "string" and k:sub(1, 1) ~= "_" then names[#names + 1] = k end
    end
    table.sort(names)
    local rows = {}
    for _, k in ipairs(names) do
      local v = rawget(mod, k)
      if type(v) == "function" then
        local s = summary(v, modname .. "." .. k)
        rows[#rows + 1] = ("  %-22s %s"):format(k, s)
      elseif type(v) == "table" then
        rows[#rows + 1] = ("  %-22s (table)"):format(k)
      end
    end
    if #rows > 0 then out[#out + 1] = "Contents (help \"" .. modname .. ".NAME\" for one):\n" .. table.concat(rows, "\n") end
  end
  return table.concat(out, "\n\n")
end

-- Indexes v with the names parts[from..], as Lua would; nil if one is missing.
local function walk(v, parts, from)
  for i = from, #parts do
    if type(v) ~= "table" and type(v) ~= "userdata" then return nil end
    local ok, got = pcall(function() return v[parts[i]] end)
    if not ok or got == nil then return nil end
    v = got
  end
  return v
end

-- The value a chain of names stands for: a module ("lask.array"; then the module
-- name is returned too), a field of the longest module prefix ("lask.threaded.get"),
-- or a chain of globals ("da.sum", "x:sum").
local function resolve(chain)
  if is_module(chain) then
    local ok, mod = pcall(require, chain)
    if ok then return mod, chain end
  end
  local parts = {}
  for name in chain:gmatch("[^.:]+") do parts[#parts + 1] = name end
  for i = #parts - 1, 1, -1 do
    local prefix = table.concat(parts, ".", 1, i)
    if is_module(prefix) then
      local ok, mod = pcall(require, prefix)
      local v = ok and walk(mod, parts, i + 1)
      if v ~= nil then return v end
    end
  end
  return walk(_G, parts, 1)
end

-- The module name under which table t is loaded, if it is.
local function loaded_name(t)
  for name, mod in pairs(package.loaded) do
    if mod == t and type(name) == "string" then return name end
  end
  return nil
end

local GENERAL = [[
help(x) prints the manual entry of x:
  help(da.sum)              a function (any Lua function with a doc comment)
  help "da.sum"             a name: globals, then fields ("x:sum" for a method)
  help "lask.array"         a module: its summary and contents
Modules: lask, lask.sync, lask.threaded, lask.multiprocessing, lask.diagnostics,
lask.callbacks, lask.array, lask.array.linalg. Ctrl-D or os.exit() leaves the REPL.]]

--- The manual entry of x as text.
-- x is a function, a module table, a module name (`"lask.array"`) or a name chain
-- (`"da.sum"`, `"lask.threaded.get"`, `"x:sum"`). Nothing (nil) gives the general help.
-- @param[opt] x function, table or string: what to look up
-- @return string: the entry, or nil and a message saying why there is none
-- @usage local text = require("lask.help").entry("lask.array")
-- assert(text:find("lask.array", 1, true))
-- local none, why = require("lask.help").entry("no_such_name")
-- assert(none == nil and why:find("no_such_name", 1, true))
function M.entry(x)
  if x == nil then return GENERAL end
  if type(x) == "function" then return function_entry(x) end
  if type(x) == "table" then
    local modname = loaded_name(x)
    if modname then return module_entry(modname, x) end
    local mt = getmetatable(x)
    local cls = type(mt) == "table" and rawget(mt, "__name")
    if type(cls) == "string" and is_module(cls) then return module_entry(cls, require(cls)) end
    return nil, "no manual entry for this table: give a function, a module or a name (help \"lask.array\")"
  end
  if type(x) ~= "string" then
    return nil, ("no manual entry for a %s: give a function, a module or a name"):format(type(x))
  end
  local v, modname = resolve(x)
  if modname then return module_entry(modname, v) end
  if type(v) == "function" then return function_entry(v, x) end
  if type(v) == "table" and loaded_name(v) then return module_entry(loaded_name(v), v) end
  if v == nil then return nil, ("no manual entry for '%s': no such global, field or module"):format(x) end
  return nil, ("no manual entry for '%s': it is a %s"):format(x, type(v))
end

--- Prints the manual entry of x (see `entry`), or why there is none.
-- @param[opt] x function, table or string: what to look up
-- @usage require("lask.help").help("lask.sync.get") -- prints the entry
function M.help(x)
  local text, why = M.entry(x)
  print(text or why)
end

return setmetatable(M, { __call = function(_, x) return M.help(x) end })
