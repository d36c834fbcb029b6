-- lask.diagnostics.names: readable names for the functions at the heads of tasks,
-- for profile pages and graph pictures.
--   native kernels (and anything with __tostring): tostring(head), e.g. "spin"
--   Lua functions: a name that holds them, looked up in the locals and upvalues of
--     the calling frames (nearest first), then globals, then fields of globals and of loaded
--     modules (shortest name first, so the choice is deterministic); else where
--     they are defined, "file.lua:12"
--   no head (a literal or an alias): "(data)"
local M = {}

local DATA = "(data)"

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

-- True for a chunk of lask's own modules: their locals name our variables, not the user's.
local function is_lask_source(source)
  return source:find("/lask/", 1, true) ~= nil or source:sub(1, 6) == "@lask/"
end

-- Candidate names: a list of {name, value} in order of preference.
local function candidates()
  local locals, globals, fields = {}, {}, {}
  for level = 2, math.huge do
    local info = debug.getinfo(level, "S")
    if not info then break end
    if not is_lask_source(info.source) then
      for i = 1, math.huge do
        local name, v = debug.getlocal(level, i)
        if not name then break end
        if name:match("^[%a_][%w_]*$") and callable(v) then locals[#locals + 1] = { name, v } end
      end
      local f = debug.getinfo(level, "f").func
      for i = 1, math.huge do -- the running function's upvalues: locals of enclosing blocks
        local name, v = debug.getupvalue(f, i)
        if not name then break end
        if name:match("^[%a_][%w_]*$") and callable(v) then locals[#locals + 1] = { name, v } end
      end
    end
  end
  local function add_fields(list, prefix, t)
    for field, v in pairs(t) do
      if type(field) == "string" and callable(v) then list[#list + 1] = { prefix .. field, v } end
    end
  end
  add_fields(globals, "", _G)
  for name, v in pairs(_G) do
    if type(name) == "string" and type(v) == "table" and v ~= _G then add_fields(fields, name .. ".", v) end
  end
  for modname, mod in pairs(package.loaded) do
    if type(mod) == "table" and mod ~= _G then add_fields(fields, modname:match("([^.]+)$") .. ".", mod) end
  end
  local function shortest_first(a, b)
    if #a[1] ~= #b[1] then return #a[1] < #b[1] end
    return a[1] < b[1]
  end
  table.sort(globals, shortest_first)
  table.sort(fields, shortest_first)
  table.move(globals, 1, #globals, #locals + 1, locals)
  table.move(fields, 1, #fields, #locals + 1, locals)
  return locals
end

-- Where a Lua function is defined: "file.lua:12", or nil for a C function.
local function where(f)
  if type(f) ~= "function" then return nil end
  local info = debug.getinfo(f, "S")
  if info.what == "C" or info.linedefined < 0 then return nil end
  return ("%s:%d"):format(info.short_src:match("([^/]+)$") or info.short_src, info.linedefined)
end

-- namer(): a function head -> name. The index of names is built on first need only
-- (graphs of native kernels never need it) and kept for the namer's life.
function M.namer()
  local index, cache = nil, {}
  return function(head)
    if head == nil then return DATA end
    local known = cache[head]
    if known then return known end
    local name
    local mt = getmetatable(head)
    if type(mt) == "table" and mt.__tostring then
      name = tostring(head)
    else
      if not index then
        index = {}
        for _, c in ipairs(candidates()) do
          if index[c[2]] == nil then index[c[2]] = c[1] end
        end
      end
      name = index[head] or where(head) or tostring(head)
    end
    cache[head] = name
    return name
  end
end

M.DATA = DATA

return M
