--- The Lua side of the `lask` REPL (lua/program/main.c): `describe(v)` is what the
-- REPL prints for a value, `complete(text)` what Tab offers.
-- @module lask.repl
local M = {}

-- The metatable of v as getmetatable sees it, if that is a table.
local function metatable(v)
  local mt = getmetatable(v)
  if type(mt) == "table" then return mt end
  return nil
end

local function is_key(v)
  if type(v) ~= "userdata" then return false end
  local mt = metatable(v)
  return mt ~= nil and rawget(mt, "__name") == "lask.key"
end

local function is_callable(v)
  if type(v) == "function" then return true end
  local mt = metatable(v)
  return mt ~= nil and rawget(mt, "__call") ~= nil
end

-- A task is a table whose first element is callable.
local function is_task(v)
  return type(v) == "table" and is_callable(rawget(v, 1))
end

local function plural(n, word)
  return ("%d %s%s"):format(n, word, n == 1 and "" or "s")
end

-- Counts the keys and tasks of t if it looks like a graph (only string or tuple keys,
-- at least one task); nil otherwise.
local function graph_counts(t)
  local keys, tasks = 0, 0
  for k, v in next, t do
    if type(k) ~= "string" and not is_key(k) then return nil end
    keys = keys + 1
    if is_task(v) then tasks = tasks + 1 end
  end
  if tasks == 0 then return nil end
  return keys, tasks
end

-- Pretty-printing ----------------------------------------------------------------

M.SMALL_GRAPH = 40 -- graphs of at most this many keys print in full
M.MAX_DEPTH = 3 -- tables nested deeper print as {…}
M.MAX_ITEMS = 20 -- entries shown of one table
M.WIDTH = 80 -- a table wider than this on one line prints one entry a line

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not ({
    ["and"] = 1, ["break"] = 1, ["do"] = 1, ["else"] = 1, ["elseif"] = 1, ["end"] = 1, ["false"] = 1,
    ["for"] = 1, ["function"] = 1, ["goto"] = 1, ["if"] = 1, ["in"] = 1, ["local"] = 1, ["nil"] = 1,
    ["not"] = 1, ["or"] = 1, ["repeat"] = 1, ["return"] = 1, ["then"] = 1, ["true"] = 1,
    ["until"] = 1, ["while"] = 1,
  })[k]
end

-- The order keys are shown in: numbers first (by value), then strings, then the rest
-- (by their printed form).
local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta == "number" and tb == "number" then return a < b end
  if ta == "number" or tb == "number" then return ta == "number" end
  if ta == "string" and tb == "string" then return a < b end
  if ta == "string" or tb == "string" then return ta == "string" end
  return tostring(a) < tostring(b)
end

local render

-- The entries of table t as strings ("1", "x = 2", "[k] = v"), at most MAX_ITEMS,
-- and how many more there are.
local function entries(t, depth, path, indent)
  local n = rawlen(t)
  local items, keys = {}, {}
  for i = 1, math.min(n, M.MAX_ITEMS) do items[#items + 1] = render(rawget(t, i), depth + 1, path, indent) end
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  local total = n + #keys
  if #items < M.MAX_ITEMS then
    table.sort(keys, key_less)
    for i = 1, math.min(#keys, M.MAX_ITEMS - #items) do
      local k = keys[i]
      local name = is_identifier(k) and k or "[" .. render(k, M.MAX_DEPTH, path, indent) .. "]"
      items[#items + 1] = name .. " = " .. render(rawget(t, k), depth + 1, path, indent)
    end
  end
  return items, total - #items, math.min(n, M.MAX_ITEMS)
end

local function render_table(t, depth, path, indent)
  if path[t] then return "<cycle>" end
  if depth >= M.MAX_DEPTH then return next(t) == nil and "{}" or "{…}" end
  path[t] = true
  local inner = indent .. "  "
  local items, more, narray = entries(t, depth, path, inner)
  path[t] = nil
  if more > 0 then items[#items + 1] = ("… (%d more)"):format(more) end
  if #items == 0 then return "{}" end
  local one = "{" .. table.concat(items, ", ") .. "}"
  if #one + #indent <= M.WIDTH and not one:find("\n") then return one end
  -- list entries several a line, up to WIDTH; named ones (and any of several lines) alone
  local lines, cur, packing = {}, nil, false
  for i, item in ipairs(items) do
    local piece = item .. (i < #items and "," or "")
    local packs = (i <= narray or (more > 0 and i == #items)) and not item:find("\n")
    if cur and packing and packs and #inner + #cur + 1 + #piece <= M.WIDTH then
      cur = cur .. " " .. piece
    else
      if cur then lines[#lines + 1] = cur end
      cur, packing = piece, packs
    end
  end
  lines[#lines + 1] = cur
  return "{\n" .. inner .. table.concat(lines, "\n" .. inner) .. "\n" .. indent .. "}"
end

-- v as the REPL shows it inside a table: strings quoted, tables expanded.
function render(v, depth, path, indent)
  local mt = metatable(v)
  if is_key(v) or (mt and (rawget(mt, "__tostring") ~= nil or rawget(mt, "__name") ~= nil)) then
    local ok, s = pcall(tostring, v)
    return ok and s or ("<%s>"):format(type(v))
  end
  if type(v) == "string" then return ("%q"):format(v):gsub("\\\n", "\\n") end
  if type(v) == "table" then return render_table(v, depth, path, indent) end
  if math.type(v) == "float" then return ("%.17g"):format(v):find("^-?%d+$") and ("%.1f"):format(v) or tostring(v) end
  return tostring(v)
end

--- The text the REPL shows for a value.
-- Tuple keys and objects with `__tostring` or `__name` (lazy arrays: their summary;
-- ndarrays: as numpy prints them) print through tostring; a table that looks like a
-- task graph (string or tuple keys, at least one task) prints as `lask.tostring`
-- does when it has at most `SMALL_GRAPH` keys, else as a summary ("lask graph: N
-- keys, M tasks"); other tables print as Lua constructors, at most `MAX_DEPTH` deep
-- and `MAX_ITEMS` entries a table, one entry a line when wider than `WIDTH`;
-- everything else as lua5.4's REPL prints it.
-- @param v any value
-- @return string
-- @usage local repl = require "lask.repl"
-- assert(repl.describe({ 1, 2, x = "a" }) == '{1, 2, x = "a"}')
-- assert(repl.describe({ x = 1, y = { lask.kernels.inc, "x" } }) == "{'x': 1, 'y': {inc, 'x'}}")
function M.describe(v)
  if is_key(v) then return tostring(v) end
  local mt = metatable(v)
  if mt and (rawget(mt, "__tostring") ~= nil or rawget(mt, "__name") ~= nil) then
    return tostring(v)
  end
  if type(v) == "table" then
    local keys, tasks = graph_counts(v)
    if keys then
      if keys <= M.SMALL_GRAPH then
        local ok, s = pcall(function() return require("lask").tostring(v) end)
        if ok and type(s) == "string" then return s end
      end
      return ("lask graph: %s, %s"):format(plural(keys, "key"), plural(tasks, "task"))
    end
    return render_table(v, 0, {}, "")
  end
  return tostring(v)
end

-- Completion ------------------------------------------------------------------
-- Reads only with rawget and getmetatable, so pressing Tab never runs user code.

local KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
  "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

local MAX_INDEX_DEPTH = 8 -- how far to follow __index tables

-- The table an __index metamethod reads from, if it is one.
local function index_table(v)
  local mt = metatable(v)
  local idx = mt and rawget(mt, "__index")
  return type(idx) == "table" and idx or nil
end

-- The names a table's __index function provides lazily, listed by its metatable's
-- __lazy (as lask does for lask.threaded, lask.cull, ...).
-- __lazy is a set of names, or a function of the value giving one (lask.array's).
local function lazy_names(v)
  local mt = metatable(v)
  local names = mt and rawget(mt, "__lazy")
  if type(names) == "function" then
    local ok, got = pcall(names, v)
    names = ok and got or nil
  end
  return type(names) == "table" and names or nil
end

-- v[name], looking through __index tables as indexing would, and through __index
-- functions only for the names their metatable lists in __lazy.
local function lookup(v, name)
  for _ = 1, MAX_INDEX_DEPTH do
    if v == nil then return nil end
    if type(v) == "table" and rawget(v, name) ~= nil then return rawget(v, name) end
    local lazy = lazy_names(v)
    if lazy and lazy[name] then
      local ok, got = pcall(function() return v[name] end)
      return ok and got or nil
    end
    v = index_table(v)
  end
  return nil
end

-- Adds to set the identifier keys of v and of its __index tables, and its __lazy names.
local function add_fields(v, set)
  for _ = 1, MAX_INDEX_DEPTH do
    if v == nil then return end
    if type(v) == "table" then
      for k in next, v do
        if type(k) == "string" and k:match("^[%a_][%w_]*$") then set[k] = true end
      end
    end
    for k in pairs(lazy_names(v) or {}) do set[k] = true end
    v = index_table(v)
  end
end

--- The completions of a name chain, for Tab.
-- "pri" gives globals and keywords, "string.fo" fields, "s:up" methods (fields of the
-- value's `__index` tables); `lask.` also offers what lask loads on first use
-- (`lask.threaded`, `lask.cull`, ...). Reads with rawget and getmetatable only, and
-- calls an `__index` function only for the names its metatable lists in `__lazy`.
-- @param text string: the chain before the cursor
-- @return list of strings: the completed chains, sorted
-- @usage assert(require("lask.repl").complete("string.fo")[1] == "string.format")
function M.complete(text)
  local head, sep, word = text:match("^(.*)([.:])([%w_]*)$")
  local scope, names = _G, {}
  if head then
    for name in (head .. "."):gmatch("([^.:]*)[.:]") do
      if not name:match("^[%a_][%w_]*$") then return {} end
      scope = lookup(scope, name)
    end
    if scope == nil or head:find(":") then return {} end
  else
    word = text
    if not word:match("^[%a_][%w_]*$") and word ~= "" then return {} end
    for _, k in ipairs(KEYWORDS) do names[k] = true end
  end
  add_fields(scope, names)
  local out, prefix = {}, head and head .. sep or ""
  for k in pairs(names) do
    if k:sub(1, #word) == word then out[#out + 1] = prefix .. k end
  end
  table.sort(out)
  return out
end

return M
