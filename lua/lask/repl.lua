-- lask.repl: the Lua side of the lask REPL (lua/program/main.c): describe(v) shows a value
-- on one line, complete(text) completes names on Tab.
-- Tuple keys and objects with __tostring or __name print through tostring, plain
-- tables that look like task graphs print a summary (a graph may hold millions of
-- entries), and everything else prints as lua5.4's REPL prints it.
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

--- describe(v) -> a one-line string for the REPL to print.
function M.describe(v)
  if is_key(v) then return tostring(v) end
  local mt = metatable(v)
  if mt and (rawget(mt, "__tostring") ~= nil or rawget(mt, "__name") ~= nil) then
    return tostring(v)
  end
  if type(v) == "table" then
    local keys, tasks = graph_counts(v)
    if keys then
      return ("lask graph: %s, %s"):format(plural(keys, "key"), plural(tasks, "task"))
    end
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

-- v[name], looking through __index tables as indexing would.
local function lookup(v, name)
  for _ = 1, MAX_INDEX_DEPTH do
    if v == nil then return nil end
    if type(v) == "table" and rawget(v, name) ~= nil then return rawget(v, name) end
    v = index_table(v)
  end
  return nil
end

-- Adds to set the identifier keys of v and of its __index tables.
local function add_fields(v, set)
  for _ = 1, MAX_INDEX_DEPTH do
    if v == nil then return end
    if type(v) == "table" then
      for k in next, v do
        if type(k) == "string" and k:match("^[%a_][%w_]*$") then set[k] = true end
      end
    end
    v = index_table(v)
  end
end

--- complete(text) -> sorted list of completions of the name chain text ("string.fo",
--- "s:up", "pri"): globals and keywords, or fields and methods of what the chain names.
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
