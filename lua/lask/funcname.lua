-- lask.funcname: the name of a function at the head of a task, as Dask's funcname
-- gives it, for every place that shows one: printed graphs ({inc, 'x'}, lask.graph),
-- graph pictures (lask.visualize) and profile pages (lask.diagnostics). One set of
-- rules, first match wins:
--   0. a name registered for it (M.register: lask.delayed names its functions)
--   1. a value that prints itself (a __tostring: native kernels): tostring(f), "inc"
--   2. a name that holds it: the locals and upvalues of the calling frames outside
--      lask's own modules (nearest first; a spec's file-level `local function inc`
--      is an upvalue of each test closure), then globals, then fields of global
--      tables and of loaded modules as `table.field` (shortest, then alphabetical,
--      first, so the choice is deterministic): "math.floor"
--   3. the name on the line that defines it (`local function inc(`, `inc = function(`)
--   4. "function" for a function without a name (Dask's "lambda"), tostring(f) for
--      another callable (Dask's str(func))
-- Names are looked up when first needed (graphs of native kernels never need it)
-- and kept for the namer's life: make one namer per printing or page.
local M = {}

local type, getmetatable, pairs, ipairs, tostring = type, getmetatable, pairs, ipairs, tostring
local sort = table.sort

local registered = setmetatable({}, { __mode = "k" }) -- callable -> name (rule 0)

-- Gives f the name `name` in every printing (rule 0): lask.delayed names the
-- functions it wraps so that their tasks print as {inc, 1}.
function M.register(f, name) registered[f] = name end

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

-- lask's own modules live beside this one: their locals name our variables, not the user's.
local OWN_DIR = debug.getinfo(1, "S").source:match("^(@.*[/\\])[^/\\]+$")

local function is_lask_source(source)
  return OWN_DIR ~= nil and source:sub(1, #OWN_DIR) == OWN_DIR
end

local function is_identifier(name) return name:match("^[%a_][%w_]*$") ~= nil end

-- Candidate names, function -> name, by the tiers of rule 2.
local function function_names()
  local tiers = { {}, {}, {} }
  local function add(tier, name, v)
    if callable(v) then tiers[tier][#tiers[tier] + 1] = { name, v } end
  end
  for level = 2, math.huge do
    local info = debug.getinfo(level, "Sf")
    if not info then break end
    if not is_lask_source(info.source) then
      for i = 1, math.huge do
        local name, v = debug.getlocal(level, i)
        if not name then break end
        if is_identifier(name) then add(1, name, v) end
      end
      for i = 1, math.huge do -- the running function's upvalues: locals of enclosing blocks
        local name, v = debug.getupvalue(info.func, i)
        if not name then break end
        if is_identifier(name) then add(1, name, v) end
      end
    end
  end
  for name, v in pairs(_G) do
    if type(name) == "string" then
      add(2, name, v)
      if type(v) == "table" and v ~= _G then
        for field, f in pairs(v) do
          if type(field) == "string" then add(3, name .. "." .. field, f) end
        end
      end
    end
  end
  for modname, mod in pairs(package.loaded) do
    if type(mod) == "table" and mod ~= _G then
      local short = modname:match("([^.]+)$")
      for field, f in pairs(mod) do
        if type(field) == "string" then add(3, short .. "." .. field, f) end
      end
    end
  end
  local names = {}
  for t, tier in ipairs(tiers) do
    if t > 1 then
      sort(tier, function(a, b)
        if #a[1] ~= #b[1] then return #a[1] < #b[1] end
        return a[1] < b[1]
      end)
    end
    for _, entry in ipairs(tier) do
      if names[entry[2]] == nil then names[entry[2]] = entry[1] end
    end
  end
  return names
end

-- Line `line` of a chunk's source (a file for "@path", the code itself for chunks
-- loaded from strings), read at most once per namer through `cache`.
local function source_line(source, line, cache)
  local lines = cache[source]
  if lines == nil then
    lines = false
    local text
    if source:sub(1, 1) == "@" then
      local f = io.open(source:sub(2), "r")
      if f then
        text = f:read("a")
        f:close()
      end
    elseif source:sub(1, 1) ~= "=" then
      text = source
    end
    if text then
      lines = {}
      for l in (text .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = l end
    end
    cache[source] = lines
  end
  return lines and lines[line]
end

-- The name a Lua function was defined under (`function inc(` or `inc = function(`
-- on its first line), or nil when the line is not that plain.
local function defined_name(f, cache)
  local info = debug.getinfo(f, "S")
  if info.what ~= "Lua" or info.linedefined <= 0 then return nil end
  local line = source_line(info.source, info.linedefined, cache)
  if not line or select(2, line:gsub("%f[%w_]function%f[^%w_]", "")) ~= 1 then return nil end
  return line:match("function%s+([%a_][%w_.:]*)%s*%(")
    or line:match("([%a_][%w_.]*)%s*=%s*function%s*%(")
end

-- The name that holds v by rule 2 alone (a local or upvalue of the calling frames
-- outside lask, a global, a module field), or nil: lask.delayed names a wrapped
-- function after the variable holding its wrapper (`local inc = delayed(...)`).
function M.held_name(v) return function_names()[v] end

-- namer(): a function f -> its name by the rules above.
function M.namer()
  local names, sources, cache = nil, {}, {}
  return function(f)
    local known = cache[f] or registered[f]
    if known then return known end
    local name
    local mt = getmetatable(f)
    if type(mt) == "table" and mt.__tostring then
      name = tostring(f)
    else
      names = names or function_names()
      name = names[f] or (type(f) == "function" and (defined_name(f, sources) or "function")) or tostring(f)
    end
    cache[f] = name
    return name
  end
end

return M
